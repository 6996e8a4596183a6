"""Platform files → facts: read each file (or ``-``, stdin), parse it as JSON, JSON lines or
YAML, and hand each object to the reader that recognises its shape."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from faultfinder.config import _yaml
from faultfinder.errors import ConfigError
from faultfinder.platform import cloudrun, cloudsql, compose, kubernetes, secrets, vpcaccess
from faultfinder.platform._fields import Node
from faultfinder.platform.facts import PlatformFacts

STDIN = "-"
MAX_CHARACTERS = 16 * 1024 * 1024  # a cluster's `kubectl get pods,events` fits many times over
# Each reader: recognises(node) -> bool, read(node) -> PlatformFacts. Order matters only where
# shapes could overlap: Knative objects before generic Kubernetes ones.
READERS: tuple[ModuleType, ...] = (cloudrun, kubernetes, cloudsql, vpcaccess, secrets, compose)
SHAPES = (
    "gcloud run services describe / revisions list, gcloud sql instances describe, gcloud "
    "compute networks vpc-access connectors describe, gcloud secrets versions list, kubectl "
    "get -o json, docker compose ps --format json, docker inspect"
)


def read_platform_files(names: Sequence[str]) -> PlatformFacts:
    """Every fact the files hold; a file that cannot be read or used is a ``ConfigError``."""
    facts = PlatformFacts()
    for name in names:
        file = "<stdin>" if name == STDIN else name
        for document in _documents(_text(name, file), file):
            facts += _read_document(Node(document, file))
    return facts


def _text(name: str, file: str) -> str:
    try:
        if name == STDIN:
            text = sys.stdin.read(MAX_CHARACTERS + 1)
        else:
            with Path(name).open(encoding="utf-8") as stream:
                text = stream.read(MAX_CHARACTERS + 1)
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ConfigError(f"cannot read the platform file: {reason}", file=file) from None
    if len(text) > MAX_CHARACTERS:
        raise ConfigError("larger than 16 MiB: no platform description is", file=file)
    return text


def _documents(text: str, file: str) -> list[Any]:
    """JSON (gcloud, kubectl, docker inspect), JSON lines (compose ps since v2.21), else YAML
    (gcloud --format=export, kubectl -o yaml)."""
    try:
        return [json.loads(text)]
    except ValueError:
        pass
    except RecursionError:
        raise ConfigError("nested too deeply: no platform description is", file=file) from None
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and all(line.lstrip().startswith("{") for line in lines):
        try:
            return [json.loads(line) for line in lines]
        except ValueError:
            pass
        except RecursionError:
            raise ConfigError("nested too deeply", file=file) from None
    return yaml_documents(text, file)


def yaml_documents(text: str, file: str) -> list[Any]:
    """YAML documents, bounded as the stack file is: nesting, and what aliases expand to (an
    alias bomb is refused before anything walks it); each error names the file and line."""
    try:
        documents = [document for document in _yaml.load_all(text) if document is not None]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        reason = f"not valid JSON or YAML: {error.problem}"
        raise ConfigError(reason, file=file, line=line) from None
    except (yaml.YAMLError, RecursionError, ValueError) as error:
        raise ConfigError(f"not valid JSON or YAML: {str(error)[:200]}", file=file) from None
    if any(_yaml.expanded(document) > _yaml.MAX_VALUES for document in documents):
        raise ConfigError(
            f"holds more than {_yaml.MAX_VALUES:,} values once its YAML aliases are expanded",
            file=file,
        )
    return documents


def _read_document(node: Node) -> PlatformFacts:
    """A document is one object or a list of them (revisions list, versions list, inspect)."""
    if isinstance(node.value, list):
        facts = PlatformFacts()
        for position, item in enumerate(node.value):
            facts += _read_object(Node(item, node.file, f"[{position}]"))
        return facts
    return _read_object(node)


def _read_object(node: Node) -> PlatformFacts:
    reader = next((reader for reader in READERS if _recognised(reader, node)), None)
    if reader is None:
        raise node.error(f"not a platform description faultfinder reads ({SHAPES})")
    try:
        facts: PlatformFacts = reader.read(node)
    except RecursionError:
        raise node.error("nested too deeply") from None
    return facts


def _recognised(reader: ModuleType, node: Node) -> bool:
    return bool(reader.recognises(node))
