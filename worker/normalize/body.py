"""Which of an entry's text fields is the story's body, its summary and its highlights.

feedparser puts the full text (``content:encoded``, Atom ``content``, ``xhtml:body``) into
``entry.content``, but also a second description-like element when the item already has a
description: ``itunes:summary`` or ``media:description`` (an image caption). Those come as plain
text, while the full text is HTML in practice, so:

* HTML content is the body, and the summary is a highlight unless the body starts with it;
* plain-text content is the body when it is all the entry has, or when it goes on from where the
  (shortened) summary stops: a podcast's full ``itunes:summary`` after a short description;
* other plain-text content is the caption of the entry's image (NYT's ``media:description``),
  and the summary is the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from worker.normalize.html import html_to_paragraphs

_HTML_TYPES = ("text/html", "application/xhtml+xml", "html", "xhtml")
_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")
_TRAILING_ELLIPSIS = re.compile(r"\s*(?:\.{3}|…|\[(?:\.{3}|…)\]|\((?:\.{3}|…)\))\s*$")


@dataclass
class EntryText:
    """The text fields of a story, as plain-text paragraphs."""

    body: list[str] = field(default_factory=list)
    summary: str | None = None
    highlights: list[str] = field(default_factory=list)
    caption: str | None = None
    """A plain-text description that is neither body nor summary: the image's caption."""


def entry_text(entry: Any) -> EntryText:
    """Body, summary, highlights and caption of a feedparser entry (see the module docstring)."""
    summary_paragraphs = html_to_paragraphs(_string(entry.get("summary")))
    summary = " ".join(summary_paragraphs) or None
    html_content, plain_content = _contents(entry)
    if html_content:
        return EntryText(html_content, summary, _highlights(summary, html_content))
    if plain_content and (summary is None or _continues(summary, plain_content)):
        return EntryText(plain_content, summary)
    caption = " ".join(plain_content) or None
    return EntryText(summary_paragraphs, summary, caption=caption)


def _contents(entry: Any) -> tuple[list[str], list[str]]:
    """The longest HTML content and the longest plain-text content, as paragraphs."""
    html: list[str] = []
    plain: list[str] = []
    for content in entry.get("content") or []:
        if not isinstance(content, dict):
            continue
        paragraphs = html_to_paragraphs(_string(content.get("value")))
        if _is_html(content.get("type")):
            html = max(html, paragraphs, key=_length)
        else:
            plain = max(plain, paragraphs, key=_length)
    return html, plain


def _highlights(summary: str | None, body: list[str]) -> list[str]:
    if summary is None or _continues(summary, body):
        return []
    return [summary]


def _continues(summary: str, body: list[str]) -> bool:
    """Whether ``summary`` adds nothing to ``body``: the body starts with what it says."""
    short = _comparable(_TRAILING_ELLIPSIS.sub("", summary))
    return _comparable(" ".join(body)).startswith(short)


def _comparable(text: str) -> str:
    """Letters and digits only: summaries and bodies differ in quotes, dashes and spacing."""
    return _NOT_ALPHANUMERIC.sub("", text.casefold())


def _is_html(content_type: Any) -> bool:
    return isinstance(content_type, str) and content_type.strip().lower() in _HTML_TYPES


def _length(paragraphs: list[str]) -> int:
    return sum(len(p) for p in paragraphs)


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""
