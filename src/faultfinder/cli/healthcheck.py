"""``faultfinder health-check URL``: a container HEALTHCHECK from an app's health endpoint.

Exit 0 when the endpoint answers 2xx and its document (any shape ``diagnose`` reads: IETF,
Actuator, MicroProfile, ASP.NET, Kubernetes' text) does not say it fails; 1 otherwise (an
error status, a failing document, no answer within the deadline, no connection). One line on
stdout says why. The standard library's HTTP client, in a daemon thread joined with the
deadline: a hung endpoint never holds the container's health command past it.
"""

from __future__ import annotations

import argparse
import http.client
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from faultfinder.classify.health_documents import read_health_document
from faultfinder.errors import UsageError
from faultfinder.model import Grade
from faultfinder.redact import INLINE

BODY_LIMIT = 256 * 1024  # what a health document may take (as diagnose reads it)


@dataclass
class Answer:
    status: int | None = None
    body: str = ""
    error: str = ""


def run(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise UsageError("--timeout must be greater than zero")
    if not args.url.startswith(("http://", "https://")):
        raise UsageError(f"health-check: {args.url!r} is not an http:// or https:// URL")
    try:  # a malformed host or port ("http://[::1/x", ":99999") is the caller's, not the app's
        parts = urllib.parse.urlsplit(args.url)
        if not parts.hostname:
            raise ValueError("no host")
        _ = parts.port
    except ValueError as error:
        raise UsageError(
            f"health-check: {INLINE(args.url)!r} is not a valid URL ({error})"
        ) from None
    headers = dict(_header(value) for value in args.header)
    started = time.perf_counter()
    answer = Answer()
    worker = threading.Thread(
        target=_get, args=(args.url, headers, args.timeout, answer), daemon=True
    )
    worker.start()
    worker.join(args.timeout)
    took = (time.perf_counter() - started) * 1000
    where = INLINE(args.url)
    if worker.is_alive():
        print(f"fail: no answer from {where} within the {args.timeout:g}s deadline")
        return 1
    if answer.status is None:
        print(f"fail: {where}: {INLINE(answer.error)}")
        return 1
    view = read_health_document(answer.body)
    status = view.status if view is not None else None
    healthy = 200 <= answer.status < 300 and status is not Grade.FAIL
    said = f", document {status}" if status is not None else ""
    summary = f": {INLINE(view.summary())}" if view is not None and not healthy else ""
    verdict = "pass" if healthy else "fail"
    print(f"{verdict}: {where} answered {answer.status}{said} in {took:.0f} ms{summary}")
    return 0 if healthy else 1


def _header(value: str) -> tuple[str, str]:
    name, colon, text = value.partition(":")
    if not colon or not name.strip():
        raise UsageError(f"--header {value.split(':')[0]!r}: expected 'Name: value'")
    return name.strip(), text.strip()


def _get(url: str, headers: dict[str, str], timeout: float, answer: Answer) -> None:
    """The thread's body: whatever the server does, ``answer`` says it; nothing escapes."""
    try:
        _fetch(url, headers, timeout, answer)
    except (OSError, ValueError, http.client.HTTPException) as error:  # BadStatusLine: garbage
        answer.status = None
        answer.error = f"{type(error).__name__}: {error}"
    except Exception as error:
        answer.status = None
        answer.error = f"unexpected {type(error).__name__}: {error}"


def _fetch(url: str, headers: dict[str, str], timeout: float, answer: Answer) -> None:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer.body = response.read(BODY_LIMIT).decode("utf-8", "replace")
            answer.status = response.status
    except urllib.error.HTTPError as error:  # 4xx/5xx: the document still says why
        answer.status = error.code
        answer.body = error.read(BODY_LIMIT).decode("utf-8", "replace")
