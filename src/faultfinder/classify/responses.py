"""Tell a proxy's or platform's own error page from the application's (status, headers, body).

A 5xx that no fingerprint claims is the application's own answer (``app.error``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus

from faultfinder.classify.finding import Finding


@dataclass(frozen=True)
class Fingerprint:
    """One proxy's error page: who it is, which statuses, what its headers and body say."""

    source: str
    statuses: frozenset[int]
    code: str
    body: re.Pattern[str] | None = None
    header: tuple[str, re.Pattern[str]] | None = None

    def matches(self, status: int, headers: Mapping[str, str], body: str) -> bool:
        if status not in self.statuses:
            return False
        if self.header is not None:
            name, pattern = self.header
            if not pattern.search(headers.get(name, "")):
                return False
        return self.body is None or bool(self.body.search(body))


def _fp(
    source: str,
    statuses: set[int],
    code: str,
    *,
    body: str | None = None,
    header: tuple[str, str] | None = None,
) -> Fingerprint:
    return Fingerprint(
        source=source,
        statuses=frozenset(statuses),
        code=code,
        body=re.compile(body, re.IGNORECASE | re.DOTALL) if body else None,
        header=(header[0].lower(), re.compile(header[1], re.IGNORECASE)) if header else None,
    )


MISMATCH = "protocol.mismatch"
NO_UPSTREAM = "proxy.no_healthy_upstream"
UPSTREAM_TIMEOUT = "proxy.upstream_timeout"

# Most specific first: a body text the proxy writes itself beats a bare Server header, because
# proxies pass the application's own 5xx through with their Server header on it, and a proxy
# that names itself in a header beats one whose body text others copy (Envoy's).
# tests/data/pages/README.md says where each page's shape comes from.
FINGERPRINTS: tuple[Fingerprint, ...] = (
    # A plain HTTP request at a TLS port, answered by the TLS server itself: nginx
    # (ngx_http_request.c), Go's net/http ("Client sent an HTTP request to an HTTPS server."),
    # Apache httpd's mod_ssl.
    _fp(
        "a TLS port (plain HTTP was sent)",
        {400, 497},
        MISMATCH,
        body=r"The plain HTTP request was sent to HTTPS port"
        r"|Client sent an HTTP request to an HTTPS server"
        r"|speaking plain HTTP to an SSL-enabled server port",
    ),
    # HAProxy's built-in pages (http_err_msgs in src/http.c); they carry no Server header.
    _fp("HAProxy", {503}, NO_UPSTREAM, body=r"No server is available to handle this request"),
    _fp(
        "HAProxy", {502}, NO_UPSTREAM, body=r"The server returned an invalid or incomplete response"
    ),
    _fp("HAProxy", {504}, UPSTREAM_TIMEOUT, body=r"The server didn't respond in time"),
    # Google Cloud Run's front end writes Envoy's timeout text but names itself.
    _fp(
        "Google Cloud Run",
        {504},
        UPSTREAM_TIMEOUT,
        body=r"^\s*upstream request timeout\s*$",
        header=("server", r"^Google Frontend"),
    ),
    # Envoy's local replies (also Istio and many meshes' sidecars and gateways).
    _fp("Envoy", {503}, NO_UPSTREAM, body=r"^\s*no healthy upstream\s*$"),
    _fp(
        "Envoy",
        {502, 503},
        NO_UPSTREAM,
        body=r"upstream connect error or disconnect/reset before headers",
    ),
    _fp("Envoy", {504}, UPSTREAM_TIMEOUT, body=r"^\s*upstream request timeout\s*$"),
    # AWS Application Load Balancer: its own pages carry `Server: awselb/2.0`.
    _fp("AWS ALB", {502, 503}, NO_UPSTREAM, header=("server", r"^awselb")),
    _fp("AWS ALB", {504}, UPSTREAM_TIMEOUT, header=("server", r"^awselb")),
    # Amazon API Gateway (REST APIs) in front of a function or an HTTP integration.
    _fp("Amazon API Gateway", {504}, UPSTREAM_TIMEOUT, body=r"Endpoint request timed out"),
    _fp(
        "Amazon API Gateway",
        {502},
        NO_UPSTREAM,
        header=("x-amzn-errortype", r"InternalServerErrorException|BadGateway"),
    ),
    # Google Cloud Run (the serverless platform) and the Google Front End / Cloud Load Balancer.
    _fp(
        "Google Cloud Run",
        {503, 500},
        NO_UPSTREAM,
        body=r"Service Unavailable.*(?:not available yet|container failed to start)"
        r"|The request failed because either the HTTP response was malformed",
    ),
    _fp(
        "Google Front End",
        {502, 503},
        NO_UPSTREAM,
        body=r"Error 50[23] \(Server Error\)!!1|The server encountered a temporary error",
    ),
    _fp("Google Front End", {504}, UPSTREAM_TIMEOUT, body=r"Error 504 \(Server Error\)!!1"),
    # Cloudflare's origin errors 520-526: Cloudflare reached, the origin behind it did not answer.
    _fp("Cloudflare", {520, 521, 523, 525, 526}, NO_UPSTREAM, header=("server", r"cloudflare")),
    _fp("Cloudflare", {522, 524}, UPSTREAM_TIMEOUT, header=("server", r"cloudflare")),
    # nginx's own pages end with `<hr><center>nginx…</center>`; the app's 502 through nginx
    # keeps the app's body.
    _fp("nginx", {502, 503}, NO_UPSTREAM, body=r"<center>nginx[^<]*</center>"),
    _fp("nginx", {504}, UPSTREAM_TIMEOUT, body=r"<center>nginx[^<]*</center>"),
    # Traefik writes terse plain-text pages (Go's http.StatusText, and its balancer's error).
    _fp("Traefik", {502}, NO_UPSTREAM, body=r"^\s*Bad Gateway\s*$"),
    _fp("Traefik", {503}, NO_UPSTREAM, body=r"^\s*no available server\s*$"),
    _fp("Traefik", {504}, UPSTREAM_TIMEOUT, body=r"^\s*Gateway Timeout\s*$"),
)

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HIDDEN = re.compile(r"<(head|style|script)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
# Lines that say nothing a status code does not: reason phrases and filler around them.
_BARE_PHRASES = frozenset(
    {status.phrase.lower() for status in HTTPStatus}
    | {"gateway time-out", "service temporarily unavailable", "server error", "error"}
    | {"that's an error", "that's all we know"}
)
_SIGNATURE = re.compile(r"[a-z][\w.-]*(?:/[\w.-]+)?", re.IGNORECASE)  # `nginx/1.22.1`


def identify(status: int, headers: Mapping[str, str], body: str) -> Fingerprint | None:
    """The proxy or platform whose own error page this is, or ``None``."""
    lowered = {name.lower(): value for name, value in headers.items()}
    return next((fp for fp in FINGERPRINTS if fp.matches(status, lowered, body)), None)


def fingerprint(status: int, headers: Mapping[str, str], body: str) -> Finding | None:
    """A proxy's own error response → its ``proxy.*`` finding; ``None`` if no proxy claims it."""
    claimed = identify(status, headers, body)
    if claimed is None:
        return None
    lowered = {name.lower(): value for name, value in headers.items()}
    detail = f"{status} from {claimed.source}: {summarize(body)}"
    return Finding(claimed.code, detail, f"{detail} ({_server(lowered)})")


def classify_response(status: int, headers: Mapping[str, str], body: str) -> Finding:
    """An error response → the proxy's fault if a fingerprint claims it, else the app's."""
    claimed = fingerprint(status, headers, body)
    if claimed is not None:
        return claimed
    lowered = {name.lower(): value for name, value in headers.items()}
    detail = f"{status} from the service: {summarize(body)}"
    code = "app.error" if status >= 500 else "http.unexpected_status"
    return Finding(code, detail, f"{detail} ({_server(lowered)})")


def summarize(body: str, limit: int = 120) -> str:
    """The most telling line of an error body: its title or first line that says more than
    the status does (HAProxy's and Google's pages put the reason under a bare status title)."""
    match = _TITLE.search(body)
    title = _clean(match.group(1)) if match else ""
    text = _TAG.sub("\n", _HIDDEN.sub("\n", body))
    lines = [line for line in (_clean(raw) for raw in text.splitlines()) if line]
    telling = next((line for line in [title, *lines] if line and not _is_bare(line)), "")
    text = telling or title or (lines[0] if lines else "(empty body)")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean(text: str) -> str:
    return " ".join(html.unescape(text).split())


def _is_bare(line: str) -> bool:
    """True for `502 Bad Gateway`, `Error: Server Error`, `502.`, `nginx/1.22.1`."""
    if _SIGNATURE.fullmatch(line):
        return True
    words = line.lower().replace("\u2019", "'")
    words = re.sub(r"^\W*error\b", " ", words)
    words = " ".join(re.sub(r"[^a-z' -]", " ", words).split()).strip(" -")
    return not words or words in _BARE_PHRASES


def _server(headers: Mapping[str, str]) -> str:
    server = headers.get("server", "")
    return f"Server: {server}" if server else "no Server header"
