"""A fast reading of plain RSS 2.0, RSS 1.0 and Atom 1.0 documents that gives what feedparser
gives, or declines.

feedparser stays the reference parser, but it costs about a millisecond per item, most of it in
Python callbacks per element, where lxml parses the same bytes in a few hundredths of that. This
package reads, with lxml, the documents built only of elements whose meaning in feedparser
(with the options and patches of :mod:`worker.parse.feedparser_adapter`) it reproduces, and
returns a result shaped like feedparser's (``feed``, ``entries``, ``version``) that holds the
fields the normalizer reads, with the values feedparser gives them: the same stripping, link
resolution, repair of mis-decoded UTF-8 and mapping of windows-1252 codes, the same date
parser, the same quirks (an id or guid stands in for a missing link; the content stands in for
a missing summary; the header's language is every text's language).

One module per format: :mod:`.rss` and :mod:`.atom`; :mod:`.common` holds what they share,
elements of extension namespaces (Media RSS, Dublin Core ...) included. Each declines (and
feedparser reads the document) whatever lies outside what it reproduces:

* another format, a charset other than UTF-8 or a Western single-byte one (read as
  :mod:`~worker.parse.feedparser_adapter` reads it), a header charset that contradicts the
  document's, a UTF-16 or UTF-32 byte order mark, a DOCTYPE (so no entity but XML's own),
  ``xml:base`` or ``xml:lang`` below the root element, a document that is not well-formed;
* an element it does not know, or one in a namespace spelled otherwise than usual (feedparser
  matches namespaces case-blind, and reads unknown ones by their prefix);
* markup inside a text element, an attribute where it expects none, a field given twice where
  feedparser would keep one, an Atom text of a type other than text or HTML.

Whatever it reads, the two readers must give the same stories: ``tests/parse/test_plain.py`` checks
that on every feed document in ``tests/`` and on generated documents, and
``bench/plain_check.py`` on the whole shared corpus.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from feedparser.encodings import RE_XML_PI_ENCODING
from lxml import etree

from worker.parse.feedparser_adapter import (
    WESTERN_SINGLE_BYTE,
    charset_of,
    western_as_utf8,
    without_leading_whitespace,
    xml_encoding,
)
from worker.parse.plain import atom, rss
from worker.parse.plain.common import Declined, rebinds_a_standard_prefix

__all__ = ["read_plain"]

_REFUSED_BYTES = (b"<!DOCTYPE", b"<!doctype", b"<!ENTITY")
_UNICODE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_READERS = {rss.ROOT: rss.read, rss.RDF_ROOT: rss.read_rdf, atom.ROOT: atom.read}

_parsers = threading.local()


def _parser() -> etree.XMLParser:
    """One lxml parser per thread: a parser is not to be shared between threads."""
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = etree.XMLParser(
            encoding="utf-8", resolve_entities=False, no_network=True, remove_comments=True,
            remove_pis=True)  # the document's own declaration may name the charset it had
    return parser


def read_plain(content: bytes, url: str, headers: Mapping[str, str] | None) -> Any:
    """feedparser's result for ``content`` fetched from ``url`` with ``headers``, as
    :func:`~worker.parse.feedparser_adapter.run_feedparser` gives it; None when the document is
    not one this package reproduces (see its docstring)."""
    given = {k.lower(): v for k, v in (headers or {}).items()}
    utf8 = _as_utf8(without_leading_whitespace(content), charset_of(given.get("content-type", "")))
    if utf8 is None or any(mark in utf8 for mark in _REFUSED_BYTES):
        return None
    try:
        root = etree.fromstring(utf8, _parser())
    except etree.XMLSyntaxError:
        return None
    reader = _READERS.get(root.tag)
    if reader is None or rebinds_a_standard_prefix(root, utf8):
        return None
    try:
        return reader(root, url, given.get("content-language") or None)
    except Declined:
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
    if not charset and not content.isascii():
        # feedparser gets these bytes as they are, and finds their charset with its own
        # pattern, stricter than xml_encoding's: both must find the same.
        found = RE_XML_PI_ENCODING.match(content)
        if found is None or found[1].decode("ascii", "replace").lower() != declared:
            return None
    try:
        return content.decode(declared).encode("utf-8")
    except UnicodeDecodeError:
        return None
