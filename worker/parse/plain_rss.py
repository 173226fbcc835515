"""A fast reading of plain RSS 2.0 documents that gives what feedparser gives, or declines.

feedparser stays the reference parser, but it costs about a millisecond per item, most of it in
Python callbacks per element, where lxml parses the same bytes in a few hundredths of that. This
module reads, with lxml, the RSS 2.0 documents built only of elements whose meaning in
feedparser (with the options and patches of :mod:`worker.parse.feedparser_adapter`) it
reproduces, and returns a result shaped like feedparser's (``feed``, ``entries``, ``version``)
that holds the fields the normalizer reads, with the values feedparser gives them: the same
stripping, link resolution, repair of mis-decoded UTF-8 and mapping of windows-1252 codes, the
same date parser, the same quirks (a guid stands in for a missing link; content:encoded stands in
for a missing description).

It declines (returns None, and feedparser reads the document) whatever lies outside that:

* another format, or an ``rss`` root whose version is not 2.x;
* a charset other than UTF-8 (declared in the header or the XML declaration), a UTF-16 or
  UTF-32 byte order mark, a DOCTYPE (so no entity but XML's own), ``xml:base`` or ``xml:lang``;
* an element it does not know, or one in a namespace spelled otherwise than usual (feedparser
  matches namespaces case-blind, and reads unknown ones by their prefix);
* markup inside a text element, an attribute where it expects none, a field given twice where
  feedparser would keep one, an author with an e-mail address (feedparser splits those).

Whatever it reads, the two readers must give the same stories: ``tests/test_plain_rss.py``
checks that on every feed document in ``tests/`` and on generated items, and
``bench/plain_rss_check.py`` on the whole shared corpus.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from feedparser import FeedParserDict
from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin
from lxml import etree

from worker.parse.feedparser_adapter import (
    WESTERN_SINGLE_BYTE,
    charset_of,
    western_as_utf8,
    without_leading_whitespace,
    xml_encoding,
)

__all__ = ["read_plain_rss"]

_DC = "{http://purl.org/dc/elements/1.1/}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_MEDIA = "{http://search.yahoo.com/mrss/}"
_ATOM = "{http://www.w3.org/2005/Atom}"
_SY = "{http://purl.org/rss/1.0/modules/syndication/}"

_REFUSED_BYTES = (b"<!DOCTYPE", b"<!doctype", b"<!ENTITY", b"xml:base", b"xml:lang")
_UNICODE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_UNHANDLED_REFERENCE = re.compile("&([A-Za-z0-9_]+);")
_WINDOWS_1252_CODES = re.compile("[\x80-\x9f]")
_looks_like_html: Callable[[str], bool] = _FeedParserMixin.looks_like_html


class _Declined(Exception):
    """The document holds something this reader does not reproduce."""


_parsers = threading.local()


def _parser() -> etree.XMLParser:
    """One lxml parser per thread: a parser is not to be shared between threads."""
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = etree.XMLParser(
            encoding="utf-8", resolve_entities=False, no_network=True, remove_comments=True,
            remove_pis=True)  # the document's own declaration may name the charset it had
    return parser


def read_plain_rss(content: bytes, url: str, headers: Mapping[str, str] | None) -> Any:
    """feedparser's result for ``content`` fetched from ``url`` with ``headers``, as
    :func:`~worker.parse.feedparser_adapter.run_feedparser` gives it; None when the document is
    not one this reader reproduces (see the module docstring)."""
    given = {k.lower(): v for k, v in (headers or {}).items()}
    utf8 = _as_utf8(without_leading_whitespace(content), charset_of(given.get("content-type", "")))
    if utf8 is None or not _plain_bytes(utf8):
        return None
    try:
        root = etree.fromstring(utf8, _parser())
    except etree.XMLSyntaxError:
        return None
    try:
        return _read(root, url, given.get("content-language") or None)
    except _Declined:
        return None


def _as_utf8(content: bytes, charset: str | None) -> bytes | None:
    """The document in UTF-8, decoded as :mod:`~worker.parse.feedparser_adapter` has feedparser
    decode it: UTF-8, or a Western single-byte charset that may hold UTF-8 in places; None for
    other charsets, and where the header's charset and the document's differ."""
    if content.startswith(_UNICODE_BOMS):
        return None
    in_document = xml_encoding(content)
    if charset and in_document and charset.lower() != in_document.lower():
        return None
    declared = (charset or in_document or "utf-8").lower()
    if declared == "utf-8":
        return content
    if declared not in WESTERN_SINGLE_BYTE:
        return None
    repaired = western_as_utf8(content, declared)
    if repaired is not None:
        return repaired
    try:
        return content.decode(declared).encode("utf-8")
    except (UnicodeDecodeError, LookupError):
        return None


def _plain_bytes(content: bytes) -> bool:
    """No DTD, no xml:base or xml:lang: the cheap checks before parsing."""
    return not any(mark in content for mark in _REFUSED_BYTES)


def _read(root: Any, url: str, language: str | None) -> Any:
    if root.tag != "rss" or set(root.attrib) != {"version"} or not root.get("version").startswith(
            "2."):  # a "lang" attribute, for one, would be the language of all the texts
        raise _Declined
    children = list(root)
    if len(children) != 1 or children[0].tag != "channel" or children[0].attrib:
        raise _Declined
    reading = _Reading(url, language)
    for child in children[0]:
        reading.channel_child(child)
    return FeedParserDict(feed=FeedParserDict(reading.feed), version="rss20", bozo=False,
                          entries=[FeedParserDict(entry) for entry in reading.entries],
                          encoding="utf-8")


def _text(element: Any, *, link_base: str | None = None) -> str:
    """An element's text as feedparser's ``pop`` leaves it, before it looks for HTML: stripped,
    resolved against ``link_base`` when the element holds a link."""
    if len(element):
        raise _Declined  # markup, which feedparser serializes back
    output = (element.text or "").strip()
    if link_base is not None and output:
        output = _urljoin(link_base, output)
    return output


def _repaired(output: str) -> str:
    """feedparser's last touches to every text of a UTF-8 document: UTF-8 that was decoded as
    Latin-1 is decoded again, and windows-1252's codes 0x80-0x9F become its characters."""
    if output.isascii():
        return output
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        output = output.encode("iso-8859-1").decode("utf-8")
    return output.translate(_cp1252) if _WINDOWS_1252_CODES.search(output) else output


def _attributes(element: Any) -> dict[str, str]:
    """An element's attributes as feedparser hands them on: names in lower case, and the values
    of ``rel`` and ``type`` too."""
    attributes = {}
    for name, value in element.attrib.items():
        if name.startswith("{"):
            raise _Declined
        name = name.lower()
        attributes[name] = value.lower() if name in ("rel", "type") else value
    return attributes


def _no_attributes(element: Any) -> None:
    if element.attrib:
        raise _Declined


def _with_href(attributes: dict[str, str]) -> dict[str, str]:
    """feedparser's ``url``/``uri`` to ``href`` renaming."""
    href = attributes.get("url", attributes.get("uri", attributes.get("href")))
    if href:
        attributes.pop("url", None)
        attributes.pop("uri", None)
        attributes["href"] = href
    return attributes


_CHANNEL_ONCE = frozenset({"title", "link", "language", "ttl", f"{_SY}updatePeriod",
                           f"{_SY}updateFrequency"})
_CHANNEL_IGNORED = frozenset({
    "description", "copyright", "generator", "docs", "webMaster", "managingEditor", "pubDate",
    "lastBuildDate", "category", "cloud", f"{_SY}updateBase"})
"""Channel elements that feedparser keeps under names the normalizer never reads."""
_IMAGE_CHILDREN = frozenset({"title", "url", "link", "width", "height", "description"})

_ITEM_ONCE = frozenset({
    "title", "link", "description", "guid", "pubDate", "comments", f"{_DC}date",
    f"{_MEDIA}description", "{http://rssnamespace.org/feedburner/ext/1.0}origLink",
    "{http://www.itunes.com/dtds/podcast-1.0.dtd}duration"})
_ITEM_PLAIN_TEXT = {
    "{http://wellformedweb.org/CommentAPI/}commentRss": ("wfw_commentrss", True),
    "{http://purl.org/rss/1.0/modules/slash/}comments": ("slash_comments", False),
    "{http://rssnamespace.org/feedburner/ext/1.0}origLink": ("feedburner_origlink", False),
    "{http://www.itunes.com/dtds/podcast-1.0.dtd}duration": ("itunes_duration", False),
    "comments": ("comments", True),
}
"""Item elements feedparser keeps as text under a name of their own: (name, holds a link)."""


class _Reading:
    """The channel and the entries read so far, and the language feedparser gives every text:
    the Content-Language header's. (The channel's ``<language>`` is the channel's language
    only: feedparser gives each element the language of its parent back at its end tag.)

    The channel and the entries are built as plain dicts, wrapped in FeedParserDict at the end:
    FeedParserDict's item methods are Python code, and cost more than all the rest."""

    def __init__(self, url: str, language: str | None) -> None:
        self.base = url
        self.language = language.replace("_", "-") if language else None
        self.feed: dict[str, Any] = {}
        if self.language:
            self.feed["language"] = self.language
        self.entries: list[dict[str, Any]] = []
        self._seen: set[str] = set()

    def _detail(self, content_type: str, value: str) -> Any:
        return FeedParserDict(type=content_type, language=self.language, base=self.base,
                              value=value)

    def _text_detail(self, output: str) -> tuple[str, Any]:
        """A nominally plain text (a title): HTML when it looks like HTML, as feedparser guesses."""
        content_type = "text/html" if _looks_like_html(output) else "text/plain"
        value = _repaired(output)
        return value, self._detail(content_type, value)

    def channel_child(self, child: Any) -> None:
        tag = child.tag
        if tag == "item":
            self.entries.append(self.item(child))
            return
        if tag in _CHANNEL_ONCE:
            if tag in self._seen:
                raise _Declined
            self._seen.add(tag)
        if tag == "title":
            _no_attributes(child)
            self.feed["title"], self.feed["title_detail"] = self._text_detail(_text(child))
        elif tag == "link":
            _no_attributes(child)
            link = _repaired(_text(child, link_base=self.base))
            self.feed["link"] = _UNHANDLED_REFERENCE.sub(r"&\g<1>", link)
        elif tag == "language":
            _no_attributes(child)
            self.feed["language"] = _repaired(_text(child))
        elif tag in ("ttl", f"{_SY}updatePeriod", f"{_SY}updateFrequency"):
            _no_attributes(child)
            name = "ttl" if tag == "ttl" else "sy_" + tag.removeprefix(_SY).lower()
            self.feed[name] = _repaired(_text(child))
        elif tag == "image":
            if any(c.tag not in _IMAGE_CHILDREN or len(c) for c in child):
                raise _Declined
        elif tag == f"{_ATOM}link":
            _other_link(child, self.base)  # a channel's links are not read
        elif tag not in _CHANNEL_IGNORED or len(child):
            raise _Declined

    def item(self, element: Any) -> dict[str, Any]:
        _no_attributes(element)
        entry: dict[str, Any] = {}
        seen: set[str] = set()
        for child in element:
            tag = child.tag
            if tag in _ITEM_ONCE:
                if tag in seen:
                    raise _Declined
                seen.add(tag)
            reader = _ITEM_READERS.get(tag)
            if reader is None:
                raise _Declined
            reader(self, entry, child)
        return entry

    def _title(self, entry: Any, element: Any) -> None:
        _no_attributes(element)
        entry["title"], entry["title_detail"] = self._text_detail(_text(element))

    def _link(self, entry: Any, element: Any) -> None:
        _no_attributes(element)
        output = _repaired(_text(element, link_base=self.base))
        output = _UNHANDLED_REFERENCE.sub(r"&\g<1>", output.replace("&amp;", "&"))
        entry["link"] = output
        link = FeedParserDict(rel="alternate", type="text/html")
        if output:
            link["href"] = output
        entry.setdefault("links", []).append(link)

    def _guid(self, entry: Any, element: Any) -> None:
        attributes = _attributes(element)
        if set(attributes) - {"ispermalink"}:
            raise _Declined
        is_link = attributes.get("ispermalink", "true") == "true"
        entry["id"] = value = _repaired(_text(element))
        entry.setdefault("guidislink", is_link and "link" not in entry)
        if is_link:
            entry.setdefault("link", value)

    def _description(self, entry: Any, element: Any) -> None:
        _no_attributes(element)
        entry["summary"] = value = _repaired(_text(element))
        entry["summary_detail"] = self._detail("text/html", value)

    def _content(self, entry: Any, element: Any) -> None:
        _no_attributes(element)
        value = _repaired(_text(element))
        entry.setdefault("content", []).append(self._detail("text/html", value))
        entry.setdefault("summary", value)

    def _author(self, entry: Any, element: Any) -> None:
        _no_attributes(element)
        detail = FeedParserDict()
        entry.setdefault("authors", []).append(detail)
        entry["author"] = value = _repaired(_text(element))
        if value:
            if "@" in value:
                raise _Declined  # feedparser takes an e-mail address apart
            entry.setdefault("author_detail", detail)
            detail["name"] = value

    def _category(self, entry: Any, element: Any) -> None:
        attributes = _attributes(element)
        if set(attributes) - {"domain"}:
            raise _Declined
        tags = entry.setdefault("tags", [])
        if attributes.get("domain"):
            _add_tag(tags, None, attributes["domain"])
        value = _repaired(_text(element))
        if value and tags and not tags[-1]["term"]:
            tags[-1]["term"] = value
        elif value:
            _add_tag(tags, value, None)

    def _enclosure(self, entry: Any, element: Any) -> None:
        if len(element):
            raise _Declined
        attributes = _with_href(_attributes(element))
        attributes["rel"] = "enclosure"
        entry.setdefault("links", []).append(FeedParserDict(attributes))

    def _atom_link(self, entry: Any, element: Any) -> None:
        entry.setdefault("links", []).append(_other_link(element, self.base))

    def _media_content(self, entry: Any, element: Any) -> None:
        if len(element):
            raise _Declined  # media:title, media:credit ... inside: not reproduced
        entry.setdefault("media_content", []).append(_attributes(element))

    def _media_thumbnail(self, entry: Any, element: Any) -> None:
        attributes = _attributes(element)
        entry.setdefault("media_thumbnail", []).append(attributes)
        url = _repaired(_text(element, link_base=self.base))
        entry["href"] = url  # feedparser stores the text as "url", which it maps to "href"
        if url.strip() and "url" not in attributes:
            attributes["url"] = url

    def _media_credit(self, entry: Any, element: Any) -> None:
        attributes = _attributes(element)
        entry.setdefault("media_credit", []).append(attributes)
        entry["credit"] = credit = _repaired(_text(element))
        if credit.strip():
            attributes["content"] = credit

    def _media_description(self, entry: Any, element: Any) -> None:
        entry["media_description"] = _repaired(_text(element))

    def _plain_text(self, entry: Any, element: Any) -> None:
        _no_attributes(element)
        name, is_link = _ITEM_PLAIN_TEXT[element.tag]
        entry[name] = _repaired(_text(element, link_base=self.base if is_link else None))


def _other_link(element: Any, base: str) -> Any:
    """An atom:link that feedparser files among the links without making it the item's link:
    one with an address and a relation other than "alternate" (or "enclosure", a medium)."""
    if len(element):
        raise _Declined
    attributes = _with_href(_attributes(element))
    if "href" not in attributes or attributes.get("rel") in (None, "alternate", "enclosure"):
        raise _Declined
    attributes.setdefault("type", "application/atom+xml" if attributes["rel"] == "self"
                          else "text/html")
    attributes["href"] = _urljoin(base, attributes["href"])
    return FeedParserDict(attributes)


def _date_reader(key: str) -> Callable[[_Reading, Any, Any], None]:
    """A reader of a date element into ``key`` and ``key_parsed``, by feedparser's date parser."""
    def read(reading: _Reading, entry: Any, element: Any) -> None:
        _no_attributes(element)
        entry[key] = value = _repaired(_text(element))
        entry[f"{key}_parsed"] = _parse_date(value)
    return read


def _add_tag(tags: list[Any], term: str | None, scheme: str | None) -> None:
    tag = FeedParserDict(term=term, scheme=scheme, label=None)
    if tag not in tags:
        tags.append(tag)


_ITEM_READERS: Mapping[str, Callable[[_Reading, Any, Any], None]] = {
    "title": _Reading._title,
    "link": _Reading._link,
    "guid": _Reading._guid,
    "description": _Reading._description,
    f"{_CONTENT}encoded": _Reading._content,
    "pubDate": _date_reader("published"),
    f"{_DC}date": _date_reader("updated"),
    "author": _Reading._author,
    f"{_DC}creator": _Reading._author,
    "category": _Reading._category,
    "enclosure": _Reading._enclosure,
    f"{_ATOM}link": _Reading._atom_link,
    f"{_MEDIA}content": _Reading._media_content,
    f"{_MEDIA}thumbnail": _Reading._media_thumbnail,
    f"{_MEDIA}credit": _Reading._media_credit,
    f"{_MEDIA}description": _Reading._media_description,
    **dict.fromkeys(_ITEM_PLAIN_TEXT, _Reading._plain_text),
}
