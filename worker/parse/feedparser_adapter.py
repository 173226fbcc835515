"""Response bytes to feedparser's result, and feedparser's complaints to short messages.

Two choices here change what feedparser returns:

* Headers. feedparser applies RFC 3023, under which a body without a Content-Type is
  ISO-8859-1 and a ``text/xml`` body without a charset is US-ASCII. Servers do not follow it,
  so feedwatch applies RFC 7303 instead: the server's charset if it sent one, else the
  document's BOM or XML declaration, else UTF-8. The media type itself is not passed on: a
  feed served as ``text/html`` is still read as a feed (the body decides, see
  :func:`worker.parse.parse_feed`).
* ``sanitize_html=False, resolve_relative_uris=False``. The normalizer turns all HTML into
  plain text itself (:mod:`worker.normalize.html`), so feedparser's sanitizer and its rewriting
  of links inside HTML are wasted work: on the 40 largest corpus feeds (16 MB) they took
  10.8 s against 5.3 s without. Entry and enclosure links are still resolved against the
  feed's URL either way.
"""

from __future__ import annotations

import codecs
import io
import xml.sax
from collections.abc import Mapping
from typing import Any

import feedparser

from worker.parse.sniff import body_kind

HARMLESS_BOZO = (feedparser.NonXMLContentType,)
"""feedparser complaints about the HTTP headers, not the document."""

FATAL_BOZO = (
    xml.sax.SAXException,
    feedparser.CharacterEncodingUnknown,
    feedparser.UndeclaredNamespace,
)
"""Complaints that make a document without entries unreadable rather than empty."""


def run_feedparser(content: bytes, url: str, headers: Mapping[str, str] | None) -> Any:
    """feedparser's result for ``content`` as fetched from ``url`` with ``headers``."""
    return feedparser.parse(
        # Never the bytes themselves: feedparser would take them for a URL or a file name.
        io.BytesIO(_without_leading_whitespace(content)),
        response_headers=feedparser_headers(url, headers),
        sanitize_html=False,
        resolve_relative_uris=False,
    )


def feedparser_headers(url: str, headers: Mapping[str, str] | None) -> dict[str, str]:
    """The response headers as feedparser should see them (see the module docstring)."""
    given = {k.lower(): v for k, v in (headers or {}).items()}
    charset = _charset(given.get("content-type", ""))
    passed = {"content-location": url, "content-type": "application/xml"}
    if charset:
        passed["content-type"] += f"; charset={charset}"
    if given.get("content-language"):
        passed["content-language"] = given["content-language"]
    return passed


def problem_of(content: bytes, result: Any) -> str | None:
    """What is wrong with the document, in a few words; None when nothing is."""
    error = result.get("bozo_exception")
    if not result.get("bozo") or error is None or isinstance(error, HARMLESS_BOZO):
        return None
    return describe(error, content)


def describe(error: BaseException, content: bytes) -> str:
    """A feedparser bozo exception as a short message."""
    if isinstance(error, xml.sax.SAXParseException):
        line = (error.getLineNumber() or 1) - _lines_added(content)
        return f"broken XML: {error.getMessage()} at line {max(line, 1)}"
    if isinstance(error, feedparser.CharacterEncodingOverride):
        return f"encoding: {error}"
    if isinstance(error, feedparser.CharacterEncodingUnknown):
        return "encoding: could not find the character encoding of the document"
    if isinstance(error, feedparser.UndeclaredNamespace):
        return f"broken XML: {error}"
    return f"{type(error).__name__}: {error}"


def not_a_feed_reason(content: bytes, result: Any) -> str | None:
    """Why ``content`` is no feed at all, or None when it is a (possibly empty) feed.

    Only asked of bodies that yielded no entries.
    """
    error = result.get("bozo_exception")
    fatal = isinstance(error, FATAL_BOZO)
    if result.get("version") and not fatal:
        return None
    kind = body_kind(content)
    if kind is not None:
        return f"not a feed: {kind}"
    if error is not None and fatal and result.get("version"):
        return describe(error, content)
    if not _head(content).startswith(b"<"):
        return "not a feed: not an XML document"
    if error is not None and fatal:
        return describe(error, content)
    return "not a feed: no RSS, RDF or Atom root element"


def _without_leading_whitespace(content: bytes) -> bytes:
    """``content`` without the blank lines some servers send before ``<?xml``.

    feedparser only replaces an XML declaration at the very start; after blank lines it adds a
    second one, and the document fails as "XML or text declaration not at start of entity".
    """
    stripped = content.lstrip(b" \t\r\n")
    return stripped if stripped.startswith(b"<") else content


def _lines_added(content: bytes) -> int:
    """1 when feedparser put an XML declaration line of its own before the document."""
    return 0 if _head(content).startswith(b"<?xml") else 1


def _head(content: bytes) -> bytes:
    """The first bytes of ``content`` as ASCII-ish text: no BOM, no NULs of UTF-16/32."""
    head = content[:256]
    boms = (codecs.BOM_UTF32_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF8, codecs.BOM_UTF16_BE)
    for bom in (*boms, codecs.BOM_UTF16_LE):
        head = head.removeprefix(bom)
    return head.replace(b"\x00", b"").lstrip(b" \t\r\n")


def _charset(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip(" \"'"):
            return value.strip(" \"'")
    return None
