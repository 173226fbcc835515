"""Reading the output stream the way a consumer should (used by ``feedwatch tail``).

With a consumer group, a story is acknowledged only after the caller has handled it (the
generator resumes), and a restarted consumer first gets back what it had read but not
acknowledged. This is the pattern the README's consumer example shows.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from typing import Any, cast

import redis

from worker.types import Story

BLOCK_MS = 5000


def follow(
    client: redis.Redis,
    stream: str,
    *,
    group: str | None = None,
    consumer: str | None = None,
    start: str = "$",
    count: int | None = None,
) -> Iterator[Story]:
    """Yield stories from ``stream`` as they arrive, ``count`` of them or forever.

    In a group, each story is acknowledged when the caller asks for the next one (or for the
    end, after the last of ``count``): that is, after the caller has handled it.
    """
    if group:
        entries = _group_entries(client, stream, group, consumer or _consumer_name(), start)
    else:
        entries = _plain_entries(client, stream, start)
    for delivered, (entry_id, fields) in enumerate(entries, start=1):
        yield Story.from_dict(json.loads(fields[b"story"]))
        if group:
            client.xack(stream, group, entry_id)
        if count is not None and delivered >= count:
            return


Entry = tuple[bytes, dict[bytes, bytes]]


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
    client: redis.Redis, stream: str, group: str, consumer: str, start: str,
) -> Iterator[Entry]:
    try:
        client.xgroup_create(stream, group, id=start, mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    pending_first = "0"
    while True:
        cursor = pending_first or ">"
        reply = client.xreadgroup(group, consumer, {stream: cursor}, count=100,
                                  block=None if pending_first else BLOCK_MS)
        entries = _entries(reply)
        if pending_first and not entries:
            pending_first = ""
        for entry_id, fields in entries:
            if pending_first:
                pending_first = entry_id.decode()
            yield entry_id, fields


def _entries(reply: Any) -> list[Entry]:
    """The entries of an XREAD/XREADGROUP reply, all streams together."""
    return [entry for _name, batch in reply or [] for entry in batch]


def _consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"
