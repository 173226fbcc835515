"""RSS 2.0, as feedparser reads it: the channel's title, link, language and polling hints, and
each item (see :mod:`worker.parse.plain`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from feedparser import FeedParserDict
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin

from worker.parse.plain.common import (
    ATOM,
    CONTENT,
    EXTENSION_ONCE,
    EXTENSION_READERS,
    ROOT_SCOPE,
    Declined,
    EntryReader,
    Reading,
    attributes,
    date_reader,
    is_feed_extension,
    no_attributes,
    read_author_text,
    read_category,
    read_id,
    repaired,
    text,
    with_href,
)

ROOT = "rss"
_SY = "{http://purl.org/rss/1.0/modules/syndication/}"
_UNHANDLED_REFERENCE = re.compile("&([A-Za-z0-9_]+);")
_looks_like_html: Callable[[str], bool] = _FeedParserMixin.looks_like_html

_CHANNEL_ONCE = frozenset({"title", "link", "language", "ttl", f"{_SY}updatePeriod",
                           f"{_SY}updateFrequency", f"{ATOM}id"})
_CHANNEL_IGNORED = frozenset({
    "description", "copyright", "generator", "docs", "webMaster", "managingEditor", "pubDate",
    "lastBuildDate", "category", "cloud", f"{_SY}updateBase"})
"""Channel elements that feedparser keeps under names the normalizer never reads."""
_IMAGE_CHILDREN = frozenset({"title", "url", "link", "width", "height", "description"})


def read(root: Any, content: bytes, url: str, language: str | None) -> Any:
    """feedparser's result for an RSS 2.x document whose root element is ``root``."""
    version = root.get("version", "")
    if not version.startswith("2.") or not ROOT_SCOPE.issuperset(set(root.attrib) - {"version"}):
        raise Declined  # a bare "lang" attribute, for one, would be every text's language
    children = list(root)
    if len(children) != 1 or children[0].tag != "channel" or children[0].attrib:
        raise Declined
    reading = _RssReading(root, content, url, language)
    for child in children[0]:
        reading.channel_child(child)
    return reading.result("rss20")


def _title_and_detail(reading: Reading, element: Any) -> tuple[str, Any]:
    """A nominally plain text: HTML when it looks like HTML, as feedparser guesses for RSS."""
    no_attributes(element)
    output = text(element)
    content_type = "text/html" if _looks_like_html(output) else "text/plain"
    value = repaired(output)
    return value, reading.detail(content_type, value)


def link_element(element: Any, base: str) -> Any:
    """An atom:link that feedparser files among the links without making it the item's link:
    one with an address and a relation other than "alternate" (or "enclosure", a medium)."""
    if len(element):
        raise Declined
    found = with_href(attributes(element))
    if "href" not in found or found.get("rel") in (None, "alternate", "enclosure"):
        raise Declined
    found.setdefault("type", "application/atom+xml" if found["rel"] == "self" else "text/html")
    found["href"] = _urljoin(base, found["href"])
    return FeedParserDict(found)


def _read_title(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    entry["title"], entry["title_detail"] = _title_and_detail(reading, element)


def _read_link(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    no_attributes(element)
    output = repaired(text(element, link_base=reading.base))
    output = _UNHANDLED_REFERENCE.sub(r"&\g<1>", output.replace("&amp;", "&"))
    entry["link"] = output
    link = FeedParserDict(rel="alternate", type="text/html")
    if output:
        link["href"] = output
    entry.setdefault("links", []).append(link)


def _read_description(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    no_attributes(element)
    entry["summary"] = value = repaired(text(element))
    entry["summary_detail"] = reading.detail("text/html", value)


def _read_content(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    """content:encoded, which also stands in for a missing description."""
    no_attributes(element)
    value = repaired(text(element))
    entry.setdefault("content", []).append(reading.detail("text/html", value))
    entry.setdefault("summary", value)


def _read_enclosure(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    if len(element):
        raise Declined
    found = with_href(attributes(element))
    found["rel"] = "enclosure"
    entry.setdefault("links", []).append(FeedParserDict(found))


def _read_atom_link(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    entry.setdefault("links", []).append(link_element(element, reading.base))


class _RssReading(Reading):
    entry_once: ClassVar[frozenset[str]] = frozenset(
        {"title", "link", "description", "guid", "pubDate", *EXTENSION_ONCE})
    entry_readers: ClassVar[Mapping[str, EntryReader]] = {
        "title": _read_title,
        "link": _read_link,
        "guid": read_id,
        "description": _read_description,
        f"{CONTENT}encoded": _read_content,
        "pubDate": date_reader("published"),
        "author": read_author_text,
        "category": read_category,
        "enclosure": _read_enclosure,
        f"{ATOM}link": _read_atom_link,
        **EXTENSION_READERS,
    }

    def __init__(self, root: Any, content: bytes, url: str, language: str | None) -> None:
        super().__init__(root, content, url, language)
        self._seen: set[str] = set()

    def channel_child(self, child: Any) -> None:
        tag = child.tag
        if tag == "item":
            self.entry(child)
            return
        if tag in _CHANNEL_ONCE:
            if tag in self._seen:
                raise Declined
            self._seen.add(tag)
        if tag == "title":
            self.feed["title"], self.feed["title_detail"] = _title_and_detail(self, child)
        elif tag == "link":
            no_attributes(child)
            link = repaired(text(child, link_base=self.base))
            self.feed["link"] = _UNHANDLED_REFERENCE.sub(r"&\g<1>", link)
        elif tag in ("language", "ttl", f"{_SY}updatePeriod", f"{_SY}updateFrequency"):
            no_attributes(child)
            name = tag if not tag.startswith(_SY) else "sy_" + tag.removeprefix(_SY).lower()
            self.feed[name] = repaired(text(child))
        elif tag == "image":
            if any(c.tag not in _IMAGE_CHILDREN or len(c) for c in child):
                raise Declined
        elif tag == f"{ATOM}link":
            link_element(child, self.base)  # a channel's links are not read
        elif tag == f"{ATOM}id":
            read_id(self, self.feed, child)  # feedparser makes it the channel's link, if none
        elif (tag not in _CHANNEL_IGNORED or len(child)) and not is_feed_extension(self, child):
            raise Declined
