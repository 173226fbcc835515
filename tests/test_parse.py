"""Parsing fetched bodies: which are feeds, which are not, and what the poll is told."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.exceptions import ParseError
from worker.parse import ParsedFeed, parse_feed

FEEDS = Path(__file__).parent / "feeds"


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
