"""What the RSS and Atom readers share: feedparser's treatment of texts and attributes, the
entry being read, and the elements of extension namespaces found in both formats."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from feedparser import FeedParserDict
from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin, make_safe_absolute_uri
from lxml import etree

DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
MEDIA = "{http://search.yahoo.com/mrss/}"
ATOM = "{http://www.w3.org/2005/Atom}"
FEEDBURNER = "{http://rssnamespace.org/feedburner/ext/1.0}"
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
XML = "{http://www.w3.org/XML/1998/namespace}"
ADMIN = "{http://webns.net/mvcb/}"
SLASH = "{http://purl.org/rss/1.0/modules/slash/}"
ROOT_SCOPE = frozenset({f"{XML}base", f"{XML}lang"})
"""The root's attributes that set the base and the language of every text."""

_WINDOWS_1252_CODES = re.compile("[\x80-\x9f]")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
map_content_type: Callable[[str], str] = _FeedParserMixin.map_content_type
_EMAIL = re.compile(r"(([a-zA-Z0-9_\-.+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|"
                    r"(([a-zA-Z0-9\-]+\.)+))([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?")
"""feedparser's pattern of an e-mail address in an author's text."""
_STANDARD_PREFIX = {uri.lower(): prefix.lower()
                    for uri, prefix in _FeedParserMixin.namespaces.items()}
"""feedparser's own prefix for each namespace it knows, by the namespace in lower case."""
_KNOWN_NAMESPACES = frozenset(_STANDARD_PREFIX)
_KNOWN_PREFIXES = frozenset(_STANDARD_PREFIX.values())
RSS1_NAMESPACE = "http://purl.org/rss/1.0/"
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"

EntryReader = Callable[["Reading", dict[str, Any], Any], None]


class Declined(Exception):
    """The document holds something this package does not reproduce."""


def text(element: Any, *, link_base: str | None = None) -> str:
    """An element's text as feedparser's ``pop`` has it before its last touches: stripped,
    resolved against ``link_base`` when the element holds a link."""
    if len(element):
        raise Declined  # markup, which feedparser serializes back
    output = (element.text or "").strip()
    if link_base is not None and output:
        output = _urljoin(link_base, output)
    return output


def repaired(output: str) -> str:
    """feedparser's last touches to every text it keeps: UTF-8 that was decoded as Latin-1 is
    decoded again, and windows-1252's codes 0x80-0x9F become its characters."""
    if output.isascii():
        return output
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        output = output.encode("iso-8859-1").decode("utf-8")
    return output.translate(_cp1252) if _WINDOWS_1252_CODES.search(output) else output


def attributes(element: Any, allowed: frozenset[str] | None = None) -> dict[str, str]:
    """An element's attributes as feedparser hands them on: names in lower case, and the values
    of ``rel`` and ``type`` too; only ``allowed`` names, when given."""
    found = {}
    for name, value in element.attrib.items():
        if name.startswith("{") or name.lower() in ("base", "lang"):
            raise Declined  # feedparser takes a bare "base" or "lang" as xml:base or xml:lang
        name = name.lower()
        found[name] = value.lower() if name in ("rel", "type") else value
    if allowed is not None and not allowed.issuperset(found):
        raise Declined
    return found


def format_declared(root: Any) -> str | None:
    """The first of RSS 1.0's and Atom's namespaces that the root element declares, in the
    document's order (lowercase); None when it declares neither.

    feedparser takes a document's version from that declaration, whatever the root element
    (an RSS 2.0 root then makes it RSS 2.0 again, unless it was RSS 1.0), and in Atom guesses
    nothing about a text's type: each reader declines a root whose declarations would make
    the document another format to feedparser."""
    for event, declared in etree.iterwalk(root, events=("start-ns", "start")):
        if event == "start":
            return None
        uri = str(declared[1]).lower()
        if uri in (RSS1_NAMESPACE, ATOM_NAMESPACE.lower()):
            return uri
    return None


def rebinds_a_standard_prefix(root: Any, content: bytes) -> bool:
    """Whether the document binds one of feedparser's standard prefixes to another namespace
    feedparser knows (``xmlns:content="http://www.w3.org/2005/Atom"``, anywhere): from there on
    feedparser reads the elements of the first namespace under the second's name, so that
    content:encoded is lost (a helper's mutation fuzzing found it). The declarations are the
    root's unless the bytes say "xmlns" more often than the root declares."""
    if content.count(b"xmlns") <= len(root.nsmap):
        declarations = root.nsmap.items()
    else:
        declarations = (declared for _, declared in etree.iterwalk(root, events=("start-ns",)))
    for prefix, uri in declarations:
        lowered = uri.lower()
        standard = "" if "backend.userland.com/rss" in lowered else _STANDARD_PREFIX.get(lowered)
        if prefix and standard is not None and prefix.lower() != standard and (
                prefix.lower() in _KNOWN_PREFIXES):
            return True
    return False


def no_attributes(element: Any) -> None:
    if element.attrib:
        raise Declined


def with_href(found: dict[str, str]) -> dict[str, str]:
    """feedparser's ``url``/``uri`` to ``href`` renaming."""
    href = found.get("url", found.get("uri", found.get("href")))
    if href:
        found.pop("url", None)
        found.pop("uri", None)
        found["href"] = href
    return found


class Reading:
    """The feed and the entries read so far, and what feedparser gives every text: the base of
    links (the document's URL, or the root's xml:base) and the language (the root's xml:lang,
    else the Content-Language header's; a channel's ``<language>`` is the channel's only, as
    feedparser gives each element the language of its parent back at its end tag). Either
    attribute anywhere but on the root is declined by :func:`attributes` and
    :func:`no_attributes`; on an element whose texts are not read it changes nothing.

    The feed and the entries are built as plain dicts, wrapped in FeedParserDict at the end:
    FeedParserDict's item methods are Python code, and cost more than all the rest.
    """

    entry_once: ClassVar[frozenset[str]] = frozenset()
    """Entry elements that may appear once: feedparser would keep one of several."""
    entry_readers: ClassVar[Mapping[str, EntryReader]] = {}
    root_language_is_the_feeds: ClassVar[bool] = True
    """Whether the root's xml:lang is also the feed's language, not only its texts'."""

    def __init__(self, root: Any, url: str, language: str | None) -> None:
        self._root = root
        self._prefixes_of_known: frozenset[str] | None = None
        self.base = make_safe_absolute_uri(url, url) or url
        if root.get(f"{XML}base"):
            self.base = make_safe_absolute_uri(self.base, root.get(f"{XML}base")) or self.base
        self.language = language.replace("_", "-") if language else None
        self.feed: dict[str, Any] = {}
        if self.language:
            self.feed["language"] = self.language
        root_language = root.get(f"{XML}lang")
        if root_language is not None:
            self.language = root_language.replace("_", "-") or None
        if self.language and root_language and self.root_language_is_the_feeds:
            self.feed["language"] = self.language
        self.entries: list[dict[str, Any]] = []

    def is_foreign(self, element: Any) -> bool:
        """Whether ``element`` is of a namespace feedparser does not know, without children:
        feedparser keeps it under its prefixed name ("site_post-id"), which nothing reads.
        Unless its prefix is one feedparser gives a namespace of its own, or one the document
        binds to such a namespace anywhere, in any case: feedparser would then read it as that
        namespace's (a "MEDIA:content" of another namespace is still a medium to it)."""
        tag = element.tag
        if not tag.startswith("{") or len(element):
            return False
        uri = tag[1:tag.index("}")].lower()
        if uri in _KNOWN_NAMESPACES or "backend.userland.com/rss" in uri:
            return False
        prefix = (element.prefix or "").lower()
        if not prefix or prefix in _KNOWN_PREFIXES:
            return False
        if self._prefixes_of_known is None:
            self._prefixes_of_known = frozenset(
                declared.lower() for _, (declared, uri) in etree.iterwalk(
                    self._root, events=("start-ns",)) if uri.lower() in _KNOWN_NAMESPACES)
        return prefix not in self._prefixes_of_known

    def detail(self, content_type: str, value: str) -> Any:
        return FeedParserDict(type=content_type, language=self.language, base=self.base,
                              value=value)

    def entry_start(self, element: Any) -> dict[str, Any]:
        """What an item's or entry's own attributes give: nothing, where none is allowed."""
        no_attributes(element)
        return {}

    def entry(self, element: Any) -> None:
        """Read one item or entry: every child must be one of ``entry_readers``."""
        entry = self.entry_start(element)
        seen: set[str] = set()
        for child in element:
            tag = child.tag
            if tag in self.entry_once:
                if tag in seen:
                    raise Declined
                seen.add(tag)
            reader = self.entry_readers.get(tag)
            if reader is not None:
                reader(self, entry, child)
            elif not self.is_foreign(child):
                raise Declined
        self.entries.append(entry)

    def result(self, version: str) -> Any:
        return FeedParserDict(feed=FeedParserDict(self.feed), version=version, bozo=False,
                              entries=[FeedParserDict(entry) for entry in self.entries],
                              encoding="utf-8")


_FEED_EXTENSIONS = {
    **{f"{ITUNES}{name}": frozenset() for name in (
        "author", "subtitle", "summary", "explicit", "keywords", "type", "block", "image",
        "complete", "new-feed-url")},
    f"{ITUNES}owner": frozenset({f"{ITUNES}name", f"{ITUNES}email"}),
    f"{ITUNES}category": frozenset({f"{ITUNES}category"}),
    **{f"{DC}{name}": frozenset() for name in (
        "creator", "date", "rights", "publisher", "subject")},
    **{f"{ADMIN}{name}": frozenset() for name in ("generatorAgent", "errorReportsTo")},
}
"""Elements of known namespaces that feedparser keeps in a channel (or an Atom feed) under names
nothing reads, with the children they may have."""


def is_feed_extension(reading: Reading, element: Any) -> bool:
    """Whether a channel's (or Atom feed's) child is an extension feedparser files away: one of
    :data:`_FEED_EXTENSIONS`, a FeedBurner element, or a foreign one."""
    tag = element.tag
    if tag.startswith(FEEDBURNER):
        return not len(element)
    children = _FEED_EXTENSIONS.get(tag)
    if children is None:
        return reading.is_foreign(element)
    return all(child.tag in children and not len(child) for child in element)


def read_id(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    """An RSS guid or an Atom id: the entry's id, and its link while it has none, unless the
    guid says it is no permalink."""
    found = attributes(element, frozenset({"ispermalink"}))
    is_link = found.get("ispermalink", "true") == "true"
    entry["id"] = value = repaired(text(element))
    entry.setdefault("guidislink", is_link and "link" not in entry)
    if is_link:
        entry.setdefault("link", value)


def date_reader(key: str) -> EntryReader:
    """A reader of a date element into ``key`` and ``key_parsed``, by feedparser's date parser."""
    def read(reading: Reading, entry: dict[str, Any], element: Any) -> None:
        no_attributes(element)
        entry[key] = value = repaired(text(element))
        entry[f"{key}_parsed"] = _parse_date(value)
    return read


def read_link(reading: Reading, context: dict[str, Any], element: Any) -> None:
    """An Atom link (also atom:link in RSS): filed among the links; the item's (or feed's) link
    when it is an alternate HTML page, the last such winning over any before, <link> included;
    a medium when its relation is "enclosure"."""
    if len(element):
        raise Declined
    found = attributes(element)
    found.setdefault("rel", "alternate")
    found.setdefault("type", "application/atom+xml" if found["rel"] == "self" else "text/html")
    found = with_href(found)
    if "href" not in found:
        raise Declined  # feedparser would read the link from the element's text
    found["href"] = _urljoin(reading.base, found["href"])
    context.setdefault("links", []).append(FeedParserDict(found))
    if found["rel"] == "alternate" and map_content_type(found["type"]) in _HTML_TYPES:
        context["link"] = found["href"]


def read_author_text(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    """An author given as text (RSS author, dc:creator, an Atom author without parts)."""
    no_attributes(element)
    start_author(entry)
    end_author(entry, repaired(text(element)))


# feedparser's bookkeeping of authors, step by step: "author_detail" may be the same dict as
# one of "authors", so that a later author's parts change an earlier one (hypothesis found it).

def start_author(context: dict[str, Any]) -> None:
    context.setdefault("authors", []).append(FeedParserDict())


def save_author_part(context: dict[str, Any], key: str, value: str) -> None:
    """An Atom person's name, email or uri (as "href")."""
    context.setdefault("author_detail", FeedParserDict())[key] = value
    _sync_author(context)
    context.setdefault("authors", [FeedParserDict()])[-1][key] = value


def end_author(context: dict[str, Any], own_text: str) -> None:
    context["author"] = own_text
    _sync_author(context)


def _sync_author(context: dict[str, Any]) -> None:
    detail = context.get("authors", [FeedParserDict()])[-1]
    if detail:
        name, email = detail.get("name"), detail.get("email")
        if name and email:
            context["author"] = f"{name} ({email})"
        elif name or email:
            context["author"] = name or email
        return
    author, email = context.get("author"), None
    if not author:
        return
    match = _EMAIL.search(author)
    if match:  # "jo@news.example (Jo Lee)": feedparser's own way of taking it apart
        email = match[0]
        for wrapper in (email, "()", "<>", "&lt;&gt;"):
            author = author.replace(wrapper, "")
        author = author.strip().removeprefix("(").removesuffix(")").strip()
    if author or email:
        context.setdefault("author_detail", detail)
    if author:
        detail["name"] = author
    if email:
        detail["email"] = email


def read_category(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    found = attributes(element, frozenset({"term", "scheme", "domain", "label"}))
    tags = entry.setdefault("tags", [])
    _add_tag(tags, found.get("term"), found.get("scheme", found.get("domain")), found.get("label"))
    value = repaired(text(element))
    if value and tags and not tags[-1]["term"]:
        tags[-1]["term"] = value
    elif value:
        _add_tag(tags, value, None, None)


def _add_tag(tags: list[Any], term: str | None, scheme: str | None, label: str | None) -> None:
    if not (term or scheme or label):
        return
    tag = FeedParserDict(term=term, scheme=scheme, label=label)
    if tag not in tags:
        tags.append(tag)


def read_media_content(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    if len(element):
        raise Declined  # media:title, media:credit ... inside: not reproduced
    entry.setdefault("media_content", []).append(attributes(element))


def read_media_thumbnail(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    found = attributes(element)
    entry.setdefault("media_thumbnail", []).append(found)
    url = repaired(text(element, link_base=reading.base))
    entry["href"] = url  # feedparser stores the text as "url", which it maps to "href"
    if url and "url" not in found:
        found["url"] = url


def read_media_credit(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    found = attributes(element)
    entry.setdefault("media_credit", []).append(found)
    entry["credit"] = credit = repaired(text(element))
    if credit:
        found["content"] = credit


def read_media_description(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    """Its attributes (type="plain" ...) are let be: feedparser_adapter's handler ignores them."""
    entry["media_description"] = repaired(text(element))


PLAIN_TEXT = {
    "{http://wellformedweb.org/CommentAPI/}commentRss": ("wfw_commentrss", True),
    **{f"{SLASH}{name}": (f"slash_{name.lower()}", False) for name in (
        "comments", "department", "section", "hit_parade")},
    f"{FEEDBURNER}origLink": ("feedburner_origlink", False),
    f"{ITUNES}duration": ("itunes_duration", False),
    "comments": ("comments", True),
}
"""Elements feedparser keeps as text under a name of their own: (name, holds a link)."""


def read_plain_text(reading: Reading, entry: dict[str, Any], element: Any) -> None:
    no_attributes(element)
    name, is_link = PLAIN_TEXT[element.tag]
    entry[name] = repaired(text(element, link_base=reading.base if is_link else None))


EXTENSION_ONCE = frozenset({f"{DC}date", f"{MEDIA}description", *PLAIN_TEXT})
EXTENSION_READERS: Mapping[str, EntryReader] = {
    f"{DC}creator": read_author_text,
    f"{DC}date": date_reader("updated"),
    f"{DC}subject": read_category,
    f"{MEDIA}content": read_media_content,
    f"{MEDIA}thumbnail": read_media_thumbnail,
    f"{MEDIA}credit": read_media_credit,
    f"{MEDIA}description": read_media_description,
    **dict.fromkeys(PLAIN_TEXT, read_plain_text),
}
"""Entry elements of extension namespaces, read alike in RSS and Atom."""
