"""Publishing stories to the output stream, each exactly once, and again when it changed.

Checking the seen-marks and appending to the stream happen in one Lua script on the server
(``publish.lua``), so there is no moment at which a story is marked seen but not published,
or published but not marked: a crash, a re-poll, the same story in two feeds or two workers
racing all end with exactly one ``new`` entry per story. The same script decides whether a
seen story changed in a way that is news (see :mod:`worker.publish.revision`) and publishes it as
``updated``: deciding and publishing are one step there too.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis

from worker import dedupe, lua
from worker.config import Settings
from worker.keys import REVISION_PREFIX, SEEN_PREFIX
from worker.publish.revision import UPDATE_FIELDS, field_digests
from worker.story import Story

DAY = 86400
GENERATION_DAYS = 30
"""Length of one generation of seen-marks (see :class:`SeenMemory`): a third of the default
90-day window, and fixed, so that changing the window renames no key."""
_SCRIPT = lua.load("worker.publish", "publish.lua")


class SeenMemory:
    """Where the marks of seen stories are kept: about 6 bytes per mark, exact lookups.

    A mark's 64-bit digest picks one of 4,096 shards by its first 12 bits; the shard is a plain
    string of packed 6-byte records (the digest's last 48 bits), searched and appended to by
    ``publish.lua``. So a lookup compares 60 bits of the digest: two different marks are taken
    for one with odds of 1 in 2**60 per pair.

    Time is cut into generations of ``GENERATION_DAYS``; each generation has its own 4,096
    strings, which expire a whole window after the generation ends. A mark is looked up in the
    generations that can still exist (four for the default 90-day window) and added to the
    current one, so a story is remembered for at least the window and at most one generation
    longer. The generation length does not depend on the window, so changing
    ``retention.seen_days`` keeps every key name and forgets nothing already remembered.
    """

    def __init__(self, window_days: float) -> None:
        self.generation_seconds = GENERATION_DAYS * DAY
        self.window_seconds = window_days * DAY
        self.generations = math.ceil(window_days / GENERATION_DAYS) + 1

    def keys(self, mark_digest: bytes, now: float) -> list[str]:
        """The strings that may hold the mark, the current generation's first."""
        current = int(now // self.generation_seconds)
        shard = mark_digest.hex()[:3]
        return [f"{SEEN_PREFIX}{current - back}:{shard}" for back in range(self.generations)]

    def expire_at(self, now: float) -> int:
        """When the current generation's strings expire (Unix seconds)."""
        end = (int(now // self.generation_seconds) + 1) * self.generation_seconds
        return int(end + self.window_seconds)


def mark_record(mark_digest: bytes) -> bytes:
    """The packed record of a mark: its digest after the 12 bits that chose the shard."""
    return mark_digest[2:]


def revision_key(story_id: str) -> str:
    """Where a story's revision number and field digests are kept."""
    return f"{REVISION_PREFIX}{story_id}"


def story_json(story: Story) -> str:
    return json.dumps(story.to_dict(), ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Published:
    """What one :meth:`Publisher.publish` call appended to the stream."""

    new: list[Story]
    updated: list[Story]


class Publisher:
    """Publishes batches of stories to one stream."""

    def __init__(
        self, client: redis.Redis, stream: str, max_length: int, *, max_revisions: int = 5,
        revision_days: int = 7, max_age_days: float | None = None, seen_days: float = 90,
    ) -> None:
        self._client = client
        self._stream = stream
        self._max_length = max_length
        self._max_revisions = max_revisions
        self._revision_seconds = revision_days * DAY
        self._max_age_days = max_age_days
        self._seen = SeenMemory(seen_days)
        self._script = client.register_script(_SCRIPT)

    @classmethod
    def for_settings(cls, client: redis.Redis, settings: Settings) -> Publisher:
        return cls(client, settings.stream, settings.retention_max_length,
                   max_revisions=settings.updates_max_revisions,
                   revision_days=settings.updates_window_days,
                   max_age_days=settings.retention_max_age_days or None,
                   seen_days=settings.retention_seen_days)

    def publish(
        self, stories: Sequence[Story], shared_urls: Collection[str] = (), *,
        updates: bool = True, now: float | None = None,
        feed_digests: Mapping[str, Sequence[str]] | None = None,
    ) -> Published:
        """Publish the stories not seen before, and, with ``updates``, those whose content
        changed since (see :mod:`worker.publish.revision`); return both, in order.

        ``feed_digests`` gives, by story id, the field digests of a story as its feed told it,
        for stories whose body was since filled from the article page (:mod:`worker.fulltext`):
        later polls see the feed's version again, which must not count as a change."""
        if not stories:
            return Published([], [])
        now = time.time() if now is None else now
        keys: list[str] = [self._stream]
        args: list[Any] = [self._max_length, self._seen.expire_at(now), len(stories),
                           self._max_revisions, self._revision_seconds, ",".join(UPDATE_FIELDS),
                           self._oldest_id(now), self._seen.generations]
        for story in stories:
            digests = [dedupe.digest(m) for m in dedupe.marks(story, shared_urls)]
            keys.append(revision_key(story.id))
            for digest in digests:
                keys.extend(self._seen.keys(digest, now))
            args.append(len(digests))
            args.extend(mark_record(d) for d in digests)
            digests_of_fields = (feed_digests or {}).get(story.id) or field_digests(story)
            args.extend([story.id, story.feed or "", story_json(story),
                         ",".join(digests_of_fields) if updates else ""])
        events = self._script(keys=keys, args=args)
        return Published(new=[s for s, e in zip(stories, events, strict=True) if e == b"new"],
                         updated=[s for s, e in zip(stories, events, strict=True)
                                  if e == b"updated"])

    def unseen(
        self, stories: Sequence[Story], shared_urls: Collection[str] = (), *,
        now: float | None = None,
    ) -> list[Story]:
        """The stories none of whose marks has been seen: a read-only look, so that costly work
        for new stories (fetching their article page) is not done again for published ones.
        :meth:`publish` alone decides what is new; a story may be published by another worker
        between the two calls, which costs one page fetch, never a duplicate."""
        now = time.time() if now is None else now
        keys: list[str] = []
        records: list[list[bytes]] = []
        for story in stories:
            digests = [dedupe.digest(m) for m in dedupe.marks(story, shared_urls)]
            for digest in digests:
                keys.extend(self._seen.keys(digest, now))
            records.append([mark_record(d) for d in digests])
        # One MGET: as a pipeline of GETs, one per mark and generation, 30 stories cost 240
        # commands to pack and answer (two marks each, four generations by default).
        answers = cast("list[bytes | None]", self._client.mget(keys)) if keys else []
        blobs = iter(answers)
        fresh = []
        for story, story_records in zip(stories, records, strict=True):
            found = [_holds(next(blobs), record)
                     for record in story_records for _ in range(self._seen.generations)]
            if not any(found):
                fresh.append(story)
        return fresh

    def _oldest_id(self, now: float) -> str:
        """The stream id before which entries are trimmed by age, or "" without an age limit."""
        if self._max_age_days is None:
            return ""
        return f"{int((now - self._max_age_days * DAY) * 1000)}-0"


def _holds(blob: bytes | None, record: bytes) -> bool:
    """Whether a shard string holds the record at a record boundary (as publish.lua checks)."""
    at = blob.find(record) if blob else -1
    while at != -1:
        if at % len(record) == 0:
            return True
        at = blob.find(record, at + 1) if blob else -1
    return False
