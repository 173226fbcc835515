"""Feed HTML to plain-text paragraphs.

Feed bodies are HTML fragments of every quality. Readers of the output stream get plain text
only, so everything here errs on the side of dropping: images, embeds, scripts and forms go with
their content; entities are decoded; whitespace is collapsed (but U+00A0 NO-BREAK SPACE is kept,
as it is part of the text: "10\u00a0km"). Block elements start a new paragraph; a single ``<br>``
is a space and two ``<br>`` in a row start a new paragraph.

Some feeds escape their HTML twice, so that after one round of parsing the text still reads
``&lt;p&gt;`` or ``&amp;amp;``; such text is parsed once more (see :func:`html_to_paragraphs`).
Share widgets, "Read more" links, related-posts and newsletter boxes are recognised by their
``class`` or ``id`` (:data:`BOILERPLATE`) and dropped with their content, as are tracking pixels
(``<img>`` never gives text anyway).

Text inside ``<code>``, ``<pre>``, ``<kbd>`` and ``<samp>`` is not parsed again: there
``&lt;title&gt;`` is an example of markup the author wrote about, not markup. Unless it holds
escaped formatting tags (``&lt;div&gt;``, ``&lt;br /&gt;``...): then the feed escaped the code
block's own formatting twice, and it is parsed once more.

Some feeds carry mojibake: UTF-8 text that was once decoded as windows-1252 and encoded again
("itâ€™s", "cafÃ©"), in the feed file itself, so no choice of encoding undoes it. Text with
such sequences is repaired with ftfy's ``fix_encoding`` (only the encoding fix: curly quotes and
the like stay as the publisher wrote them).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import ftfy

BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd",
        "details", "dialog", "div", "dl", "dt", "figcaption", "figure", "footer", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre",
        "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
    }
)  # fmt: skip
"""Elements whose start or end closes the current paragraph."""

DROPPED_TAGS = frozenset(
    {
        "audio", "button", "canvas", "embed", "form", "head", "iframe", "map", "noscript",
        "object", "picture", "script", "select", "style", "svg", "template", "textarea",
        "title", "video",
    }
)  # fmt: skip
"""Elements dropped together with everything inside them."""

CELL_TAGS = frozenset({"td", "th"})

VOID_TAGS = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"})

BOILERPLATE = re.compile(
    r"(?:^|[\s_-])(?:share|sharing|sharedaddy|social|addtoany|feedflare|read[-_]?more|more-link"
    r"|jp-relatedposts|related[-_]posts|newsletter|subscribe)(?:$|[\s_-])",
    re.IGNORECASE,
)
"""``class`` or ``id`` values of elements that are page furniture, not the story."""

LITERAL_TAGS = frozenset({"code", "kbd", "pre", "samp"})
"""Elements whose text is taken literally, never parsed as HTML in a later round."""

# Stand-ins for "<" and "&" in literal text between rounds (Unicode private use characters).
_LITERAL = {"<": "\ue000", "&": "\ue001"}
_RESTORE = str.maketrans({v: k for k, v in _LITERAL.items()})
_PROTECT = str.maketrans(_LITERAL)
_PROTECTED = re.compile("[\ue000\ue001]")
_ESCAPED_FORMATTING = re.compile("\ue000/?(?:a|b|br|div|em|font|i|p|span|strong|u)\\b", re.I)

_COLLAPSIBLE_SPACE = re.compile(r"[ \t\n\r\f\v\u2028\u2029]+")
# C0/C1 control characters other than the whitespace above, invisible formatting characters
# (soft hyphen, zero-width space, word joiner, BOM) and the non-characters U+FFFE and U+FFFF.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b\u2060\ufeff\ufffe\uffff]")
# A lead byte of a UTF-8 sequence (Â..ô) then a continuation byte, both seen as windows-1252
# or Latin-1 characters: the mark of mojibake, and a cheap test before calling ftfy.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a"
    "\u20ac\u2122]"
)
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_TAG_LIKE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9:-]*(?:\s[^<>]*)?/?>|<!--|<!\[CDATA\[")
_ENTITY_LIKE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")
_MAX_ROUNDS = 3


def html_to_paragraphs(markup: str) -> list[str]:
    """Plain-text paragraphs of an HTML fragment (or of plain text, split on blank lines).

    Empty paragraphs are dropped. Text that still holds tags or entities after one round (HTML
    escaped twice by the feed) goes through up to two more rounds.
    """
    paragraphs = _one_round(markup)
    for _ in range(_MAX_ROUNDS - 1):
        if not any(_looks_escaped(p) for p in paragraphs):
            break
        paragraphs = [q for p in paragraphs for q in _one_round(p)]
    return [q for p in paragraphs for q in _restored(p)]


def html_to_text(markup: str) -> str:
    """The text of an HTML fragment on one line: its paragraphs joined by a space."""
    return " ".join(html_to_paragraphs(markup))


def clean_text(text: str) -> str:
    """Repair mojibake, collapse whitespace and strip control characters of text without markup."""
    if _MOJIBAKE.search(text):
        text = ftfy.fix_encoding(text)
    return _COLLAPSIBLE_SPACE.sub(" ", _CONTROL_CHARS.sub("", text)).strip()


def _restored(paragraph: str) -> list[str]:
    """A paragraph with its literal text restored (see the module docstring)."""
    if not _PROTECTED.search(paragraph):
        return [paragraph]
    text = paragraph.translate(_RESTORE)
    return _one_round(text) if _ESCAPED_FORMATTING.search(paragraph) else [text]


def _one_round(markup: str) -> list[str]:
    if not markup:
        return []
    if not _TAG_LIKE.search(markup):
        blocks = _BLANK_LINE.split(markup.replace("\r\n", "\n"))
        texts = (clean_text(html.unescape(block)) for block in blocks)
        return [t for t in texts if t]
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    return extractor.paragraphs


def _is_boilerplate(attrs: list[tuple[str, str | None]]) -> bool:
    return any(
        name in ("class", "id") and value and BOILERPLATE.search(value) for name, value in attrs)


def _looks_escaped(text: str) -> bool:
    return bool(_TAG_LIKE.search(text) or _ENTITY_LIKE.search(text))


class _TextExtractor(HTMLParser):
    """Collects paragraphs of text, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._parts: list[str] = []
        self._dropped_depth = 0
        self._literal_depth = 0
        self._pending_breaks = 0
        self._skipped: str | None = None
        """The tag of the boilerplate element being skipped, if any."""
        self._skipped_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipped is not None or (tag not in VOID_TAGS and _is_boilerplate(attrs)):
            self._skipped = self._skipped or tag
            self._skipped_depth += tag == self._skipped
            return
        if tag in LITERAL_TAGS:
            self._literal_depth += 1
        if tag in DROPPED_TAGS:
            self._dropped_depth += 1
        elif tag == "br":
            self._pending_breaks += 1
        elif tag in BLOCK_TAGS:
            self._end_paragraph()
        elif tag in CELL_TAGS:
            self._parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_TAGS or self._skipped is not None:
            return  # <iframe/>: nothing inside to drop
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._skipped is not None:
            self._skipped_depth -= tag == self._skipped
            if self._skipped_depth <= 0:
                self._skipped, self._skipped_depth = None, 0
            return
        if tag in LITERAL_TAGS:
            self._literal_depth = max(0, self._literal_depth - 1)
        if tag in DROPPED_TAGS:
            self._dropped_depth = max(0, self._dropped_depth - 1)
        elif tag == "br":  # "</br>" is read as <br> by browsers too
            self._pending_breaks += 1
        elif tag in BLOCK_TAGS:
            self._end_paragraph()
        elif tag in CELL_TAGS:
            self._parts.append(" ")

    def handle_data(self, data: str) -> None:
        if self._dropped_depth or self._skipped is not None or not data:
            return
        if data.strip(" \t\n\r\f\v"):
            self._apply_breaks()
        self._parts.append(data.translate(_PROTECT) if self._literal_depth else data)

    def close(self) -> None:
        super().close()
        self._end_paragraph()

    def _apply_breaks(self) -> None:
        if self._pending_breaks >= 2:
            self._end_paragraph()
        elif self._pending_breaks == 1:
            self._parts.append(" ")
        self._pending_breaks = 0

    def _end_paragraph(self) -> None:
        self._pending_breaks = 0
        text = clean_text("".join(self._parts))
        self._parts = []
        if text:
            self.paragraphs.append(text)
