"""A graceful drain on SIGTERM, in a real uvicorn process: readiness refuses traffic at once
while the app keeps serving, then uvicorn's own shutdown ends the process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.servers import free_port, wait_for_port

APP = """
import contextlib, os
from starlette.applications import Starlette
from starlette.routing import Mount
from faultfinder.health import Health, url_check

health = Health([url_check("redis", os.environ["REDIS_URL"], timeout=1)], ttl=0)

@contextlib.asynccontextmanager
async def lifespan(app):
    health.drain_on_sigterm(float(os.environ["DRAIN_SECONDS"]))  # after uvicorn's handler
    yield

app = Starlette(routes=[Mount("/health", app=health)], lifespan=lifespan)
"""


def test_sigterm_drains_readiness_while_the_app_serves(redis_server: Any, tmp_path: Path) -> None:
    (tmp_path / "drained_app.py").write_text(APP)
    port = free_port()
    environment = {
        **os.environ,
        "REDIS_URL": redis_server.url(),
        "DRAIN_SECONDS": "1.5",
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "drained_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=environment,
        cwd=tmp_path,
    )
    try:
        wait_for_port(port)
        base = f"http://127.0.0.1:{port}/health"
        before = httpx.get(f"{base}/ready", timeout=5).status_code
        process.send_signal(signal.SIGTERM)
        during = [
            httpx.get(f"{base}/{path}", timeout=5).status_code
            for path in ("ready", "live", "infrastructure")
        ]
        still_running = process.poll() is None
        status = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert before == 200
    # Readiness fails at once; the app still answers everything else (in-flight work goes on).
    assert during == [503, 200, 200]
    assert still_running
    # Then uvicorn's own graceful shutdown, handed the SIGTERM: uvicorn 0.29+ re-raises the
    # signal it captured once it has shut down (uvicorn/server.py capture_signals), so the
    # process ends by SIGTERM as it does without the drain.
    assert status == -signal.SIGTERM
