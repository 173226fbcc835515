"""Response bytes to feedparser's result, and feedparser's complaints to short messages.

Two choices here change what feedparser returns:

* Headers. feedparser applies RFC 3023, under which a body without a Content-Type is
  ISO-8859-1 and a ``text/xml`` body without a charset is US-ASCII. Servers do not follow it,
  so feedwatch applies RFC 7303 instead: the server's charset if it sent one, else the
  document's BOM or XML declaration, else UTF-8. The media type itself is not passed on: a
  feed served as ``text/html`` is still read as a feed (the body decides, see
  :func:`worker.parse.parse_feed`).
* Declared versus actual bytes. A feed that declares ISO-8859-1 or windows-1252 (in the header
  or in its XML declaration) often holds UTF-8 in places: items pasted from a UTF-8 system
  into a Latin-1 template. Real Latin-1 text practically never forms valid UTF-8 sequences,
  while reading UTF-8 as Latin-1 gives mojibake ("BrÃ¸ndby" for "Brøndby"), so such a
  document is read as UTF-8 wherever it is valid UTF-8 and in its declared charset elsewhere
  (ISO-8859-1 as windows-1252, as browsers do), and handed to feedparser as UTF-8.
* ``sanitize_html=False, resolve_relative_uris=False``. The normalizer turns all HTML into
  plain text itself (:mod:`worker.normalize.html`), so feedparser's sanitizer and its rewriting
  of links inside HTML are wasted work: on the 40 largest corpus feeds (16 MB) they took
  10.8 s against 5.3 s without. Entry and enclosure links are still resolved against the
  feed's URL either way.

feedparser resolves an entry's ``id`` against the document's URL as if it were a link, so that
Reddit's ``t3_157kyrd`` becomes ``https://www.reddit.com/t3_157kyrd``; a guid is an identifier,
to be kept as the feed gave it, so ``id`` is taken off feedparser's list of relative URIs.

Two additions to feedparser's Media RSS handling (:func:`_patch_media_rss`):

* feedparser flattens ``media:group`` into the entry's ``media_content`` list, losing which
  items are renditions of one medium (CNN lists ten sizes of one picture). Each
  ``media:content`` inside a group is tagged with the group's number (``"group"``), so that
  :mod:`worker.normalize.media` can keep one rendition per group.
* feedparser reads ``media:description`` as a second description of the item, so that NYT's
  image captions end up in ``content`` looking like the story's text. It is kept apart, as
  ``media_description``, and :mod:`worker.normalize.body` decides what it is.

Two changes to feedparser's speed that leave its results as they were (:func:`_speed_up`):

* feedparser asks ``xml.sax`` for libxml2's driver first, which is not installed: each parse
  searched ``sys.path`` for it in vain before settling on expat. feedwatch asks for expat.
* On every element's start tag feedparser resolves the element's ``xml:base`` against the one
  around it with ``urljoin``, usually the same two strings element after element. That
  function's answer depends on its two strings only (and on feedparser's list of acceptable
  URI schemes, which feedwatch leaves alone), so it is memoized, for strings of ordinary
  length: a feed's own long ``xml:base`` would otherwise stay in memory. What they save:
  ``bench/RESULTS.md``, fifth round.
"""

from __future__ import annotations

import codecs
import functools
import io
import re
import xml.sax
from collections.abc import Mapping
from typing import Any

import feedparser
import feedparser.api
import feedparser.mixin
import feedparser.urls
from feedparser.namespaces import mediarss

from worker.exceptions import ParseError
from worker.parse.sniff import body_kind

WESTERN_SINGLE_BYTE = {
    **dict.fromkeys(("iso-8859-1", "iso8859-1", "latin-1", "latin1"), "windows-1252"),
    **dict.fromkeys(("windows-1252", "cp1252"), "windows-1252"),
    **dict.fromkeys(("iso-8859-15", "iso8859-15"), "iso-8859-15"),
}
"""Declared charsets whose documents may hold UTF-8 in places, and the codec of the rest."""
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")
_XML_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")

HARMLESS_BOZO = (feedparser.NonXMLContentType,)
"""feedparser complaints about the HTTP headers, not the document."""

FATAL_BOZO = (
    xml.sax.SAXException,
    feedparser.CharacterEncodingUnknown,
    feedparser.UndeclaredNamespace,
)
"""Complaints that make a document without entries unreadable rather than empty."""


MEDIA_GROUP_KEY = "group"
"""The key :func:`_patch_media_rss` adds to a ``media_content`` item inside a group."""


def _patch_media_rss() -> None:
    """Teach feedparser's Media RSS handler media:group and media:description (see the module
    docstring)."""
    namespace: Any = mediarss.Namespace
    original_start_content = namespace._start_media_content

    def start_group(parser: Any, attrs: dict[str, str]) -> None:
        parser.feedwatch_media_group = getattr(parser, "feedwatch_groups_seen", 0) + 1
        parser.feedwatch_groups_seen = parser.feedwatch_media_group

    def end_group(parser: Any) -> None:
        parser.feedwatch_media_group = None

    def start_content(parser: Any, attrs: dict[str, str]) -> None:
        group = getattr(parser, "feedwatch_media_group", None)
        if group is not None:
            attrs[MEDIA_GROUP_KEY] = str(group)
        original_start_content(parser, attrs)

    def start_description(parser: Any, attrs: dict[str, str]) -> None:
        parser.push("media_description", 1)

    def end_description(parser: Any) -> None:
        text = parser.pop("media_description")
        context = parser._get_context()
        if isinstance(text, str) and text.strip() and "media_description" not in context:
            context["media_description"] = text

    namespace._start_media_group = start_group
    namespace._end_media_group = end_group
    namespace._start_media_content = start_content
    namespace._start_media_description = start_description
    namespace._end_media_description = end_description


BASE_RESOLUTIONS_KEPT = 4096
"""Distinct (base, xml:base) pairs whose resolution is remembered: a few per feed."""
BASE_LENGTH_KEPT = 2048
"""Longest pair of strings (characters together) whose resolution is remembered."""


_remembered_base = functools.lru_cache(maxsize=BASE_RESOLUTIONS_KEPT)(
    feedparser.urls.make_safe_absolute_uri)


def _resolve_base(base: str, rel: str | None = None) -> Any:
    """feedparser's resolution of an xml:base, remembered for strings of ordinary length."""
    if len(base) + len(rel or "") > BASE_LENGTH_KEPT:
        return feedparser.urls.make_safe_absolute_uri(base, rel)
    return _remembered_base(base, rel)


def _speed_up() -> None:
    """Make feedparser cheaper without changing what it returns (see the module docstring)."""
    feedparser.api.PREFERRED_XML_PARSERS = ["xml.sax.expatreader"]
    feedparser.mixin.make_safe_absolute_uri = _resolve_base


_patch_media_rss()
_speed_up()
feedparser.mixin._FeedParserMixin.can_be_relative_uri.discard("id")


def run_feedparser(content: bytes, url: str, headers: Mapping[str, str] | None) -> Any:
    """feedparser's result for ``content`` as fetched from ``url`` with ``headers``."""
    content = surrogate_refs_repaired(without_leading_whitespace(content))
    in_document = xml_encoding(content)
    if in_document and not_a_charset(in_document):
        content, in_document = _DECLARED_ENCODING.sub(rb"\1", content, count=1), None
    served = header_charset(headers)
    repaired = western_as_utf8(content, served or in_document)
    charset = served if repaired is None else "utf-8"
    try:
        return feedparser.parse(
            # Never the bytes themselves: feedparser would take them for a URL or a file name.
            io.BytesIO(content if repaired is None else repaired),
            response_headers=feedparser_headers(url, headers, charset),
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except ValueError as exc:
        # Raised past feedparser's own handling by documents broken in ways it does not
        # expect: an encoding name in the XML declaration whose bytes are no UTF-8
        # (UnicodeDecodeError), a namespace URI holding a no-break space (xml.sax splits names
        # on any whitespace).
        raise ParseError(f"unreadable document: {type(exc).__name__}: {exc}") from exc


_NOT_CHARSETS = frozenset({
    "undefined", "punycode", "idna", "unicode-escape", "raw-unicode-escape", "palmos"})
"""Python codecs that no document is written in: "undefined" raises on any byte, the escape
codecs rewrite backslashes in the text, the others encode host names or one old platform's
text. feedparser would decode with them as named (and fail past its error handling): the
header's is dropped, and the declaration's taken out of the document, which is then read as
if it had declared none."""


_DECLARED_ENCODING = re.compile(
    rb"^((?:\xef\xbb\xbf)?<\?xml[^>]*?)\s+encoding\s*=\s*[\"'][^\"']*[\"']")
"""The encoding pseudo-attribute of a document's XML declaration, the rest kept in group 1."""


def not_a_charset(name: str) -> bool:
    """Whether a declared charset names a Python codec that is no character set (see
    :data:`_NOT_CHARSETS`; bytes-to-bytes codecs such as base64 too). An unknown name is not
    one of them: feedparser reads such a document with its fallbacks."""
    try:
        codec = codecs.lookup(name)
    except LookupError:
        return False
    return not codec._is_text_encoding or codec.name in _NOT_CHARSETS


def header_charset(headers: Mapping[str, str] | None) -> str | None:
    """The charset of the Content-Type header, unless it names no character set."""
    given = {k.lower(): v for k, v in (headers or {}).items()}
    charset = charset_of(given.get("content-type", ""))
    return None if charset is None or not_a_charset(charset) else charset


def feedparser_headers(
    url: str, headers: Mapping[str, str] | None, charset: str | None = None,
) -> dict[str, str]:
    """The response headers as feedparser should see them (see the module docstring)."""
    given = {k.lower(): v for k, v in (headers or {}).items()}
    charset = charset or header_charset(headers)
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


def without_leading_whitespace(content: bytes) -> bytes:
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


def western_as_utf8(content: bytes, declared: str | None) -> bytes | None:
    """``content`` re-encoded as UTF-8 when it declares a Western single-byte charset but holds
    UTF-8 sequences (see the module docstring); None when it does not need it."""
    codec = WESTERN_SINGLE_BYTE.get((declared or "").lower())
    if codec is None or content.isascii():
        return None
    text = content.decode("utf-8", "surrogateescape")
    if not _ESCAPED_BYTES.search(text):
        return text.encode("utf-8")  # all valid UTF-8
    if len(text) == len(content):
        return None  # no UTF-8 sequence at all: a true single-byte document
    legacy = _ESCAPED_BYTES.sub(
        lambda run: run[0].encode("utf-8", "surrogateescape").decode(codec, "replace"), text)
    return legacy.encode("utf-8")


_SURROGATE_NUMBER = (rb"[xX]0*[dD][89a-fA-F][0-9a-fA-F]{2}|0*(?:5529[6-9]|553[0-9]{2}|"
                     rb"55[4-9][0-9]{2}|56[0-9]{3}|57[0-2][0-9]{2}|573[0-3][0-9]|5734[0-3])")
"""U+D800 to U+DFFF, in hexadecimal or in decimal (55296 to 57343)."""
_SURROGATE_RUN = re.compile(rb"(?:&#(?:" + _SURROGATE_NUMBER + rb");)+")
_REFERENCE = re.compile(rb"&#([xX]?)([0-9a-fA-F]+);")


def surrogate_refs_repaired(content: bytes) -> bytes:
    """``content`` with character references to UTF-16 surrogates (``&#55357;&#56832;``, an
    emoji written by code that counts UTF-16 units, as some publishing systems do) turned into
    the character the pair stands for, and a half alone into U+FFFD. Neither is an XML
    character: expat refuses the document, and feedparser's fallback parser crashed on them,
    so the whole feed was refused for one emoji."""
    if b"&#" not in content:
        return content
    return _SURROGATE_RUN.sub(_repaired_run, content)


def _repaired_run(run: re.Match[bytes]) -> bytes:
    units = "".join(chr(int(number, 16 if hexadecimal else 10))
                    for hexadecimal, number in _REFERENCE.findall(run[0]))
    text = units.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return "".join(f"&#{ord(character)};" for character in text).encode("ascii")


def xml_encoding(content: bytes) -> str | None:
    match = _XML_ENCODING.match(_head(content))
    return match[1].decode("ascii") if match else None


def charset_of(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip(" \"'"):
            return value.strip(" \"'")
    return None
