"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) to entries shaped like feedparser's.

feedparser reads only XML, so a JSON Feed item is translated into the keys feedparser gives an
RSS or Atom entry (``title``, ``link``, ``id``, ``content``, ``summary``, ``authors``, ``tags``,
``media_content``, ``media_thumbnail``), and the one normalizer handles both:

* ``content_html`` is HTML content and ``content_text`` plain-text content, as Atom's
  ``type="html"`` and ``type="text"``;
* ``attachments`` are ``media_content`` (with ``duration_in_seconds`` as ``duration``), and
  ``image``/``banner_image`` are ``media_thumbnail``;
* ``authors`` (1.1) or ``author`` (1.0) of the item, else of the feed, as the spec says;
* ``url`` is the link, else ``external_url``;
* ``language`` of the item, else of the feed (1.1), on the content.

Dates stay text (``published``/``updated`` without ``*_parsed``): they are RFC 3339 and
:mod:`worker.normalize.dates` reads them.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

from worker.exceptions import ParseError

VERSION_PREFIX = "https://jsonfeed.org/version/"


def looks_like_json(content: bytes) -> bool:
    """Whether the body is JSON rather than markup: its first character, BOM and NULs aside."""
    head = content[:64]
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE):
        head = head.removeprefix(bom)
    return head.replace(b"\x00", b"").lstrip(b" \t\r\n")[:1] in (b"{", b"[")


def read_json_feed(content: bytes) -> dict[str, Any]:
    """The feed's channel fields and its entries; :class:`ParseError` for anything else."""
    try:
        document = json.loads(_json_text(content))
    except json.JSONDecodeError as exc:
        raise ParseError(f"broken JSON: {exc.msg} at line {exc.lineno}") from exc
    except RecursionError as exc:  # no ValueError: it would have made the poll fail as a bug
        raise ParseError("broken JSON: arrays or objects nested too deeply to read") from exc
    if not _is_json_feed(document):
        raise ParseError("not a feed: JSON, but no JSON Feed (no jsonfeed.org version)")
    language = _text(document.get("language"))
    authors = _authors(document)
    items = document.get("items")
    return {
        "title": _text(document.get("title")),
        "link": _text(document.get("home_page_url")),
        "language": language,
        "version": "json" + document["version"].removeprefix(VERSION_PREFIX).replace(".", ""),
        "entries": [
            _entry(item, authors, language)
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict)
        ],
    }


_HIGH = r"\\u[dD][89abAB][0-9a-fA-F]{2}"
_LOW = r"\\u[dD][c-fC-F][0-9a-fA-F]{2}"
_SURROGATE_ESCAPE = re.compile(rf"{_HIGH}|{_LOW}")
_LONE_HALF = re.compile(rf"(?<!\\){_HIGH}(?!{_LOW})|(?<!{_HIGH})(?<!\\){_LOW}")
"""A surrogate escape that is not half of a pair (and not a backslash written out, ``\\\\u``)."""


def _json_text(content: bytes) -> str:
    """A JSON document's text, read as JSON is (UTF-8, -16 or -32), bytes that do not decode
    and halves of surrogate pairs that stand alone replaced by U+FFFD.

    JSON escapes a character beyond U+FFFF as two halves ("\\ud83d\\ude00"), and code that
    cut a string between them left a half alone (escaped, or as the bytes of CESU-8): read as
    it is, it made a Python string that cannot be encoded, and the story could not be
    published."""
    text = content.decode(json.detect_encoding(content), "replace")
    if _SURROGATE_ESCAPE.search(text):
        text = _LONE_HALF.sub(r"\\ufffd", text)
    return text


def _is_json_feed(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and isinstance(document.get("version"), str)
        and document["version"].startswith(VERSION_PREFIX)
    )


def _entry(item: dict[str, Any], feed_authors: list[dict[str, str]], language: str | None,
           ) -> dict[str, Any]:
    item_language = _text(item.get("language")) or language
    contents = [
        {"type": kind, "value": item[key], "language": item_language}
        for key, kind in (("content_html", "text/html"), ("content_text", "text/plain"))
        if _text(item.get(key))
    ]
    images = [_text(item.get(key)) for key in ("image", "banner_image")]
    entry: dict[str, Any] = {
        "id": _identifier(item.get("id")),
        "link": _text(item.get("url")) or _text(item.get("external_url")),
        "title": _text(item.get("title")),
        "summary": _text(item.get("summary")),
        "content": contents,
        "published": _text(item.get("date_published")),
        "updated": _text(item.get("date_modified")),
        "authors": _authors(item) or feed_authors,
        "tags": [{"term": t} for t in _list(item.get("tags")) if isinstance(t, str)],
        "media_content": [_attachment(a) for a in _list(item.get("attachments"))
                          if isinstance(a, dict) and _text(a.get("url"))],
        "media_thumbnail": [{"url": url} for url in images if url],
    }
    return {key: value for key, value in entry.items() if value not in (None, [])}


def _attachment(attachment: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": attachment["url"].strip(),
        "type": _text(attachment.get("mime_type")),
        "duration": attachment.get("duration_in_seconds"),
    }


def _authors(holder: dict[str, Any]) -> list[dict[str, str]]:
    """``authors`` (1.1), else ``author`` (1.0), as feedparser's ``[{"name": ...}]``."""
    people = holder.get("authors")
    if not isinstance(people, list) or not people:
        people = [holder.get("author")]
    return [{"name": p["name"]} for p in people if isinstance(p, dict) and _text(p.get("name"))]


def _identifier(value: Any) -> str | None:
    """The item's id: a string in 1.1; 1.0 feeds also write numbers."""
    if isinstance(value, bool) or value is None:
        return None
    return str(value).strip() or None if isinstance(value, str | int | float) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
