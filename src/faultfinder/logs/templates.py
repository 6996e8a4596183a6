"""Cluster the errors no signature names into templates, so a new kind of failure shows as a
handful of lines with counts rather than thousands of lines.

The algorithm is Drain's (He et al., ICWS 2017), cut down: mask the variable parts of a message
(times, addresses, ids, numbers, quoted strings), split it into tokens, and put it in the group
of messages with the same number of tokens and the same first token. Within the group it joins
the most similar template when enough positions agree, and the positions that differ become
``<*>``. drain3 implements the same thing but pins exact old versions of jsonpickle and
cachetools, which an installable tool cannot force on its users.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter

WILDCARD = "<*>"
MAX_TOKENS = 40  # a message is compared on its first tokens only
# Masks, in order: each turns a variable part into a placeholder before tokens are compared,
# each only on a text that holds one of the strings it cannot match without (none: always);
# no placeholder holds any of them, so an earlier mask never makes a later one match.
_MASKS = (
    (
        re.compile(r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.,]+(Z|[+-][0-9:]{4,5})?"),
        "<TIME>",
        ("-",),
    ),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<UUID>",
        ("-",),
    ),
    (re.compile(r"[a-z][a-z0-9+.-]*://[^\s\"'<>]+", re.IGNORECASE), "<URL>", ("://",)),
    (re.compile(r"\b[0-9]{1,3}(\.[0-9]{1,3}){3}(:[0-9]{1,5})?\b"), "<IP>", (".",)),
    (re.compile(r"\b([0-9a-fA-F]{1,4}:){3,7}[0-9a-fA-F]{1,4}\b"), "<IP>", (":",)),
    (
        re.compile(
            r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"
        ),
        "<HEX>",
        (),
    ),
    # A quote opens and closes a string only at a word's edge: the apostrophe of "couldn't" or
    # "server's" is part of its word, not the start of a string running to the next quote.
    (re.compile(r"\"[^\"]{0,200}\"|(?<!\w)'[^']{0,200}'(?!\w)"), "<STR>", ('"', "'")),
    (re.compile(r"(?<![A-Za-z0-9])[-+]?[0-9]+([.,][0-9]+)?"), "<NUM>", ()),  # 3.5ms → <NUM>ms
)


def mask(message: str) -> str:
    """The message's first line (and, for a multi-line one, its last), variables masked."""
    lines = [line for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    text = lines[0] if len(lines) == 1 else f"{lines[0]} … {lines[-1].strip()}"
    for pattern, placeholder, needs in _MASKS:
        if _holds(text, needs):
            text = pattern.sub(placeholder, text)
    return text[:1000]


def _holds(text: str, needs: tuple[str, ...]) -> bool:
    """Whether ``text`` holds one of ``needs`` (or there are none): far cheaper than a search
    that finds nothing."""
    for need in needs:
        if need in text:
            return True
    return not needs


@dataclass(eq=False)  # a template is itself: hashed by identity, so it can key a dict
class Template:
    tokens: list[str]
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    examples: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    def similarity(self, tokens: list[str]) -> float:
        same = sum(
            1
            for mine, theirs in zip(self.tokens, tokens, strict=True)
            if mine in (theirs, WILDCARD)
        )
        return same / len(tokens)

    def absorb(self, tokens: list[str]) -> None:
        self.tokens = [
            mine if mine == theirs else WILDCARD
            for mine, theirs in zip(self.tokens, tokens, strict=True)
        ]


class TemplateMiner:
    """Messages in, templates out; ``max_templates`` bounds the memory a flood can take."""

    def __init__(self, similarity: float = 0.5, max_templates: int = 1000) -> None:
        self.similarity = similarity
        self.max_templates = max_templates
        self.groups: dict[tuple[int, str], list[Template]] = {}
        self.templates: list[Template] = []
        self.overflow = 0  # messages that came after the bound and fit no template

    def add(self, message: str) -> Template | None:
        tokens = mask(message).split()[:MAX_TOKENS] or ["<EMPTY>"]
        first = tokens[0] if not any(ch.isdigit() for ch in tokens[0]) else WILDCARD
        group = self.groups.setdefault((len(tokens), first), [])
        # the first of the most similar, each template's similarity computed once
        score, best = max(
            ((template.similarity(tokens), template) for template in group),
            key=itemgetter(0),
            default=(0.0, None),
        )
        if best is not None and score >= self.similarity:
            best.absorb(tokens)
            return best
        if len(self.templates) >= self.max_templates:
            self.overflow += 1
            return None
        template = Template(tokens)
        group.append(template)
        self.templates.append(template)
        return template
