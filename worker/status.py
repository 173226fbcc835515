"""``feedwatch status``: how every configured feed is doing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from worker import state
from worker.config import FeedConfig, Settings
from worker.schedule import SCHEDULE_KEY


@dataclass(frozen=True)
class FeedStatus:
    key: str
    url: str
    enabled: bool
    last_poll: str | None
    result: str | None
    http_status: int | None
    next_due: str | None
    errors: int
    last_error: str | None
    stories: int
    problem: str | None
    interval: int | None = None
    interval_why: str | None = None
    """The interval in force and why: "configured", "backoff after 3 errors", "rhythm: ..."."""
    retired: str | None = None
    """Why the feed is no longer polled (410 Gone, a long 404); a new url revives it."""
    moved_to: str | None = None
    """Where a permanent redirect leads, not yet learned."""
    location: str | None = None
    """The new address learned from permanent redirects, polled instead of ``url``."""
    late: int | None = None
    """Seconds the feed has been waiting past its due time, when more than :data:`LATE_AFTER`:
    no beat is running, or the workers cannot keep up."""

    @property
    def healthy(self) -> bool:
        """Polled without errors, on time, and nothing for the user to act on."""
        return not (self.errors or self.retired or self.location or self.result == "error"
                    or self.late)


LATE_AFTER = 60.0
"""Seconds past its due time from which a feed that is still waiting counts as late: a tick
claims due feeds every few seconds, and a claimed feed's due time moves a lease ahead."""
CHUNK = 1000
"""Feeds read at a time (their states in one round trip, their due times in another): 100,000
feeds are 200 round trips, not 200,000."""


def collect(
    client: redis.Redis, settings: Settings, now: float | None = None,
) -> list[FeedStatus]:
    at = time.time() if now is None else now
    rows: list[FeedStatus] = []
    for start in range(0, len(settings.feeds), CHUNK):
        feeds = settings.feeds[start:start + CHUNK]
        keys = [feed.key for feed in feeds]
        dues = client.zmscore(SCHEDULE_KEY, keys)
        rows.extend(_row(feed, remembered, due, at) for feed, remembered, due in zip(
            feeds, state.load_many(client, keys), dues, strict=True))
    return rows


def _row(feed: FeedConfig, remembered: state.FeedState, due: float | None,
         now: float) -> FeedStatus:
    return FeedStatus(
        key=feed.key,
        url=feed.url,
        enabled=feed.enabled,
        last_poll=remembered.last_poll,
        result=remembered.last_result,
        http_status=remembered.last_status,
        next_due=_iso(float(due)) if due is not None else None,
        errors=remembered.errors,
        last_error=remembered.last_error,
        stories=remembered.stories,
        problem=remembered.problem,
        interval=remembered.interval,
        interval_why=remembered.interval_why,
        retired=remembered.retired,
        moved_to=remembered.moved_to,
        location=remembered.fetch_url(feed.url) if remembered.location else None,
        late=round(now - due) if due is not None and now - due > LATE_AFTER else None,
    )


def render(rows: list[FeedStatus]) -> str:
    header = ("FEED", "LAST POLL", "RESULT", "HTTP", "NEXT DUE", "INTERVAL", "ERRORS",
              "STORIES")
    table = [header] + [(
        r.key + ("" if r.enabled else " (disabled)"),
        r.last_poll or "never",
        "retired" if r.retired else r.result or "-",
        str(r.http_status or "-"),
        r.next_due or "-",
        f"{r.interval}s ({r.interval_why})" if r.interval else "-",
        str(r.errors),
        str(r.stories),
    ) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in table]
    late = [r for r in rows if r.late is not None]
    if late:
        worst = max(late, key=lambda r: r.late or 0)
        lines.append(f"{len(late)} feed(s) waiting more than {LATE_AFTER:g} s past their due "
                     f"time, {worst.key} the longest ({worst.late} s): is a beat running? If "
                     "so, the workers cannot keep up: more workers, or more poll_threads for "
                     "slow origins")
    for r in rows:
        if r.last_error and r.errors:
            lines.append(f"{r.key}: last error: {r.last_error}")
        if r.problem:
            lines.append(f"{r.key}: problem: {r.problem}")
        if r.retired:
            lines.append(f"{r.key}: retired, no longer polled: {r.retired} "
                         "(a new url in the config revives it)")
        if r.location and r.location != r.url:
            lines.append(f"{r.key}: moved permanently to {r.location}, polled there; "
                         "please update its url in the config")
        elif r.moved_to:
            lines.append(f"{r.key}: permanently redirected to {r.moved_to}")
    return "\n".join(lines)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
