"""Every scheme of the registry, walked through every layer that reads it.

Adding a scheme touches ``faultfinder.schemes`` and its prober; these tests fail until every
consumer knows it: the stack file accepts its URLs, a prober climbs it, its codes exist, the
health library and the inside view treat it, and ``validate`` suggests a bound for it.
"""

from __future__ import annotations

import inspect

import pytest

from faultfinder.classify.health_documents import HealthCheck
from faultfinder.config import parse_stack
from faultfinder.diagnosis.inside import match_component
from faultfinder.faults import FAULTS
from faultfinder.health import function_check
from faultfinder.health._checks import component_type_of
from faultfinder.probe import client_classifier, prober, prober_module
from faultfinder.schemes import SCHEMES, TRANSPORT_TIMEOUTS, URL_SCHEMES, kind_of_url_scheme
from faultfinder.validate.suggest import suggest

URL_KINDS = sorted(name for name, scheme in SCHEMES.items() if scheme.url_schemes)


def host_of(kind: str) -> str:
    """A host for a URL of this kind: with a port when the kind has no default one (tcp)."""
    return (
        "example.test"
        if SCHEMES[kind].default_port or "tcp" not in SCHEMES[kind].rungs
        else "example.test:8123"
    )


def stack_of(url: str, **keys: object) -> str:
    extra = "".join(f"\n    {key}: {value}" for key, value in keys.items())
    return f"components:\n  target:\n    url: '{url}'{extra}\n"


@pytest.mark.parametrize("kind", URL_KINDS)
def test_the_stack_file_reads_every_url_scheme_of_a_kind(kind: str) -> None:
    scheme = SCHEMES[kind]
    for url_scheme in scheme.url_schemes:
        stack = parse_stack(stack_of(f"{url_scheme}://{host_of(kind)}/x"), "s.yaml", {})
        component = stack.components["target"]
        assert component.kind == kind
        assert component.scheme is scheme
        assert component.port == (scheme.default_port or (8123 if ":" in host_of(kind) else 0))
        assert kind_of_url_scheme(url_scheme.upper()) == kind


def test_every_url_scheme_names_a_kind_once() -> None:
    named = [url_scheme for scheme in SCHEMES.values() for url_scheme in scheme.url_schemes]
    assert sorted(named) == sorted(URL_SCHEMES)
    assert len(set(named)) == len(named)
    assert kind_of_url_scheme("gopher") is None


@pytest.mark.parametrize("kind", sorted(SCHEMES))
def test_every_kind_has_a_prober_with_the_one_signature(kind: str) -> None:
    probe = prober(kind)
    assert inspect.iscoroutinefunction(probe)
    assert list(inspect.signature(probe).parameters) == ["ladder"]
    assert prober_module(kind).__name__ == f"faultfinder.probe.{SCHEMES[kind].prober}"


@pytest.mark.parametrize("kind", sorted(SCHEMES))
def test_every_code_a_scheme_names_is_in_the_catalogue(kind: str) -> None:
    scheme = SCHEMES[kind]
    named = [scheme.timeout_code, scheme.unexpected_answer, scheme.unknown_error]
    named += [scheme.timeout_code_at(rung) for rung in scheme.rungs]
    for code in filter(None, named):
        assert code in FAULTS, code
    for rung in scheme.rungs:
        if rung in TRANSPORT_TIMEOUTS:
            assert scheme.timeout_code_at(rung) == TRANSPORT_TIMEOUTS[rung]
    # the protocol rung (the last) is the scheme's own: its timeout is the scheme's timeout
    if scheme.rungs:
        assert scheme.timeout_code_at(scheme.rungs[-1]) == scheme.timeout_code


@pytest.mark.parametrize("kind", URL_KINDS)
def test_rungs_climb_the_transport_in_order_then_the_protocol(kind: str) -> None:
    rungs = SCHEMES[kind].rungs
    transport = [rung for rung in rungs if rung in TRANSPORT_TIMEOUTS]
    assert rungs[: len(transport)] == tuple(transport)
    assert transport == [layer for layer in ("dns", "tcp", "tls") if layer in transport]
    assert "dns" in rungs  # every URL names a host to resolve


def test_a_tls_scheme_is_one_with_a_tls_rung() -> None:
    assert {kind for kind, scheme in SCHEMES.items() if scheme.tls} == {
        "https",
        "wss",
        "rediss",
        "tls",
    }


@pytest.mark.parametrize("kind", sorted(SCHEMES))
async def test_the_health_library_treats_every_kind(kind: str) -> None:
    scheme = SCHEMES[kind]

    async def refused() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    check = function_check("dependency", refused, kind=kind)
    assert check.component_type == component_type_of(kind) == scheme.component_type
    assert check.timeout_code == scheme.timeout_code
    assert check.fault_code(ConnectionRefusedError(111, "Connection refused")) == "tcp.refused"
    classify = client_classifier(kind)
    assert classify is None or callable(classify)


@pytest.mark.parametrize("kind", URL_KINDS)
def test_the_inside_view_joins_an_app_check_named_like_the_kind(kind: str) -> None:
    text = (
        "components:\n"
        "  app: {url: 'http://app.test/health', health: true, depends_on: [dependency]}\n"
        f"  dependency: {{url: '{kind}://{host_of(kind).replace('example', 'dependency')}'}}\n"
    )
    stack = parse_stack(text, "s.yaml", {})
    for name in SCHEMES[kind].inside_names:
        check = HealthCheck(name, "responseTime", "fail", "", None)
        assert match_component(stack, "app", check) == "dependency"
    own_name = HealthCheck("dependency", "responseTime", "fail", "", None)
    assert match_component(stack, "app", own_name) == "dependency"


@pytest.mark.parametrize("kind", URL_KINDS)
def test_validate_suggests_the_kinds_latency_bound(kind: str) -> None:
    stack = parse_stack(stack_of(f"{kind}://{host_of(kind)}", timeout="10s"), "s.yaml", {})
    code = SCHEMES[kind].timeout_code
    diagnosis = {
        "root_causes": [{"component": "target", "code": code, "vantage": "faultfinder"}],
        "components": [{"name": "target", "status": "down", "code": code, "symptom_of": []}],
    }
    (suggestion,) = suggest(stack, diagnosis)
    assert suggestion.p95_ms == SCHEMES[kind].latency_bound_ms
