"""Which kind of source ``init`` was given, read with the module for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faultfinder.errors import ConfigError
from faultfinder.platform.files import yaml_documents
from faultfinder.scaffold import cloudrun, compose, dotenv, kubernetes
from faultfinder.scaffold.model import Scaffold
from faultfinder.scaffold.write import prune

MAX_CHARACTERS = 4 * 1024 * 1024
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def scaffold_source(path: str) -> Scaffold:
    """A Compose file, a Cloud Run export, a ``.env`` file, or a directory of manifests; only
    components that load are kept (``write.prune``)."""
    return prune(_scaffold(path))


def _scaffold(path: str) -> Scaffold:
    given = Path(path)
    if given.is_dir():
        documents: list[dict[str, Any]] = []
        for file in sorted(given.rglob("*")):
            if file.suffix in MANIFEST_SUFFIXES and file.is_file():
                documents += [d for d in _documents(file) if isinstance(d, dict)]
        if not any(d.get("kind") in ("Service", "Ingress") for d in documents):
            raise ConfigError("no Kubernetes Service or Ingress manifest in it", file=path)
        return kubernetes.scaffold(documents, path, given.resolve().name)
    text = _text(given)
    if given.name.startswith(".env") or given.suffix == ".env":
        return dotenv.scaffold(text, path)
    documents = _documents(given, text)
    first = documents[0] if documents else None
    if compose.recognises(first):
        assert isinstance(first, dict)
        return compose.scaffold(first, path)
    if cloudrun.recognises(first):
        assert isinstance(first, dict)
        return cloudrun.scaffold(first, path)
    if any(isinstance(d, dict) and d.get("kind") in ("Service", "Ingress") for d in documents):
        manifests = [d for d in documents if isinstance(d, dict)]
        return kubernetes.scaffold(manifests, path, given.resolve().parent.name)
    raise ConfigError(
        "not a Compose file (no `services:`), a Cloud Run service export, Kubernetes manifests "
        "or a .env file",
        file=path,
    )


def _text(file: Path) -> str:
    try:
        with file.open(encoding="utf-8") as stream:
            text = stream.read(MAX_CHARACTERS + 1)
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ConfigError(f"cannot read it: {reason}", file=str(file)) from None
    if len(text) > MAX_CHARACTERS:
        raise ConfigError("larger than 4 MiB", file=str(file))
    return text


def _documents(file: Path, text: str | None = None) -> list[Any]:
    text = _text(file) if text is None else text
    return yaml_documents(text, str(file))
