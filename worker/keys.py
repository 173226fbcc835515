"""Every Redis key name feedwatch uses, in one place.

The names never change between releases, so what a server already holds stays readable after
an upgrade. Keys per feed, host or story are a prefix and the feed key, host or id; the
dead-letter keys follow the configured stream's name.
"""

from __future__ import annotations

DEFAULT_STREAM = "feedwatch:stories"
"""The output stream, unless the config names another."""

FEED_PREFIX = "feedwatch:feed:"
"""Hash per feed: what is remembered between polls (:mod:`worker.state`)."""

SEEN_PREFIX = "feedwatch:seen:"
"""Seen-marks of published stories, one generation per key (:mod:`worker.publish`)."""
REVISION_PREFIX = "feedwatch:revision:"
"""What a published story said last, to tell an update that is news (:mod:`worker.publish`)."""

NEAR_PREFIX = "feedwatch:near:"
NEAR_GENERATION_PREFIX = NEAR_PREFIX + "generation:"
"""Hash per period of the near-duplicate index: its generations and their bucket counts
(:mod:`worker.dedupe.neardup_index`)."""
NEAR_RECORDS_PREFIX = NEAR_PREFIX + "records:"
"""Strings of remembered stories' signatures, per period, generation and chunk."""
NEAR_BAND_PREFIX = NEAR_PREFIX + "band:"
"""Hashes per period, generation and bucket: band values to the stories recorded under them."""

DUE_PREFIX = "feedwatch:due:"
"""Sorted set per host: its feeds by due time (:mod:`worker.schedule`)."""
HOSTS_DUE_KEY = "feedwatch:hosts-due"
"""Sorted set of hosts by the earliest time one of their feeds could start: the due time of the
first, or the host's next free start when it is booked further ahead."""
FEED_HOST_KEY = "feedwatch:feed-host"
"""Hash: feed key → the host it is scheduled under (its learned location's, after a move)."""
LEGACY_SCHEDULE_KEY = "feedwatch:schedule"
"""The single sorted set of releases before the per-host schedule; moved over at a sync."""
LEASE_PREFIX = "feedwatch:lease:"
"""Per feed while a worker polls it: the token of that poll."""
PLANS_KEY = "feedwatch:schedule:plans"
"""Hash of each scheduled feed's plan at the last sync
(:func:`worker.schedule.pacing.schedule_plan`)."""
RETIRED_KEY = "feedwatch:retired"
"""Hash of retired feeds: key → the URL that was retired (a new URL in the config revives it)."""

HOST_PREFIX = "feedwatch:host:"
"""Hash per host: its next start, pause, latency, rate and stretch
(:mod:`worker.schedule.hosts`)."""
SLOTS_PREFIX = "feedwatch:host-slots:"
"""Sorted set per host: the requests in flight, by when their slot runs out."""

POLL_QUEUE = "feedwatch"
"""The Celery queue (a Redis list on the broker) of poll tasks."""
TICK_QUEUE = "feedwatch.tick"
"""The Celery queue of ticks: kombu serves a worker's queues in turn, so a tick waits for at
most one poll task instead of every poll task ahead of it."""

METRICS_KEY = "feedwatch:metrics"
"""Hash of counters every worker process adds to (polls by result, the poll duration
histogram, stories by event), read by ``feedwatch serve`` (:mod:`worker.service.counters`)."""

STORIES_HOURLY_KEY = "feedwatch:metrics:hourly"
"""Hash: the start of an hour (Unix seconds) → stories published new in it, for the status
page's chart; fields older than two days are dropped as counts are added."""

HEARTBEAT_KEY = "feedwatch:heartbeat"
"""Hash: ``worker:<host>`` → when a worker on that host last took a task, ``beat`` → when a
beat last sent a tick (Unix seconds); read by ``feedwatch health`` (see
:mod:`worker.service.heartbeat`)."""


def dead_stream(stream: str) -> str:
    """The dead-letter stream beside ``stream`` (:mod:`worker.publish.deadletter`)."""
    return f"{stream}:dead"


def dead_known(stream: str) -> str:
    """The set of dead letters already recorded, so each is recorded once."""
    return f"{dead_stream(stream)}:known"
