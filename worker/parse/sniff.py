"""What a body that is not a feed looks like, judged from its first bytes."""

from __future__ import annotations

import codecs
import re

_SNIFF_BYTES = 1024
_HTML_START = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_MARKUP_PREAMBLE = re.compile(rb"(?:\s|<\?xml[^>]*\?>|<!--.*?-->)*", re.DOTALL)
_GZIP_MAGIC = b"\x1f\x8b"


def body_kind(content: bytes) -> str | None:
    """A few words on what ``content`` is when it is plainly not a feed; None otherwise."""
    head = content[:_SNIFF_BYTES].removeprefix(codecs.BOM_UTF8)
    if head.startswith(_GZIP_MAGIC):
        return "gzip-compressed body (the response was not decompressed)"
    start = _MARKUP_PREAMBLE.match(head)
    rest = head[start.end() if start else 0 :]
    if _HTML_START.match(rest):
        return "looks like an HTML page"
    return None
