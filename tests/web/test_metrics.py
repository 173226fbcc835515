"""What /metrics counts, read by serve's collector from a real Redis after real polls: polls
by result, stories by event, near-duplicates, the duration histogram; and Redis away is one
sample, ``feedwatch_redis_up 0``, not an error page."""

from __future__ import annotations

from pathlib import Path

import redis
import yaml
from feedserver import FeedServer, item, rss

from worker.config import load_settings
from worker.service.runtime import Runtime
from worker.web.metrics import FeedwatchCollector

WIRE = ("<p>Russia said Friday it is withdrawing its aircraft carrier and other warships from "
        "the waters off Syria, following orders from President Vladimir Putin to scale back "
        "his forces as he casts himself as a peacemaker for the Middle Eastern country.</p>")


def samples(collector: FeedwatchCollector) -> dict[tuple[str, tuple[str, ...]], float]:
    return {(s.name, tuple(sorted(s.labels.values()))): s.value
            for family in collector.collect() for s in family.samples}


def test_polls_stories_and_near_duplicates_are_counted(
        tmp_path: Path, redis_url: str, redis_client: redis.Redis,
        feed_server: FeedServer) -> None:
    feed_server.serve("/a.xml", rss([item(1, site="http://a.example", description=WIRE)]))
    feed_server.serve("/b.xml", rss([item(2, site="http://b.example", description=WIRE)]))
    feed_server.fail("/down.xml", 503)
    config = tmp_path / "feeds.yaml"
    config.write_text(yaml.safe_dump({
        "redis_url": redis_url, "stream": "metrics:stories", "data_dir": str(tmp_path / "var"),
        "feeds": [{"key": "a", "url": feed_server.url("/a.xml")},
                  {"key": "b", "url": feed_server.url("/b.xml")},
                  {"key": "down", "url": feed_server.url("/down.xml")}]}), encoding="utf-8")
    settings = load_settings(config)
    runtime = Runtime(settings)
    runtime.poll_batch(["a"])
    runtime.poll_batch(["b", "down"])
    runtime.poll_batch(["a"])  # a 304 now
    runtime.drain()
    found = samples(FeedwatchCollector(redis_client, settings))
    assert found[("feedwatch_polls_total", ("new",))] == 2
    assert found[("feedwatch_polls_total", ("not_modified",))] == 1
    assert found[("feedwatch_polls_total", ("error",))] == 1
    assert found[("feedwatch_stories_published_total", ("new",))] == 2, "annotated, both kept"
    assert found[("feedwatch_near_duplicates_total", ())] == 1, "b's copy of a's story"
    assert found[("feedwatch_poll_duration_seconds_count", ())] == 4
    assert found[("feedwatch_stream_length", ())] == 2
    assert found[("feedwatch_redis_up", ())] == 1


def test_redis_away_is_redis_up_zero(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds: []\n", encoding="utf-8")
    gone = redis.Redis(port=1, socket_connect_timeout=0.2)
    found = samples(FeedwatchCollector(gone, load_settings(config)))
    assert found == {("feedwatch_redis_up", ()): 0}
