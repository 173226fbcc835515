"""Reading the output stream the way a consumer should (used by ``feedwatch tail``).

With a consumer group, a story is acknowledged only after the caller has handled it (the
generator resumes). A restarted consumer first gets back what it had read but not
acknowledged; then it takes over stories that another consumer of the group read but left
unacknowledged for ``claim_idle`` seconds (XAUTOCLAIM: that consumer died); then new ones.
This is the pattern the README's consumer section shows.
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import redis

from worker.exceptions import FeedwatchError
from worker.story import Story

BLOCK_MS = 5000
DEFAULT_CLAIM_IDLE = 60.0
"""Seconds a story may sit unacknowledged with another consumer before this one takes it."""

_ENTRY_ID = re.compile(r"^\d+(-\d+)?$")
_LAST_SEQUENCE = 2**64 - 1

Entry = tuple[bytes, dict[bytes, bytes]]


def stream_position(start: str) -> str:
    """Where to start reading: ``$`` (new entries only), ``0`` (everything kept), an entry id,
    or an ISO 8601 time (entries added at or after it; without a zone it is UTC).

    Returns an id to read *after*, the way XREAD and XGROUP CREATE take it.
    """
    if start in ("$", "0") or _ENTRY_ID.match(start):
        return start
    try:
        when = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        raise FeedwatchError(
            f"--from {start!r}: expected $, 0, an entry id (1700000000000-0) or an ISO 8601 "
            "time (2026-11-24T10:00:00Z)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    millis = int(when.timestamp() * 1000)
    return f"{millis - 1}-{_LAST_SEQUENCE}" if millis > 0 else "0"


def follow(
    client: redis.Redis,
    stream: str,
    *,
    group: str | None = None,
    consumer: str | None = None,
    start: str = "$",
    count: int | None = None,
    claim_idle: float = DEFAULT_CLAIM_IDLE,
) -> Iterator[Story]:
    """Yield stories from ``stream`` as they arrive, ``count`` of them or forever.

    In a group, each story is acknowledged when the caller asks for the next one (or for the
    end, after the last of ``count``): that is, after the caller has handled it. ``start``
    (see :func:`stream_position`) applies when the group is created; an existing group goes
    on where it was.
    """
    position = stream_position(start)
    if group:
        entries = _group_entries(client, stream, group, consumer or _consumer_name(), position,
                                 int(claim_idle * 1000))
    else:
        entries = _plain_entries(client, stream, position)
    for delivered, (entry_id, fields) in enumerate(entries, start=1):
        yield Story.from_dict(json.loads(fields[b"story"]))
        if group:
            client.xack(stream, group, entry_id)
        if count is not None and delivered >= count:
            return


def _plain_entries(client: redis.Redis, stream: str, start: str) -> Iterator[Entry]:
    last = _resolve_start(client, stream, start)
    while True:
        reply = client.xread({stream: last}, block=BLOCK_MS, count=100)
        for entry_id, fields in _entries(reply):
            last = entry_id
            yield entry_id, fields


def _resolve_start(client: redis.Redis, stream: str, start: str) -> str | bytes:
    """Turn '$' into the stream's current last id, so no entry slips between two reads."""
    if start != "$":
        return start
    newest = cast(list[Entry], client.xrevrange(stream, count=1))
    return newest[0][0] if newest else "0-0"


def _group_entries(
    client: redis.Redis, stream: str, group: str, consumer: str, start: str, claim_idle_ms: int,
) -> Iterator[Entry]:
    try:
        client.xgroup_create(stream, group, id=start, mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    yield from _own_pending(client, stream, group, consumer)
    while True:
        yield from _claim_stale(client, stream, group, consumer, claim_idle_ms)
        reply = client.xreadgroup(group, consumer, {stream: ">"}, count=100, block=BLOCK_MS)
        yield from _entries(reply)


def _own_pending(client: redis.Redis, stream: str, group: str, consumer: str) -> Iterator[Entry]:
    """What this consumer read before but did not acknowledge (it crashed, or was stopped)."""
    cursor = "0"
    while True:
        entries = _entries(client.xreadgroup(group, consumer, {stream: cursor}, count=100))
        if not entries:
            return
        for entry_id, fields in entries:
            if fields:
                yield entry_id, fields
            else:  # trimmed from the stream while pending: nothing left to deliver
                client.xack(stream, group, entry_id)
        cursor = entries[-1][0].decode()


def _claim_stale(
    client: redis.Redis, stream: str, group: str, consumer: str, idle_ms: int,
) -> Iterator[Entry]:
    """Take over the stories other consumers of the group left unacknowledged too long."""
    cursor = "0-0"
    while True:
        reply = client.xautoclaim(stream, group, consumer, idle_ms, start_id=cursor, count=100)
        cursor = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        yield from (entry for entry in reply[1] if entry[1])  # trimmed away: nothing to give
        if cursor == "0-0":
            return


def _entries(reply: Any) -> list[Entry]:
    """The entries of an XREAD/XREADGROUP reply, all streams together."""
    return [entry for _name, batch in reply or [] for entry in batch]


def _consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"
