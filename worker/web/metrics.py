"""``/metrics``: what the workers counted (:mod:`worker.service.counters`) and what Redis holds
now, in the Prometheus text format, every name under ``feedwatch_``.

No metric has a per-feed label: 100,000 feeds would be 100,000 series. Feeds are counted by
state, and hosts by how many of their feeds are late.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import cast

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from worker.config import Settings
from worker.keys import HOSTS_DUE_KEY, METRICS_KEY, dead_stream
from worker.report import groups as consumer_groups
from worker.report import status as status_report
from worker.service import counters, heartbeat


class FeedwatchCollector(Collector):
    """Reads Redis at each scrape; with Redis unreachable only ``feedwatch_redis_up`` (0)."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self._client = client
        self._settings = settings

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        try:
            self._client.ping()
        except (redis.ConnectionError, redis.TimeoutError):
            yield GaugeMetricFamily("feedwatch_redis_up", "Whether Redis answers", value=0)
            return
        yield GaugeMetricFamily("feedwatch_redis_up", "Whether Redis answers", value=1)
        now = time.time()
        found = counters.read(self._client.hgetall(METRICS_KEY))  # type: ignore[arg-type]
        yield from _counted(found)
        yield from self._feeds(now)
        yield from self._stream(now)
        yield from self._heartbeats(now)

    def _feeds(self, now: float) -> Iterator[GaugeMetricFamily]:
        rows = status_report.collect(self._client, self._settings, now)
        states = Counter(row.state for row in rows if row.enabled)
        feeds = GaugeMetricFamily("feedwatch_feeds", "Enabled feeds by state", labels=["state"])
        for name in status_report.FEED_STATES:
            feeds.add_metric([name], states[name])
        yield feeds
        hosts = GaugeMetricFamily("feedwatch_host_late_feeds",
                                  "Feeds waiting past their due time, per host with any",
                                  labels=["host"])
        for host in status_report.collect_hosts(self._client, self._settings, now):
            if host.late:
                hosts.add_metric([host.host], host.late)
        yield hosts
        earliest = cast(list[tuple[bytes, float]],
                        self._client.zrange(HOSTS_DUE_KEY, 0, 0, withscores=True))
        lag = max(0.0, now - earliest[0][1]) if earliest else 0.0
        yield GaugeMetricFamily("feedwatch_schedule_lag_seconds",
                                "How late the most overdue host's next feed is", value=lag)

    def _stream(self, now: float) -> Iterator[GaugeMetricFamily]:
        stream = self._settings.stream
        length = self._client.xlen(stream)
        yield GaugeMetricFamily("feedwatch_stream_length", "Entries on the output stream",
                                value=length)
        first = cast(list[tuple[bytes, object]], self._client.xrange(stream, count=1))
        age = now - int(first[0][0].split(b"-")[0]) / 1000 if first else 0.0
        yield GaugeMetricFamily("feedwatch_stream_oldest_age_seconds",
                                "Age of the oldest entry the stream keeps", value=max(0.0, age))
        yield GaugeMetricFamily("feedwatch_dead_letters",
                                "Entries that could not become stories (the dead-letter stream)",
                                value=self._client.xlen(dead_stream(stream)))
        lag = GaugeMetricFamily("feedwatch_consumer_group_lag",
                                "Stream entries a consumer group has not read yet",
                                labels=["group"])
        pending = GaugeMetricFamily("feedwatch_consumer_group_pending",
                                    "Entries a consumer group read and has not acknowledged",
                                    labels=["group"])
        at_risk = GaugeMetricFamily(
            "feedwatch_consumer_group_at_risk",
            "1 when a consumer group's backlog reached 80% of a retention limit (as `status` "
            "warns): trimming is about to take stories it has not handled", labels=["group"])
        for group in consumer_groups.collect(self._client, self._settings, now):
            if group.lag is not None:
                lag.add_metric([group.name], group.lag)
            pending.add_metric([group.name], group.pending)
            at_risk.add_metric([group.name], 1 if group.warning else 0)
        yield lag
        yield pending
        yield at_risk

    def _heartbeats(self, now: float) -> Iterator[GaugeMetricFamily]:
        ages = GaugeMetricFamily("feedwatch_heartbeat_age_seconds",
                                 "Seconds since a beat sent a tick, or a worker took a task",
                                 labels=["role", "host"])
        for name, seen in sorted(heartbeat.seen(self._client).items()):
            role, _, host = name.partition(":")
            ages.add_metric([role, host], max(0.0, now - seen))
        yield ages


def _counted(found: dict[str, int]) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
    polls = CounterMetricFamily("feedwatch_polls", "Polls by result", labels=["result"])
    for result in counters.RESULTS:
        polls.add_metric([result.replace(" ", "_")], found.get(counters.poll_field(result), 0))
    yield polls
    stories = CounterMetricFamily("feedwatch_stories_published",
                                  "Stories pushed onto the stream, by event", labels=["event"])
    for event in ("new", "updated"):
        stories.add_metric([event], found.get(counters.stories_field(event), 0))
    yield stories
    yield CounterMetricFamily(
        "feedwatch_near_duplicates", "New stories found to be near-duplicates of earlier ones "
        "(annotated or dropped, as each feed's near_duplicates says)",
        value=found.get(counters.NEAR_DUPLICATES, 0))
    buckets, total = [], 0
    bounds = [*map(str, counters.DURATION_BUCKETS), "+Inf"]
    for index, bound in enumerate(bounds):
        total += found.get(counters.bucket_field(index), 0)
        buckets.append((bound, total))
    yield HistogramMetricFamily("feedwatch_poll_duration_seconds",
                                "Time from a poll's host turn to its end", buckets=buckets,
                                sum_value=found.get(counters.DURATION_SUM, 0) / 1e6)
