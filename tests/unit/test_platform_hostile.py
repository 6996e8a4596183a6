"""Hostile and malformed input for `--platform` and `init`: every file either reads or is one
ConfigError naming the file, never another exception. Mutations are seeded (the seed is in
each test's id)."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from faultfinder.config import parse_stack
from faultfinder.errors import ConfigError
from faultfinder.platform import conclude, read_platform_files
from faultfinder.scaffold import check, render, scaffold_source

DATA = Path(__file__).parents[1] / "data"
PLATFORM_FILES = [
    *sorted((DATA / "platform").glob("*.json")),
    DATA / "platform" / "cloudrun-service-export.yaml",
]
INIT_FILES = [
    *sorted((DATA / "init").glob("*.y*ml")),
    DATA / "init" / "microservices-demo" / "shop.yaml",
    DATA / "platform" / "cloudrun-service-export.yaml",
]
STACK = parse_stack(
    "components:\n  api: {url: 'https://api-7x2kq3vb4a-ew.a.run.app/', depends_on: [db]}\n"
    "  db: {url: 'postgresql://app@10.20.0.3/app?sslmode=disable', platform: prod-db}\n",
    "stack.yaml",
    {},
)
WEIRD: list[Any] = [None, True, 7, -1, 1.5, "x", "9" * 5000, [], {}, [1, "a"], {"a": [None]}]


def mutate(document: Any, rng: random.Random, count: int = 3) -> Any:
    """Replace ``count`` random nodes of a copy with values of the wrong shape."""
    mutated = copy.deepcopy(document)
    for _ in range(count):
        paths = list(_paths(mutated, ()))
        if not paths:
            break
        path = rng.choice(paths)
        parent = mutated
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = copy.deepcopy(rng.choice(WEIRD))
    return mutated


def _paths(node: Any, path: tuple[Any, ...]) -> Any:
    if isinstance(node, dict):
        items: Any = node.items()
    else:
        items = enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield (*path, key)
        yield from _paths(value, (*path, key))


@pytest.mark.parametrize("seed", range(40))
def test_mutated_platform_files_read_or_fail_in_one_line(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    source = rng.choice(PLATFORM_FILES)
    document = yaml.safe_load(source.read_text())
    path = tmp_path / "mutated.json"
    path.write_text(json.dumps(mutate(document, rng)))
    try:
        facts = read_platform_files([str(path)])
    except ConfigError as error:
        message = str(error)
    else:
        conclude(STACK, facts)  # whatever was read, the rules take it
        return
    assert message.startswith(str(path))
    assert "\n" not in message


@pytest.mark.parametrize("seed", range(40))
def test_mutated_init_sources_write_a_stack_or_fail_in_one_line(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    source = rng.choice(INIT_FILES)
    documents = list(yaml.safe_load_all(source.read_text()))
    path = tmp_path / source.name
    path.write_text(yaml.safe_dump_all([mutate(d, rng) for d in documents]))
    try:
        scaffold = scaffold_source(str(path))
    except ConfigError as error:
        message = str(error)
    else:
        check(render(scaffold), scaffold, "stack.yaml")  # what init writes always loads
        return
    assert message.startswith(str(path))


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "a: " + "[" * 2000 + "]" * 2000,
        "n: " + "9" * 5000,
        '{"kind": "sql#instance", "state": "RUNNABLE", "n": ' + "9" * 5000 + "}",
        "\x00\x01\x02",
        "&a [*a, *a]",
    ],
)
def test_hostile_text_is_one_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(text)
    with pytest.raises(ConfigError):
        read_platform_files([str(path)])
    compose = tmp_path / "compose.yaml"
    compose.write_text(text)
    with pytest.raises(ConfigError):
        scaffold_source(str(compose))
