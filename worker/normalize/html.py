"""Feed HTML to plain-text paragraphs.

Feed bodies are HTML fragments of every quality. Readers of the output stream get plain text
only, so everything here errs on the side of dropping: images, embeds, scripts and forms go with
their content; entities are decoded; whitespace is collapsed (but U+00A0 NO-BREAK SPACE is kept,
as it is part of the text: "10\u00a0km"). Block elements start a new paragraph; a single ``<br>``
is a space and two ``<br>`` in a row start a new paragraph.

Some feeds escape their HTML twice, so that after one round of parsing the text still reads
``&lt;p&gt;`` or ``&amp;amp;``; such text is parsed once more (see :func:`html_to_paragraphs`).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

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

_COLLAPSIBLE_SPACE = re.compile(r"[ \t\n\r\f\v\u2028\u2029]+")
# C0/C1 control characters other than the whitespace above, invisible formatting characters
# (soft hyphen, zero-width space, word joiner, BOM) and the non-characters U+FFFE and U+FFFF.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b\u2060\ufeff\ufffe\uffff]")
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
    return paragraphs


def html_to_text(markup: str) -> str:
    """The text of an HTML fragment on one line: its paragraphs joined by a space."""
    return " ".join(html_to_paragraphs(markup))


def clean_text(text: str) -> str:
    """Collapse whitespace and strip control characters of text that holds no markup."""
    return _COLLAPSIBLE_SPACE.sub(" ", _CONTROL_CHARS.sub("", text)).strip()


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


def _looks_escaped(text: str) -> bool:
    return bool(_TAG_LIKE.search(text) or _ENTITY_LIKE.search(text))


class _TextExtractor(HTMLParser):
    """Collects paragraphs of text, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._parts: list[str] = []
        self._dropped_depth = 0
        self._pending_breaks = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_TAGS:
            self._dropped_depth += 1
        elif tag == "br":
            self._pending_breaks += 1
        elif tag in BLOCK_TAGS:
            self._end_paragraph()
        elif tag in CELL_TAGS:
            self._parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_TAGS:
            return  # <iframe/>: nothing inside to drop
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_TAGS:
            self._dropped_depth = max(0, self._dropped_depth - 1)
        elif tag == "br":  # "</br>" is read as <br> by browsers too
            self._pending_breaks += 1
        elif tag in BLOCK_TAGS:
            self._end_paragraph()
        elif tag in CELL_TAGS:
            self._parts.append(" ")

    def handle_data(self, data: str) -> None:
        if self._dropped_depth or not data:
            return
        if data.strip(" \t\n\r\f\v"):
            self._apply_breaks()
        self._parts.append(data)

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
