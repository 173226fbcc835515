"""One poll of one feed through the whole pipeline, against a local HTTP server and real Valkey."""

from __future__ import annotations

import json

import pytest
import redis
from feedserver import FeedServer, Route, item, rss

from worker import state
from worker.config import FeedConfig, Settings
from worker.fetch import HttpClient, new_client
from worker.poll import Poller
from worker.publish import Publisher

STREAM = "test:stories"


@pytest.fixture
def http() -> HttpClient:
    return new_client("feedwatch-test", timeout=1.0)


def settings(*feeds: FeedConfig) -> Settings:
    return Settings(path="<test>", feeds=feeds, stream=STREAM, timeout=1.0)


def published(client: redis.Redis) -> list[dict[str, object]]:
    return [json.loads(fields[b"story"]) for _id, fields in client.xrange(STREAM)]


def test_first_poll_publishes_every_item_then_only_new_ones(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    url = feed_server.serve("/news.xml", rss([item(1), item(2)]))
    feed = FeedConfig(key="news", url=url, source="Example News", tags=("world",))
    poller = Poller(settings(feed), redis_client, http)

    first = poller.poll(feed)
    assert (first.result, first.entries, first.new) == ("new", 2, 2)
    stories = published(redis_client)
    assert [s["title"] for s in stories] == ["Story number 1", "Story number 2"]
    one = stories[0]
    assert one["url"] == "http://news.example.com/2026/11/24/story-1.html", "utm_ dropped"
    assert one["feed"] == "news" and one["source"] == "Example News"
    assert one["published"] == "2026-11-24T10:00:00Z"
    assert one["body"] == ["First paragraph of story 1.", "Second paragraph."]
    assert "world" in one["tags"]

    assert poller.poll(feed).result == "not modified"
    assert feed_server.hits("/news.xml")[-1].get("If-None-Match")

    feed_server.serve("/news.xml", rss([item(3), item(1), item(2)]))
    third = poller.poll(feed)
    assert (third.entries, third.new) == (3, 1)
    assert [s["title"] for s in published(redis_client)][-1] == "Story number 3"
    assert state.load(redis_client, "news").stories == 3


def test_a_body_identical_to_the_last_one_is_not_parsed_again(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    url = feed_server.serve("/same.xml", rss([item(1)]))
    feed_server.routes["/same.xml"].etag = None
    feed_server.routes["/same.xml"].last_modified = None
    feed = FeedConfig(key="same", url=url)
    poller = Poller(settings(feed), redis_client, http)
    assert poller.poll(feed).result == "new"
    assert poller.poll(feed).result == "unchanged"


def test_an_error_is_recorded_and_keeps_the_validators(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    url = feed_server.serve("/flaky.xml", rss([item(1)]))
    feed = FeedConfig(key="flaky", url=url)
    poller = Poller(settings(feed), redis_client, http)
    poller.poll(feed)
    etag = state.load(redis_client, "flaky").etag
    feed_server.fail("/flaky.xml", 503)
    outcome = poller.poll(feed)
    assert (outcome.result, outcome.error) == ("error", "HTTP 503 Service Unavailable")
    remembered = state.load(redis_client, "flaky")
    assert (remembered.errors, remembered.last_status, remembered.etag) == (1, 503, etag)
    poller.poll(feed)
    assert state.load(redis_client, "flaky").errors == 2
    feed_server.serve("/flaky.xml", rss([item(1), item(2)]))
    assert poller.poll(feed).new == 1
    assert state.load(redis_client, "flaky").errors == 0, "a success clears the error count"


@pytest.mark.parametrize(("route", "expected"), [
    (Route(body=b"<rss><channel><title>Broken & bad</title></channel></rss", status=200), "XML"),
    (Route(body=b"<html><body><h1>Welcome</h1></body></html>", content_type="text/html"),
     "not a feed"),
    (Route(body=b"", status=200), "empty"),
])
def test_unreadable_bodies_are_a_per_feed_error(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient,
        route: Route, expected: str) -> None:
    feed_server.routes["/bad"] = route
    feed = FeedConfig(key="bad", url=feed_server.url("/bad"))
    outcome = Poller(settings(feed), redis_client, http).poll(feed)
    assert outcome.result == "error"
    assert expected.lower() in (outcome.error or "").lower()
    assert state.load(redis_client, "bad").last_error == outcome.error
    assert published(redis_client) == []


def test_a_malformed_feed_that_still_has_entries_is_used_and_its_problem_kept(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    body = rss([item(1), item(2)]).replace(b"</channel></rss>", b"<unclosed>")
    url = feed_server.serve("/sloppy.xml", body)
    feed = FeedConfig(key="sloppy", url=url)
    outcome = Poller(settings(feed), redis_client, http).poll(feed)
    assert outcome.new == 2
    assert "malformed feed" in (state.load(redis_client, "sloppy").problem or "")


def test_state_is_saved_only_after_the_stories_are_published(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash between publishing and saving must mean a re-poll, never a lost story."""
    url = feed_server.serve("/crash.xml", rss([item(1)]))
    feed = FeedConfig(key="crash", url=url)
    poller = Poller(settings(feed), redis_client, http)

    def crash(*args: object, **kwargs: object) -> None:
        raise ConnectionError("worker died while publishing")

    monkeypatch.setattr(Publisher, "publish", crash)
    with pytest.raises(ConnectionError):
        poller.poll(feed)
    assert state.load(redis_client, "crash").etag is None, "nothing remembered"
    monkeypatch.undo()
    outcome = Poller(settings(feed), redis_client, http).poll(feed)
    assert (outcome.result, outcome.new) == ("new", 1), "the re-poll fetches and publishes"


def test_an_empty_item_is_skipped_and_said_the_others_published(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    body = rss([item(1)]).replace(b"</channel>", b'<item><guid isPermaLink="false">x</guid></item></channel>')
    url = feed_server.serve("/empty-item.xml", body)
    feed = FeedConfig(key="e", url=url)
    outcome = Poller(settings(feed), redis_client, http).poll(feed)
    assert (outcome.entries, outcome.new) == (2, 1)
    assert state.load(redis_client, "e").problem == "x: empty entry (no title, body or link) skipped"


def no_guid(n: int, link: str) -> dict[str, str]:
    return {"title": f"Headline {n}", "link": link,
            "description": f"<p>Text of item {n}.</p>", "pubDate": "Tue, 24 Nov 2026 10:00:00 GMT"}


@pytest.mark.parametrize("updates", [True, False])
def test_items_without_guid_sharing_one_link_are_each_a_story(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient,
        updates: bool) -> None:
    home = "https://site.example/news"
    url = feed_server.serve("/shared.xml", rss([no_guid(n, home) for n in range(3)]))
    feed = FeedConfig(key="s", url=url, updates=updates)
    outcome = Poller(settings(feed), redis_client, http).poll(feed)
    assert outcome.new == 3
    assert [s["title"] for s in published(redis_client)] == [
        "Headline 0", "Headline 1", "Headline 2"]
    assert len({s["id"] for s in published(redis_client)}) == 3


def test_an_item_whose_link_becomes_shared_later_is_not_published_again(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    page = "https://site.example/story"
    url = feed_server.serve("/later.xml", rss([no_guid(1, page)]))
    feed = FeedConfig(key="l", url=url)
    poller = Poller(settings(feed), redis_client, http)
    assert poller.poll(feed).new == 1
    feed_server.serve("/later.xml", rss([no_guid(2, page), no_guid(1, page)]))
    assert poller.poll(feed).new == 1, "only the second item is new"
    assert [s["title"] for s in published(redis_client)] == ["Headline 1", "Headline 2"]


def test_a_poll_writes_only_the_state_fields_that_change(redis_client: redis.Redis) -> None:
    """Most polls are 304s that change a timestamp: the rest of the state is not written."""
    fields = {"url": "http://x/f.xml", "result": "not modified", "status": 304,
              "validators": state.Validators(etag='"v1"'), "body_hash": None,
              "new_stories": 0, "problem": None}
    with redis_client.pipeline() as pipe:
        state.record_success(pipe, "f", **fields)  # type: ignore[arg-type]
        pipe.execute()
    redis_client.hset(state.feed_key("f"), "last_poll", "2026-01-01T00:00:00Z")
    previous = state.load(redis_client, "f")
    redis_client.hset(state.feed_key("f"), "etag", "written by no one")
    with redis_client.pipeline() as pipe:
        state.record_success(pipe, "f", previous=previous, **fields)  # type: ignore[arg-type]
        assert len(pipe.command_stack) == 1, "one HSET, no HINCRBY of 0 stories"
        pipe.execute()
    assert state.load(redis_client, "f").last_poll != "2026-01-01T00:00:00Z"
    assert state.load(redis_client, "f").etag == "written by no one", "unchanged: not written"
    changed = {**fields, "validators": state.Validators(etag='"v2"')}
    with redis_client.pipeline() as pipe:
        state.record_success(pipe, "f", previous=previous, **changed)  # type: ignore[arg-type]
        pipe.execute()
    assert state.load(redis_client, "f").etag == '"v2"'
