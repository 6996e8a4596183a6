"""The platform's own word, read from recorded CLI output (tests/data/platform, each file in
the shape its command prints; the fields as the API references define them, cited in
src/faultfinder/platform/*.py) and joined to a stack. Pure: data in, findings out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faultfinder import CheckResult, Phase, diagnose, parse_stack
from faultfinder.errors import ConfigError
from faultfinder.platform import conclude, read_platform_files

DATA = Path(__file__).parents[1] / "data" / "platform"

CLOUD_RUN_STACK = """\
name: prod
components:
  api:
    url: https://api-7x2kq3vb4a-ew.a.run.app/health
    depends_on: [db, cache]
    critical: true
  db:
    url: postgresql://app@/app?host=/cloudsql/acme-prod:europe-west1:prod-db
  cache:
    url: redis://10.20.0.9:6379/0
"""


def stack(text: str = CLOUD_RUN_STACK):  # type: ignore[no-untyped-def]
    return parse_stack(text, "stack.yaml", {})


def files(*names: str) -> list[str]:
    return [str(DATA / name) for name in names]


def codes(evidence, component: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [finding.code for finding in evidence.findings.get(component, ())]


def write(tmp_path: Path, name: str, document: object) -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


# --- reading ------------------------------------------------------------------------------


def test_cloud_run_export_reads_the_documented_annotations() -> None:
    facts = read_platform_files(files("cloudrun-service-export.yaml"))
    (service,) = facts.services
    # RevisionTemplate annotations (Cloud Run Admin API v1): connector as a full path.
    assert service.connector == "app-connector"
    assert service.egress == "private-ranges-only"
    assert service.cloudsql == ("acme-prod:europe-west1:prod-db",)
    (container,) = service.containers
    assert container.ports == (8080,)
    assert container.probe_ports == (("startupProbe", 8080),)
    # env[].valueFrom.secretKeyRef: name is the secret, key its version
    assert [(s.secret, s.version, s.used_as) for s in container.secrets] == [
        ("db-password", "latest", "DB_PASSWORD"),
        ("redis-auth", "2", "REDIS_AUTH"),
    ]


def test_each_source_is_recognised_by_its_shape() -> None:
    facts = read_platform_files(
        files(
            "cloudrun-revisions.json",
            "cloudsql-instance.json",
            "vpc-connector-error.json",
            "secret-versions-disabled.json",
            "kubectl-crashloop.json",
            "compose-ps.jsonl",
        )
    )
    assert [r.name for r in facts.revisions] == ["api-00043-xoz", "api-00042-bim"]
    assert facts.sql_instances[0].addresses == (("PRIVATE", "10.20.0.3"),)
    assert facts.sql_instances[0].ssl_mode == "ENCRYPTED_ONLY"
    assert (facts.connectors[0].name, facts.connectors[0].state) == ("app-connector", "ERROR")
    assert {(v.secret, v.state) for v in facts.secret_versions} == {
        ("db-password", "DISABLED"),
        ("db-password", "DESTROYED"),
    }
    (pod,) = facts.pods  # the Service in the List is skipped, not an error
    assert pod.containers[0].waiting == "CrashLoopBackOff"
    assert pod.containers[0].last_terminated == "OOMKilled"
    assert pod.containers[0].restarts == 7
    assert facts.endpoints[0].not_ready == ("10.244.1.17 (api-7d9f8b6c5-x2k4q)",)
    assert facts.events[0].reason == "BackOff"
    assert [(c.service, c.state, c.exit_code) for c in facts.containers] == [
        ("db", "running", 0),
        ("web", "exited", 1),
        ("cache", "running", 0),
    ]
    assert facts.containers[2].published == ((6380, 6379),)


def test_compose_ps_as_one_json_array_and_docker_inspect(tmp_path: Path) -> None:
    # Compose before v2.21 printed one array; docker inspect prints the Engine API's objects.
    array = write(
        tmp_path,
        "ps.json",
        [
            {
                "Service": "web",
                "State": "restarting",
                "ExitCode": 3,
                "Name": "shop-web-1",
                "Publishers": None,
            }
        ],
    )
    inspect = write(
        tmp_path,
        "inspect.json",
        [
            {
                "Name": "/shop-worker-1",
                "State": {
                    "Status": "exited",
                    "ExitCode": 137,
                    "OOMKilled": True,
                    "Health": {"Status": "unhealthy"},
                },
                "Config": {"Labels": {"com.docker.compose.service": "worker"}},
                "NetworkSettings": {
                    "Ports": {
                        "8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "18080"}],
                        "9090/tcp": None,
                    }
                },
            }
        ],
    )
    facts = read_platform_files([array, inspect])
    assert facts.containers[0].state == "restarting"
    worker = facts.containers[1]
    assert (worker.service, worker.oom_killed) == ("worker", True)
    assert worker.published == ((18080, 8080),)


def test_unknown_fields_are_tolerated(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sql.json",
        {
            "kind": "sql#instance",
            "name": "db",
            "state": "RUNNABLE",
            "connectionName": "p:r:db",
            "aNewField": {"x": [1]},
            "settings": {"ipConfiguration": {"future": True}},
        },
    )
    assert read_platform_files([path]).sql_instances[0].state == "RUNNABLE"


@pytest.mark.parametrize(
    ("document", "key", "reason"),
    [
        (
            {"kind": "sql#instance", "state": "RUNNABLE", "ipAddresses": "10.0.0.1"},
            "ipAddresses",
            "expected a list",
        ),
        (
            {"kind": "sql#instance", "state": "RUNNABLE", "ipAddresses": [7]},
            "ipAddresses[0]",
            "expected an object",
        ),
        (
            {
                "name": "projects/p/locations/r/connectors/c",
                "state": "READY",
                "maxInstances": "ten",
            },
            "maxInstances",
            "expected a whole number",
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "status": {"containerStatuses": [{"name": "a", "restartCount": True}]},
                    }
                ],
            },
            "items[0].status.containerStatuses[0].restartCount",
            "expected a whole number",
        ),
        ({"hello": "world"}, "", "not a platform description"),
    ],
)
def test_a_bad_file_is_one_error_naming_file_and_key(
    tmp_path: Path, document: object, key: str, reason: str
) -> None:
    path = write(tmp_path, "bad.json", document)
    with pytest.raises(ConfigError) as caught:
        read_platform_files([path])
    message = str(caught.value)
    assert message.startswith(path)
    assert key in message
    assert reason in message
    assert "\n" not in message


def test_neither_json_nor_yaml_and_missing_files(tmp_path: Path) -> None:
    path = write(tmp_path, "garbage.txt", "{not json\n  - [yaml: : :\n")
    with pytest.raises(ConfigError, match="not valid JSON or YAML"):
        read_platform_files([path])
    with pytest.raises(ConfigError, match="cannot read the platform file"):
        read_platform_files([str(tmp_path / "absent.json")])
    nested = write(tmp_path, "deep.json", "[" * 5000 + "]" * 5000)
    with pytest.raises(ConfigError):
        read_platform_files([nested])


# --- concluding ---------------------------------------------------------------------------


def test_cloud_run_service_that_failed_to_start_and_probes_a_port_it_does_not_declare() -> None:
    evidence = conclude(stack(), read_platform_files(files("cloudrun-service-failing.json")))
    # the startup probe checks 8000, the container declares 8080: the deeper cause first; and
    # the service has no VPC connector while the cache is at a private address
    assert codes(evidence, "api") == [
        "platform.port_mismatch",
        "platform.no_vpc_egress",
        "platform.startup_failed",
    ]
    startup = evidence.findings["api"][2]
    assert any("failed to start and listen on the port" in line for line in startup.evidence)
    assert any("traffic stays on api-00042-bim" in line for line in startup.evidence)


def test_the_latest_revision_oom_is_memory_exceeded() -> None:
    # joined by the revision's serving.knative.dev/service label and the component's name
    evidence = conclude(stack(), read_platform_files(files("cloudrun-revisions.json")))
    assert codes(evidence, "api") == ["platform.memory_exceeded"]


def test_connector_in_error_and_secret_with_no_enabled_version() -> None:
    facts = read_platform_files(
        files(
            "cloudrun-service-export.yaml",
            "vpc-connector-error.json",
            "secret-versions-disabled.json",
        )
    )
    evidence = conclude(stack(), facts)
    assert codes(evidence, "api") == ["platform.secret_unavailable", "platform.connector_not_ready"]
    secret = evidence.findings["api"][0]
    assert "DB_PASSWORD reads secret db-password version latest" in secret.evidence[0]
    assert "api" in evidence.findings  # joined by name: the export holds no status.url


def test_private_address_without_a_route_and_egress_that_excludes_it() -> None:
    # the failing service has no connector annotation: 10.20.0.9 has no route
    facts = read_platform_files(files("cloudrun-service-failing.json"))
    assert facts.services[0].connector == ""
    evidence = conclude(stack(), facts)
    egress = [f for f in evidence.findings["api"] if f.code == "platform.no_vpc_egress"]
    assert egress
    assert "cache is at the private address 10.20.0.9" in egress[0].evidence[0]
    # the exported one has a connector: RFC 1918 goes through it, nothing to say
    evidence = conclude(stack(), read_platform_files(files("cloudrun-service-export.yaml")))
    assert "platform.no_vpc_egress" not in codes(evidence, "api")
    # but private-ranges-only sends 100.64.0.5 (RFC 6598) to the internet
    shared = stack(CLOUD_RUN_STACK.replace("10.20.0.9", "100.64.0.5"))
    evidence = conclude(shared, read_platform_files(files("cloudrun-service-export.yaml")))
    egress = [f for f in evidence.findings["api"] if f.code == "platform.no_vpc_egress"]
    assert egress
    assert "outside RFC 1918" in egress[0].evidence[0]


def test_cloudsql_socket_not_in_the_services_connections() -> None:
    other = stack(CLOUD_RUN_STACK.replace("prod-db", "staging-db"))
    evidence = conclude(other, read_platform_files(files("cloudrun-service-export.yaml")))
    (finding,) = evidence.findings["db"]
    assert finding.code == "cloudsql.connection_missing"
    assert "acme-prod:europe-west1:prod-db" in finding.evidence[0]


def test_cloudsql_state_ip_type_and_ssl(tmp_path: Path) -> None:
    text = """\
components:
  db: {url: "postgresql://app@34.77.1.2:5432/app?sslmode=disable", platform: prod-db}
"""
    instance = json.loads((DATA / "cloudsql-instance.json").read_text())
    instance["state"] = "SUSPENDED"
    evidence = conclude(stack(text), read_platform_files([write(tmp_path, "i.json", instance)]))
    # a public address, the instance has only PRIVATE; TLS only, the URL disables it
    assert codes(evidence, "db") == [
        "cloudsql.not_runnable",
        "cloudsql.ip_type_missing",
        "cloudsql.ssl_mismatch",
    ]
    instance.update(state="RUNNABLE")
    instance["settings"]["ipConfiguration"] = {"requireSsl": True}  # legacy: client certificates
    by_address = "components:\n  db: {url: 'postgresql://app@10.20.0.3/app?sslmode=require'}\n"
    evidence = conclude(
        stack(by_address), read_platform_files([write(tmp_path, "i.json", instance)])
    )
    assert codes(evidence, "db") == ["cloudsql.ssl_mismatch"]
    assert "client certificates" in evidence.findings["db"][0].evidence[0]
    assert evidence.healthy["db"][0].endswith("is RUNNABLE")


KUBERNETES_STACK = """\
components:
  lb: {url: "http://shop.example.test/", via: [api], critical: true}
  api: {url: "http://api.shop.svc.cluster.local:8080/health"}
"""


def test_kubernetes_oom_crash_loop_behind_a_service_with_no_ready_endpoint() -> None:
    facts = read_platform_files(files("kubectl-crashloop.json"))
    evidence = conclude(stack(KUBERNETES_STACK), facts)
    # joined by the Service's DNS name; the pod behind it speaks for it too
    assert codes(evidence, "api") == ["platform.memory_exceeded", "platform.no_ready_endpoint"]
    oom = evidence.findings["api"][0]
    assert "restarted 7 times" in oom.evidence
    assert any(line.startswith("event BackOff ×31") for line in oom.evidence)


def test_compose_exited_service_and_a_port_that_is_not_published() -> None:
    text = """\
components:
  web: {url: "http://localhost:8000/"}
  cache: {url: "redis://127.0.0.1:6379/0"}
"""
    evidence = conclude(stack(text), read_platform_files(files("compose-ps.jsonl")))
    assert codes(evidence, "web") == ["platform.container_exited"]
    # cache publishes 6380->6379; the URL uses 6379 on this machine
    assert codes(evidence, "cache") == ["platform.port_mismatch"]
    assert "6380->6379" in evidence.findings["cache"][0].evidence[0]
    assert any("shop-db-1" in subject for subject in evidence.unjoined)


# --- in the diagnosis ---------------------------------------------------------------------


def probe(
    name: str, kind: str, code: str | None = None, layers: tuple[str, ...] = ()
) -> CheckResult:
    phases = tuple(Phase(layer, True, 1.0) for layer in layers)
    if code:
        phases += (Phase(code.split(".")[0], False, 1.0, code),)
    return CheckResult(
        name, kind, name, phases, code=code, evidence=(f"{name} probe: {code}",) if code else ()
    )


def test_platform_finding_is_the_root_cause_and_the_proxy_its_symptom() -> None:
    the_stack = stack(KUBERNETES_STACK)
    evidence = conclude(the_stack, read_platform_files(files("kubectl-crashloop.json")))
    results = {
        "lb": probe("lb", "http", "proxy.no_healthy_upstream", ("dns", "tcp")),
        "api": probe("api", "http", "tcp.refused", ("dns",)),
    }
    diagnosis = diagnose(the_stack, results, platform=evidence)
    (cause,) = diagnosis.root_causes
    assert (cause.component, cause.code, cause.vantage) == (
        "api",
        "platform.memory_exceeded",
        "platform",
    )
    assert cause.confidence == 0.9
    assert "api probe: tcp.refused" in cause.evidence
    lb = next(report for report in diagnosis.components if report.result.component == "lb")
    assert (lb.code, lb.symptom_of) == ("dependency.failed", ("api",))
    assert diagnosis.why[-1].startswith("Owner: application.")


def test_the_platform_saying_healthy_while_the_probe_fails_is_said() -> None:
    text = "components:\n  db: {url: 'postgresql://app@10.20.0.3/app'}\n"
    the_stack = stack(text)
    evidence = conclude(the_stack, read_platform_files(files("cloudsql-instance.json")))
    results = {"db": probe("db", "postgresql", "tcp.timeout", ("dns",))}
    diagnosis = diagnose(the_stack, results, platform=evidence)
    assert diagnosis.root_causes[0].code == "tcp.timeout"
    (note,) = diagnosis.components[0].notes
    assert "the platform says it is fine" in note
    assert "is RUNNABLE" in note
    assert "tcp.timeout" in note


def test_a_crash_at_start_up_below_which_a_dependency_fails_is_its_symptom() -> None:
    text = """\
components:
  api: {url: "https://api-7x2kq3vb4a-ew.a.run.app/health", depends_on: [db]}
  db: {url: "postgresql://app@34.77.1.2/app", platform: prod-db}
"""
    the_stack = stack(text)
    instance = read_platform_files(files("cloudsql-instance.json"))
    service = read_platform_files(files("cloudrun-service-failing.json"))
    service = service.__class__(
        services=(
            service.services[0].__class__(**{**service.services[0].__dict__, "containers": ()}),
        )
    )
    evidence = conclude(the_stack, instance + service)
    assert codes(evidence, "api") == ["platform.startup_failed"]
    results = {
        "api": probe("api", "https", "http.unexpected_status", ("dns", "tcp", "tls")),
        "db": probe("db", "postgresql", "postgres.auth_failed", ("dns", "tcp")),
    }
    diagnosis = diagnose(the_stack, results, platform=evidence)
    # the instance has no public IP: that, not the crash it causes, is the root cause
    assert [(c.component, c.code) for c in diagnosis.root_causes] == [
        ("db", "cloudsql.ip_type_missing")
    ]
    api = diagnosis.components[0]
    assert api.code == "dependency.failed"
    assert any("platform.startup_failed" in note for note in api.notes)


def test_the_cli_refuses_a_bad_platform_file_before_probing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from faultfinder.cli import main

    stack_file = tmp_path / "stack.yaml"
    stack_file.write_text("components:\n  db: {url: 'tcp://127.0.0.1:1'}\n")
    bad = write(tmp_path, "sql.json", {"kind": "sql#instance", "state": ["RUNNABLE"]})
    status = main(["diagnose", str(stack_file), "--platform", bad])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert f"{bad}: state: expected a string" in err


def test_endpoint_slices_of_one_service_are_read_together() -> None:
    text = """\
components:
  api: {url: "http://api.shop.svc.cluster.local:8080/"}
  web: {url: "http://web.shop:8080/"}
"""
    evidence = conclude(stack(text), read_platform_files(files("kubectl-endpointslices.json")))
    # api's one slice has only a not-ready address; web has two slices, one of them ready
    # (its conditions.ready unset: "nil should be interpreted as true")
    assert codes(evidence, "api") == ["platform.no_ready_endpoint"]
    assert "10.244.1.17 (api-7d9f8b6c5-x2k4q)" in evidence.findings["api"][0].evidence[0]
    assert codes(evidence, "web") == []
    assert "10.244.3.8 (web-5c6d7-bbbbb)" in evidence.healthy["web"][0]


def test_an_export_has_no_status_so_the_newest_listed_revision_speaks() -> None:
    facts = read_platform_files(files("cloudrun-service-export.yaml", "cloudrun-revisions.json"))
    evidence = conclude(stack(), facts)
    assert "platform.memory_exceeded" in codes(evidence, "api")  # api-00043-xoz, the newest
