"""What the workers did, counted for ``feedwatch serve``'s /metrics: polls by result, how long
they took, stories published by event.

Each worker process counts in memory and adds its counts to one Redis hash
(:data:`~worker.keys.METRICS_KEY`) every :data:`FLUSH_SECONDS`, with the bookkeeping of a poll
(:mod:`worker.schedule.outbox`): a poll costs a few dictionary updates, not a Redis command.
The hash holds the sums of every process on every machine, so the counters hold across them
and across restarts of ``serve``; a process that dies loses the counts of its last few seconds,
which a Prometheus counter tolerates (``rate()`` sees a smaller step, never a reset).
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import Counter
from collections.abc import Mapping

from worker.keys import METRICS_KEY, STORIES_HOURLY_KEY
from worker.state import Writer

FLUSH_SECONDS = 5.0
"""How often a process adds its counts to Redis, at most."""
DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Upper bounds (seconds) of the poll duration histogram's buckets; the last is +Inf."""
RESULTS = ("new", "not modified", "unchanged", "error", "asked to wait")
HOUR = 3600
KEEP_HOURS = 48
"""Hours of stories-per-hour counts kept for the status page (it shows the last 24)."""
"""Every result a poll can have (:class:`worker.outcome.PollOutcome`)."""


def poll_field(result: str) -> str:
    return "polls:" + result.replace(" ", "_")


def bucket_field(index: int) -> str:
    """The field of the duration bucket ``index`` (``len(DURATION_BUCKETS)``: +Inf); each
    holds the polls that fell in it, not those below (the reader adds them up)."""
    return f"duration:bucket:{index}"


DURATION_SUM = "duration:sum_us"
"""Total poll time, in microseconds (an integer, so that HINCRBY adds it)."""


def stories_field(event: str) -> str:
    return "stories:" + event


NEAR_DUPLICATES = "near_duplicates"


class PollCounters:
    """One process's counts since its last flush; threads add to it at once."""

    def __init__(self, flush_seconds: float = FLUSH_SECONDS) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._hourly: Counter[int] = Counter()
        self._flush_seconds = flush_seconds
        self._flushed = time.monotonic()

    def add_poll(self, result: str, seconds: float, new: int = 0, updated: int = 0,
                 near_duplicates: int = 0) -> None:
        bucket = bisect.bisect_left(DURATION_BUCKETS, seconds)
        with self._lock:
            counts = self._counts
            counts[poll_field(result)] += 1
            counts[bucket_field(bucket)] += 1
            counts[DURATION_SUM] += round(seconds * 1e6)
            if new:
                counts[stories_field("new")] += new
                self._hourly[hour_of(time.time())] += new
            if updated:
                counts[stories_field("updated")] += updated
            if near_duplicates:
                counts[NEAR_DUPLICATES] += near_duplicates

    def flush_due(self) -> bool:
        """Whether :data:`FLUSH_SECONDS` passed since the last flush."""
        return time.monotonic() - self._flushed >= self._flush_seconds

    def flush_into(self, writes: Writer) -> None:
        """Add the counts to Redis (into ``writes``) and start counting from zero."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
            hourly, self._hourly = self._hourly, Counter()
            self._flushed = time.monotonic()
        for name, value in counts.items():
            writes.hincrby(METRICS_KEY, name, value)
        for hour, stories in hourly.items():
            writes.hincrby(STORIES_HOURLY_KEY, str(hour), stories)
        if hourly:  # the day before the kept ones: a field no flush dropped in time goes too
            oldest = max(hourly) - KEEP_HOURS * HOUR
            writes.hdel(STORIES_HOURLY_KEY, *(str(oldest - n * HOUR) for n in range(24)))


def hour_of(timestamp: float) -> int:
    """The start of the hour ``timestamp`` falls in (Unix seconds)."""
    return int(timestamp // HOUR * HOUR)


def read(found: Mapping[bytes, bytes]) -> dict[str, int]:
    """The counters as the hash holds them (HGETALL of :data:`~worker.keys.METRICS_KEY`)."""
    return {k.decode(): int(v) for k, v in found.items()}
