"""RSS 2.0 and RSS 1.0 (RDF), as feedparser reads them: the channel's title, link, language and
polling hints, and each item (see :mod:`worker.parse.plain`).

feedparser reads RSS 1.0's elements (in its own namespace, the document's default one) as it
reads RSS 2.0's, so one reading serves both, its names prefixed with that namespace for RDF.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from feedparser import FeedParserDict
from feedparser.mixin import _FeedParserMixin

from worker.parse.plain.common import (
    ATOM,
    CONTENT,
    DC,
    EXTENSION_ONCE,
    EXTENSION_READERS,
    ROOT_SCOPE,
    RSS1_NAMESPACE,
    Declined,
    EntryReader,
    Reading,
    attributes,
    date_reader,
    format_declared,
    is_feed_extension,
    no_attributes,
    read_author_text,
    read_category,
    read_id,
    read_link,
    repaired,
    text,
    with_href,
)

ROOT = "rss"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
RDF_ROOT = f"{_RDF}RDF"
_RSS1 = "{" + RSS1_NAMESPACE + "}"
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
_TEXTINPUT_CHILDREN = frozenset({"title", "description", "name", "link"})
_RDF_ABOUT = frozenset({f"{_RDF}about"})
_ITEM_ONCE = ("title", "link", "description", "guid", "pubDate")
"""Item elements that may appear once: feedparser would keep one of several."""


def read(root: Any, url: str, language: str | None) -> Any:
    """feedparser's result for an RSS 2.x document whose root element is ``root``."""
    version = root.get("version", "")
    if not version.startswith("2.") or not ROOT_SCOPE.issuperset(set(root.attrib) - {"version"}):
        raise Declined  # a bare "lang" attribute, for one, would be every text's language
    if any(uri.lower() == RSS1_NAMESPACE for uri in root.nsmap.values()):
        raise Declined  # feedparser would call the document RSS 1.0 (see format_declared)
    children = list(root)
    if len(children) != 1 or children[0].tag != "channel" or children[0].attrib:
        raise Declined
    reading = _RssReading(root, url, language)
    for child in children[0]:
        reading.channel_child(child)
    return reading.result("rss20")


def read_rdf(root: Any, url: str, language: str | None) -> Any:
    """feedparser's result for an RSS 1.0 document: a channel, and items beside it."""
    if root.nsmap.get(None) != RSS1_NAMESPACE or not ROOT_SCOPE.issuperset(root.attrib):
        raise Declined  # feedparser knows RSS 1.0 by its default namespace
    if format_declared(root) != RSS1_NAMESPACE:
        raise Declined  # Atom's namespace declared first makes the document Atom to feedparser
    reading = _RdfReading(root, url, language)
    channels = 0
    for child in root:
        tag = child.tag
        if tag == f"{_RSS1}item":
            reading.entry(child)
        elif tag == f"{_RSS1}channel" and _RDF_ABOUT.issuperset(child.attrib):
            if reading.entries or channels:
                raise Declined  # feedparser skips a title as deep as one read before it
            channels += 1
            for part in child:
                reading.channel_child(part)
        elif tag in (f"{_RSS1}image", f"{_RSS1}textinput") and channels:
            _check_leaves(child, _IMAGE_CHILDREN | _TEXTINPUT_CHILDREN, _RSS1)
        else:
            raise Declined
    if channels != 1:
        raise Declined
    return reading.result("rss10")


def _check_leaves(element: Any, names: frozenset[str], namespace: str) -> None:
    """An image or text input: children of these names only, each a leaf; feedparser files
    them under the image's or text input's own name."""
    if any(not c.tag.startswith(namespace) or c.tag[len(namespace):] not in names or len(c)
           for c in element):
        raise Declined


def _title_and_detail(reading: Reading, element: Any) -> tuple[str, Any]:
    """A nominally plain text: HTML when it looks like HTML, as feedparser guesses for RSS."""
    no_attributes(element)
    output = text(element)
    content_type = "text/html" if _looks_like_html(output) else "text/plain"
    value = repaired(output)
    return value, reading.detail(content_type, value)


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


def _entry_readers(namespace: str) -> dict[str, EntryReader]:
    """The readers of an item's elements, RSS's own names in ``namespace``."""
    own = {
        "title": _read_title,
        "link": _read_link,
        "guid": read_id,
        "description": _read_description,
        "pubDate": date_reader("published"),
        "author": read_author_text,
        "category": read_category,
        "enclosure": _read_enclosure,
    }
    return {**{namespace + name: reader for name, reader in own.items()},
            f"{CONTENT}encoded": _read_content, f"{ATOM}link": read_link,
            **EXTENSION_READERS}


class _RssReading(Reading):
    namespace = ""
    """The namespace of RSS's own elements: none in RSS 2.0."""
    entry_once: ClassVar[frozenset[str]] = frozenset(_ITEM_ONCE) | EXTENSION_ONCE
    entry_readers: ClassVar[Mapping[str, EntryReader]] = _entry_readers("")

    def __init__(self, root: Any, url: str, language: str | None) -> None:
        super().__init__(root, url, language)
        self._seen: set[str] = set()

    def _own_name(self, tag: str) -> str | None:
        """The name of one of RSS's own elements (``"title"``); None for other namespaces."""
        if self.namespace:
            return tag[len(self.namespace):] if tag.startswith(self.namespace) else None
        return None if tag.startswith("{") else tag

    def channel_child(self, child: Any) -> None:
        tag = child.tag
        name = self._own_name(tag)
        if name == "item" and not self.namespace:
            self.entry(child)
            return
        if tag == f"{DC}language":
            name = "language"  # feedparser reads it as <language>
        key = name or tag
        if key in _CHANNEL_ONCE:
            if key in self._seen:
                raise Declined
            self._seen.add(key)
        if name == "title":
            self.feed["title"], self.feed["title_detail"] = _title_and_detail(self, child)
        elif name == "link":
            no_attributes(child)
            link = repaired(text(child, link_base=self.base))
            self.feed["link"] = _UNHANDLED_REFERENCE.sub(r"&\g<1>", link)
        elif name in ("language", "ttl"):
            no_attributes(child)
            self.feed[name] = repaired(text(child))
        elif tag in (f"{_SY}updatePeriod", f"{_SY}updateFrequency"):
            no_attributes(child)
            self.feed["sy_" + tag.removeprefix(_SY).lower()] = repaired(text(child))
        elif name == "image":
            _check_leaves(child, _IMAGE_CHILDREN, self.namespace)
        elif name in ("items", "textinput") and self.namespace:
            _check_rdf_list(child)
        elif tag == f"{ATOM}link":
            read_link(self, self.feed, child)
        elif tag == f"{ATOM}id":
            read_id(self, self.feed, child)  # feedparser makes it the channel's link, if none
        elif (key not in _CHANNEL_IGNORED or len(child)) and not is_feed_extension(self, child):
            raise Declined


class _RdfReading(_RssReading):
    namespace = _RSS1
    entry_once: ClassVar[frozenset[str]] = frozenset(
        _RSS1 + name for name in _ITEM_ONCE) | EXTENSION_ONCE
    entry_readers: ClassVar[Mapping[str, EntryReader]] = _entry_readers(_RSS1)
    root_language_is_the_feeds = False  # feedparser looks for "rdf:RDF", and sees "rdf:rdf"

    def entry_start(self, element: Any) -> dict[str, Any]:
        """An RSS 1.0 item's rdf:about, which feedparser takes as its id as it stands."""
        if not _RDF_ABOUT.issuperset(element.attrib):
            raise Declined
        about = element.get(f"{_RDF}about")
        return {} if about is None else {"id": about}


def _check_rdf_list(element: Any) -> None:
    """A channel's items (an rdf:Seq of rdf:li) or its text input reference: nothing feedparser
    keeps where anything reads it."""
    for part in element.iter():
        if part is not element and not part.tag.startswith(_RDF):
            raise Declined
