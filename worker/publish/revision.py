"""Which changes to a published story are news: the content digests behind ``updated`` events.

A story is published again, as ``event: updated``, only when what a reader sees changed: its
headline, body, highlights or media. Each of those fields is reduced to a digest of its
*meaning*, so that what is not news gives the same digest:

- markup and whitespace (the body is compared as one run of words, so re-split paragraphs or
  changed tags do not count; the normalizer has already dropped the markup itself);
- timestamps inside the text ("Updated 10:32 a.m. ET", "5 minutes ago", ISO times, dates);
- tracking parameters and the order of media (media compare as a set of canonical URLs);
- anything outside the story: the feed's order, its lastBuildDate, the story's own dates.

:mod:`worker.publish` stores the digests per story and compares them in its Lua script.
"""

from __future__ import annotations

import hashlib
import re

from worker.normalize.urls import canonical_url
from worker.story import Story

UPDATE_FIELDS = ("title", "body", "highlights", "media")
"""The fields whose change is news, in the order their digests are stored."""

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_ZONE = r"(?:utc|gmt|[ecmp][sd]?t|bst|cest|cet|ist|jst|aest|aedt)\b"
_VOLATILE = re.compile(
    "|".join([
        r"\b(?:last\s+)?updated:?(?=\s*(?:\d|" + _MONTH + r"|\w+day\b))",
        r"\b\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?",
        r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\b\.?)?(?:\s+" + _ZONE + r")?",
        r"\b\d{1,2}\s*[ap]\.?m\b\.?(?:\s+" + _ZONE + r")?",
        r"\b" + _MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?,?(?:\s+\d{4})?\b",
        r"\b\d{1,2}\s+" + _MONTH + r"(?:\s+\d{4})?\b",
        r"\b\d+\s+(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?)\s+ago\b",
    ]),
    re.IGNORECASE,
)


def field_digests(story: Story) -> list[str]:
    """One digest per field of :data:`UPDATE_FIELDS`, equal when only non-news changed."""
    media = sorted(f"{m.type} {canonical_url(m.url) or m.url or m.title or ''}"
                   for m in story.media)
    texts = {
        "title": comparable_text(story.title or ""),
        "body": comparable_text(" ".join(story.body)),
        "highlights": "\n".join(comparable_text(h) for h in story.highlights),
        "media": "\n".join(media),
    }
    return [_digest(texts[name]) for name in UPDATE_FIELDS]


def comparable_text(text: str) -> str:
    """``text`` without timestamps and with its whitespace collapsed."""
    return " ".join(_VOLATILE.sub(" ", text).split())


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
