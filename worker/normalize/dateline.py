"""The dateline that opens a news story: "WASHINGTON (CNN) -- ", "(CNN) — ", "CNN  — ".

A dateline is a place in capitals or title case (optional), then the outlet in parentheses,
then usually a dash; CNN also writes the outlet alone followed by a dash, and in its later
stories "(CNN)" directly followed by the first word. The dash is not kept. A dash in the middle
of an ordinary sentence is not a dateline: the text before it has to be an outlet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_SPACE = r"[\s\u00a0]"
_DASH = rf"(?:--|—|–|-(?={_SPACE}))"
_PLACE_WORD = r"(?:[A-Z][\w.'’\-]*|de|da|del|do|dos|la|le|el|of|am|upon|sur|al)"
_PLACE = rf"[A-Z][\w.'’\-]*(?:,?{_SPACE}+{_PLACE_WORD}){{0,6}}"
_OUTLET = rf"(?:CNN(?:{_SPACE}?[A-Z][A-Za-z]+)?|AP|Reuters|AFP|EW\.com)"
_PARENTHESIZED = re.compile(
    rf"(?P<dateline>(?:{_PLACE},?{_SPACE}+)?\({_OUTLET}\))(?:{_SPACE}*{_DASH})?{_SPACE}*"
)
_BARE = re.compile(rf"(?P<dateline>CNN){_SPACE}*{_DASH}{_SPACE}*")


def split_dateline(paragraphs: Sequence[str]) -> tuple[str | None, list[str]]:
    """The dateline at the start of the first paragraph, and the paragraphs without it.

    A first paragraph that is only a dateline is removed. Returns ``(None, paragraphs)`` when
    there is no dateline.
    """
    if not paragraphs:
        return None, []
    first = paragraphs[0]
    match = _PARENTHESIZED.match(first) or _BARE.match(first)
    if match is None:
        return None, list(paragraphs)
    rest = first[match.end() :].strip()
    dateline = " ".join(match["dateline"].split())
    return dateline, ([rest] if rest else []) + list(paragraphs[1:])
