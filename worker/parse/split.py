"""Cutting a feed document into its items, so that only changed items are parsed again.

A feed that changed since the last poll usually differs by an item or two, yet reading costs
time per item, so a 30-item feed with one new story would be read whole for one item. An
item whose bytes are the same as in a document already published gives the same story, so
:mod:`worker.poll` drops such items from the document (by their byte ranges, found here) and
gives feedparser the channel and the other items only. The bytes left are the document's own,
so the items read are read exactly as before.

Only documents that are cut safely are cut: well-formed XML, valid UTF-8 (so any part cut at
tag boundaries decodes as the whole does), with items where their format puts them (``item``
in an RSS ``channel``, RDF ``item`` and Atom ``entry`` under the root) and nowhere else. Any
other document gives None and is read whole.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from xml.parsers import expat

RSS1 = "http://purl.org/rss/1.0/"
RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
ATOM10 = "http://www.w3.org/2005/Atom"
ATOM03 = "http://purl.org/atom/ns#"

_ITEM_PATHS = {
    # root element → the path of the elements that are items, root first
    "rss": ("rss", "channel", "item"),
    f"{RDF} RDF": (f"{RDF} RDF", f"{RSS1} item"),
    f"{ATOM10} feed": (f"{ATOM10} feed", f"{ATOM10} entry"),
    f"{ATOM03} feed": (f"{ATOM03} feed", f"{ATOM03} entry"),
}
_RSS090_PATH = (f"{RDF} RDF", f"{RSS090} item")
_ITEM_NAMES = ("item", "entry")
DIGEST_BYTES = 8
"""Size of an item's digest (:meth:`Split.digests`)."""
_END_TAG = re.compile(rb"</(?:[^\s>:]+:)?([^\s>:]+)\s*>")


@dataclass(frozen=True)
class Split:
    """A feed document and the byte ranges of its items, in document order."""

    content: bytes
    spans: tuple[tuple[int, int], ...]

    def digests(self) -> list[bytes]:
        """Each item's identity: an 8-byte digest of its bytes."""
        return [hashlib.blake2b(self.content[start:end], digest_size=DIGEST_BYTES).digest()
                for start, end in self.spans]

    def without(self, dropped: set[int]) -> bytes:
        """The document without the items at these indexes (of :attr:`spans`)."""
        parts, at = [], 0
        for index, (start, end) in enumerate(self.spans):
            if index in dropped:
                parts.append(self.content[at:start])
                at = end
        parts.append(self.content[at:])
        return b"".join(parts)


def split_items(content: bytes) -> Split | None:
    """The items of a feed document that can be cut safely, else None (see the module)."""
    if not content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return None  # UTF-16, or not XML at all
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    finder = _ItemFinder(content)
    try:
        finder.parser.Parse(content, True)
    except (expat.ExpatError, LookupError, ValueError):  # LookupError: an unknown encoding
        return None
    if finder.irregular or finder.item_path is None:
        return None
    return Split(content, tuple(finder.spans))


class _ItemFinder:
    """Walks the document with expat and notes where each item starts and ends.

    Most elements lie inside items, and expat calling Python for each of them costs more than
    its own parsing. Inside an item only end tags are reported (:meth:`_end_inside`): the first
    with the item's name closes it. A nested item closes it early, and its enclosing item's
    end tag then arrives where the path expects another element: the document is irregular."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.path: list[str] = []
        self.item_path: tuple[str, ...] | None = None
        self.spans: list[tuple[int, int]] = []
        self.irregular = False
        self._item_start = 0

    def _doctype(self, *_declaration: object) -> None:
        self.irregular = True  # entities of its own: read whole, by the guarded parser

    def _start(self, name: str, _attributes: dict[str, str]) -> None:
        path = self.path
        path.append(name)
        if len(path) == 1:
            self.item_path = _ITEM_PATHS.get(name)
        elif len(path) == 2 and self.item_path is not None and path[0] == f"{RDF} RDF" \
                and name == _RSS090_PATH[1]:
            self.item_path = _RSS090_PATH
        if tuple(path) == self.item_path:
            self._item_start = self.parser.CurrentByteIndex
            self.parser.StartElementHandler = None
            self.parser.EndElementHandler = self._end_inside
        elif _is_item(name):
            self.irregular = True  # an item where feedparser may still find one

    def _end(self, name: str) -> None:
        if not self.path or self.path.pop() != name:
            self.irregular = True  # the end of an item nested in the one taken as closed

    def _end_inside(self, name: str) -> None:
        if name != self.path[-1]:
            if _is_item(name):
                self.irregular = True  # an item of another format inside the item
            return
        end_tag = _END_TAG.match(self.content, self.parser.CurrentByteIndex)
        if end_tag is None or end_tag.group(1) != name.rpartition(" ")[2].encode():
            self.irregular = True  # <item/>: expat points past it, not at an end tag
        else:
            self.spans.append((self._item_start, end_tag.end()))
        self.path.pop()
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end


def _is_item(name: str) -> bool:
    """Whether an element's local name is that of an item in some format."""
    return name.rpartition(" ")[2] in _ITEM_NAMES
