"""A changed feed is read without the items already through the publish step: the stories
published are the same as if it were read whole (see worker/parse/known_items.py)."""

from __future__ import annotations

import json

import pytest
import redis
from feedserver import FeedServer, item, rss

from worker.config import FeedConfig, Settings
from worker.fetch import HttpClient, new_client
from worker.parse import known_items
from worker.poll import Poller

STREAM = "test:stories"


@pytest.fixture
def http() -> HttpClient:
    return new_client("feedwatch-test", timeout=1.0)


def poller_for(client: redis.Redis, http: HttpClient, *feeds: FeedConfig) -> Poller:
    return Poller(Settings(path="<test>", feeds=feeds, stream=STREAM, timeout=1.0), client, http)


def events(client: redis.Redis) -> list[tuple[str, str]]:
    return [(fields[b"event"].decode(), json.loads(fields[b"story"])["title"])
            for _id, fields in client.xrange(STREAM)]


def test_only_the_new_item_of_a_changed_feed_is_read(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    items = [item(n) for n in range(30)]
    url = feed_server.serve("/f.xml", rss(items))
    feed = FeedConfig(key="f", url=url)
    poller = poller_for(redis_client, http, feed)
    first = poller.poll(feed)
    assert (first.entries, first.read, first.new) == (30, 30, 30)
    feed_server.serve("/f.xml", rss([item(30), *items]))
    second = poller.poll(feed)
    assert (second.entries, second.read, second.new) == (31, 1, 1)
    assert events(redis_client)[-1] == ("new", "Story number 30")


def test_an_edited_item_is_read_again_and_published_as_updated(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    url = feed_server.serve("/f.xml", rss([item(1), item(2)]))
    feed = FeedConfig(key="f", url=url)
    poller = poller_for(redis_client, http, feed)
    poller.poll(feed)
    feed_server.serve("/f.xml", rss([item(1, title="Story number 1, corrected"), item(2)]))
    outcome = poller.poll(feed)
    assert (outcome.read, outcome.new) == (1, 0)
    assert events(redis_client)[-1] == ("updated", "Story number 1, corrected")


def test_a_new_item_sharing_the_link_of_a_known_one_is_still_its_own_story(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    """Read whole, a link used by two items identifies neither; the known item's link digest
    tells the new item so, though the known item is not read."""
    shared = "http://news.example.com/live-blog.html"
    url = feed_server.serve("/f.xml", rss([item(1, link=shared)]))
    feed = FeedConfig(key="f", url=url)
    poller = poller_for(redis_client, http, feed)
    poller.poll(feed)
    feed_server.serve("/f.xml", rss([item(2, link=shared), item(1, link=shared)]))
    outcome = poller.poll(feed)
    assert (outcome.read, outcome.new) == (1, 1)
    assert events(redis_client)[-1] == ("new", "Story number 2")


def test_changed_settings_make_every_item_read_again(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    url = feed_server.serve("/f.xml", rss([item(1), item(2)]))
    feed = FeedConfig(key="f", url=url)
    poller_for(redis_client, http, feed).poll(feed)
    retagged = FeedConfig(key="f", url=url, tags=("politics",))
    feed_server.serve("/f.xml", rss([item(3), item(1), item(2)]))
    outcome = poller_for(redis_client, http, retagged).poll(retagged)
    assert (outcome.read, outcome.new) == (3, 1)


def test_a_document_that_cannot_be_cut_is_read_whole_every_time(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    def document(*numbers: int) -> bytes:
        return rss([item(n) for n in numbers]).replace(
            b"<rss", b'<!DOCTYPE rss [<!ENTITY x "x">]><rss', 1)
    url = feed_server.serve("/f.xml", document(1, 2))
    feed = FeedConfig(key="f", url=url)
    poller = poller_for(redis_client, http, feed)
    poller.poll(feed)
    feed_server.serve("/f.xml", document(3, 1, 2))
    outcome = poller.poll(feed)
    assert (outcome.entries, outcome.read, outcome.new) == (3, 3, 1)


def test_known_items_are_forgotten_under_another_fingerprint() -> None:
    mine, other = b"A" * 8, b"B" * 8
    items = {b"12345678": b"urld", b"abcdefgh": b"wxyz"}
    stored = known_items.pack(mine, items)
    assert known_items.unpack(stored, mine) == items
    assert known_items.unpack(stored, other) == {}
    assert known_items.unpack(stored[:-1], mine) == {}, "a damaged record is no record"
