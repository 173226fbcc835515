"""Consumer groups of the output stream: how far behind each is, and whether trimming threatens it.

The stream is trimmed by length (``retention.max_length``) and by age
(``retention.max_age_days``). A group that has not yet read an entry, or read it without
acknowledging it, loses that entry when it is trimmed. ``feedwatch status`` warns while there is
still time: when a group's backlog reaches :data:`WARN_AT` of either limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, cast

import redis

from worker.config import Settings

WARN_AT = 0.8
"""Share of a retention limit at which a group's backlog is reported as at risk."""
DAY = 86400


@dataclass(frozen=True)
class GroupStatus:
    name: str
    consumers: int
    pending: int
    """Read by a consumer, not yet acknowledged."""
    lag: int | None
    """Entries not yet read by the group; None when the server cannot tell (after deletions)."""
    oldest_unhandled_age: float | None
    """Age in seconds of the oldest entry the group has not read or not acknowledged."""
    warning: str | None


def collect(client: redis.Redis, settings: Settings, now: float | None = None) -> list[GroupStatus]:
    """Every consumer group of the configured stream, with its lag and any retention warning."""
    at = time.time() if now is None else now
    try:
        infos: list[dict[str, Any]] = client.xinfo_groups(settings.stream)
    except redis.ResponseError:  # no stream yet
        return []
    return [_status(client, settings, info, at) for info in infos]


def _status(client: redis.Redis, settings: Settings, info: dict[str, Any],
            now: float) -> GroupStatus:
    name = _text(info["name"])
    lag = info.get("lag")
    oldest = _oldest_unhandled(client, settings.stream, name, _text(info["last-delivered-id"]))
    age = max(0.0, now - oldest / 1000) if oldest is not None else None
    backlog = (lag or 0) + int(info["pending"])
    return GroupStatus(name=name, consumers=int(info["consumers"]), pending=int(info["pending"]),
                       lag=None if lag is None else int(lag), oldest_unhandled_age=age,
                       warning=_warning(settings, backlog, age))


def _oldest_unhandled(client: redis.Redis, stream: str, group: str, delivered: str) -> int | None:
    """Milliseconds timestamp of the oldest entry the group still needs, if any."""
    times: list[int] = []
    summary: dict[str, Any] = client.xpending(stream, group)
    if summary["pending"]:
        times.append(_millis(summary["min"]))
    unread = cast(list[tuple[bytes, Any]], client.xrange(stream, min=f"({delivered}", count=1))
    if unread:
        times.append(_millis(unread[0][0]))
    return min(times) if times else None


def _warning(settings: Settings, backlog: int, age: float | None) -> str | None:
    limit = settings.retention_max_length
    if backlog >= WARN_AT * limit:
        return (f"{backlog} stories not yet handled, the stream keeps about {limit}: "
                "older ones are trimmed before this group reads them")
    max_age = settings.retention_max_age_days * DAY
    if max_age and age is not None and age >= WARN_AT * max_age:
        return (f"its oldest unhandled story is {age / DAY:.1f} days old, the stream keeps "
                f"{settings.retention_max_age_days:g} days: it is trimmed soon")
    return None


def render(groups: list[GroupStatus]) -> str:
    if not groups:
        return "no consumer groups"
    rows = [("GROUP", "CONSUMERS", "UNREAD", "PENDING", "OLDEST UNHANDLED")] + [(
        g.name, str(g.consumers), "?" if g.lag is None else str(g.lag), str(g.pending),
        "-" if g.oldest_unhandled_age is None else f"{g.oldest_unhandled_age:.0f}s",
    ) for g in groups]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.extend(f"warning: group {g.name}: {g.warning}" for g in groups if g.warning)
    return "\n".join(lines)


def _millis(entry_id: bytes | str) -> int:
    return int(_text(entry_id).split("-")[0])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
