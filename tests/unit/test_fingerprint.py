"""Proxy and platform error pages → who answered and which fault (recorded samples + edges)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from faultfinder.classify.responses import (
    FINGERPRINTS,
    classify_response,
    fingerprint,
    identify,
    summarize,
)

PAGES = Path(__file__).resolve().parents[1] / "data" / "pages"


@dataclass(frozen=True)
class Page:
    """One recorded response: see tests/data/pages/README.md for the format."""

    source: str | None
    code: str
    status: int
    headers: dict[str, str]
    body: str


def load_page(path: Path) -> Page:
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    lines = text.split("\n")
    while lines[0].startswith("#"):
        key, _, value = lines.pop(0).lstrip("# ").partition(":")
        meta.setdefault(key.strip(), value.strip())
    head, _, body = "\n".join(lines).partition("\n\n")
    status_line, *header_lines = head.split("\n")
    headers = dict(
        (name.strip(), value.strip())
        for name, _, value in (line.partition(":") for line in header_lines)
    )
    source = meta["source"]
    return Page(
        source=None if source == "none" else source,
        code=meta["code"],
        status=int(status_line.split()[1]),
        headers=headers,
        body=body,
    )


SAMPLES = sorted(PAGES.glob("*.http"))


def test_every_sample_names_its_source_and_code() -> None:
    assert len(SAMPLES) >= 20
    for path in SAMPLES:
        page = load_page(path)
        assert page.code, path.name
        assert 500 <= page.status <= 599, path.name


@pytest.mark.parametrize("path", SAMPLES, ids=[path.stem for path in SAMPLES])
def test_recorded_page_is_claimed_by_its_source(path: Path) -> None:
    page = load_page(path)

    claimed = identify(page.status, page.headers, page.body)
    finding = classify_response(page.status, page.headers, page.body)

    assert (claimed.source if claimed else None) == page.source
    assert finding.code == page.code
    if page.source is None:
        assert finding.detail.startswith(f"{page.status} from the service: ")
    else:
        assert finding.detail.startswith(f"{page.status} from {page.source}: ")


@pytest.mark.parametrize(
    ("name", "summary"),
    [
        ("aws-alb-502", "502 Bad Gateway"),
        ("api-gateway-504", '{"message": "Endpoint request timed out"}'),
        ("cloudflare-521", "example.com | 521: Web server is down"),
        (
            "cloud-run-503",
            "The service you requested is not available yet. Please try again in 30 seconds.",
        ),
        ("cloud-run-504", "upstream request timeout"),
        (
            "google-front-end-502",
            "The server encountered a temporary error and could not complete your request.",
        ),
        (
            "google-front-end-502-branded",
            "The server encountered a temporary error and could not complete your request.",
        ),
        ("envoy-503-no-healthy-upstream", "no healthy upstream"),
        ("traefik-503", "no available server"),
    ],
)
def test_detail_quotes_the_telling_line(name: str, summary: str) -> None:
    page = load_page(PAGES / f"{name}.http")

    assert classify_response(page.status, page.headers, page.body).detail.endswith(f": {summary}")


def test_evidence_names_the_server_header() -> None:
    page = load_page(PAGES / "aws-alb-503.http")

    finding = classify_response(page.status, page.headers, page.body)

    assert finding.evidence.endswith("(Server: awselb/2.0)")


NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
    "</body>\r\n</html>\r\n"
)
HAPROXY_502 = (
    "<html><body><h1>502 Bad Gateway</h1>\n"
    "The server returned an invalid or incomplete response.\n</body></html>\n"
)


@pytest.mark.parametrize(
    ("status", "headers", "body", "code"),
    [
        (502, {"Server": "nginx/1.22.1"}, NGINX_502, "proxy.no_healthy_upstream"),
        (
            502,
            {"Server": "nginx"},
            NGINX_502.replace("nginx/1.22.1", "nginx"),
            "proxy.no_healthy_upstream",
        ),
        (
            504,
            {"Server": "nginx"},
            NGINX_502.replace("502 Bad Gateway", "504 Gateway Time-out"),
            "proxy.upstream_timeout",
        ),
        (502, {}, HAPROXY_502, "proxy.no_healthy_upstream"),
    ],
)
def test_self_hosted_proxy_pages(
    status: int, headers: dict[str, str], body: str, code: str
) -> None:
    assert classify_response(status, headers, body).code == code


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (500, {"Server": "uvicorn"}, "Internal Server Error"),
        (599, {}, "something odd"),
        (503, {"Server": "gunicorn"}, '{"status": "fail"}'),
        (503, {}, "Service Unavailable"),
        (502, {"Server": "nginx/1.22.1"}, '{"error": "bad gateway upstream of the app"}'),
        (504, {"Server": "uvicorn"}, "Gateway Timeout from the app's own client"),
        (503, {"Server": "envoy"}, "maintenance"),
    ],
)
def test_unclaimed_5xx_is_the_application_s_error(
    status: int, headers: dict[str, str], body: str
) -> None:
    assert fingerprint(status, headers, body) is None
    finding = classify_response(status, headers, body)
    assert finding.code == "app.error"
    assert finding.detail.startswith(f"{status} from the service: ")


def test_a_proxy_page_on_a_status_the_proxy_does_not_use_for_it_is_not_claimed() -> None:
    # nginx's signature on a 500 is its own internal error, not a failing upstream.
    assert fingerprint(500, {"Server": "nginx"}, NGINX_502.replace("502", "500")) is None
    assert fingerprint(200, {"Server": "envoy"}, "no healthy upstream") is None
    assert fingerprint(502, {"Server": "cloudflare"}, "<html>Bad gateway</html>") is None


def test_4xx_is_an_unexpected_status() -> None:
    finding = classify_response(404, {"server": "uvicorn"}, '{"detail": "Not Found"}')

    assert finding.code == "http.unexpected_status"
    assert finding.evidence.endswith("(Server: uvicorn)")


def test_header_names_are_matched_case_insensitively() -> None:
    assert identify(503, {"SERVER": "awselb/2.0"}, "") is not None
    assert identify(503, {"server": "AWSELB/2.0"}, "") is not None


def test_every_fingerprint_yields_a_proxy_code_or_a_protocol_mismatch() -> None:
    assert {fp.code for fp in FINGERPRINTS} == {
        "proxy.no_healthy_upstream",
        "proxy.upstream_timeout",
        "protocol.mismatch",
    }


@pytest.mark.parametrize(
    "body",
    [
        # nginx (ngx_http_special_response.c's 497 page, sent with status 400)
        "<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n"
        "<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP request was "
        "sent to HTTPS port</center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n",
        # Go's net/http server (server.go)
        "Client sent an HTTP request to an HTTPS server.\n",
    ],
)
def test_a_plain_request_at_a_tls_port_is_a_protocol_mismatch(body: str) -> None:
    finding = classify_response(400, {}, body)
    assert finding.code == "protocol.mismatch"


@pytest.mark.parametrize(
    ("body", "summary"),
    [
        ("", "(empty body)"),
        ("   \n  ", "(empty body)"),
        ("Bad Gateway", "Bad Gateway"),
        (NGINX_502, "502 Bad Gateway"),
        (HAPROXY_502, "The server returned an invalid or incomplete response."),
        ('{"error": "boom"}', '{"error": "boom"}'),
        ("<p>caf&eacute; &amp; bar</p>", "café & bar"),
        ("<script>var x = 1;</script><p>shown</p>", "shown"),
    ],
)
def test_summarize(body: str, summary: str) -> None:
    assert summarize(body) == summary


def test_summarize_truncates_long_lines() -> None:
    summary = summarize("x" * 500, limit=40)

    assert len(summary) == 40
    assert summary.endswith("…")
