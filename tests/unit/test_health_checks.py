"""Checks run safely: errors become fault codes, hangs end at the timeout, runs are shared."""

from __future__ import annotations

import asyncio
import errno
import socket
import time

import pytest

from faultfinder.errors import ConfigError
from faultfinder.health import Health, function_check, url_check
from faultfinder.health._cache import CheckCache
from faultfinder.health._checks import HARD_CUT_GRACE, run_check


class Counting:
    """An async check function that counts its calls and does what it is told."""

    def __init__(self, error: BaseException | None = None, *, hang: bool = False) -> None:
        self.calls = 0
        self.error = error
        self.hang = hang
        self.release = asyncio.Event()

    async def __call__(self) -> None:
        self.calls += 1
        if self.hang:
            await self.release.wait()
        await asyncio.sleep(0)
        if self.error is not None:
            raise self.error


async def passing() -> None:
    await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("error", "kind", "code", "layer"),
    [
        (
            ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
            "app",
            "tcp.refused",
            "tcp",
        ),
        (
            socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
            "redis",
            "dns.temporary_failure",
            "dns",
        ),
        (
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            "postgresql",
            "dns.nxdomain",
            "dns",
        ),
        (RuntimeError("NOAUTH Authentication required."), "redis", "redis.auth_failed", "redis"),
        (
            RuntimeError("FATAL: sorry, too many clients already"),
            "postgresql",
            "postgres.too_many_connections",
            "postgres",
        ),
        (RuntimeError("something odd"), "redis", "redis.error", "redis"),
        (RuntimeError("something odd"), "app", None, None),
    ],
)
async def test_the_apps_own_errors_become_fault_codes(
    error: BaseException, kind: str, code: str | None, layer: str | None
) -> None:
    check = function_check("dependency", Counting(error), kind=kind)

    outcome = await run_check(check)

    observation = outcome.observations[0]
    assert (observation.status, observation.code, observation.layer) == ("fail", code, layer)
    assert observation.output == f"{type(error).__name__}: {error}"
    assert outcome.status == "fail"


async def test_a_hanging_check_ends_at_its_timeout_with_the_kinds_timeout_code() -> None:
    check = function_check("redis", Counting(hang=True), kind="redis", timeout=0.2)

    started = time.perf_counter()
    outcome = await run_check(check)
    elapsed = time.perf_counter() - started

    # Ended by its own 0.2 s timeout, before the hard cut at 0.2 s + HARD_CUT_GRACE: the 0.5 s
    # between them is a hundred times the check's CPU time, so this holds at twice the load.
    assert elapsed < 0.2 + HARD_CUT_GRACE, f"{elapsed:.2f}s"
    observation = outcome.observations[0]
    assert (observation.status, observation.code) == ("fail", "redis.timeout")
    assert observation.output == "no answer within the 0.2s check timeout"


async def test_a_check_that_ignores_cancellation_is_cut_off() -> None:
    async def stubborn() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:  # swallowed, as a badly written client might
            await asyncio.sleep(10)

    check = function_check("db", stubborn, kind="postgresql", timeout=0.1)

    started = time.perf_counter()
    outcome = await run_check(check)
    elapsed = time.perf_counter() - started

    # Cut at 0.1 s + HARD_CUT_GRACE, not after the 10 s it would sleep on: the 0.3 s over the
    # cut is a hundred times the CPU time around it, so this holds at twice the load.
    assert elapsed < 0.1 + HARD_CUT_GRACE + 0.3, f"{elapsed:.2f}s"
    assert outcome.observations[0].code == "postgres.timeout"


def test_a_blocking_function_is_refused() -> None:
    def blocking() -> None:
        time.sleep(1)

    with pytest.raises(TypeError, match="async function"):
        function_check("x", blocking)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["", "redis:ping"])
def test_a_check_name_cannot_break_the_key(name: str) -> None:
    with pytest.raises(ValueError, match="no colon"):
        function_check(name, passing)


def test_a_url_check_goes_through_stack_file_validation() -> None:
    with pytest.raises(ConfigError, match=r"<cache>: components\.cache\.url: unknown scheme"):
        url_check("cache", "memcached://127.0.0.1:11211")
    with pytest.raises(ConfigError, match=r"components\.cache\.colour: unknown key"):
        url_check("cache", "redis://127.0.0.1:6379", colour="red")


async def test_concurrent_requests_share_one_run_per_ttl() -> None:
    function = Counting(hang=True)
    cache = CheckCache([function_check("redis", function)], ttl=60)

    found = [cache.get(0) for _ in range(50)]
    assert all(item is found[0] for item in found)  # one run in flight, shared
    function.release.set()
    first = await found[0]  # type: ignore[misc]

    assert cache.get(0) is first  # fresh: no new run
    assert function.calls == 1
    assert cache.runs == {("redis", "pass"): 1}


async def test_an_expired_result_is_measured_again() -> None:
    function = Counting()
    cache = CheckCache([function_check("redis", function)], ttl=0)

    await cache.get(0)  # type: ignore[misc]
    await cache.get(0)  # type: ignore[misc]

    assert function.calls == 2


async def test_a_request_waits_no_longer_than_the_deadline() -> None:
    stuck = Counting(hang=True)
    health = Health(
        [
            function_check("redis", stuck, kind="redis", timeout=30),
            function_check("postgres", passing, kind="postgresql"),
        ],
        deadline=0.2,
    )

    started = time.perf_counter()
    status, document = await health.document()
    elapsed = time.perf_counter() - started

    # The 0.2 s deadline, not the check's 30 s: 0.8 s to spare is a hundred times the CPU time
    # around it, so this holds at twice the load.
    assert elapsed < 1.0, f"{elapsed:.2f}s"
    assert (status, document["status"]) == (503, "fail")
    entry = document["checks"]["redis:responseTime"][0]  # type: ignore[index]
    assert entry["faultCode"] == "redis.timeout"
    assert entry["output"] == "no answer within the 0.2s deadline of the health endpoint"
    assert document["checks"]["postgres:responseTime"][0]["status"] == "pass"  # type: ignore[index]
    # The run goes on; when it ends, the next request gets its result without a new run.
    stuck.release.set()
    await health.cache.get(0)  # type: ignore[misc]
    status, document = await health.document()
    assert status == 200
    assert stuck.calls == 1


async def test_readiness_runs_only_critical_checks() -> None:
    optional = Counting(RuntimeError("down"))
    health = Health(
        [function_check("db", passing), function_check("search", optional, critical=False)]
    )

    status, document = await health.document(critical_only=True)

    assert status == 200
    assert list(document["checks"]) == ["db:responseTime"]  # type: ignore[call-overload]
    assert optional.calls == 0
    status, document = await health.document()
    assert (status, document["status"]) == (200, "warn")  # a non-critical failure warns
