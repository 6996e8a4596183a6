"""YAML loading that remembers the line of every mapping key, for file:line:key errors.

Bounded for files written by hand under stress, or by anyone: nesting deeper than
``MAX_DEPTH`` and a value YAML cannot build (``!!float abc``, a 400-digit number where a float
is asked for) are YAML errors with their line, never a traceback; ``expanded`` counts what
aliases expand to, so an alias bomb is refused before anything copies it.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode


class LineDict(dict[str, Any]):
    """A mapping from YAML that knows the line (1-based) of each of its keys."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, int] = {}
        self.line = 1


class LineList(list[Any]):
    """A sequence from YAML that knows the line of each of its items."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[int] = []
        self.line = 1


MAX_DEPTH = 64  # mappings and sequences within each other; a stack file needs about 8
MAX_VALUES = 100_000  # values the document holds once every alias is expanded


class _LineLoader(yaml.SafeLoader):
    _depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        # PyYAML composes recursively: a deep document would exhaust Python's stack first.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as error:  # `!!float abc` and the like
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {error}", node.start_mark
            ) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> LineDict:  # type: ignore[override]
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            if key in mapping:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.lines[key] = key_node.start_mark.line + 1
        return mapping

    def construct_sequence(self, node: SequenceNode, deep: bool = False) -> LineList:
        sequence = LineList()
        sequence.line = node.start_mark.line + 1
        for item in node.value:
            sequence.append(self.construct_object(item, deep=True))
            sequence.lines.append(item.start_mark.line + 1)
        return sequence


def _construct_map(loader: _LineLoader, node: Node) -> LineDict:
    assert isinstance(node, MappingNode)
    return loader.construct_mapping(node)


def _construct_seq(loader: _LineLoader, node: Node) -> LineList:
    assert isinstance(node, SequenceNode)
    return loader.construct_sequence(node)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def load(text: str) -> Any:
    """Parse YAML text; mappings come back as ``LineDict``, sequences as ``LineList``."""
    return yaml.load(text, Loader=_LineLoader)


def load_all(text: str) -> list[Any]:
    """Every document of a multi-document stream (``---``), bounded as ``load`` is."""
    return list(yaml.load_all(text, Loader=_LineLoader))


def expanded(document: Any, limit: int = MAX_VALUES) -> int:
    """How many values ``document`` holds with every alias expanded, counting up to ``limit``
    (and no further: a bomb of nine aliases nested nine deep would hold 387 million)."""
    count = 0
    pending = [document]
    while pending and count <= limit:
        node = pending.pop()
        count += 1
        if isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return count


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, LineDict):
        return isinstance(part, str) and part in node
    if isinstance(node, LineList):
        return isinstance(part, int) and 0 <= part < len(node)
    return False


def line_of(document: Any, path: tuple[str | int, ...]) -> int | None:
    """The line of the deepest key on ``path`` that exists in ``document``."""
    node = document
    line: int | None = getattr(document, "line", None)
    for part in path:
        if not _has(node, part):
            break
        line = node.lines[part]
        node = node[part]
    return line
