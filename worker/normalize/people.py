"""Who wrote a story: bylines from the feed, contributors from the last paragraph."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from worker.normalize.html import html_to_text

_NAME_SEPARATOR = re.compile(r"\s+and\s+|\s*[,&]\s*|\s*;\s*")
_BY_PREFIX = re.compile(r"^by\s+", re.IGNORECASE)
_CONTRIBUTORS = re.compile(
    r"(?:CNN\s*['’]s\s+)?(?P<names>[^!?]{1,300}?)\s+contributed\s+to\s+this\s+report\.?"
)
_MAX_NAME_WORDS = 6
_CONTRIBUTOR_SEPARATOR = re.compile(r",?\s+and\s+|,\s*")


def entry_authors(entry: Any) -> list[str]:
    """The authors of a feedparser entry, one name each, in the feed's order.

    feedparser gathers ``author``, ``dc:creator``, ``itunes:author`` and Atom ``author``
    elements into ``authors``. A byline naming several people ("By Ann Lee and Bo Chen") is
    split into its names; e-mail addresses without a name are left out.
    """
    raw: list[str] = []
    for author in entry.get("authors") or []:
        if isinstance(author, dict) and isinstance(author.get("name"), str):
            raw.append(author["name"])
    if not raw and isinstance(entry.get("author"), str):
        raw.append(entry["author"])
    return split_names(raw)


def split_names(bylines: Iterable[str]) -> list[str]:
    """Bylines split on "and", "&", "," and ";", without "By ", deduplicated (case aside)."""
    names: dict[str, str] = {}
    for byline in bylines:
        text = _BY_PREFIX.sub("", html_to_text(byline))
        for part in _NAME_SEPARATOR.split(text):
            name = _BY_PREFIX.sub("", part.strip(" .")).strip()
            if name and "@" not in name and name.casefold() != "and":
                names.setdefault(name.casefold(), name)
    return list(names.values())


def split_contributors(paragraphs: Sequence[str]) -> tuple[list[str], list[str]]:
    """Take off a last paragraph "[CNN's ]A, B and C contributed to this report.".

    Returns the remaining paragraphs and the names (empty, with the paragraphs unchanged, when
    the last paragraph is something else).
    """
    if not paragraphs:
        return [], []
    match = _CONTRIBUTORS.fullmatch(paragraphs[-1].strip())
    if match is None:
        return list(paragraphs), []
    names = [n.strip() for n in _CONTRIBUTOR_SEPARATOR.split(match["names"]) if n.strip()]
    if not names or not all(_looks_like_name(n) for n in names):
        return list(paragraphs), []
    return list(paragraphs[:-1]), names


def _looks_like_name(text: str) -> bool:
    return text[0].isupper() and len(text.split()) <= _MAX_NAME_WORDS
