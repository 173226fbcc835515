"""``feedwatch status``: how every configured feed is doing, and every host they share."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from worker import state
from worker.config import FeedConfig, Settings
from worker.keys import DUE_PREFIX, FEED_HOST_KEY, HOST_PREFIX, SLOTS_PREFIX
from worker.schedule import due_times
from worker.schedule.hosts import RATE_WINDOW, Load


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

    @property
    def state(self) -> str:
        """One of :data:`FEED_STATES`: the one a user must act on first."""
        if self.retired:
            return "retired"
        if self.location or self.moved_to:
            return "moved"
        if self.errors or self.result == "error":
            return "erroring"
        return "late" if self.late else "ok"


FEED_STATES = ("ok", "erroring", "retired", "moved", "late")


LATE_AFTER = 60.0
"""Seconds past its due time from which a feed that is still waiting counts as late: a tick
claims due feeds every few seconds, and a claimed feed's due time moves a lease ahead."""
CHUNK = 1000
"""Feeds read at a time (their states in one round trip, their due times in another): 100,000
feeds are 200 round trips, not 200,000."""


ROW_FIELDS = ("url", "last_poll", "last_result", "last_status", "last_error", "errors", "stories",
              "problem", "interval", "interval_why", "retired", "moved_to", "location")
"""The fields of a feed's state a status row shows: not its validators, body hash or known
items, most of the bytes of a state (``/metrics`` reads every feed's at each scrape)."""


def collect(
    client: redis.Redis, settings: Settings, now: float | None = None,
) -> list[FeedStatus]:
    at = time.time() if now is None else now
    rows: list[FeedStatus] = []
    for start in range(0, len(settings.feeds), CHUNK):
        feeds = settings.feeds[start:start + CHUNK]
        keys = [feed.key for feed in feeds]
        dues = due_times(client, keys)
        rows.extend(_row(feed, remembered, dues[feed.key], at) for feed, remembered in zip(
            feeds, state.load_many(client, keys, ROW_FIELDS), strict=True))
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
    lines = [_table(table)]
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


@dataclass(frozen=True)
class HostStatus:
    host: str
    feeds: int
    due: int
    """Feeds past their due time and not yet booked a start."""
    late: int
    """Of those, the ones waiting more than :data:`LATE_AFTER` seconds."""
    requests_per_second: float
    """Requests started, on average over about the last minute."""
    max_concurrent: int
    min_spacing: float
    in_flight: int
    latency: float | None
    """Moving average of the host's request times, seconds."""
    paused_until: str | None
    pause_reason: str | None
    stretch: float
    """The factor its feeds' intervals are stretched by (1: its limits suffice)."""
    demand: float | None = None
    capacity: float | None = None

    @property
    def overloaded(self) -> str | None:
        """The overload line, when the host's feeds need more than its limits allow."""
        if self.stretch <= 1.0 or self.demand is None or self.capacity is None:
            return None
        return Load(self.feeds, self.demand, self.capacity).describe(self.host)


def collect_hosts(
    client: redis.Redis, settings: Settings, now: float | None = None,
) -> list[HostStatus]:
    """Every host the schedule polls feeds from, busiest first; two round trips."""
    at = time.time() if now is None else now
    placed = client.hvals(FEED_HOST_KEY)
    counts = Counter(h.decode() for h in placed)  # type: ignore[union-attr]
    hosts = sorted(counts, key=lambda h: (-counts[h], h))
    with client.pipeline(transaction=False) as pipe:
        for host in hosts:
            pipe.zcount(DUE_PREFIX + host, "-inf", at)
            pipe.zcount(DUE_PREFIX + host, "-inf", at - LATE_AFTER)
            pipe.hgetall(HOST_PREFIX + host)
            pipe.zcount(SLOTS_PREFIX + host, at, "+inf")
        found = pipe.execute()
    rows = []
    for n, host in enumerate(hosts):
        due, late, raw, in_flight = found[4 * n:4 * n + 4]
        fields = {k.decode(): v.decode() for k, v in raw.items()}
        policy = settings.host_policy(host)
        rows.append(HostStatus(
            host=host, feeds=counts[host], due=due, late=late,
            requests_per_second=_rate(fields, at), max_concurrent=policy.max_concurrent,
            min_spacing=policy.min_spacing, in_flight=in_flight,
            latency=_number(fields.get("latency")),
            paused_until=_iso(float(fields["paused_until"]))
            if float(fields.get("paused_until") or 0) > at else None,
            pause_reason=fields.get("pause_reason")
            if float(fields.get("paused_until") or 0) > at else None,
            stretch=_number(fields.get("stretch")) or 1.0,
            demand=_number(fields.get("demand")), capacity=_number(fields.get("capacity"))))
    return rows


def render_hosts(rows: list[HostStatus]) -> str:
    header = ("HOST", "FEEDS", "DUE", "LATE", "REQ/S", "LIMITS", "IN FLIGHT", "LATENCY",
              "STRETCH", "PAUSED")
    table = [header] + [(
        r.host, str(r.feeds), str(r.due), str(r.late), f"{r.requests_per_second:.2f}",
        f"{r.max_concurrent} at once, {r.min_spacing:g} s apart", str(r.in_flight),
        f"{r.latency:.2f}s" if r.latency is not None else "-",
        f"x{r.stretch:.2f}" if r.stretch > 1.0 else "-",
        f"until {r.paused_until} ({r.pause_reason})" if r.paused_until else "-",
    ) for r in rows]
    return "\n".join([_table(table), *overload_lines(rows)])


def overload_lines(rows: list[HostStatus]) -> list[str]:
    """A line for each host whose feeds need more than its limits allow."""
    return [line for r in rows if (line := r.overloaded)]


def _table(table: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                     .rstrip() for row in table)


def _rate(fields: dict[str, str], now: float) -> float:
    """The host's requests a second, decayed from its last start to ``now``."""
    rate, since = _number(fields.get("rate")), _number(fields.get("rate_at"))
    if rate is None or since is None:
        return 0.0
    return rate * math.exp(-max(0.0, now - since) / RATE_WINDOW)


def _number(value: str | None) -> float | None:
    return float(value) if value else None
