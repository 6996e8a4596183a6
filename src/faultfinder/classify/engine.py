"""The prefilter's regular-expression engine: RE2 when it is installed, Python's ``re`` if not.

The prefilter is one alternation of ~90 literals searched over megabyte blocks of raw bytes.
Python's backtracking ``re`` tries every branch at almost every position (a few MB/s on this
machine, even on lower-cased text); RE2 compiles the alternation into a DFA and runs at
``grep``'s speed. Both read the same patterns (see ``signatures``), so the fallback only
changes the speed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol


class Searcher(Protocol):
    def __call__(self, text: bytes, pos: int, endpos: int) -> tuple[int, int] | None:
        """The span of the first match in ``text[pos:endpos]``, or None."""


def compile_bytes(pattern: str, *, use_re2: bool = True) -> tuple[Searcher, str]:
    """A case-insensitive search over bytes for ``pattern``, and the engine's name; with the
    ``re`` engine the text must be lower-case already (``bytes.lower()``)."""
    if use_re2:
        try:
            import re2  # type: ignore[import-untyped]
        except ImportError:
            pass
        else:
            options: Any = re2.Options()
            options.encoding = re2.Options.Encoding.LATIN1  # bytes as they are, valid UTF-8 or not
            options.case_sensitive = False
            options.never_capture = True
            # RE2's own Match, not the wrapper's generator: the wrapper costs ~10 µs a call
            compiled = re2.compile(pattern.encode("latin-1"), options)._regexp
            unanchored = re2._Anchor.UNANCHORED

            def search_re2(text: bytes, pos: int, endpos: int) -> tuple[int, int] | None:
                span: tuple[int, int] = compiled.Match(unanchored, text, pos, endpos)[0]
                return None if span[0] < 0 else span

            return search_re2, "re2"
    # Without RE2 the caller lowercases the text (bytes.lower keeps every offset): a
    # case-sensitive search is ~4 times faster than an IGNORECASE one in Python's re.
    python = re.compile(pattern.lower().encode("latin-1"))

    def search_re(text: bytes, pos: int, endpos: int) -> tuple[int, int] | None:
        match = python.search(text, pos, endpos)
        return match.span() if match else None

    return search_re, "re"


def compile_set(patterns: Sequence[str]) -> Callable[[str], list[int]] | None:
    """RE2's Set: one pass over a text says which of ``patterns`` match it (their indices), so
    classifying a line costs one search, not one per signature. None without RE2."""
    try:
        import re2
    except ImportError:
        return None
    options: Any = re2.Options()
    options.case_sensitive = False
    matcher = re2.Set.SearchSet(options)
    for pattern in patterns:
        matcher.Add(pattern)
    matcher.Compile()

    def match(text: str) -> list[int]:
        # bytes, so that a lone surrogate (JSON can carry one) cannot fail the encoding
        return list(matcher.Match(text.encode("utf-8", "replace")) or ())

    return match
