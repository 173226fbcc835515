"""Which of an entry's text fields is the story's body, its summary and its highlights.

feedparser puts the full text (``content:encoded``, Atom ``content``, ``xhtml:body``) into
``entry.content``, but also a second description-like element when the item already has a
description, such as ``itunes:summary``. Those come as plain text, while the full text is HTML
in practice, so:

* HTML content is the body, and the summary is a highlight unless the body starts with it;
* plain-text content is the body when it is all the entry has, or when it goes on from where the
  (shortened) summary stops: a podcast's full ``itunes:summary`` after a short description;
* other plain-text content is the caption of the entry's image, and the summary is the body.

Highlights come from the HTML when it carries them: a "Story highlights" heading followed by a
list (CNN's layout), or a list of 2 to 5 points opening the content before its first paragraph,
each a sentence of 4 words or more. Otherwise the summary is the one highlight, unless the body
starts with it.

The last paragraph is dropped when it is only a link to the rest ("Read more...", "Continue
reading on ... »", "The post X appeared first on Y.", Reddit's "submitted by /u/x [link]
[comments]"), and so is such a link at the end of the last paragraph.

``media:description`` (kept apart by :mod:`worker.parse.feedparser_adapter`) is the caption of
the entry's image when the entry has a description of its own (NYT), and otherwise the entry's
only text, so its summary and body (YouTube's video descriptions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from worker.normalize.html import html_to_paragraphs, html_to_text

_HTML_TYPES = ("text/html", "application/xhtml+xml", "html", "xhtml")
_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")
_READ_MORE = (
    r"(?:read|continue reading|weiterlesen|lire la suite|leer m[aá]s|leggi tutto)"
    r"(?: more| on| the (?:full |whole )?(?:story|article|post)| more of this story)?"
)
_TAIL = re.compile(
    rf"(?:\[?\s*{_READ_MORE}\b[^.!?]{{0,40}}?(?:\.\.\.|…|»|→|\])?\s*\]?"
    r"|\(more…\)|the post .{1,300} appeared first on .{1,200}"
    r"|submitted by /?u/\S+ \[link\] \[comments\])",
    re.IGNORECASE,
)
_TRAILING_TAIL = re.compile(
    rf"\s*(?:\[\s*{_READ_MORE}\s*\]|{_READ_MORE}(?:\s+\w+){{0,2}}\s*(?:\.\.\.|…|»|→)"
    r"|The post .{1,300} appeared first on [^.]{1,200}\.?)\s*$",
    re.IGNORECASE,
)
# What a paragraph holds when _TRAILING_TAIL can match it: that regex is tried at every
# position of the paragraph, a third of normalizing a story, and most paragraphs have neither.
# A new form of _TRAILING_TAIL needs its ending here, and an example in
# tests/normalize/test_normalize.py.
_TRAILING_TAIL_ENDS = ("]", "...", "…", "»", "→")
_APPEARED_FIRST = re.compile("appeared first on", re.IGNORECASE)
MIN_POINTS, MAX_POINTS, MIN_POINT_WORDS = 2, 5, 4
"""A list opening the content is a list of highlights with this many points of this many words."""
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)]?$")
_ITEMS = r"(?P<items>(?:(?!</ul>).)*)</ul>"
_HIGHLIGHTS_BLOCK = re.compile(
    r"<(?P<tag>h[1-6]|p|div|strong|b)\b[^>]*>\s*story\s+highlights\s*</(?P=tag)>\s*<ul\b[^>]*>"
    + _ITEMS, re.IGNORECASE | re.DOTALL)
_LEADING_LIST = re.compile(r"\s*<ul\b[^>]*>" + _ITEMS, re.IGNORECASE | re.DOTALL)
_LIST_ITEM = re.compile(r"<li\b[^>]*>(.*?)(?=<li\b|$)", re.IGNORECASE | re.DOTALL)
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
    media_description = html_to_paragraphs(_string(entry.get("media_description")))
    summary_paragraphs = without_tail(html_to_paragraphs(_string(entry.get("summary"))))
    html_content, plain_content, carried = _contents(entry)
    if not (summary_paragraphs or html_content or plain_content):
        summary_paragraphs, media_description = media_description, []
    summary = " ".join(summary_paragraphs) or None
    caption = " ".join(media_description) or None
    if html_content:
        highlights = carried or _highlights(summary, html_content)
        return EntryText(html_content, summary, highlights, caption)
    if plain_content and (summary is None or _continues(summary, plain_content)):
        return EntryText(plain_content, summary, caption=caption)
    caption = caption or " ".join(plain_content) or None
    return EntryText(summary_paragraphs, summary, caption=caption)


def without_tail(paragraphs: list[str]) -> list[str]:
    """``paragraphs`` without a last "Read more" link (see the module docstring)."""
    if paragraphs and _TAIL.fullmatch(paragraphs[-1]):
        paragraphs = paragraphs[:-1]
    if paragraphs and (not paragraphs[-1] or _may_end_in_tail(paragraphs[-1])):
        last = _TRAILING_TAIL.sub("", paragraphs[-1])
        paragraphs = [*paragraphs[:-1], last] if last else paragraphs[:-1]
    return paragraphs


def _may_end_in_tail(paragraph: str) -> bool:
    """False when :data:`_TRAILING_TAIL` cannot match: each of its forms ends in one of
    :data:`_TRAILING_TAIL_ENDS` before the trailing space, or says "appeared first on"."""
    return (paragraph.rstrip().endswith(_TRAILING_TAIL_ENDS)
            or _APPEARED_FIRST.search(paragraph) is not None)


def split_highlights(markup: str) -> tuple[list[str], str]:
    """The highlights the HTML carries (see the module docstring) and the HTML without them."""
    match = _HIGHLIGHTS_BLOCK.search(markup) or _LEADING_LIST.match(markup)
    if match is None:
        return [], markup
    points = [html_to_text(item) for item in _LIST_ITEM.findall(match["items"])]
    points = [p for p in points if p]
    is_block = match.re is _HIGHLIGHTS_BLOCK
    rest = markup[: match.start()] + markup[match.end() :]
    if not is_block and not (
        MIN_POINTS <= len(points) <= MAX_POINTS
        and all(len(p.split()) >= MIN_POINT_WORDS and _SENTENCE_END.search(p) for p in points)
        and html_to_paragraphs(rest)
    ):
        return [], markup
    return points, rest


def _contents(entry: Any) -> tuple[list[str], list[str], list[str]]:
    """The longest HTML content and the longest plain-text content, as paragraphs, and the
    highlights the HTML content carries."""
    html: list[str] = []
    plain: list[str] = []
    highlights: list[str] = []
    for content in entry.get("content") or []:
        if not isinstance(content, dict):
            continue
        value = _string(content.get("value"))
        if _is_html(content.get("type")):
            points, value = split_highlights(value)
            paragraphs = without_tail(html_to_paragraphs(value))
            if _length(paragraphs) > _length(html):
                html, highlights = paragraphs, points
        else:
            plain = max(plain, without_tail(html_to_paragraphs(value)), key=_length)
    return html, plain, highlights


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
