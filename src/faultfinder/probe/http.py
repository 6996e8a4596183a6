"""``http://`` and ``https://``: resolve, connect, TLS, then one HTTP/1.1 request.

The request goes on the connection the TCP rung opened (after the TLS rung's handshake, for
https): each rung is timed on its own, the HTTP rung measures the request and its answer, and
the server sees one connection per probe, never a bare connect closed without a request.
``request(ladder, address)`` without a connection opens one of its own to that address.

The request is written and the answer parsed by h11 (the HTTP/1.1 state machine under httpx)
on plain asyncio streams. httpx's client, connection pool and anyio layers cost about 2.5 ms of
CPU a request; h11 on a stream about 0.5 ms. ``watch`` of 2,000 targets every 10 s sends 200
requests a second, so that was most of a core (benchmarks/README.md, "watch"). What httpx did
for us is here in a few lines: Basic credentials from the URL, a JSON or text body with its
length, no redirects followed, no proxy from the environment, no cookies kept.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import contextlib
import email.utils
import functools
import json
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import h11

from faultfinder.classify import (
    Finding,
    chain,
    describe,
)
from faultfinder.classify.health_documents import read_health_document
from faultfinder.classify.protocols import describe as describe_speaker
from faultfinder.classify.protocols import identify
from faultfinder.classify.responses import classify_response, summarize
from faultfinder.config import Component
from faultfinder.errors import NoResponse, ProbeFault
from faultfinder.model import Grade, HttpAnswer
from faultfinder.probe._answer import mismatch
from faultfinder.probe._ladder import Ladder
from faultfinder.probe._steps import (
    Connection,
    handshake,
    transport,
)
from faultfinder.probe.identify import what_speaks

BODY_LIMIT = 256 * 1024  # enough for any health document or error page
USER_AGENT = "faultfinder/0.1"
READ_SIZE = 64 * 1024
HEAD_LIMIT = 100 * 1024  # the status line and headers, at most (httpcore's limit)
FIRST_BYTES = 512  # of an answer that is not HTTP, enough to tell what speaks there
# RFC 3986's characters allowed in a path and query as they are: the rest is percent-encoded
URL_SAFE = "/?:@!$&'()*+,;=-._~%"
_END = h11.EndOfMessage()  # immutable: one for every request
# h11's own message quotes the value, which may be a token: never shown
INVALID_REQUEST = (
    "the request is not valid HTTP: a method, header name or header value holds a character "
    "HTTP forbids (a line break, for example from a flow's variable)"
)


async def probe(ladder: Ladder) -> None:
    connection = await transport(ladder)
    try:
        if ladder.component.scheme.tls:
            await handshake(ladder, connection)
        await request(ladder, connection)
    finally:
        connection.close()


async def request(ladder: Ladder, connection: Connection) -> None:
    """The HTTP rung: one request on the connection the transport rungs opened (closed after)."""
    component = ladder.component
    target = connection.where(component.port)
    times: dict[str, float] = {}
    started = time.perf_counter()
    first = bytearray()  # the server's first bytes: what speaks there, when it is not HTTP

    async def send() -> int:
        head, payload = _request(component)  # h11 refuses a header a flow's variable broke
        try:
            status, answer, body, version = await _exchange(
                connection.reader, connection.writer, head, payload, times, first
            )
        except (NoResponse, h11.RemoteProtocolError) as error:
            await _other_protocol(ladder, connection, bytes(first), error)
            raise
        finally:
            connection.writer.transport.abort()  # no close handshake to wait for
        ladder.status_code = status
        ladder.http = _answer(version, answer, len(body))
        ladder.content_type = answer.get("content-type", "")
        ladder.body = body.decode(_charset(ladder.content_type), errors="replace")
        finding = judge(ladder, status, answer, ladder.body)
        if finding is not None:
            raise ProbeFault.of(finding)
        return status

    def classify(error: BaseException) -> Finding | None:
        if isinstance(error, h11.LocalProtocolError):
            return Finding("http.invalid_request", INVALID_REQUEST, f"{target}: {INVALID_REQUEST}")
        return classify_http_error(target, error)

    try:
        await ladder.rung(
            "http",
            send,
            classify=classify,
            detail=lambda status: f"{status} {_reason_phrase(status)}".strip(),
        )
    finally:
        _note_timings(ladder, times, started)


async def _other_protocol(
    ladder: Ladder, connection: Connection, first: bytes, error: BaseException
) -> None:
    """Raise ``protocol.mismatch`` when what answered (or, after a silent close, what answers
    on a connection of its own) speaks another protocol than HTTP."""
    speaker = identify(first) if first else await what_speaks(ladder, connection.address)
    if speaker is not None and speaker.protocol != "http":
        detail = f"no HTTP answer: {describe_speaker(speaker)}"
        where = connection.where(ladder.component.port)
        raise ProbeFault("protocol.mismatch", detail, f"{where}: {detail}") from error


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    head: h11.Request,
    payload: bytes,
    times: dict[str, float],
    first: bytearray,
) -> tuple[int, dict[str, str], bytes, str]:
    """Send one request; read the status, headers, up to ``BODY_LIMIT`` of the body and the
    HTTP version of the answer."""
    connection = h11.Connection(h11.CLIENT, max_incomplete_event_size=HEAD_LIMIT)
    data = connection.send(head)
    if payload:
        data += connection.send(h11.Data(data=payload))
    writer.write(data + connection.send(_END))
    await writer.drain()
    times["sent"] = time.perf_counter()
    status: int | None = None
    version = ""
    headers: dict[str, str] = {}
    body = bytearray()
    while len(body) < BODY_LIMIT:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            received = await reader.read(READ_SIZE)
            if not first:
                first.extend(received[:FIRST_BYTES])
            if not received and status is None:
                raise NoResponse("the server closed the connection without sending a response")
            connection.receive_data(received)
        elif isinstance(event, h11.Response):
            times["headers"] = time.perf_counter()
            status = event.status_code
            version = event.http_version.decode("ascii")
            for name, value in event.headers:
                key, text = name.decode("latin-1"), value.decode("latin-1")
                headers[key] = f"{headers[key]}, {text}" if key in headers else text
        elif isinstance(event, h11.Data):
            body.extend(event.data[: BODY_LIMIT - len(body)])
        elif not isinstance(event, h11.InformationalResponse):  # the end, or a closed stream
            break
    times["body"] = time.perf_counter()
    if status is None:
        raise NoResponse("the server closed the connection without sending a response")
    return status, headers, bytes(body), version


def _answer(version: str, headers: Mapping[str, str], body_bytes: int) -> HttpAnswer:
    """What blackbox_exporter reports of an answer (prober/http.go: ``resp.ContentLength``,
    -1 when unknown as Go's net/http says it; the bytes read; the Last-Modified header)."""
    length = headers.get("content-length", "")
    last_modified = None
    with contextlib.suppress(TypeError, ValueError, IndexError):
        if "last-modified" in headers:
            last_modified = email.utils.parsedate_to_datetime(headers["last-modified"])
    if last_modified is not None and last_modified.tzinfo is None:
        last_modified = None  # not an HTTP date (RFC 9110 §5.6.7 says GMT)
    return HttpAnswer(version, int(length) if length.isdigit() else -1, body_bytes, last_modified)


def _request(component: Component) -> tuple[h11.Request, bytes]:
    """The request line and headers, and the body, for this component's settings."""
    spec = component.spec
    json_text = None
    if spec.json_body is not None:
        json_text = json.dumps(spec.json_body, ensure_ascii=False, separators=(",", ":"))
    headers = tuple(spec.headers.items())
    return _prepare(component.url, spec.method, headers, spec.body, json_text)


@functools.lru_cache(maxsize=4096)
def _prepare(
    url: str,
    method: str,
    configured: tuple[tuple[str, str], ...],
    body: str | None,
    json_text: str | None,
) -> tuple[h11.Request, bytes]:
    """The request as httpx sent it: the configured headers win, by any case.

    Cached: h11 validates every header of a new request, and `watch` sends the same one to a
    component every interval. An h11 event is immutable, so one serves every connection."""
    parts = urlsplit(url)
    # over a Unix socket the "host" is the socket's path: say localhost, as curl does
    host = "localhost" if parts.scheme == "http+unix" else parts.netloc.rpartition("@")[2]
    headers = {
        "host": ("Host", host),
        "user-agent": ("User-Agent", USER_AGENT),
        "accept": ("Accept", "*/*"),
        "accept-encoding": ("Accept-Encoding", "identity"),  # the body is read as it comes
    }
    if parts.username is not None:  # a configured Authorization header wins, as with curl -H
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        token = base64.b64encode(credentials.encode()).decode("ascii")
        headers["authorization"] = ("Authorization", f"Basic {token}")
    payload = b""
    if body is not None:
        payload = body.encode()
    elif json_text is not None:
        payload = json_text.encode()
        headers["content-type"] = ("Content-Type", "application/json")
    if payload or method.upper() in ("POST", "PUT", "PATCH"):
        headers["content-length"] = ("Content-Length", str(len(payload)))
    for name, value in configured:
        headers[name.lower()] = (name, value)
    path = quote(parts.path or "/", safe=URL_SAFE)
    if parts.query:
        path += f"?{quote(parts.query, safe=URL_SAFE)}"
    return h11.Request(method=method, target=path, headers=list(headers.values())), payload


def _charset(content_type: str) -> str:
    """The body's encoding: the Content-Type's charset when Python knows it, else UTF-8."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"')
            try:
                return codecs.lookup(charset).name
            except LookupError:
                break
    return "utf-8"


def judge(ladder: Ladder, status: int, headers: Any, body: str) -> Finding | None:
    """The response against the check's expectations; ``None`` when it is what was expected."""
    spec = ladder.component.spec
    expected = spec.expect.status
    if not (status in expected if expected else 200 <= status < 400):
        finding = classify_response(status, headers, body)
        if spec.health and finding.code == "app.error" and status == 503:
            return Finding(
                "app.unhealthy",
                "503 from the service: its health document reports failure",
                f"health document at {ladder.component.display_url}: {summarize(body)}",
            )
        if expected and finding.code == "app.error":
            return finding
        if expected and not finding.code.startswith(("proxy.", "protocol.")):
            detail = f"{status} from the service, expected {', '.join(map(str, expected))}"
            return Finding("http.unexpected_status", detail, f"{detail}: {summarize(body)}")
        return finding
    if spec.expect.body is not None and spec.expect.body not in body:
        detail = f"{status}, but the body does not contain {spec.expect.body!r}"
        return Finding("http.unexpected_body", detail, f"{detail}: {summarize(body)}")
    reason = mismatch(spec.expect, body)
    if reason is not None:
        detail = f"{status}, but the body {reason}"
        return Finding("http.unexpected_body", detail, detail)
    return read_document(ladder, status, body) if spec.health else None


def read_document(ladder: Ladder, status: int, body: str) -> Finding | None:
    """The app's health document, read whatever the status: many apps answer 200 while their
    document says they fail (a failure), or that they are degraded (a warning)."""
    view = read_health_document(body)
    if view is None:  # no document at all: the diagnosis notes why
        return None
    where = f"health document at {ladder.component.display_url}"
    if view.status is Grade.FAIL:
        detail = f"{status} from the service, but its health document says it fails"
        return Finding("app.unhealthy", detail, f"{where}: {view.summary()}")
    if view.status is Grade.WARN and ladder.warning is None:
        ladder.warning = "app.degraded"
        ladder.evidence.append(f"{where} warns: {view.summary()}")
    return None


def classify_http_error(target: str, error: BaseException) -> Finding | None:
    """An error once connected: the request went out, so a close or reset is the service's."""
    if isinstance(error, NoResponse):
        return Finding("http.no_response", str(error), f"{target}: {error}")
    if isinstance(error, OSError | h11.ProtocolError):
        detail = f"the connection closed without a response ({_reason(error)})"
        return Finding("http.no_response", detail, f"{target}: {detail}")
    return None


def _reason(error: BaseException) -> str:
    """The most telling description in the chain: an errno (a reset) beats a wrapper's text."""
    for link in chain(error):
        if isinstance(link, OSError) and link.errno is not None:
            return f"[Errno {link.errno}] {link.strerror or describe(link)}"
    return describe(error)


def _reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _note_timings(ladder: Ladder, times: Mapping[str, float], started: float) -> None:
    """blackbox_exporter's phase names: processing (to first byte) and transfer (the body)."""
    sent = times.get("sent", started)
    headers_done = times.get("headers")
    body_done = times.get("body", time.perf_counter())
    if headers_done is not None:
        ladder.timings["processing"] = (headers_done - sent) * 1000
        ladder.timings["transfer"] = (body_done - headers_done) * 1000
