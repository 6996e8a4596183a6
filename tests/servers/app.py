"""A small real backend for tests: a Starlette app served by uvicorn in a subprocess.

Run it with ``python -m tests.servers.app PORT`` (or a Unix socket's path). Routes:

    /ok             200 text            /health          200 health+json
    /fail           500 JSON            /slow?seconds=N  sleeps (default 30 s), then 200
    /status/{code}  that status, JSON   /body            200, a known text
    /echo           the method, headers and query as JSON (``?status=`` sets the status)
    /document/NAME  a health document of tests/data/health (``?status=`` sets the status)
    ws /ws          accepts and echoes every text message
    ws /ws-reject   refuses the upgrade (403)
    ws /ws-crash    accepts, reads one message, closes with 1011
    ws /ws-drop     accepts, reads one message, drops TCP without a close frame
    ws /ws-silent   accepts, reads one message, never answers

A login for flows: ``POST /login`` (JSON user/password; the password is ``PASSWORD``) answers
``{"user", "token"}`` (tokens start ``tok_``), 401 otherwise; ``GET /whoami`` and ws ``/ws-ask``
need ``Authorization: Bearer <token>`` (401 / a refused upgrade without); ``/ws-ask`` greets,
then answers each ``{"question"}`` with ``{"answer"}`` ("6 x 7" → "42"); ``POST /logout`` ends
the token and ``GET /logouts?user=`` counts a user's logouts, so tests see cleanup run.

Also here: ``hangup_server`` and ``reset_after_request_server``, ports that accept, read the
request and close (FIN) or reset (RST) without answering: a crashing worker, seen from outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.servers import Process, free_port, wait_for_port
from tests.servers.listener import LoopbackServer, serve

__all__ = ["app_server", "hangup_server", "reset_after_request_server"]

BODY_TEXT = "the quick brown fox jumps over the lazy dog"
HEALTH_TYPE = "application/health+json"
REPOSITORY = Path(__file__).resolve().parents[2]
DOCUMENTS = REPOSITORY / "tests" / "data" / "health"


async def ok(request: Request) -> Response:
    return PlainTextResponse("ok")


async def health(request: Request) -> Response:
    return JSONResponse({"status": "pass"}, media_type=HEALTH_TYPE)


async def fail(request: Request) -> Response:
    return JSONResponse({"error": "boom: the handler raised"}, status_code=500)


async def slow(request: Request) -> Response:
    await asyncio.sleep(float(request.query_params.get("seconds", "30")))
    return PlainTextResponse("late")


async def status(request: Request) -> Response:
    code = int(request.path_params["code"])
    if code in (204, 304):  # these may carry no body
        return Response(status_code=code)
    return JSONResponse({"status": code, "source": "app"}, status_code=code)


async def body(request: Request) -> Response:
    return PlainTextResponse(BODY_TEXT)


async def echo(request: Request) -> Response:
    """What the request carried; the interesting parts first, so error summaries show them."""
    document = {
        "method": request.method,
        "authorization": request.headers.get("authorization", ""),
        "query": str(request.url.query),
        "headers": dict(request.headers),
        "body": (await request.body()).decode("utf-8", "replace"),
    }
    return JSONResponse(document, status_code=int(request.query_params.get("status", "200")))


async def document(request: Request) -> Response:
    """One of the real-world health documents in tests/data/health, at any status."""
    path = DOCUMENTS / request.path_params["name"]
    media = "text/plain" if path.suffix == ".txt" else HEALTH_TYPE
    code = int(request.query_params.get("status", "200"))
    return Response(path.read_bytes(), status_code=code, media_type=media)


async def websocket_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.send_text(await websocket.receive_text())


async def websocket_reject(websocket: WebSocket) -> None:
    await websocket.close()  # a close before accept is an HTTP 403 to the client (ASGI spec)


async def websocket_crash(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.receive_text()
    await websocket.close(code=1011, reason="internal error")


async def websocket_silent(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.receive_text()
    await asyncio.sleep(30)  # never answers


async def websocket_drop(websocket: WebSocket) -> None:
    # Returning without a close makes uvicorn close the transport: TCP ends, no close frame.
    await websocket.accept()
    await websocket.receive_text()


PASSWORD = "correct horse battery"
TOKEN_PREFIX = "tok_"
_sessions: dict[str, str] = {}  # token → user
_logouts: dict[str, int] = {}  # user → logouts


async def login(request: Request) -> Response:
    credentials = await request.json()
    if credentials.get("password") != PASSWORD:
        return JSONResponse({"error": "wrong user or password"}, status_code=401)
    token = TOKEN_PREFIX + secrets.token_urlsafe(16)
    _sessions[token] = str(credentials.get("user"))
    return JSONResponse({"user": credentials.get("user"), "token": token})


def _user(authorization: str) -> str | None:
    return _sessions.get(authorization.removeprefix("Bearer "))


async def whoami(request: Request) -> Response:
    user = _user(request.headers.get("authorization", ""))
    if user is None:
        return JSONResponse({"error": "not logged in"}, status_code=401)
    return JSONResponse({"user": user})


async def logout(request: Request) -> Response:
    user = _sessions.pop(request.headers.get("authorization", "").removeprefix("Bearer "), None)
    if user is None:
        return JSONResponse({"error": "not logged in"}, status_code=401)
    _logouts[user] = _logouts.get(user, 0) + 1
    return JSONResponse({"user": user, "logged_out": True})


async def logouts(request: Request) -> Response:
    return JSONResponse({"logouts": _logouts.get(request.query_params.get("user", ""), 0)})


async def websocket_ask(websocket: WebSocket) -> None:
    if _user(websocket.headers.get("authorization", "")) is None:
        await websocket.close()  # before accept: the upgrade is refused (403)
        return
    await websocket.accept()
    await websocket.send_json({"hello": "ask me"})  # a greeting comes before any answer
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            question = str((await websocket.receive_json()).get("question", ""))
            answer = "42" if question.replace(" ", "") in ("6x7", "6*7") else "no idea"
            await websocket.send_json({"answer": answer})


def build_app() -> Starlette:
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(
        routes=[
            Route("/ok", ok),
            Route("/health", health),
            Route("/fail", fail),
            Route("/slow", slow),
            Route("/status/{code:int}", status, methods=methods),
            Route("/body", body),
            Route("/echo", echo, methods=methods),
            Route("/document/{name}", document),
            WebSocketRoute("/ws", websocket_echo),
            WebSocketRoute("/ws-reject", websocket_reject),
            WebSocketRoute("/ws-crash", websocket_crash),
            WebSocketRoute("/ws-drop", websocket_drop),
            WebSocketRoute("/ws-silent", websocket_silent),
            Route("/login", login, methods=["POST"]),
            Route("/whoami", whoami),
            Route("/logout", logout, methods=["POST"]),
            Route("/logouts", logouts),
            WebSocketRoute("/ws-ask", websocket_ask),
        ]
    )


@dataclass
class AppServer:
    """The running app: its port and URL builders."""

    port: int
    process: Process

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def ws_url(self, path: str) -> str:
        return self.url(path, "ws")


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """One app per test session (per xdist worker); routes never change state."""
    port = free_port()
    log = tmp_path_factory.mktemp("app") / "uvicorn.log"
    process = Process(
        [sys.executable, "-m", "tests.servers.app", str(port)],
        log=log,
        env={"PYTHONPATH": str(REPOSITORY)},
    )
    try:
        wait_for_port(port)
        yield AppServer(port, process)
    finally:
        process.stop()


class HangupServer(LoopbackServer):
    """A listener that reads the request, then hangs up without answering."""


@contextlib.contextmanager
def _hangup(reset: bool) -> Iterator[HangupServer]:
    def hang_up(server: HangupServer, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(2)
            # Read the request first, so the client has sent it before we hang up.
            with contextlib.suppress(OSError):
                connection.recv(65536)
            if reset:  # linger 0: close() sends RST instead of FIN
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    with serve(HangupServer, hang_up, "hangup-server") as server:
        yield server


@pytest.fixture(scope="session")
def hangup_server() -> Iterator[HangupServer]:
    """A port that accepts, reads the request, then closes (FIN) without any response."""
    with _hangup(reset=False) as server:
        yield server


@pytest.fixture(scope="session")
def reset_after_request_server() -> Iterator[HangupServer]:
    """A port that accepts, reads the request, then resets the connection (RST).

    Unlike ``tcpserver.reset_server`` (a reset during set-up), the request has gone out.
    """
    with _hangup(reset=True) as server:
        yield server


def main() -> None:
    import uvicorn

    where = sys.argv[1]  # a port on loopback, or the path of a Unix socket to serve on
    place: dict[str, Any] = (
        {"uds": where} if where.startswith("/") else {"host": "127.0.0.1", "port": int(where)}
    )
    uvicorn.run(
        build_app(),
        **place,
        ws="websockets-sansio",  # its transport close after a return sends no close frame
        log_level="warning",
        timeout_graceful_shutdown=1,
    )


if __name__ == "__main__":
    main()
