"""The status page (``/``) and what it shows (``/status.json``): what ``feedwatch status
--json`` reads, for people, with the stories published in each of the last 24 hours.

The page is one static file (``status.html``): its script fetches ``/status.json`` and draws
the tables and the chart, and again every 30 seconds. It is read-only and has no login."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import resources
from typing import Any, cast

import redis

from worker.config import Settings
from worker.keys import STORIES_HOURLY_KEY, dead_stream
from worker.report import groups as consumer_groups
from worker.report import status as status_report
from worker.service.counters import HOUR, hour_of

CHART_HOURS = 24
SHOWN_FEEDS = 1000
"""Feeds the page lists at most, those in trouble first: a browser table of 100,000 rows
helps nobody; the counts cover them all, and ``feedwatch status`` lists every one."""


def page() -> bytes:
    """The page's HTML, as the package carries it."""
    return resources.files("worker.web").joinpath("status.html").read_bytes()


def status(client: redis.Redis, settings: Settings, now: float | None = None) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data."""
    at = time.time() if now is None else now
    feeds = [asdict(row) | {"state": row.state}
             for row in status_report.collect(client, settings, at) if row.enabled]
    by_state = Counter(feed["state"] for feed in feeds)
    feeds.sort(key=lambda feed: (feed["state"] == "ok", feed["key"]))
    return {
        "generated": datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds"),
        "stream": settings.stream,
        "feeds_total": len(feeds),
        "feeds_by_state": dict(by_state),
        "feeds": feeds[:SHOWN_FEEDS],
        "feeds_not_shown": max(0, len(feeds) - SHOWN_FEEDS),
        "hosts": [asdict(row) for row in status_report.collect_hosts(client, settings, at)],
        "groups": [asdict(row) for row in consumer_groups.collect(client, settings, at)],
        "dead_letters": client.xlen(dead_stream(settings.stream)),
        "stories_per_hour": stories_per_hour(client, at),
    }


def stories_per_hour(client: redis.Redis, now: float) -> list[dict[str, Any]]:
    """New stories in each of the last :data:`CHART_HOURS` hours, oldest first, this hour
    last (so far)."""
    hours = [hour_of(now) - n * HOUR for n in range(CHART_HOURS - 1, -1, -1)]
    counts = cast(list[bytes | None], client.hmget(STORIES_HOURLY_KEY, [str(h) for h in hours]))
    return [{"hour": datetime.fromtimestamp(h, UTC).isoformat(timespec="minutes"),
             "stories": int(c or 0)} for h, c in zip(hours, counts, strict=True)]
