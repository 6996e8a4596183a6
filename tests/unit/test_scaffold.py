"""`faultfinder init` on sources shaped like real public projects (tests/data/init/README.md
names each): the stack file it writes, that `faultfinder check` accepts it once the variables
it lists are set, that no secret value is ever written, and that a re-run shows a diff instead
of overwriting."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from faultfinder.cli import main
from faultfinder.config import parse_stack
from faultfinder.errors import ConfigError
from faultfinder.scaffold import render, scaffold_source

DATA = Path(__file__).parents[1] / "data" / "init"
PLATFORM = Path(__file__).parents[1] / "data" / "platform"
SECRETS = ("gitea-Example-Pw1", "env-Secret-Pw9", "redis-Secret-Pw8", "sql-Secret-Pw7", "abc123")


def written(source: Path) -> tuple[str, dict[str, Any]]:
    text = render(scaffold_source(str(source)))
    return text, yaml.safe_load(text)["components"]


def loads(text: str) -> None:
    """What `faultfinder check` does, with every variable the header names set."""
    header = next((line for line in text.splitlines() if "diagnose`: " in line), "")
    names = header.split("diagnose`: ")[1].split(", ") if header else []
    environment = {name: "https://example.test" if name.endswith("_URL") else "x" for name in names}
    parse_stack(text, "stack.yaml", environment)


def test_mastodon_compose() -> None:
    text, components = written(DATA / "mastodon-compose.yml")
    assert sorted(components) == ["db", "redis", "streaming", "web"]
    # published on 127.0.0.1; the healthcheck's curl path becomes the URL, with health: true
    assert components["web"] == {
        "url": "http://127.0.0.1:3000/health",
        "depends_on": ["db", "redis"],
        "health": True,
    }
    assert components["streaming"]["url"] == "http://127.0.0.1:4000/api/v1/streaming/health"
    # trust authentication: no password to refer to; not published: the Compose network's name
    assert components["db"]["url"] == "postgresql://postgres@db:5432/postgres"
    assert components["redis"]["url"] == "redis://redis:6379/0"
    assert "#   sidekiq: listens on no port, nothing to probe" in text
    assert "env_file .env.production" in text
    loads(text)


def test_gitea_postgres_compose_keeps_its_password_out() -> None:
    text, components = written(DATA / "gitea-postgres-compose.yaml")
    assert components["gitea"] == {"url": "http://127.0.0.1:3000/", "depends_on": ["db"]}
    assert components["db"]["url"] == "postgresql://gitea:${POSTGRES_PASSWORD}@db:5432/gitea"
    assert "POSTGRES_PASSWORD" in text.splitlines()[4]  # the header lists what to set
    assert "gitea-Example-Pw1" not in text
    loads(text)


def test_nginx_golang_postgres_compose_puts_the_proxy_in_front() -> None:
    text, components = written(DATA / "nginx-golang-postgres-compose.yaml")
    assert components["proxy"] == {
        "url": "http://127.0.0.1:80/",
        "via": ["backend"],
        "critical": True,
    }
    assert components["backend"]["depends_on"] == ["db"]  # depends_on's long form
    assert components["db"]["url"] == "postgresql://postgres@db:5432/example"
    assert "POSTGRES_PASSWORD_FILE" in text
    loads(text)


def test_microservices_demo_manifests() -> None:
    text, components = written(DATA / "microservices-demo")
    assert components["frontend"]["url"] == (
        "http://frontend.default.svc.cluster.local:80/_healthz"
    )
    assert components["frontend"]["health"] is True
    # CART_SERVICE_ADDR=cartservice:7070 names a Service of the same manifests
    assert components["frontend"]["depends_on"] == ["cartservice"]
    # a port named grpc: reachable over TCP, not callable over HTTP/1.1
    assert components["cartservice"]["url"] == "tcp://cartservice.default.svc.cluster.local:7070"
    assert components["cartservice"]["depends_on"] == ["redis-cart"]
    assert components["redis-cart"]["url"].startswith("redis://redis-cart.default.svc")
    assert components["shop"] == {
        "url": "https://shop.example.com/",
        "via": ["frontend"],
        "critical": True,
    }
    loads(text)


def test_cloud_run_export() -> None:
    text, components = written(PLATFORM / "cloudrun-service-export.yaml")
    # an export has no status.url: the URL is a variable the header names
    assert components["api"] == {"url": "${API_URL}/", "depends_on": ["cloudsql"]}
    assert components["cloudsql"]["url"] == (
        "postgresql://postgres:${DB_PASSWORD}@/postgres"
        "?host=/cloudsql/acme-prod:europe-west1:prod-db"
    )
    assert "API_URL, DB_PASSWORD" in text
    loads(text)


def test_dotenv_connections_never_carry_their_secrets() -> None:
    text, components = written(DATA / "app.env")
    assert components["database"]["url"] == (
        "postgresql://app:${DATABASE_PASSWORD}@10.20.0.3:5432/app?sslmode=require"
    )
    assert components["redis"]["url"] == "redis://:${REDIS_PASSWORD}@10.20.0.9:6379/1"
    assert components["cloudsql"]["url"] == (
        "postgresql://app:${DB_PASS}@/app?host=/cloudsql/acme-prod:europe-west1:prod-db"
    )
    assert components["smtp"]["url"] == "tcp://mail.internal:25"
    assert components["sentry-dsn"]["url"] == "https://o1.ingest.sentry.io/42"
    for secret in SECRETS:
        assert secret not in text
    loads(text)


def test_init_writes_checks_and_then_shows_a_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "compose.yaml"
    shutil.copy(DATA / "gitea-postgres-compose.yaml", source)
    out = tmp_path / "stack.yaml"
    assert main(["init", str(source), "--out", str(out)]) == 0
    first = out.read_text()
    monkeypatch.setenv("POSTGRES_PASSWORD", "x")
    assert main(["check", str(out)]) == 0
    assert main(["init", str(source), "--out", str(out)]) == 0
    assert "up to date" in capsys.readouterr().out
    source.write_text(source.read_text().replace("3000:3000", "3300:3000"))
    assert main(["init", str(source), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert '-    url: "http://127.0.0.1:3000/"' in captured.out
    assert '+    url: "http://127.0.0.1:3300/"' in captured.out
    assert "not overwritten" in captured.err
    assert out.read_text() == first
    assert main(["init", str(source), "--out", str(out), "--force"]) == 0
    assert "3300" in out.read_text()


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("compose.yaml", "services:\n  web: [1]\n", "services.web: a service is a mapping"),
        ("compose.yaml", "services:\n  web: {image: x, ports: ['a:b']}\n", "services.web.ports"),
        ("thing.yaml", "hello: world\n", "not a Compose file"),
        ("bad.yaml", "services: [\n", "not valid JSON or YAML"),
        (".env", "DATABASE_URL\n", ".env:1: not a KEY=VALUE line"),
    ],
)
def test_a_source_init_cannot_read_is_one_error(
    tmp_path: Path, name: str, text: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / name
    source.write_text(text)
    with pytest.raises(ConfigError) as caught:
        scaffold_source(str(source))
    assert str(caught.value).startswith(str(source))
    assert main(["init", str(source), "--out", str(tmp_path / "out.yaml")]) == 2
    err = capsys.readouterr().err
    assert reason in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out.yaml").exists()


def test_the_labs_descriptions_give_the_labs_own_addresses_and_graph() -> None:
    from faultfinder_lab import topology
    from faultfinder_lab.describe import COMPOSE_FILE, KUBERNETES_DIRECTORY, PUBLISHED

    text, components = written(COMPOSE_FILE)
    assert sorted(components) == sorted(PUBLISHED)
    assert components["postgres"]["url"] == (
        f"postgresql://app:${{POSTGRES_PASSWORD}}@{topology.POSTGRES}:5432/app"
    )
    # --requirepass ${REDIS_PASSWORD} in the command: the URL refers to the same variable
    assert components["redis"]["url"] == f"redis://:${{REDIS_PASSWORD}}@{topology.REDIS}:6379/0"
    assert components["app"]["depends_on"] == ["postgres", "redis", "cache"]
    assert components["nginx"]["via"] == ["app"]
    loads(text)
    text, components = written(KUBERNETES_DIRECTORY)
    assert components["api"] == {
        "url": "https://api.edge.lab.internal/",
        "via": ["app"],
        "critical": True,
    }
    loads(text)
