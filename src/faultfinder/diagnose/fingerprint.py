"""Tell a proxy's or platform's own error page from the application's (status, headers, body).

A 5xx that no fingerprint claims is the application's own answer (``app.error``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from faultfinder.diagnose.classify import Finding


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


NO_UPSTREAM = "proxy.no_healthy_upstream"
UPSTREAM_TIMEOUT = "proxy.upstream_timeout"

# Most specific first: a body text the proxy writes itself beats a bare Server header, because
# proxies pass the application's own 5xx through with their Server header on it.
FINGERPRINTS: tuple[Fingerprint, ...] = (
    # HAProxy's built-in pages (src/http_htx.c / errors/*.http).
    _fp("HAProxy", {503}, NO_UPSTREAM, body=r"No server is available to handle this request"),
    _fp(
        "HAProxy", {502}, NO_UPSTREAM, body=r"The server returned an invalid or incomplete response"
    ),
    _fp("HAProxy", {504}, UPSTREAM_TIMEOUT, body=r"The server didn't respond in time"),
    # Envoy's local replies (also Istio, Cloud Run's and many meshes' front ends).
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
    # Amazon API Gateway in front of a serverless function.
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
    _fp("Google Cloud Run", {504}, UPSTREAM_TIMEOUT, body=r"upstream request timeout"),
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
    # Traefik and Caddy write terse plain-text pages.
    _fp("Traefik", {502}, NO_UPSTREAM, body=r"^\s*Bad Gateway\s*$"),
    _fp("Traefik", {503}, NO_UPSTREAM, body=r"^\s*no available server\s*$"),
    _fp("Traefik", {504}, UPSTREAM_TIMEOUT, body=r"^\s*Gateway Timeout\s*$"),
)

_TITLE = re.compile(r"<title>(.*?)</title>|<h1>(.*?)</h1>", re.IGNORECASE | re.DOTALL)


def fingerprint(status: int, headers: Mapping[str, str], body: str) -> Finding | None:
    """A proxy's own error response → its ``proxy.*`` finding; ``None`` if no proxy claims it."""
    lowered = {name.lower(): value for name, value in headers.items()}
    for candidate in FINGERPRINTS:
        if candidate.matches(status, lowered, body):
            detail = f"{status} from {candidate.source}: {summarize(body)}"
            return Finding(candidate.code, detail, f"{detail} ({_server(lowered)})")
    return None


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
    """The most telling line of an error body: its title or first text line."""
    match = _TITLE.search(body)
    text = next((group for group in match.groups() if group), "") if match else ""
    if "No server is available" in body or not text:
        text = re.sub(r"<[^>]+>", " ", body)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        text = next((line for line in lines if not re.fullmatch(r"\d{3}\b.*", line)), "")
        text = text or (lines[0] if lines else "(empty body)")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _server(headers: Mapping[str, str]) -> str:
    server = headers.get("server", "")
    return f"Server: {server}" if server else "no Server header"
