"""Half-written feed documents: an item whose end never arrived is not published.

A feed that its publisher is still writing, or that a proxy cut short, can end in the middle of
an item. feedparser still yields that item with whatever it had read: a title without its link,
half a body. Published, it would become a story that the complete item later duplicates (under
another id when the link was cut, or with a different body). Worse, a cut inside a multi-byte
character makes feedparser give up on the declared encoding and garble every item. So such a
document is read again up to the end of its last complete item, and only those items are
published; the next complete document brings the held-back one whole.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from worker.exceptions import ParseError
from worker.parse import ParsedFeed, parse_feed

_ITEM_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?(?:item|entry)\s*>")


def complete_entries(
    content: bytes, parsed: ParsedFeed, *, url: str, headers: Mapping[str, str] | None = None,
) -> tuple[ParsedFeed, int]:
    """``parsed`` with only the items whose closing tag is in ``content``, and how many were
    held back. Only a malformed XML document can miss closing tags; others pass unchanged."""
    if not parsed.problem or parsed.version.startswith("json"):
        return parsed, 0
    ends = list(_ITEM_END.finditer(content))
    if len(ends) >= len(parsed.entries):
        return parsed, 0
    entries = []
    if ends:
        try:
            entries = parse_feed(content[:ends[-1].end()], url=url, headers=headers).entries
        except ParseError:
            entries = []
    return dataclasses.replace(parsed, entries=entries), len(parsed.entries) - len(entries)
