"""Per-host pacing seen from a worker's runtime: the host settings in the config and their hot
reload, the overload report and the even stretch, and article fetches under the same limits."""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from configfile import Config, Feeds
from duetime import due_in
from feedserver import FeedServer, item, rss
from processes import environment

from worker.config import load_settings
from worker.report import status
from worker.service.runtime import Runtime


@pytest.fixture
def config(tmp_path: Path, redis_url: str) -> Config:
    return Config(tmp_path / "feeds.yaml", redis_url)


@pytest.fixture
def runtimes() -> Iterator[list[Runtime]]:
    made: list[Runtime] = []
    yield made
    for runtime in made:
        runtime.drain()
        runtime.client.close()


def host_of_server(server: FeedServer) -> str:
    return server.url("/").split("/")[2]


def spacings(starts: list[float]) -> list[float]:
    return [round(b - a, 3) for a, b in itertools.pairwise(starts)]


def test_host_settings_pace_the_bookings_and_a_config_edit_takes_effect_at_the_next_tick(
        config: Config, feed_server: FeedServer, runtimes: list[Runtime]) -> None:
    feeds: Feeds = [{"key": f"f{n}", "url": feed_server.serve(f"/f{n}.xml", rss([item(n)]))}
                    for n in range(40)]
    host = host_of_server(feed_server)
    config.write(feeds, per_host={"min_spacing": 0.2},
                 hosts={"127.0.0.1": {"min_spacing": 9}, host: {"min_spacing": 0.5}})
    runtime = Runtime(load_settings(config.path))
    runtimes.append(runtime)
    booked = runtime.tick()
    assert len(booked) == 13, "the 6 s until past the next tick hold 13 starts 0.5 s apart"
    assert set(spacings([b.start for b in booked])) == {0.5}, "the entry with the port wins over the bare name"

    config.write(feeds, per_host={"min_spacing": 0.2}, hosts={host: {"min_spacing": 2.0}})
    assert runtime.tick() == [], "the host is booked until past the next tick"
    assert runtime.settings.host_policy(host).min_spacing == 2.0, "reloaded without a restart"
    at = time.time() + 7  # the next tick
    later = runtime.schedule.claim(100, 6.0, runtime.settings.host_policy, now=at)
    assert set(spacings([b.start for b in later])) == {2.0}
    assert len(later) == 4, "4 starts 2 s apart in 6 s"
    assert not {b.key for b in later} & {b.key for b in booked}, "the feeds not booked yet"


def test_an_overloaded_host_is_reported_once_and_its_feeds_stretch_evenly(
        config: Config, feed_server: FeedServer, runtimes: list[Runtime],
        caplog: pytest.LogCaptureFixture, redis_url: str) -> None:
    feeds: Feeds = [{"key": f"f{n}", "interval": 10,
                     "url": feed_server.serve(f"/f{n}.xml", rss([item(n)]))} for n in range(50)]
    host = host_of_server(feed_server)
    config.write(feeds, hosts={host: {"min_spacing": 1.0}})
    runtime = Runtime(load_settings(config.path))
    runtimes.append(runtime)
    expected = (f"{host}: 50 feeds need 5.0 requests/s at their intervals; its limits allow "
                "1.0; intervals stretched 5.56 times to use 90% of that, polls run 46 s late")
    with caplog.at_level(logging.WARNING, logger="feedwatch.runtime"):
        booked = runtime.tick()
    assert caplog.text.count(expected) == 1
    [row] = status.collect_hosts(runtime.client, runtime.settings)
    assert (row.host, row.feeds, row.stretch) == (host, 50, pytest.approx(5 / 0.9))
    assert status.overload_lines([row]) == [expected], "feedwatch status says it too"

    [outcome] = runtime.poll_batch(booked[:1])
    assert outcome is not None and outcome.new == 1
    assert due_in(runtime, booked[0].key) > 20, \
        "its 10 s interval stretched 5.6 times: at least half of 56 s away, not 5 to 15 s"
    listed = subprocess.run(
        [sys.executable, "-m", "worker.cli", "status", "--hosts", "--json",
         "--config", str(config.path)],
        env=environment(REDIS_URL=redis_url), capture_output=True, text=True, check=True)
    [shown] = json.loads(listed.stdout)
    assert shown["host"] == host and shown["stretch"] == pytest.approx(5 / 0.9)
    assert shown["requests_per_second"] > 0 and shown["min_spacing"] == 1.0

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="feedwatch.runtime"):
        runtime.tick()
    assert expected not in caplog.text, "said once, not at every resync"
    config.write(feeds, hosts={host: {"min_spacing": 0.05}})
    with caplog.at_level(logging.WARNING, logger="feedwatch.runtime"):
        runtime.tick()
    assert f"{host}: its feeds fit its limits again" in caplog.text
    assert status.collect_hosts(runtime.client, runtime.settings)[0].stretch == 1.0


def test_article_fetches_take_their_turns_from_the_feed_host_s_limits(
        config: Config, feed_server: FeedServer, runtimes: list[Runtime]) -> None:
    """Two teaser feeds whose articles live on their own host, one request at a time there:
    the second feed's fetch and the first feed's article fetches never overlap."""
    site = feed_server.url("")
    feeds: Feeds = []
    for n in range(2):
        for k in range(3):
            feed_server.serve(f"/story/{n}/{k}", b"<html><body><article><p>" + b"Words. " * 80
                              + b"</p></article></body></html>", delay=0.2,
                              content_type="text/html; charset=utf-8")
        entries = [item(10 * n + k, site=site, link=f"{site}/story/{n}/{k}",
                        guid=f"{site}/story/{n}/{k}") for k in range(3)]
        feeds.append({"key": f"f{n}", "full_text": "always",
                      "url": feed_server.serve(f"/f{n}.xml", rss(entries), delay=0.2)})
    config.write(feeds, per_host={"max_concurrent": 1, "min_spacing": 0.01})
    runtime = Runtime(load_settings(config.path))
    runtimes.append(runtime)
    outcomes = runtime.poll_batch(runtime.tick())
    assert [o.new if o else None for o in outcomes] == [3, 3]
    assert len(feed_server.hits("/story/1/2")) == 1, "the articles were fetched"
    assert feed_server.most_at_once == 1, "one request at a time on the host, articles too"


def test_a_tick_over_many_hosts_books_each_at_once(
        config: Config, runtimes: list[Runtime], redis_client: redis.Redis) -> None:
    """Hosts with nothing in flight get their due feeds started at the tick, whatever a big
    host's backlog: 2,000 feeds on one host and one feed on each of 300 others."""
    feeds: Feeds = [{"key": f"big{n}", "url": f"http://big.example/{n}"} for n in range(2000)]
    feeds += [{"key": f"s{n}", "url": f"http://s{n}.example/feed"} for n in range(300)]
    config.write(feeds, per_host={"min_spacing": 0.2})
    runtime = Runtime(load_settings(config.path))
    runtimes.append(runtime)
    began = time.time()
    booked = runtime.tick()
    small = [b for b in booked if b.host != "big.example"]
    assert len(small) == 300 and all(b.start - began < 1 for b in small)
    assert len(booked) - len(small) == 31


def test_a_booking_that_reaches_a_worker_a_lease_late_is_not_polled(
        config: Config, feed_server: FeedServer, runtimes: list[Runtime],
        caplog: pytest.LogCaptureFixture) -> None:
    """Workers far behind: a booking whose claim ran out is the tick's again, so the worker
    drops it instead of polling the feed a second time beside its new booking."""
    config.write([{"key": "late", "url": feed_server.serve("/late.xml", rss([item(1)]))}])
    runtime = Runtime(load_settings(config.path))
    runtimes.append(runtime)
    [booking] = runtime.tick()
    stale = dataclasses.replace(booking, start=booking.start - runtime.schedule.lease_seconds - 1)
    with caplog.at_level(logging.WARNING, logger="feedwatch.runtime"):
        assert runtime.poll_batch([stale]) == [None]
    assert "booked start passed a lease ago, not polled" in caplog.text
    assert feed_server.hits("/late.xml") == []
    assert runtime.poll_batch([booking])[0] is not None, "a booking on time is polled"
