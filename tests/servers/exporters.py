"""Factories for the Prometheus side: ``faultfinder serve``, Debian's blackbox_exporter and a
real Prometheus, each a process on a free loopback port, stopped at teardown.

``serve_process(stack=None, *args)`` runs ``python -m faultfinder serve`` (the real CLI, lifespan
and monitor). ``blackbox_exporter(modules)`` runs ``prometheus-blackbox-exporter`` with a
config of those modules. ``prometheus_server(scrape_configs)`` runs ``prometheus`` with a 1 s
scrape interval and a storage directory of its own, and answers PromQL through its HTTP API.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.servers import Process, free_port, require_binary, wait_for_port, wait_until

__all__ = ["blackbox_exporter", "prometheus_server", "serve_process"]

REPOSITORY = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    """A process answering HTTP on 127.0.0.1:``port``."""

    port: int
    process: Process

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "") -> str:
        return f"http://{self.address}{path}"

    def get(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(self.url(path), params=params, timeout=10, trust_env=False)


def _answers(served: Served, path: str) -> bool:
    if served.process.popen.poll() is not None:
        raise RuntimeError(f"{served.process.argv[0]} exited:\n{served.process.output()[-3000:]}")
    try:
        return served.get(path).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``serve_process(stack_path, "--modules", file)`` → a running ``faultfinder serve``."""
    started: list[Served] = []
    counter = itertools.count()

    def start(stack: Path | None = None, *args: str) -> Served:
        port = free_port()
        argv = [sys.executable, "-m", "faultfinder", "serve", "--listen", f"127.0.0.1:{port}"]
        argv += [str(stack)] if stack else []
        log = tmp_path / f"serve-{next(counter)}.log"
        process = Process([*argv, *args], log=log, env={"PYTHONPATH": str(REPOSITORY / "src")})
        served = Served(port, process)
        started.append(served)
        wait_until(lambda: _answers(served, "/-/healthy"), what="faultfinder serve to answer")
        return served

    try:
        yield start
    finally:
        for served in started:
            served.process.stop()


@pytest.fixture
def blackbox_exporter(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], Served]]:
    """``blackbox_exporter({"http_2xx": {"prober": "http"}})`` → a running exporter."""
    binary = require_binary("prometheus-blackbox-exporter")
    started: list[Served] = []
    counter = itertools.count()

    def start(modules: dict[str, Any]) -> Served:
        directory = tmp_path / f"blackbox-{next(counter)}"
        directory.mkdir()
        config = directory / "blackbox.yml"
        config.write_text(yaml.safe_dump({"modules": modules}))
        port = free_port()
        argv = [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"]
        served = Served(port, Process(argv, log=directory / "blackbox.log"))
        started.append(served)
        wait_for_port(port)
        return served

    try:
        yield start
    finally:
        for served in started:
            served.process.stop()


@dataclass
class Prometheus(Served):
    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result vector: ``[{"metric": {labels}, "value": [t, "v"]}]``."""
        answer = self.get("/api/v1/query", query=promql).json()
        assert answer["status"] == "success", answer
        return list(answer["data"]["result"])

    def wait_for(self, promql: str, *, timeout: float = 20.0) -> list[dict[str, Any]]:
        """The query's result once it is not empty (scrapes take a few intervals)."""
        found: list[dict[str, Any]] = []

        def present() -> bool:
            found[:] = self.query(promql)
            return bool(found)

        wait_until(present, timeout, f"PromQL {promql!r} to return samples")
        return found


@pytest.fixture
def prometheus_server(tmp_path: Path) -> Iterator[Callable[[list[dict[str, Any]]], Prometheus]]:
    """``prometheus_server(scrape_configs)`` → Prometheus scraping them every second."""
    binary = require_binary("prometheus")
    started: list[Prometheus] = []
    counter = itertools.count()

    def start(scrape_configs: list[dict[str, Any]]) -> Prometheus:
        directory = tmp_path / f"prometheus-{next(counter)}"
        (directory / "data").mkdir(parents=True)
        config = directory / "prometheus.yml"
        document = {
            "global": {
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "evaluation_interval": "1s",
            },
            "scrape_configs": scrape_configs,
        }
        config.write_text(yaml.safe_dump(document, sort_keys=False))
        port = free_port()
        argv = [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
        server = Prometheus(port, Process(argv, log=directory / "prometheus.log"))
        started.append(server)
        wait_until(lambda: _answers(server, "/-/ready"), what="prometheus to be ready")
        return server

    try:
        yield start
    finally:
        for server in started:
            server.process.stop()


@dataclass(frozen=True)
class Exposition:
    """A parsed text exposition: families by name, and sample values by name and labels."""

    families: dict[str, Any]

    @classmethod
    def parse(cls, text: str) -> Exposition:
        from prometheus_client.parser import text_string_to_metric_families

        return cls({family.name: family for family in text_string_to_metric_families(text)})

    def samples(self, name: str) -> list[Any]:
        """Every sample named ``name`` (a counter's ``_total`` included), from any family."""
        return [s for f in self.families.values() for s in f.samples if s.name == name]

    def value(self, name: str, **labels: str) -> float:
        found = [s.value for s in self.samples(name) if labels.items() <= s.labels.items()]
        assert len(found) == 1, f"{name}{labels}: {len(found)} samples in {self.names()}"
        return float(found[0])

    def labels(self, name: str) -> list[dict[str, str]]:
        return [dict(s.labels) for s in self.samples(name)]

    def names(self) -> set[str]:
        return {s.name for f in self.families.values() for s in f.samples}
