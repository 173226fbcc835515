"""Full text from article pages: extraction checked against real pages, and the poll fetching
the pages of new stories only, from a local server behind a local feed.

tests/pages holds real article pages from the shared corpus (see SOURCES.tsv there) and, for
each, text a good extraction must contain (``with``) and boilerplate it must not (``without``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from feedserver import FeedServer, item, rss

from worker import state
from worker.config import FeedConfig, Settings, parse_settings
from worker.exceptions import ConfigError, NetworkError
from worker.fetch import HttpClient, new_client
from worker.fulltext import MIN_WORDS, add_full_text, wants_full_text, word_count
from worker.fulltext.extract import extract_article
from worker.poll import Poller
from worker.story import Extraction, Story

PAGES = Path(__file__).parent.parent / "pages"
EXPECTED: dict[str, dict[str, Any]] = json.loads((PAGES / "expected.json").read_text("utf-8"))
STREAM = "test:fulltext"
FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def flat(text: str) -> str:
    return " ".join(text.split())


def teaser(url: str = "https://news.site/a.html") -> Story:
    return Story(id="s", url=url, title="T", body=["A short teaser."], summary="A short teaser.")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_page_body_has_the_story_and_not_the_boilerplate(name: str) -> None:
    story = teaser(EXPECTED[name]["url"])
    page = (PAGES / name).read_bytes()
    add_full_text(story, lambda url: (page, url), zone=UTC, fetched_at=FETCHED_AT)
    assert story.extraction == Extraction("ok")
    body = flat(" ".join(story.body))
    assert [w for w in EXPECTED[name]["with"] if flat(w) not in body] == []
    assert [w for w in EXPECTED[name]["without"] if flat(w) in body] == []


def test_the_feeds_own_fields_win_and_the_page_fills_the_gaps() -> None:
    page = (PAGES / "world.kbs.co.kr-Temperatures.html").read_bytes()
    article = extract_article(page, "https://world.kbs.co.kr/")
    assert article.image and article.date
    bare = teaser()
    add_full_text(bare, lambda url: (page, url), zone=UTC, fetched_at=FETCHED_AT)
    assert bare.published is not None and bare.published.startswith(article.date[:10])
    assert [m.url for m in bare.media] == [article.image]

    told = teaser()
    told.published, told.authors = "2020-01-01T00:00:00Z", ["Feed Author"]
    add_full_text(told, lambda url: (page, url), zone=UTC, fetched_at=FETCHED_AT)
    assert (told.published, told.authors) == ("2020-01-01T00:00:00Z", ["Feed Author"])
    assert told.summary == "A short teaser."
    assert word_count(told.body) > MIN_WORDS


def test_a_failed_fetch_keeps_the_feeds_text_and_says_why() -> None:
    story = teaser()

    def unreachable(url: str) -> tuple[bytes, str]:
        raise NetworkError("network error: connection refused")

    add_full_text(story, unreachable, zone=UTC, fetched_at=FETCHED_AT)
    assert story.body == ["A short teaser."]
    assert story.extraction == Extraction(
        "failed", "page not fetched: network error: connection refused")


def test_a_page_without_an_article_is_empty_and_keeps_the_feeds_text() -> None:
    story = teaser()
    add_full_text(story, lambda url: (b"<html><body><nav>Home</nav></body></html>", url),
                  zone=UTC, fetched_at=FETCHED_AT)
    assert story.body == ["A short teaser."]
    assert story.extraction is not None and story.extraction.status == "empty"


@pytest.mark.parametrize(
    ("mode", "words", "url", "wanted"),
    [
        ("auto", 10, "https://news.site/a", True),
        ("auto", MIN_WORDS, "https://news.site/a", False),
        ("always", MIN_WORDS, "https://news.site/a", True),
        ("never", 10, "https://news.site/a", False),
        ("auto", 10, None, False),
        ("auto", 10, "http://news.example.com/a", False),  # reserved for examples: no page
        ("auto", 10, "http://wire.example/a", False),
    ],
)
def test_when_the_page_is_wanted(mode: str, words: int, url: str | None, wanted: bool) -> None:
    story = Story(id="s", url=url, body=[" ".join(["word"] * words)])
    assert wants_full_text(story, mode) is wanted


def test_cjk_text_counts_one_word_per_character() -> None:
    assert word_count(["中国足协将与体育总局脱钩", "two words"]) == 14


# --- through the poll, against a local server ------------------------------------------------


@pytest.fixture
def http() -> HttpClient:
    return new_client("feedwatch-test", timeout=2.0)


def poller_for(feed: FeedConfig, client: redis.Redis, http: HttpClient) -> Poller:
    settings = Settings(path="<test>", feeds=(feed,), stream=STREAM, timeout=2.0)
    return Poller(settings, client, http)


def published(client: redis.Redis) -> list[tuple[str, dict[str, Any]]]:
    return [(fields[b"event"].decode(), json.loads(fields[b"story"]))
            for _id, fields in client.xrange(STREAM)]


def serve_pages(server: FeedServer, names: list[str]) -> list[dict[str, str]]:
    """Serve each page at /articles/<name>; items linking to them, as a feed would."""
    items = []
    for n, name in enumerate(names, 1):
        server.serve(f"/articles/{name}", (PAGES / name).read_bytes(),
                     content_type="text/html; charset=utf-8")
        url = server.url(f"/articles/{name}")
        items.append(item(n, link=url, guid=url, description="<p>Teaser only.</p>"))
    return items


def test_the_lease_is_renewed_before_each_article_page(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    """Each page may take up to the fetch timeout: a poll with many could outlast its lease,
    and another worker could poll the feed at the same time."""
    names = ["autonews.ch-Tesla.html", "lastampa.it.temperature.html"]
    feed = FeedConfig(key="pages", url=feed_server.serve(
        "/feed.xml", rss(serve_pages(feed_server, names))))
    renewals = []
    poller_for(feed, redis_client, http).poll(
        feed, renew_lease=lambda: renewals.append(len(feed_server.hits(f"/articles/{names[1]}"))))
    assert renewals == [0, 0], "once before each page"


def test_poll_fetches_the_page_of_each_new_story_once(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    names = ["autonews.ch-Tesla.html", "lastampa.it.temperature.html"]
    items = serve_pages(feed_server, names)
    feed = FeedConfig(key="pages", url=feed_server.serve("/feed.xml", rss(items[:1])))
    poller = poller_for(feed, redis_client, http)

    assert poller.poll(feed).new == 1
    feed_server.serve("/feed.xml", rss(items))  # a second story; the first one again
    assert poller.poll(feed).new == 1

    assert [len(feed_server.hits(f"/articles/{n}")) for n in names] == [1, 1]
    events = published(redis_client)
    assert [e for e, _ in events] == ["new", "new"], "the full text is no update of the teaser"
    for name, (_, story) in zip(names, events, strict=True):
        assert story["extraction"] == {"status": "ok", "reason": None}
        body = flat(" ".join(story["body"]))
        assert all(flat(w) in body for w in EXPECTED[name]["with"])
        assert not any(flat(w) in body for w in EXPECTED[name]["without"])
        assert story["summary"] == "Teaser only."


def test_a_missing_page_keeps_the_teaser_and_shows_in_status(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    gone = feed_server.url("/articles/gone.html")
    feed_url = feed_server.serve("/feed.xml", rss([item(1, link=gone, guid=gone)]))
    feed = FeedConfig(key="gone", url=feed_url)
    poller_for(feed, redis_client, http).poll(feed)

    [(_, story)] = published(redis_client)
    assert story["body"] == ["First paragraph of story 1.", "Second paragraph."]
    assert story["extraction"]["status"] == "failed"
    assert "404" in story["extraction"]["reason"]
    problem = state.load(redis_client, "gone").problem
    assert problem is not None and f"{gone}: full text failed" in problem


def test_article_pages_in_the_private_network_are_refused_and_the_teaser_kept(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    """The feed's own address is the user's choice; the links in it are the publisher's, so
    their pages go through the guarded client, as redirects do."""
    items = serve_pages(feed_server, ["autonews.ch-Tesla.html"])
    feed = FeedConfig(key="inside", url=feed_server.serve("/feed.xml", rss(items)))
    settings = Settings(path="<test>", feeds=(feed,), stream=STREAM, timeout=2.0)
    with new_client("feedwatch-test", timeout=2.0, guard=True) as guarded:
        assert Poller(settings, redis_client, http, redirect_http=guarded).poll(feed).new == 1
    assert feed_server.hits("/articles/autonews.ch-Tesla.html") == []
    [(_, story)] = published(redis_client)
    assert story["summary"] == "Teaser only."
    assert story["extraction"]["status"] == "failed"
    assert "refused to connect to 127.0.0.1" in story["extraction"]["reason"]


def test_full_text_never_fetches_no_page(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    items = serve_pages(feed_server, ["autonews.ch-Tesla.html"])
    feed = FeedConfig(key="never", url=feed_server.serve("/feed.xml", rss(items)),
                      full_text="never")
    poller_for(feed, redis_client, http).poll(feed)
    assert feed_server.hits("/articles/autonews.ch-Tesla.html") == []
    assert published(redis_client)[0][1]["extraction"] is None


def test_config_full_text_and_timezone_default_and_are_checked() -> None:
    [feed] = parse_settings({"feeds": [{"key": "a", "url": "http://a.example/f"}]}).feeds
    assert (feed.full_text, feed.timezone) == ("auto", "UTC")
    with pytest.raises(ConfigError) as raised:
        parse_settings({"feeds": [{"key": "a", "url": "http://a.example/f", "full_text": "yes",
                                   "timezone": "Mars/Base"}]})
    assert raised.value.problems == [
        "feeds[0] (a): timezone: must be an IANA time zone such as Europe/Berlin, got 'Mars/Base'",
        "feeds[0] (a): full_text: must be auto, always or never, got 'yes'",
    ]
