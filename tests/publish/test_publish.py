"""Dedupe and publish in one atomic step, against a real Valkey/Redis server."""

from __future__ import annotations

import json
import threading
import time

import pytest
import redis

from worker.dedupe import digest, marks, shared_urls
from worker.keys import SEEN_PREFIX
from worker.publish import DAY, Publisher, SeenMemory, mark_record
from worker.story import Media, Story
from worker.story.identity import story_id

STREAM = "test:stories"


def story(feed: str, guid: str | None, url: str | None, title: str = "t") -> Story:
    return Story(id=story_id(feed, guid, url, title), feed=feed, guid=guid, url=url, title=title,
                 media=[Media(type="image", url="http://img.example/x.jpg")])


def entries(client: redis.Redis) -> list[dict[str, str]]:
    return [{k.decode(): v.decode() for k, v in fields.items()}
            for _id, fields in client.xrange(STREAM)]


def test_a_story_is_published_once_with_the_contract_fields(redis_client: redis.Redis) -> None:
    publisher = Publisher(redis_client, STREAM, 1000)
    first = story("cnn", "g1", "http://cnn.example/a")
    assert publisher.publish([first]).new == [first]
    assert publisher.publish([first]).new == [], "a re-poll publishes nothing"
    [entry] = entries(redis_client)
    assert entry["event"] == "new"
    assert entry["id"] == first.id
    assert entry["feed"] == "cnn"
    assert json.loads(entry["story"]) == first.to_dict()


def test_the_same_url_in_two_feeds_is_one_story(redis_client: redis.Redis) -> None:
    publisher = Publisher(redis_client, STREAM, 1000)
    a = story("cnn-top", "cnn-1", "http://cnn.example/story")
    b = story("cnn-world", "world-7", "http://cnn.example/story")
    assert publisher.publish([a]).new == [a]
    assert publisher.publish([b]).new == []
    assert len(entries(redis_client)) == 1


def test_the_same_guid_under_a_new_url_is_the_same_story(redis_client: redis.Redis) -> None:
    publisher = Publisher(redis_client, STREAM, 1000)
    publisher.publish([story("f", "g1", "http://x.example/a")])
    assert publisher.publish([story("f", "g1", "http://x.example/a-renamed")]).new == []


def test_the_same_guid_in_two_feeds_is_two_stories(redis_client: redis.Redis) -> None:
    """Guids are only unique within a feed: "1", "2", ... are common."""
    publisher = Publisher(redis_client, STREAM, 1000)
    assert len(publisher.publish([story("a", "1", "http://a.example/1")]).new) == 1
    assert len(publisher.publish([story("b", "1", "http://b.example/1")]).new) == 1


def test_items_sharing_the_home_page_link_stay_distinct(redis_client: redis.Redis) -> None:
    publisher = Publisher(redis_client, STREAM, 1000)
    home = "http://blog.example/"
    items = [story("blog", f"post-{n}", home, title=f"Post {n}") for n in range(3)]
    shared = shared_urls([s.url for s in items], home)
    assert publisher.publish(items, shared).new == items
    later = story("blog", "post-3", home, title="Post 3")
    assert publisher.publish([later], shared_urls([home], home)).new == [later]


def test_items_without_guid_or_url_are_kept_apart_by_their_id(redis_client: redis.Redis) -> None:
    publisher = Publisher(redis_client, STREAM, 1000)
    items = [story("f", None, None, title=f"T{n}") for n in range(2)]
    assert publisher.publish(items).new == items
    assert publisher.publish(items).new == []


def test_racing_publishers_yield_exactly_one_entry_per_story(redis_url: str,
                                                             redis_client: redis.Redis) -> None:
    batch = [story("f", f"g{n}", f"http://x.example/{n}") for n in range(200)]
    published: list[int] = []

    def race() -> None:
        client = redis.Redis.from_url(redis_url)
        published.append(len(Publisher(client, STREAM, 10_000).publish(batch).new))

    threads = [threading.Thread(target=race) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(published) == 200
    assert sorted(e["id"] for e in entries(redis_client)) == sorted(s.id for s in batch)


def test_the_stream_is_trimmed_near_its_retention_length(redis_client: redis.Redis) -> None:
    publisher = Publisher(redis_client, STREAM, 100)
    publisher.publish([story("f", f"g{n}", f"http://x.example/{n}") for n in range(1000)])
    assert 100 <= redis_client.xlen(STREAM) < 300


def test_shared_urls_finds_repeated_links_home_page_and_site_roots() -> None:
    urls = ["http://a.example/1", "http://a.example/2", "http://a.example/2",
            "http://a.example/", "http://b.example", "http://a.example/home/"]
    assert shared_urls(urls, home="http://a.example/home") == {
        "http://a.example/2", "http://a.example/", "http://b.example", "http://a.example/home/"}


def test_story_ids_are_stable_and_feed_specific() -> None:
    assert story_id("a", "g", None) == story_id("a", "g", "http://other")
    assert story_id("a", "g", None) != story_id("b", "g", None)
    assert len(story_id("a", "g", None)) == 32


def test_a_story_is_remembered_for_the_window_and_forgotten_after_it(
        redis_client: redis.Redis) -> None:
    publisher = Publisher(redis_client, STREAM, 1000, seen_days=90)
    start = time.time()
    first = story("f", "g1", "http://x.example/1")
    assert publisher.publish([first], now=start).new == [first]
    for later in (1, 30, 60, 89.9):
        assert publisher.publish([first], now=start + later * DAY).new == [], f"day {later}"
    assert publisher.publish([first], now=start + 121 * DAY).new == [first], "after 4/3 window"


def test_a_record_is_only_found_at_a_record_boundary(redis_client: redis.Redis) -> None:
    """The shard strings are packed 6-byte records: bytes that straddle two are no match."""
    publisher = Publisher(redis_client, STREAM, 1000)
    lone = story("f", None, None, title="lone")
    [mark] = marks(lone)
    now = time.time()
    key = SeenMemory(90).keys(digest(mark), now)[0]
    record = mark_record(digest(mark))
    assert len(record) == 6
    redis_client.set(key, b"\xff" * 3 + record + b"\xff" * 3)
    assert publisher.publish([lone], now=now).new == [lone]
    assert redis_client.strlen(key) == 18, "appended as the third record"
    assert publisher.publish([lone], now=now).new == []


def test_the_memory_per_story_stays_small(redis_client: redis.Redis) -> None:
    """Two marks of 6 bytes each, plus the strings' own overhead (bench/seen_memory.py)."""
    publisher = Publisher(redis_client, STREAM, 100)
    now = time.time()
    for first in range(0, 4000, 1000):
        publisher.publish([story("f", f"g{n}", f"http://x.example/{n}")
                           for n in range(first, first + 1000)], now=now, updates=False)
    keys = list(redis_client.scan_iter(f"{SEEN_PREFIX}*"))
    assert sum(redis_client.strlen(k) for k in keys) == 4000 * 2 * 6


@pytest.mark.parametrize("new_window", [30, 365])
def test_changing_the_seen_window_forgets_nothing_already_remembered(
        redis_client: redis.Redis, new_window: int) -> None:
    start = time.time()
    first = story("f", "g1", "http://x.example/1")
    assert Publisher(redis_client, STREAM, 1000, seen_days=90).publish([first], now=start).new
    later = Publisher(redis_client, STREAM, 1000, seen_days=new_window)
    assert later.publish([first], now=start + DAY).new == [], "still known after the change"
