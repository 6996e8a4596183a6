"""``http://`` and ``https://``: resolve, connect, TLS, then one request with httpx.

The request goes to the address the ladder resolved (with the original Host and SNI), so the
HTTP rung tests exactly the path the lower rungs measured and never resolves again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import httpx

from faultfinder.diagnose.classify import (
    Finding,
    chain,
    classify_os_error,
    classify_tls_error,
    describe,
)
from faultfinder.diagnose.fingerprint import classify_response, summarize
from faultfinder.probe._ladder import Ladder, ProbeFault
from faultfinder.probe._steps import (
    join_host_port,
    reach,
    server_name,
    tls_context,
)

BODY_LIMIT = 256 * 1024  # enough for any health document or error page
USER_AGENT = "faultfinder/0.1"


async def probe(ladder: Ladder) -> None:
    await request(ladder, await reach(ladder))


def pinned_url(url: str, address: str, *, keep_userinfo: bool = True) -> str:
    """``url`` with its host replaced by ``address`` (user-info, port and path kept)."""
    parts = urlsplit(url)
    userinfo, _, _ = parts.netloc.rpartition("@")
    host = f"[{address}]" if ":" in address else address
    netloc = f"{userinfo}@{host}" if userinfo and keep_userinfo else host
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return parts._replace(netloc=netloc).geturl()


async def request(ladder: Ladder, address: str) -> None:
    component = ladder.component
    spec = component.spec
    events: dict[str, float] = {}

    async def trace(name: str, info: dict[str, Any]) -> None:
        events[name] = time.perf_counter()

    host_header = urlsplit(component.url).netloc.rpartition("@")[2]
    headers = {"Host": host_header, "User-Agent": USER_AGENT, **spec.headers}
    target = join_host_port(address, component.port)
    # A configured Authorization header wins over the URL's user-info, as with curl -H;
    # httpx would otherwise replace the header with Basic credentials from the URL.
    url = pinned_url(component.url, address, keep_userinfo=not _has_authorization(spec.headers))
    started = time.perf_counter()

    async def send() -> int:
        verify = tls_context(ladder) if component.kind == "https" else False
        async with (
            httpx.AsyncClient(
                verify=verify,
                follow_redirects=False,
                trust_env=False,
                timeout=httpx.Timeout(max(ladder.remaining(), 0.001)),
            ) as client,
            client.stream(
                spec.method,
                url,
                headers=headers,
                extensions={"sni_hostname": server_name(ladder), "trace": trace},
            ) as response,
        ):
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk[: BODY_LIMIT - len(body)])
                if len(body) >= BODY_LIMIT:
                    break
        ladder.status_code = response.status_code
        ladder.content_type = response.headers.get("content-type", "")
        ladder.body = body.decode(response.encoding or "utf-8", errors="replace")
        finding = judge(ladder, response.status_code, response.headers, ladder.body)
        if finding is not None:
            raise ProbeFault.of(finding)
        return response.status_code

    try:
        await ladder.rung(
            "http",
            send,
            timeout_code="http.timeout",
            classify=lambda error: classify_http_error(target, error),
            detail=lambda status: f"{status} {_reason_phrase(status)}".strip(),
        )
    finally:
        _note_timings(ladder, events, started)


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
        if expected and not finding.code.startswith("proxy."):
            detail = f"{status} from the service, expected {', '.join(map(str, expected))}"
            return Finding("http.unexpected_status", detail, f"{detail}: {summarize(body)}")
        return finding
    if spec.expect.body is not None and spec.expect.body not in body:
        detail = f"{status}, but the body does not contain {spec.expect.body!r}"
        return Finding("http.unexpected_body", detail, f"{detail}: {summarize(body)}")
    return None


def classify_http_error(target: str, error: BaseException) -> Finding | None:
    """httpx's exceptions → the layer they really failed at."""
    if isinstance(error, httpx.TimeoutException):
        return Finding("http.timeout", "no response in time", f"{target}: {describe(error)}")
    finding = classify_tls_error(target, error) if "SSL" in repr(error) else None
    if finding is None and isinstance(error, httpx.ConnectError):
        finding = classify_os_error(target, error)
    if finding is not None:
        return finding
    # Connected and the request sent: a reset or close now is the service's, not TCP set-up's.
    if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        detail = f"the connection closed without a response ({_reason(error)})"
        return Finding("http.no_response", detail, f"{target}: {detail}")
    finding = classify_os_error(target, error)
    if finding is not None:
        return finding
    if isinstance(error, httpx.HTTPError):
        return Finding("http.no_response", describe(error), f"{target}: {describe(error)}")
    return None


def _reason(error: BaseException) -> str:
    """The most telling description in the chain: an errno (a reset) beats httpx's wrapper."""
    for link in chain(error):
        if isinstance(link, OSError) and link.errno is not None:
            return f"[Errno {link.errno}] {link.strerror or describe(link)}"
    return describe(error)


def _has_authorization(headers: Mapping[str, str]) -> bool:
    return any(name.lower() == "authorization" for name in headers)


def _reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _note_timings(ladder: Ladder, events: dict[str, float], started: float) -> None:
    """blackbox_exporter's phase names: processing (to first byte) and transfer (the body)."""
    sent = events.get("http11.send_request_body.complete", started)
    headers_done = events.get("http11.receive_response_headers.complete")
    body_done = events.get("http11.receive_response_body.complete", time.perf_counter())
    if headers_done is not None:
        ladder.timings["processing"] = (headers_done - sent) * 1000
        ladder.timings["transfer"] = (body_done - headers_done) * 1000
