"""Cutting a feed document into items: only where reading the cut document gives the stories
that reading it whole gives (see worker/parse/split.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from feedserver import item, rss
from hypothesis import given, settings
from hypothesis import strategies as st
from splitcheck import split_differences

from worker.parse.split import split_items

GOLDEN = sorted((Path(__file__).parent.parent / "golden" / "feeds").iterdir())
FETCHED_AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("path", GOLDEN, ids=[p.name for p in GOLDEN])
def test_each_item_read_alone_gives_the_story_read_whole(path: Path) -> None:
    """Every golden feed that is cut: each item read with the channel alone gives the same
    story as the whole document, and the channel alone the same channel.

    bench/split_check.py runs this over the whole shared corpus: 276 of 376 files are cut, and
    one differs: in a podcast feed, feedparser's reading of some items' summaries depends on
    the items before them (state it carries from item to item); read alone, each item gives
    its own text (recorded in bench/RESULTS.md)."""
    _cut, problems = split_differences(path.read_bytes(), f"https://feeds.example/{path.name}",
                                       FETCHED_AT)
    assert problems == []


def test_most_golden_feeds_are_cut() -> None:
    cut = [p.name for p in GOLDEN if split_items(p.read_bytes()) is not None]
    assert len(cut) >= 30, cut


def test_spans_cover_whole_items_even_with_tags_inside_cdata() -> None:
    document = rss([item(1, description="<![CDATA[</item> is text here]]>"), item(2)])
    document = document.replace(b"&lt;![CDATA[&lt;/item&gt; is text here]]&gt;",
                                b"<![CDATA[</item> is text here]]>")
    split = split_items(document)
    assert split is not None and len(split.spans) == 2
    first = document[slice(*split.spans[0])]
    assert first.startswith(b"<item>") and first.endswith(b"</item>")
    assert b"Story number 1" in first and b"is text here" in first
    assert b"Story number 1" not in split.without({0})


@pytest.mark.parametrize("document", [
    pytest.param(b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">]><rss><channel>'
                 b"<item><title>&a;</title></item></channel></rss>", id="doctype"),
    pytest.param(rss([item(1)]).decode().encode("utf-16"), id="utf-16"),
    pytest.param(b'<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><item>'
                 b"<title>caf\xe9</title></item></channel></rss>", id="not-utf-8"),
    pytest.param(b"<rss><channel><item><title>cut", id="broken"),
    pytest.param(b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', id="json"),
    pytest.param(b"<rss><channel><title>t</title></channel><item><title>x</title></item></rss>",
                 id="item-outside-channel"),
    pytest.param(b"<rss><channel><item/></channel></rss>", id="empty-element-item"),
    pytest.param(b"<rss><channel><item><item><title>x</title></item></item></channel></rss>",
                 id="nested-item"),
    pytest.param(b"<rss><channel><item><group><item>x</item><item/></group></item></channel>"
                 b"</rss>", id="items-nested-deeper"),
    pytest.param(b'<rss><channel><item><title>x</title><a:entry xmlns:a="urn:x">y</a:entry>'
                 b"</item></channel></rss>", id="entry-inside-item"),
    pytest.param(b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id><entry><id>2</id>'
                 b"</entry></entry></feed>", id="nested-atom-entry"),
    pytest.param(b'<?xml version="1.0" encoding="nonsense"?><rss><channel></channel></rss>',
                 id="unknown-encoding"),
    pytest.param(b"<html><body><item>x</item></body></html>", id="not-a-feed"),
])
def test_documents_not_cut_safely_are_read_whole(document: bytes) -> None:
    assert split_items(document) is None


def test_atom_and_rdf_items_are_cut() -> None:
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
            b"<entry><id>1</id></entry><entry><id>2</id></entry></feed>")
    rdf = (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
           b'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>t</title></channel>'
           b'<item rdf:about="a"><title>a</title></item></rdf:RDF>')
    assert [len(split_items(d).spans) for d in (atom, rdf)] == [2, 1]  # type: ignore[union-attr]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([
    "plain words", "caf\u00e9 & cr\u00e8me", "<b>bold</b> text", "]]> tricky", "\u201cquoted\u201d",
]), min_size=1, max_size=6), st.data())
def test_any_items_dropped_leave_the_others_read_as_whole(
        texts: list[str], data: st.DataObject) -> None:
    document = rss([item(n, description=text) for n, text in enumerate(texts)])
    split = split_items(document)
    assert split is not None and len(split.spans) == len(texts)
    dropped = data.draw(st.sets(st.integers(0, len(texts) - 1)))
    remaining = split_items(split.without(dropped))
    assert remaining is not None
    assert [split.content[slice(*s)] for i, s in enumerate(split.spans) if i not in dropped] \
        == [remaining.content[slice(*s)] for s in remaining.spans]
