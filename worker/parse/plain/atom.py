"""Atom 1.0, as feedparser reads it: the feed's title and link, and each entry (see
:mod:`worker.parse.plain`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from worker.parse.plain.common import (
    ATOM,
    EXTENSION_ONCE,
    EXTENSION_READERS,
    ROOT_SCOPE,
    RSS1_NAMESPACE,
    Declined,
    EntryReader,
    Reading,
    attributes,
    date_reader,
    end_author,
    format_declared,
    is_feed_extension,
    map_content_type,
    no_attributes,
    read_author_text,
    read_category,
    read_id,
    read_link,
    repaired,
    save_author_part,
    start_author,
    text,
)

ROOT = f"{ATOM}feed"
_TEXT_TYPES = frozenset({"text/plain", "text/html"})
_PERSON_PARTS = frozenset({f"{ATOM}name", f"{ATOM}email", f"{ATOM}uri"})
_FEED_IGNORED = frozenset({f"{ATOM}{name}" for name in (
    "updated", "published", "subtitle", "rights", "generator", "icon", "logo", "category")})
"""Feed elements that feedparser keeps under names the normalizer never reads."""


def read(root: Any, url: str, language: str | None) -> Any:
    """feedparser's result for an Atom 1.0 document whose root element is ``root``."""
    if not ROOT_SCOPE.issuperset(root.attrib) or format_declared(root) == RSS1_NAMESPACE:
        raise Declined  # RSS 1.0's namespace declared first makes it RSS to feedparser
    reading = _AtomReading(root, url, language)
    seen: set[str] = set()
    for child in root:
        tag = child.tag
        if tag == f"{ATOM}entry":
            reading.entry(child)
            continue
        if tag in (f"{ATOM}title", f"{ATOM}id"):
            if tag in seen:
                raise Declined
            seen.add(tag)
        if tag == f"{ATOM}title":
            reading.feed["title"], reading.feed["title_detail"] = _typed_text(reading, child)
        elif tag == f"{ATOM}link":
            read_link(reading, reading.feed, child)
        elif tag == f"{ATOM}id":
            read_id(reading, reading.feed, child)  # feedparser makes the id the feed's link too
        elif tag == f"{ATOM}author":
            if any(c.tag not in _PERSON_PARTS or len(c) for c in child):
                raise Declined
        elif (tag not in _FEED_IGNORED or len(child)) and not is_feed_extension(reading, child):
            raise Declined
    return reading.result("atom10")


def _typed_text(reading: Reading, element: Any) -> tuple[str, Any]:
    """An Atom text: plain unless its type says HTML (feedparser guesses nothing in Atom);
    XHTML, and any other type, is declined."""
    content_type = map_content_type(attributes(element, frozenset({"type"})).get(
        "type", "text/plain"))
    if content_type not in _TEXT_TYPES:
        raise Declined
    value = repaired(text(element))
    return value, reading.detail(content_type, value)


def _read_title(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    entry["title"], entry["title_detail"] = _typed_text(reading, element)


def _read_summary(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    entry["summary"], entry["summary_detail"] = _typed_text(reading, element)


def _read_content(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    """A content (inline: one with ``src`` is declined), which also stands in for a missing
    summary."""
    value, detail = _typed_text(reading, element)
    entry.setdefault("content", []).append(detail)
    entry.setdefault("summary", value)


def _read_author(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    """An Atom person: name and email as given, stripped (feedparser gives them no further
    touch), uri resolved as a link."""
    if not len(element):
        read_author_text(reading, entry, element)
        return
    no_attributes(element)
    if (element.text or "").strip() or any((c.tail or "").strip() for c in element):
        raise Declined
    start_author(entry)
    for part in element:
        no_attributes(part)
        if part.tag == f"{ATOM}name":
            save_author_part(entry, "name", text(part))
        elif part.tag == f"{ATOM}email":
            save_author_part(entry, "email", text(part))
        elif part.tag == f"{ATOM}uri":
            entry["href"] = uri = repaired(text(part, link_base=reading.base))
            save_author_part(entry, "href", uri)
        else:
            raise Declined
    end_author(entry, "")


def _read_rights(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    _typed_text(reading, element)  # kept by feedparser as "rights", which nothing reads


class _AtomReading(Reading):
    entry_once: ClassVar[frozenset[str]] = frozenset({f"{ATOM}{name}" for name in (
        "title", "id", "updated", "published", "summary", "rights")} | EXTENSION_ONCE)
    entry_readers: ClassVar[Mapping[str, EntryReader]] = {
        f"{ATOM}title": _read_title,
        f"{ATOM}link": read_link,
        f"{ATOM}id": read_id,
        f"{ATOM}updated": date_reader("updated"),
        f"{ATOM}published": date_reader("published"),
        f"{ATOM}summary": _read_summary,
        f"{ATOM}content": _read_content,
        f"{ATOM}author": _read_author,
        f"{ATOM}category": read_category,
        f"{ATOM}rights": _read_rights,
        **EXTENSION_READERS,
    }
