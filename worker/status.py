"""``feedwatch status``: how every configured feed is doing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from worker import state
from worker.config import Settings
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

    @property
    def healthy(self) -> bool:
        """Polled without errors, and nothing for the user to act on."""
        return not (self.errors or self.retired or self.location or self.result == "error")


def collect(client: redis.Redis, settings: Settings) -> list[FeedStatus]:
    rows = []
    for feed in settings.feeds:
        remembered = state.load(client, feed.key)
        due = client.zscore(SCHEDULE_KEY, feed.key)
        rows.append(FeedStatus(
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
        ))
    return rows


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
