"""``ws://`` and ``wss://``: resolve, connect, TLS, then the upgrade (and optional send/expect)."""

from __future__ import annotations

import asyncio
import ssl

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as websocket_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.frames import CloseCode

from faultfinder.classify import Finding, classify_os_error, classify_tls_error, describe
from faultfinder.classify.responses import classify_response, summarize
from faultfinder.errors import ProbeFault
from faultfinder.probe._answer import mismatch
from faultfinder.probe._ladder import Ladder
from faultfinder.probe._steps import (
    join_host_port,
    reach,
    server_name,
    tls_context,
)
from faultfinder.probe.http import USER_AGENT

ABNORMAL_CLOSES = {1006, 1011, 1012, 1013}
MAX_MESSAGE = 1 << 20  # one message, read from its frames' headers (websockets' own default)
MAX_QUEUED = 4  # messages read ahead of the probe (websockets' default, 16, is 16 MiB)


async def probe(ladder: Ladder) -> None:
    await upgrade(ladder, await reach(ladder))


async def upgrade(ladder: Ladder, address: str) -> None:
    component = ladder.component
    spec = component.spec
    target = join_host_port(address, component.port)
    secure = component.scheme.tls
    context: ssl.SSLContext | None = tls_context(ladder) if secure else None

    async def run() -> str:
        async with websocket_connect(
            component.url,
            host=address,
            port=component.port,
            ssl=context,
            server_hostname=server_name(ladder) if secure else None,
            additional_headers=spec.headers,
            user_agent_header=USER_AGENT,
            proxy=None,
            open_timeout=None,
            ping_interval=None,
            close_timeout=max(ladder.remaining(), 0.001),
            max_size=MAX_MESSAGE,
            max_queue=MAX_QUEUED,
        ) as websocket:
            ladder.status_code = 101
            if spec.send is None:
                return "101 Switching Protocols"
            await websocket.send(spec.send)
            return await _await_answer(ladder, websocket)

    await ladder.rung(
        "websocket",
        run,
        classify=lambda error: classify_websocket_error(ladder, target, error),
        detail=lambda answer: answer,
    )


async def _await_answer(ladder: Ladder, websocket: ClientConnection) -> str:
    """The reply to ``send``: the first message, or with ``within`` the first message within
    that time that is the expected answer (a greeting or a progress note may come first)."""
    spec = ladder.component.spec
    expect = spec.expect
    loop = asyncio.get_running_loop()
    wait_until = loop.time() + (spec.within if spec.within is not None else ladder.remaining())
    last = ""
    while True:
        try:
            async with asyncio.timeout_at(min(wait_until, ladder.deadline)):
                message = await websocket.recv()
        except TimeoutError:
            if last:
                raise ProbeFault("ws.unexpected_message", f"no reply as expected: {last}") from None
            if wait_until < ladder.deadline:
                raise ProbeFault("http.timeout", f"no reply within {spec.within:g}s") from None
            raise
        text = message if isinstance(message, str) else message.decode("utf-8", "replace")
        ladder.body = text  # the last message: evidence if the connection then fails
        reason = mismatch(expect, text, substring=expect.message)
        if reason is None:
            return "101 Switching Protocols, reply received"
        last = f"the reply {reason}"
        if spec.within is None:
            raise ProbeFault("ws.unexpected_message", last)


def classify_websocket_error(ladder: Ladder, target: str, error: BaseException) -> Finding | None:
    if isinstance(error, InvalidStatus):
        response = error.response
        ladder.status_code = response.status_code
        body = bytes(response.body or b"").decode("utf-8", "replace")
        ladder.body = body
        finding = classify_response(response.status_code, response.headers, body)
        if finding.code.startswith("proxy."):
            return finding
        detail = f"upgrade answered {response.status_code} by the service, not 101"
        return Finding("ws.handshake_rejected", detail, f"{target}: {detail}: {finding.detail}")
    if isinstance(error, ConnectionClosed):
        if error.sent is not None and error.sent.code == CloseCode.MESSAGE_TOO_BIG:
            # websockets refused a frame past max_size at its header (docs/bounds.md)
            bound = f"{MAX_MESSAGE >> 20} MiB"
            detail = f"the server sent a message over the {bound} bound; read no further"
            return Finding("ws.unexpected_message", detail, f"{target}: {detail}")
        received = error.rcvd
        if received is None:
            code, reason = 1006, "1006 (no close frame)"
        else:
            code, reason = received.code, f"{received.code} {received.reason}".strip()
        said = f" after the message {summarize(ladder.body)}" if ladder.body else ""
        if code in ABNORMAL_CLOSES:
            detail = f"closed {reason}"
            return Finding("ws.closed_abnormally", detail + said, f"{target}: {detail}{said}")
        detail = f"closed {reason} before the expected reply"
        return Finding("ws.unexpected_message", detail + said, f"{target}: {detail}{said}")
    tls_finding = classify_tls_error(target, error) if isinstance(error, ssl.SSLError) else None
    os_finding = tls_finding or classify_os_error(target, error)
    if os_finding is not None:
        return os_finding
    if isinstance(error, InvalidHandshake | EOFError):
        detail = f"the upgrade failed: {describe(error)}"
        return Finding("http.no_response", detail, f"{target}: {detail}")
    return None
