"""Parsing fetched bodies: which are feeds, which are not, and what the poll is told."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.exceptions import ParseError
from worker.parse import ParsedFeed, feedparser_adapter, parse_feed

FEEDS = Path(__file__).parent.parent / "feeds"


def parse(name: str, headers: dict[str, str] | None = None) -> ParsedFeed:
    return parse_feed(
        (FEEDS / name).read_bytes(), url=f"https://feeds.example/{name}", headers=headers
    )


@pytest.mark.parametrize(
    ("name", "version", "title", "link", "language", "count"),
    [
        (
            "nytimes_us.xml",
            "rss20",
            "NYT > U.S. News",
            "https://www.nytimes.com/section/us",
            "en-us",
            20,
        ),
        (
            "heise_atom.xml",
            "atom10",
            "heise online News",
            "http://www.heise.de/newsticker/",
            None,
            30,
        ),
        ("debian_rss10.rdf", "rss10", "Debian News", "https://www.debian.org/News/", "en", 1),
        (
            "stadtfeuerwehr_rss091_latin1.xml",
            "rss091u",
            "Stadtfeuerwehr Weiz - Einsätze",
            "http://www.stadtfeuerwehr-weiz.at",
            "de-de",
            15,
        ),
        ("le_show_podcast.xml", "rss20", "KCRW's Le Show", "http://www.kcrw.com/show/ls", "en", 4),
        ("ibash_windows1251.xml", "rss20", "iBash.Org.Ru", "http://ibash.org.ru/", "ru", 50),
    ],
)
def test_feed_formats(
    name: str, version: str, title: str, link: str, language: str | None, count: int
) -> None:
    feed = parse(name)
    assert (feed.version, feed.title, feed.link, feed.language) == (version, title, link, language)
    assert len(feed.entries) == count
    assert feed.problem is None


def test_non_utf8_feed_is_decoded_from_its_declaration() -> None:
    feed = parse("ibash_windows1251.xml")
    assert feed.entries[0].title == "Цитата #17703"
    assert feed.entries[0].summary.startswith("xxx: есть у кого жаба программер")


def test_http_charset_wins_over_the_xml_declaration() -> None:
    # The body really is windows-1251; a server claiming latin-1 garbles it, as it would in a
    # browser. What matters is that the header is obeyed, not guessed around.
    feed = parse("ibash_windows1251.xml", headers={"Content-Type": "text/xml; charset=ISO-8859-1"})
    assert feed.entries[0].title == "Öèòàòà #17703"


def test_text_xml_without_charset_is_not_read_as_ascii() -> None:
    # RFC 3023 says US-ASCII here, which would turn every "ä" into a problem; RFC 7303 says
    # to go by the XML declaration.
    feed = parse("stadtfeuerwehr_rss091_latin1.xml", headers={"content-type": "text/xml"})
    assert feed.title == "Stadtfeuerwehr Weiz - Einsätze"
    assert feed.problem is None


@pytest.mark.parametrize(("declared", "content_type"), [
    ("UTF-8", "application/rss+xml; charset=undefined"),
    ("UTF-8", "application/rss+xml; charset=punycode"),
    ("UTF-8", "text/xml; charset=unicode_escape"),
    ("UTF-8", "text/xml; charset=base64"),
    ("undefined", "application/rss+xml"),
    ("raw_unicode_escape", "text/xml"),
])
def test_a_python_codec_that_is_no_charset_is_read_as_if_not_declared(
        declared: str, content_type: str) -> None:
    """Python knows codecs no document is written in: feedparser decoded with "undefined" or
    "punycode" and failed past its error handling, and "unicode_escape" turned the text's
    backslashes into other characters. The document is read as UTF-8, XML's default."""
    body = (f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel>'
            "<title>T</title><item><title>C:\\new\\u00e9 café</title>"
            "<link>http://example.com/1</link></item></channel></rss>").encode()
    feed = parse_feed(body, url="http://example.com/feed", headers={"content-type": content_type})
    assert feed.entries[0].title == "C:\\new\\u00e9 café"


@pytest.mark.parametrize("content_type", [
    "text/xml", "application/xml; charset=utf-8", "application/xml; charset=x-unknown",
    "application/xml; charset=base64"])
def test_a_declaration_naming_no_charset_gives_way_on_a_body_that_is_no_utf8(
        content_type: str) -> None:
    """Where the body is not UTF-8, feedparser went on from UTF-8 to the declared codec,
    "undefined", and failed: the declaration is taken out of the document, which feedparser
    then reads with its fallbacks."""
    body = (b'<?xml version="1.0" encoding="undefined"?><rss version="2.0"><channel><title>T'
            b"</title><item><title>caf\xe9</title><link>http://example.com/1</link></item>"
            b"</channel></rss>")
    feed = parse_feed(body, url="http://example.com/feed", headers={"content-type": content_type})
    assert feed.entries[0].title == "café"


def test_feed_served_as_html_is_still_a_feed() -> None:
    feed = parse("nytimes_us.xml", headers={"Content-Type": "text/html; charset=utf-8"})
    assert len(feed.entries) == 20
    assert feed.problem is None


def test_relative_links_resolve_against_the_feed_url() -> None:
    body = (
        (FEEDS / "debian_rss10.rdf")
        .read_bytes()
        .replace(
            b"<link>https://www.debian.org/News/2022/20221217</link>", b"<link>2022/20221217</link>"
        )
    )
    feed = parse_feed(body, url="https://www.debian.org/News/news.rdf")
    assert feed.entries[0].link == "https://www.debian.org/News/2022/20221217"


def test_malformed_feed_with_entries_returns_them_with_the_problem() -> None:
    feed = parse("malformed/unescaped_ampersands.xml")
    assert [e.title for e in feed.entries] == [
        "Layoffs in BT & H",
        "Mozilla Project Hurt by Apple's Decision to use KH",
    ]
    assert feed.problem == "broken XML: undefined entity at line 3"


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(ParseError, match=r"^not a feed: looks like an HTML page$"):
        parse("malformed/notafeed.html")


def test_truncated_feed_is_broken_xml_with_its_line() -> None:
    body = (FEEDS / "debian_rss10.rdf").read_bytes()
    truncated = body[: body.index(b"<item ")]  # cut after the channel: no entries left
    with pytest.raises(ParseError, match=r"^broken XML: no element found at line 27$"):
        parse_feed(truncated, url="https://www.debian.org/News/news.rdf")


@pytest.mark.parametrize("body", [b"", b"  \r\n\t "])
def test_empty_body(body: bytes) -> None:
    with pytest.raises(ParseError, match=r"^empty body$"):
        parse_feed(body, url="https://feeds.example/empty")


def test_valid_feed_without_items_is_empty_not_an_error() -> None:
    body = (FEEDS / "debian_rss10.rdf").read_bytes()
    start, end = body.index(b"<item "), body.index(b"</item>") + len(b"</item>")
    feed = parse_feed(body[:start] + body[end:], url="https://www.debian.org/News/news.rdf")
    assert (feed.version, feed.title, feed.entries, feed.problem) == (
        "rss10",
        "Debian News",
        [],
        None,
    )


def test_blank_lines_before_the_xml_declaration_are_tolerated() -> None:
    feed = parse_feed(b"\n\n  " + (FEEDS / "heise_atom.xml").read_bytes(), url="https://h.example/")
    assert len(feed.entries) == 30
    assert feed.problem is None


def test_bytes_that_look_like_a_url_are_not_fetched() -> None:
    with pytest.raises(ParseError, match=r"^not a feed"):
        parse_feed(b"http://127.0.0.1:9/feed.xml", url="https://feeds.example/")


# --- JSON Feed, format by content, encodings -------------------------------------------------

GOLDEN_FEEDS = Path(__file__).parent.parent / "golden" / "feeds"


def golden(name: str, headers: dict[str, str] | None = None) -> ParsedFeed:
    return parse_feed((GOLDEN_FEEDS / name).read_bytes(), url=f"https://golden.example/{name}",
                      headers=headers)


@pytest.mark.parametrize(
    ("name", "version", "title", "link", "language", "count"),
    [
        ("jsonfeed11_elastic.json", "json11", "Blog &#8211; InfluxData",
         "https://www.influxdata.com/blog/", "en-US", 3),
        ("jsonfeed10_inessential.json", "json1", "inessential.com", "http://inessential.com/",
         None, 5),
    ],
)
def test_json_feed_is_read_like_any_feed(
    name: str, version: str, title: str, link: str, language: str | None, count: int,
) -> None:
    feed = golden(name)
    assert (feed.version, feed.title, feed.link, feed.language) == (version, title, link, language)
    assert len(feed.entries) == count


def test_json_feed_item_becomes_a_feedparser_shaped_entry() -> None:
    body = json.dumps({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "T",
        "authors": [{"name": "Feed Author"}],
        "items": [{
            "id": 42,
            "external_url": "https://example.com/elsewhere",
            "title": "Hello",
            "content_html": "<p>Body</p>",
            "summary": "Short",
            "date_published": "2021-02-25T13:04:04+01:00",
            "tags": ["a", 3],
            "image": "https://example.com/i.jpg",
            "attachments": [{"url": "https://example.com/e.mp3", "mime_type": "audio/mpeg",
                             "duration_in_seconds": 125}],
        }],
    }).encode()
    [entry] = parse_feed(body, url="https://example.com/feed.json").entries
    assert entry["id"] == "42"
    assert entry["link"] == "https://example.com/elsewhere"
    assert entry["content"] == [{"type": "text/html", "value": "<p>Body</p>", "language": None}]
    assert entry["authors"] == [{"name": "Feed Author"}]  # inherited from the feed
    assert entry["tags"] == [{"term": "a"}]
    assert entry["media_content"] == [
        {"url": "https://example.com/e.mp3", "type": "audio/mpeg", "duration": 125}]
    assert entry["media_thumbnail"] == [{"url": "https://example.com/i.jpg"}]


def test_json_that_is_not_a_json_feed_is_refused_clearly() -> None:
    with pytest.raises(ParseError, match=r"^not a feed: JSON, but no JSON Feed"):
        parse_feed(b'{"rss": {"channel": {}}}', url="https://feeds.example/rss.json")


def test_a_json_feed_nested_past_reason_is_a_parse_error() -> None:
    """json.loads gives up on deep nesting with a RecursionError, which is no ValueError: it
    made the poll fail as a bug would. 100,000 brackets are 200 kB, well under the body cap."""
    body = (b'{"version": "https://jsonfeed.org/version/1.1", "items": '
            + b"[" * 100_000 + b"]" * 100_000 + b"}")
    with pytest.raises(ParseError, match=r"^broken JSON: arrays or objects nested too deeply"):
        parse_feed(body, url="https://feeds.example/feed.json")


def test_broken_json_feed_names_the_line() -> None:
    with pytest.raises(ParseError, match=r"^broken JSON: Expecting .* at line 3$"):
        parse_feed(b'{"version": "https://jsonfeed.org/version/1",\n"items": [\n}',
                   url="https://feeds.example/feed.json")


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("atom_named_rss_daringfireball.rss", "atom10"),
        ("rss_named_atom_slickdeals.atom", "rss20"),
        ("rdf_named_rss_craigslist.rss", "rss10"),
    ],
)
def test_the_body_decides_the_format_not_the_file_name(name: str, version: str) -> None:
    feed = golden(name, headers={"Content-Type": "application/rss+xml"})
    assert feed.version == version
    assert len(feed.entries) == 5


def test_utf16_feed_reads_the_same_as_its_utf8_original() -> None:
    original = (FEEDS / "ibash_windows1251.xml").read_bytes()
    text = original.decode("windows-1251").replace('encoding="windows-1251"', 'encoding="UTF-16"')
    utf16 = parse_feed(text.encode("utf-16"), url="https://feeds.example/f")
    assert [e.title for e in utf16.entries] == [e.title for e in parse("ibash_windows1251.xml").entries]
    assert utf16.entries[0].title == "Цитата #17703"


@pytest.mark.parametrize(
    ("name", "index", "title"),
    [
        ("gb2312.rss", 0, "建国35周年纪念，华表，和平鸽"),
        ("shift_jis.xml", 1, "SUUMO （6/29発行）"),
        ("windows1255.xml", 0, "צרפת גינתה את הצתת המסגד בצפון: \"להעניש האחראים\""),
        ("linuxfr_latin9.xml", 1, "CD Gimp francophone"),
        ("makii_latin2_rss1.xml", 1, "VBA Smooth v6.4"),
    ],
)
def test_declared_legacy_encodings_decode(name: str, index: int, title: str) -> None:
    assert golden(name).entries[index].title == title


def test_utf8_items_in_a_feed_declared_latin1_are_read_as_utf8() -> None:
    # bold.dk declares ISO-8859-1; its channel is Latin-1 but its items are UTF-8.
    feed = golden("bold_dk_mixed_encoding.xml")
    assert feed.entries[1].summary.startswith("Brøndby forsøger i klarere vendinger")
    assert feed.title == "bold.dk - Seneste fodboldnyheder  om AC Horsens"


def test_a_true_latin1_feed_is_not_taken_for_utf8() -> None:
    body = ('<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>t'
            '</title><item><title>Café “déjà vu”</title></item></channel></rss>')
    feed = parse_feed(body.encode("windows-1252"), url="https://feeds.example/f")
    assert feed.entries[0].title == "Café “déjà vu”"


def test_media_group_renditions_are_marked_as_one_group() -> None:
    entry = golden("cnn_international.xml").entries[0]
    assert {m["group"] for m in entry.media_content} == {"1"}


def test_an_atom_id_is_kept_as_written_not_resolved_as_a_link() -> None:
    assert golden("reddit_mediarss.xml").entries[0].id == "t3_157kyrd"


def test_each_entry_resolves_links_against_its_own_xml_base() -> None:
    """Entries with the same relative link under different xml:base values keep their own
    base, parse after parse and feed after feed (feedwatch remembers feedparser's base
    resolutions)."""
    document = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="news/">
  <title>Bases</title>
  <entry xml:base="https://one.example/a/"><id>1</id><title>One</title>
    <link href="story.html"/></entry>
  <entry xml:base="/b/"><id>2</id><title>Two</title><link href="story.html"/></entry>
  <entry xml:base="javascript:alert(1)//"><id>3</id><title>Three</title>
    <link href="story.html"/></entry>
  <entry><id>4</id><title>Four</title><link href="story.html"/></entry>
</feed>"""
    for site in ("https://feeds.example", "https://feeds.example", "http://other.example"):
        parsed = parse_feed(document, url=f"{site}/feed.xml")
        assert [entry["link"] for entry in parsed.entries] == [
            "https://one.example/a/story.html", f"{site}/b/story.html",
            f"{site}/news/story.html", f"{site}/news/story.html"]


def test_a_long_xml_base_is_resolved_but_not_remembered() -> None:
    """Base resolutions are remembered, but not a feed's own long strings: 4,096 of them
    could hold gigabytes."""
    long_base = "https://site.example/" + "x" * 100_000 + "/"
    document = (f'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{long_base}"><title>t'
                '</title><entry><id>1</id><title>One</title><link href="a.html"/></entry>'
                "</feed>").encode()
    remembered = feedparser_adapter._remembered_base.cache_info().currsize
    parsed = parse_feed(document, url="https://feeds.example/long.xml")
    assert parsed.entries[0]["link"] == long_base + "a.html"
    assert feedparser_adapter._remembered_base.cache_info().currsize == remembered


def test_a_parse_looks_for_no_module() -> None:
    """feedparser is asked for expat, not for libxml2's driver, which it would look for on
    sys.path in vain at every parse."""
    looked_for: list[str] = []

    class Recorder:
        def find_spec(self, name: str, *_args: object) -> None:
            looked_for.append(name)

    document = (FEEDS / "heise_atom.xml").read_bytes()
    parse_feed(document, url="https://feeds.example/heise.xml")
    sys.meta_path.insert(0, Recorder())  # type: ignore[arg-type]
    try:
        parse_feed(document, url="https://feeds.example/heise.xml")
    finally:
        del sys.meta_path[0]
    assert looked_for == []



@pytest.mark.parametrize("body", [
    b'<?xml version="1.0" encoding="utf\x80-8"?><rss version="2.0"><channel></channel></rss>',
    b'<rss version="2.0" xmlns:x="http://x.example/\xc2\xa0ns"><channel><item><x:y>1</x:y>'
    b"<title>T</title></item></channel></rss>",
], ids=["declared encoding not utf-8", "no-break space in a namespace"])
def test_a_document_broken_where_feedparser_does_not_expect_is_a_parse_error(
        body: bytes) -> None:
    """Found by the property test below: feedparser decodes the declared encoding's name as
    UTF-8 unguarded, and xml.sax splits namespaced names on any whitespace."""
    with pytest.raises(ParseError, match="unreadable document"):
        parse_feed(body, url="https://feeds.example/feed",
                   headers={"content-type": "application/xml; charset=iso-8859-1"})


@pytest.mark.parametrize(("written", "read"), [
    ("&#55357;&#56832;", "\U0001f600"), ("&#xD83D;&#xDE00;", "\U0001f600"),
    ("&#55357;", "\ufffd"), ("&#xDE00;&#xD83D;", "\ufffd\ufffd"),
])
def test_an_emoji_written_as_two_surrogate_references_is_read_as_the_emoji(
        written: str, read: str) -> None:
    """Some publishing systems count UTF-16 units and write an emoji as two character
    references; neither is an XML character, and feedparser crashed on them, so the whole
    feed was refused for one emoji. A half alone becomes U+FFFD."""
    body = (f'<rss version="2.0"><channel><title>T</title><item><title>smile {written}</title>'
            "<link>http://example.com/1</link></item></channel></rss>").encode()
    feed = parse_feed(body, url="http://example.com/feed")
    assert feed.entries[0].title == f"smile {read}"


@pytest.mark.parametrize(("written", "read"), [
    (b"\\ud83d\\ude00", "\U0001f600"), (b"\\ud83d", "\ufffd"), (b"\\ude00 \\ud83d", "\ufffd \ufffd"),
    (b"\\\\ud83d", "\\ud83d"), (b"\xed\xa0\xbd", "\ufffd\ufffd\ufffd"), (b"\xff", "\ufffd"),
], ids=["pair", "high alone", "low then high", "a backslash written out", "CESU-8 bytes",
        "a byte that is no UTF-8"])
def test_a_json_feed_string_cut_between_the_halves_of_a_pair_can_still_be_published(
        written: bytes, read: str) -> None:
    """JSON escapes an emoji as two halves; a string cut between them left a half alone,
    which Python reads into a string that cannot be encoded: the story could not be
    published. The half alone becomes U+FFFD, as do bytes that are no UTF-8."""
    body = (b'{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [{"id": "1",'
            b' "url": "http://example.com/1", "title": "smile ' + written + b'"}]}')
    title = parse_feed(body, url="http://example.com/feed.json").entries[0]["title"]
    assert title == f"smile {read}"
    title.encode("utf-8")

_SEEDS = sorted(p.name for p in FEEDS.glob("*.*") if p.suffix in (".xml", ".rdf", ".json"))
_CHARSETS = ["utf-8", "iso-8859-1", "windows-1251", "utf-16", "shift_jis", "undefined",
             "punycode", "unicode_escape", "base64", "x-no-such-charset", "", "\u00e9"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_SEEDS), st.sampled_from(_CHARSETS), st.data())
def test_a_feed_cut_or_scrambled_anywhere_is_read_or_refused_with_a_parse_error(
        name: str, charset: str, data: st.DataObject) -> None:
    """Whatever a server sends in place of a feed (cut short, bytes overwritten, any charset
    in its header), parsing gives a feed or a ParseError: never another exception, which would
    be the feed's poll failing on a bug (tests/test_healing.py)."""
    content = (FEEDS / name).read_bytes()
    cut = data.draw(st.integers(0, len(content)), label="cut")
    at = data.draw(st.integers(0, max(0, cut - 1)), label="at")
    junk = data.draw(st.binary(max_size=8), label="junk")
    body = content[:at] + junk + content[at + len(junk):cut]
    headers = {"content-type": f"application/xml; charset={charset}" if charset else "text/xml"}
    try:
        feed = parse_feed(body, url="https://feeds.example/feed", headers=headers)
    except ParseError:
        return
    assert isinstance(feed.entries, list)
