"""A running worker's config edited: a feed whose URL or interval changed is polled at the next
tick, with its new settings, and the other feeds keep their turn."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from configfile import Config, Feeds
from duetime import due_in
from feedserver import FeedServer, item, rss

from worker.config import load_settings
from worker.service.runtime import Runtime


@pytest.fixture
def running(tmp_path: Path, redis_url: str, redis_client: redis.Redis,
            feed_server: FeedServer) -> Iterator[tuple[Config, Runtime, Feeds]]:
    """A worker whose three feeds were each polled once and are due in 5 minutes."""
    config = Config(tmp_path / "feeds.yaml", redis_url)
    feeds = [{"key": key, "url": feed_server.serve(f"/{key}.xml", rss([item(1)]))}
             for key in ("a", "b", "c")]
    config.write(feeds)
    runtime = Runtime(load_settings(config.path))
    assert all(runtime.poll_batch(runtime.tick()))
    yield config, runtime, feeds
    runtime.client.close()


def test_a_feed_whose_url_changed_is_polled_there_at_the_next_tick(
        running: tuple[Config, Runtime, Feeds], feed_server: FeedServer,
        caplog: pytest.LogCaptureFixture) -> None:
    config, runtime, feeds = running
    feeds[1]["url"] = feed_server.serve("/b-moved.xml", rss([item(2)]))
    config.write(feeds)
    with caplog.at_level(logging.INFO, logger="feedwatch.runtime"):
        assert [b.key for b in runtime.tick()] == ["b"], "only the edited feed is due"
    assert "1 feed(s) changed in the config, due now: b" in caplog.text
    [outcome] = runtime.poll_batch(["b"])
    assert outcome is not None and outcome.new == 1
    assert len(feed_server.hits("/b-moved.xml")) == 1
    assert runtime.tick() == [], "due once, not at every tick"


def test_a_feed_whose_interval_changed_is_polled_at_the_next_tick_and_at_its_new_pace(
        running: tuple[Config, Runtime, Feeds]) -> None:
    config, runtime, feeds = running
    before = {key: runtime.schedule.next_due(key) for key in ("a", "c")}
    assert due_in(runtime, "b") > 140, "on its 300 s cadence: at least half a period away"
    feeds[1]["interval"] = 30
    config.write(feeds)
    assert [b.key for b in runtime.tick()] == ["b"], "only the edited feed is due"
    assert all(runtime.poll_batch(["b"]))
    assert due_in(runtime, "b") <= 45, "on its new 30 s cadence"
    assert {key: runtime.schedule.next_due(key) for key in ("a", "c")} == before, \
        "the other feeds keep their turn"


def test_poll_threads_edited_in_a_running_worker_says_it_waits_for_a_restart(
        running: tuple[Config, Runtime, Feeds], caplog: pytest.LogCaptureFixture) -> None:
    config, runtime, feeds = running
    config.write(feeds, poll_threads=8)
    with caplog.at_level(logging.WARNING, logger="feedwatch.runtime"):
        runtime.tick()
    assert "poll_threads changed in the config: it takes effect when the worker restarts " \
        "(still 256)" in caplog.text
