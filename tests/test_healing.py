"""A worker's runtime against real local servers: failures heal, gone feeds retire, moved feeds
are learned, hosts are treated politely, batches are polled at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from duetime import due_in
from feedserver import FeedServer, Route, item, rss

from worker import state
from worker.config import FeedConfig, Settings
from worker.keys import LEASE_PREFIX
from worker.poll import Poller
from worker.report import status
from worker.schedule import Booking
from worker.schedule.hosts import BUSY_RETRY, host_of
from worker.service.runtime import Runtime

Make = Callable[..., Runtime]


@pytest.fixture
def runtime_for(redis_url: str, redis_client: redis.Redis) -> Iterator[Make]:
    made: list[Runtime] = []

    def make(*feeds: FeedConfig, **options: Any) -> Runtime:
        chosen: dict[str, Any] = {"allow_private_networks": True, "host_min_spacing": 0.0,
                                  "timeout": 1.0, **options}
        settings = Settings(path="<test>", feeds=feeds, redis_url=redis_url,
                            stream="test:stories", **chosen)
        made.append(Runtime(settings))
        made[-1].tick()
        return made[-1]

    yield make
    for runtime in made:
        runtime.client.close()


def test_errors_back_off_and_the_first_success_brings_the_interval_back(
        runtime_for: Make, feed_server: FeedServer, redis_client: redis.Redis) -> None:
    url = feed_server.fail("/flaky.xml", 500)
    runtime = runtime_for(FeedConfig(key="flaky", url=url, interval=10, max_interval=40))
    for _ in range(4):
        runtime.poll("flaky")
    remembered = state.load(redis_client, "flaky")
    assert (remembered.errors, remembered.interval) == (4, 40), "10, 20, 40, then the cap"
    assert remembered.interval_why == "backoff after 4 errors"
    assert 19 < due_in(runtime, "flaky") <= 40
    feed_server.serve("/flaky.xml", rss([item(1)]))
    assert runtime.poll("flaky").new == 1  # type: ignore[union-attr]
    healed = state.load(redis_client, "flaky")
    assert (healed.errors, healed.interval, healed.interval_why) == (0, 10, "configured")
    assert 5 <= due_in(runtime, "flaky") <= 15, "back on its 10 s cadence"


def test_gone_feeds_retire_and_a_new_url_revives_them(
        runtime_for: Make, feed_server: FeedServer, redis_client: redis.Redis) -> None:
    gone = FeedConfig(key="gone", url=feed_server.fail("/gone.xml", 410))
    runtime = runtime_for(gone, FeedConfig(key="fine", url=feed_server.serve("/f", rss([]))))
    runtime.poll("gone")
    assert runtime.schedule.next_due("gone") is None, "out of the schedule"
    assert (state.load(redis_client, "gone").retired or "").startswith("410 Gone")
    later = runtime_for(gone)
    assert later.schedule.next_due("gone") is None, "a resync does not bring it back"
    moved = FeedConfig(key="gone", url=feed_server.serve("/moved.xml", rss([item(1)])))
    revived = runtime_for(moved)
    assert revived.schedule.next_due("gone") is not None, "scheduled again"
    assert revived.poll("gone").new == 1  # type: ignore[union-attr]
    assert state.load(redis_client, "gone").retired is None


@pytest.mark.parametrize(("permanent", "temporary"), [(301, 302), (308, 307)])
def test_a_permanent_redirect_is_learned_a_temporary_one_never(
        runtime_for: Make, feed_server: FeedServer, redis_client: redis.Redis,
        permanent: int, temporary: int) -> None:
    new = feed_server.serve("/new.xml", rss([item(1)]))
    feed_server.routes["/old.xml"] = Route(status=permanent, headers={"Location": new})
    feed_server.routes["/temp.xml"] = Route(status=temporary, headers={"Location": new})
    runtime = runtime_for(FeedConfig(key="old", url=feed_server.url("/old.xml")),
                          FeedConfig(key="temp", url=feed_server.url("/temp.xml")))
    for _ in range(3):
        runtime.poll("old")
        runtime.poll("temp")
    assert state.load(redis_client, "old").location == new
    assert state.load(redis_client, "temp").location is None
    old_hits, temp_hits = len(feed_server.hits("/old.xml")), len(feed_server.hits("/temp.xml"))
    runtime.poll("old")
    runtime.poll("temp")
    assert len(feed_server.hits("/old.xml")) == old_hits, "the new address is polled directly"
    assert len(feed_server.hits("/temp.xml")) == temp_hits + 1


def test_a_feed_that_moved_to_another_host_is_paced_there_from_the_poll_that_learned_it(
        runtime_for: Make, feed_server: FeedServer) -> None:
    new = feed_server.serve("/new.xml", rss([item(1)])).replace("127.0.0.1", "localhost")
    feed_server.routes["/old.xml"] = Route(status=301, headers={"Location": new})
    runtime = runtime_for(FeedConfig(key="old", url=feed_server.url("/old.xml")))
    for _ in range(3):
        runtime.poll("old")
    assert runtime.schedule.hosts() == {"old": host_of(new)}, "scheduled under its new host"


def test_redirects_into_the_private_network_are_refused_unless_allowed(
        runtime_for: Make, feed_server: FeedServer, redis_client: redis.Redis) -> None:
    target = feed_server.serve("/internal.xml", rss([item(1)]))
    feed_server.routes["/feed.xml"] = Route(status=302, headers={"Location": target})
    feed = FeedConfig(key="f", url=feed_server.url("/feed.xml"))
    guarded = runtime_for(feed, allow_private_networks=False)
    outcome = guarded.poll("f")
    assert outcome is not None and outcome.result == "error"
    assert "refused to connect to 127.0.0.1" in (outcome.error or "")
    assert feed_server.hits("/internal.xml") == []
    assert runtime_for(feed).poll("f").new == 1  # type: ignore[union-attr]


def test_asked_to_wait_pauses_the_whole_host_and_is_no_error(
        runtime_for: Make, feed_server: FeedServer, redis_client: redis.Redis) -> None:
    feed_server.routes["/busy.xml"] = Route(status=429, headers={"Retry-After": "7200"})
    runtime = runtime_for(FeedConfig(key="busy", url=feed_server.url("/busy.xml")),
                          FeedConfig(key="next", url=feed_server.serve("/n", rss([item(1)]))))
    outcome = runtime.poll("busy")
    assert outcome is not None and outcome.result == "asked to wait"
    remembered = state.load(redis_client, "busy")
    assert (remembered.errors, remembered.last_status) == (0, 429)
    assert remembered.interval_why == "asked to wait (HTTP 429 Retry-After)"
    assert due_in(runtime, "busy") > 7199
    assert runtime.poll("next") is None, "same host: not polled now"
    assert feed_server.hits("/n") == []
    assert due_in(runtime, "next") > 7198


def test_a_batch_is_polled_at_once_within_the_host_cap(
        runtime_for: Make, feed_server: FeedServer) -> None:
    """Six feeds of one host allowed three requests at once: three go, and each of the others
    takes the slot a finished one frees, without going back to the schedule."""
    feeds = [FeedConfig(key=f"f{n}", url=feed_server.serve(f"/f{n}", rss([item(n)]), delay=0.5))
             for n in range(6)]
    runtime = runtime_for(*feeds, host_max_concurrent=3)
    started = time.monotonic()
    outcomes = runtime.poll_batch([f.key for f in feeds])
    took = time.monotonic() - started
    assert 1.0 <= took < 1.4 + BUSY_RETRY, f"three at once, then three more: {took:.2f} s"
    assert all(o is not None and o.new == 1 for o in outcomes)
    assert feed_server.most_at_once == 3


@pytest.mark.parametrize(("threads", "rounds"), [(20, 1), (10, 2)])
def test_a_process_keeps_as_many_slow_origins_in_flight_as_it_has_poll_threads(
        runtime_for: Make, feed_server: FeedServer, threads: int, rounds: int) -> None:
    """20 origins taking a second each: polled in one second with 20 threads (past the 8
    connections a host's pool once held), in two with 10."""
    feeds = [FeedConfig(key=f"f{n}", url=feed_server.serve(f"/f{n}", rss([item(n)]), delay=1.0))
             for n in range(20)]
    runtime = runtime_for(*feeds, host_max_concurrent=100, poll_threads=threads, timeout=5.0)
    started = time.monotonic()
    outcomes = runtime.poll_batch([f.key for f in feeds])
    took = time.monotonic() - started
    assert all(o is not None and o.new == 1 for o in outcomes)
    assert rounds <= took < rounds + 0.9, f"{rounds} round(s) of one-second origins"


def test_polls_of_one_host_are_spaced(runtime_for: Make, feed_server: FeedServer) -> None:
    feeds = [FeedConfig(key=f"s{n}", url=feed_server.serve(f"/s{n}", rss([item(n)])))
             for n in range(4)]
    runtime = runtime_for(*feeds, host_min_spacing=0.3)
    started = time.monotonic()
    assert all(runtime.poll_batch([f.key for f in feeds]))
    assert time.monotonic() - started >= 0.9, "4 starts, 0.3 s apart"


def test_a_feed_leased_by_another_worker_is_skipped(
        runtime_for: Make, feed_server: FeedServer, redis_client: redis.Redis) -> None:
    runtime = runtime_for(FeedConfig(key="f", url=feed_server.serve("/f", rss([item(1)]))))
    redis_client.set(LEASE_PREFIX + "f", "another worker's token", px=60_000)
    assert runtime.poll_batch(["f"]) == [None]
    assert feed_server.hits("/f") == []


def test_a_state_read_before_another_workers_poll_is_read_again_under_the_lease(
        runtime_for: Make, feed_server: FeedServer, redis_client: redis.Redis) -> None:
    """A batch reads its feeds' states before it takes each feed's lease. When another
    worker polls a feed in between, the poll starts from that worker's state (its
    validators, its known stories), not from the stale copy."""
    url = feed_server.serve("/f", rss([item(1)]))
    runtime = runtime_for(FeedConfig(key="f", url=url))
    [(feed, stale)] = runtime._load(["f"])
    assert runtime.poll("f").new == 1  # type: ignore[union-attr]  # the other worker
    feed_server.serve("/f", rss([item(1), item(2)]))
    assert runtime.poll("f").new == 1  # type: ignore[union-attr]
    outcome = runtime._poll_leased(feed, stale, runtime.poller,
                                   Booking("f", "", time.time(), time.time()))
    assert outcome is not None and outcome.status == 304, "sent the newer ETag"
    assert feed_server.hits("/f")[-1].get("If-None-Match")
    assert state.load(redis_client, "f").stories == 2, "nothing counted twice"


def test_a_feed_that_crashes_costs_nothing_to_the_rest_of_its_batch(
        runtime_for: Make, feed_server: FeedServer, redis_client: redis.Redis,
        monkeypatch: pytest.MonkeyPatch) -> None:
    feeds = [FeedConfig(key=key, url=feed_server.serve(f"/{key}", rss([item(n)])))
             for n, key in enumerate(["a", "crash", "b"])]
    runtime = runtime_for(*feeds)
    real = Poller.poll

    def poll(self: Poller, feed: FeedConfig, *args: Any, **options: Any) -> Any:
        if feed.key == "crash":
            raise ConnectionError("lost the Redis server mid-poll")
        return real(self, feed, *args, **options)

    monkeypatch.setattr(Poller, "poll", poll)
    outcomes = runtime.poll_batch(["a", "crash", "b"])
    assert [o is not None and o.new for o in outcomes] == [1, False, 1]
    assert due_in(runtime, "crash") > 250, "rescheduled at its interval"
    assert not redis_client.exists(LEASE_PREFIX + "crash"), "its lease was released"


def test_a_poll_that_crashes_shows_in_the_feeds_status(
        runtime_for: Make, feed_server: FeedServer, redis_client: redis.Redis,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug met by one feed's poll is that feed's error, as a failed fetch is: the user sees
    it in ``feedwatch status --broken`` instead of a feed that quietly stopped changing."""
    feed = FeedConfig(key="buggy", url=feed_server.serve("/buggy", rss([item(1)])))
    runtime = runtime_for(feed)
    assert runtime.poll_batch(["buggy"])[0].new == 1  # type: ignore[union-attr]
    etag = state.load(redis_client, "buggy").etag

    def poll(self: Poller, feed: FeedConfig, *args: Any, **options: Any) -> Any:
        raise RuntimeError("a bug met by this feed")

    monkeypatch.setattr(Poller, "poll", poll)
    assert runtime.poll_batch(["buggy"]) == [None]
    remembered = state.load(redis_client, "buggy")
    assert remembered.last_error == ("internal error (please report it): RuntimeError: "
                                     "a bug met by this feed")
    assert remembered.errors == 1
    assert etag and remembered.etag == etag, "the validators stay as the last good poll left them"
    assert not status.collect(redis_client, runtime.settings)[0].healthy
    assert due_in(runtime, "buggy") > 250, "polled again at its interval"


def test_the_interval_is_never_shorter_than_the_publisher_asks(
        runtime_for: Make, feed_server: FeedServer, redis_client: redis.Redis) -> None:
    url = feed_server.serve("/cached.xml", rss([item(1)]),
                            headers={"Cache-Control": "public, max-age=900"})
    runtime = runtime_for(FeedConfig(key="cached", url=url, interval=60))
    runtime.poll("cached")
    runtime.poll("cached")
    remembered = state.load(redis_client, "cached")
    assert remembered.last_result == "not modified"
    assert (remembered.interval, remembered.interval_why) == (
        900, "publisher asks: Cache-Control max-age=900")
    assert 899 < due_in(runtime, "cached") <= 990


def test_a_tick_claims_no_more_than_the_queue_has_room_for(
        runtime_for: Make, redis_client: redis.Redis) -> None:
    """Workers that fall behind do not get a growing backlog: feeds waiting in the broker's
    queue count against a tick's limit, and the rest stay due in the schedule."""
    feeds = [FeedConfig(key=f"f{n}", url=f"http://127.0.0.1:{9000 + n}/") for n in range(100)]
    runtime = runtime_for(*feeds)
    for feed in feeds:
        runtime.schedule.reschedule(feed.key, 0)  # all due again
    redis_client.delete("test:queue")
    redis_client.rpush("test:queue", *range(7))
    claimed = runtime.tick(limit=100, queue="test:queue", feeds_per_task=10)
    assert len(claimed) == 30, "7 waiting tasks of 10 feeds leave room for 30"
    redis_client.rpush("test:queue", *range(3))
    assert runtime.tick(limit=100, queue="test:queue", feeds_per_task=10) == []
    redis_client.delete("test:queue")
    assert len(runtime.tick(limit=100, queue="test:queue", feeds_per_task=10)) == 70


def test_a_batch_is_handed_over_without_waiting_for_its_slowest_feed(
        runtime_for: Make, feed_server: FeedServer) -> None:
    """A poll task returns once its feeds are in the process's hands, so the process takes
    the next batch while a slow origin still answers; draining waits for them all."""
    slow = FeedConfig(key="slow", url=feed_server.serve("/slow", rss([item(1)]), delay=0.8))
    fast = FeedConfig(key="fast", url=feed_server.serve("/fast", rss([item(2)])))
    runtime = runtime_for(slow, fast)
    handed = time.monotonic()
    started = runtime.start_batch(["slow", "fast", "not in the config"])
    assert time.monotonic() - handed < 0.5
    assert set(started) == {"slow", "fast"}
    assert not started["slow"].done()
    runtime.drain()
    assert started["slow"].done() and started["slow"].result().new == 1  # type: ignore[union-attr]
    assert started["fast"].result().new == 1  # type: ignore[union-attr]
