"""The near-duplicate index in Redis, and the poll step that uses it.

Every published story that has a signature (:mod:`worker.dedupe.neardup`) is remembered for at
least :data:`WINDOW` seconds. Time is cut into periods of :data:`WINDOW` seconds; a lookup reads
the current period and the one before, and a period's keys expire when the next one ends, so a
story is found for one to two windows after it was recorded. Each period is written in one or
more *generations*; a generation has a number of buckets fixed when it starts:

- ``feedwatch:near:generation:<period>``: a hash of the period's generations: how many
  (``level``), each one's bucket count as a power of two (``bits:<level>``), and the records
  written in the last one and in the period (``count``, ``total``);
- ``feedwatch:near:records:<period>:<level>:<chunk>``: strings of :data:`CHUNK` fixed-size
  records (:data:`RECORD`: when recorded, shingle count, id, cluster, signature), a story's
  record found by its number in its generation;
- ``feedwatch:near:band:<period>:<level>:<bucket>``: small hashes from a band value to the
  3-byte numbers of the stories recorded under it (the latest :data:`MAX_CANDIDATES_PER_BAND`).
  A band value's low bits pick the bucket, the rest is the field.

Redis keeps a hash of at most 128 short fields as one packed list (a *listpack*), at about ten
bytes an entry, where a larger hash costs some seventy bytes an entry; the buckets are sized to
stay packed. A period's first generation gets buckets for as many stories as the period before
recorded; when a generation fills up, the next has four times the buckets. Records are packed
into strings for the same reason: a key of its own per story would cost more than its
signature.

The scripts make these key names themselves, from prefixes, periods and each story's band
values in one string (one argument a story, where a hundred keys and values cost the worker
more to send than the script took to run): the index suits a single Redis server, not a
cluster.

A new story's candidates are the stories under its band values; it is a near-duplicate of the
earliest recorded candidate whose signature is similar enough. Per feed, ``near_duplicates``
says what then happens (see :func:`screen`).

Races, and why they are acceptable: looking up and recording are separate steps, outside the
atomic publish script. Two copies of a story polled at the same instant (by two workers, or two
threads of one) can miss each other and both be published as originals; a worker that dies
between publishing and recording leaves a story that later copies cannot find. Either way the
cost is a copy published without ``duplicate_of`` (or, in ``drop`` mode, published at all),
never a story lost: nothing is dropped unless an earlier, published story it resembles was
found. Near-duplicate marking is a best-effort service on top of the exact, atomic
deduplication of :mod:`worker.publish`.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import redis

from worker import lua
from worker.config import NearDuplicates
from worker.dedupe import neardup
from worker.dedupe.neardup import Signature
from worker.hints import DAY
from worker.keys import NEAR_BAND_PREFIX, NEAR_GENERATION_PREFIX, NEAR_RECORDS_PREFIX
from worker.story import Story

WINDOW = 7 * int(DAY)
"""Seconds a story is remembered at least (a week): copies of a wire story appear within hours
of each other, and a story is often re-run days later."""
MAX_CANDIDATES_PER_BAND = 21
"""Stories of one template share band values: only the latest this many are kept under one
(their 3-byte numbers fit the 64 bytes of a packed hash value)."""
CHUNK = 256
"""Records a records string holds."""
BUCKET_FILL = 96
"""Band entries a bucket holds on average when its generation is full: below the 128 fields of
a packed hash, with room for the buckets that get more than their share."""
MIN_BUCKET_BITS, MAX_BUCKET_BITS = 8, 22
"""A generation has from 256 to 4,194,304 buckets."""
_RECORD = struct.Struct(f"<dH16s16s{neardup.SLOTS}s")
RECORD = _RECORD.size
"""Bytes of a story's record: when recorded, shingle count, id, cluster, signature."""
_BANDS = struct.Struct(f"<{neardup.BANDS}I")

_LOOKUP = lua.load("worker.dedupe", "neardup_lookup.lua")
_RECORD_SCRIPT = lua.load("worker.dedupe", "neardup_record.lua")


@dataclass(frozen=True)
class Match:
    """The earlier story a new one is a near-duplicate of."""

    duplicate_of: str
    cluster: str


@dataclass(frozen=True)
class _Recorded:
    id: str
    signature: Signature
    cluster: str
    at: float


class NearDuplicateIndex:
    """Signatures of recently published stories, looked up by LSH band.

    Each call is one Lua script, however many stories it is given: a lookup reads a band hash
    field per band and generation of every story, which as separate commands would cost the
    worker more than the rest of a poll.
    """

    def __init__(
        self, client: redis.Redis, window: int = WINDOW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._window = window
        self._clock = clock
        self._lookup = client.register_script(_LOOKUP)

    def find(self, story_id: str, signature: Signature) -> Match | None:
        return self.find_all([(story_id, signature)])[0]

    def find_all(self, wanted: Sequence[tuple[str, Signature]]) -> list[Match | None]:
        """For each (story id, signature), the earliest recorded story similar enough.

        Neither the story itself nor its own copies count (they are the story's id and the
        stories of that cluster): a story seen again is not a near-duplicate of its copies.
        """
        if not wanted:
            return []
        period = int(self._clock() // self._window)
        candidates, flat = self._lookup(args=[
            NEAR_GENERATION_PREFIX, NEAR_BAND_PREFIX, NEAR_RECORDS_PREFIX, period, period - 1,
            CHUNK, RECORD, *(_band_string(signature) for _story_id, signature in wanted)])
        records = {
            ref: recorded for ref, data in zip(flat[::2], flat[1::2], strict=True)
            if (recorded := _unpack(data)) is not None}
        matches_of: list[Match | None] = []
        for (story_id, signature), refs in zip(wanted, candidates, strict=True):
            matches = [
                records[ref] for ref in refs
                if ref in records and records[ref].id != story_id
                and records[ref].cluster != story_id
                and neardup.similarity(signature, records[ref].signature) >= neardup.THRESHOLD
            ]
            first = min(matches, key=lambda r: (r.at, r.id), default=None)
            matches_of.append(None if first is None else Match(first.id, first.cluster))
        return matches_of

    def record(
        self, stories: Sequence[tuple[str, Signature, str]],
        writes: redis.client.Pipeline | None = None,
    ) -> None:
        """Remember (story id, signature, cluster) of each story for at least :data:`WINDOW`
        seconds; into ``writes`` when given (a poll's last round trip), else at once.

        Ids and clusters are story ids (:func:`worker.story.identity.story_id`): 32 hex digits,
        kept as 16 bytes. A plain EVAL: a registered script in a pipeline would cost a round
        trip of its own to check that the server has it."""
        if not stories:
            return
        now = self._clock()
        period = int(now // self._window)
        args: list[str | bytes | int] = [
            NEAR_GENERATION_PREFIX, NEAR_BAND_PREFIX, NEAR_RECORDS_PREFIX, period,
            (period + 2) * self._window, CHUNK, MAX_CANDIDATES_PER_BAND, BUCKET_FILL,
            MIN_BUCKET_BITS, MAX_BUCKET_BITS]
        for order, (story_id, signature, cluster) in enumerate(stories):
            # A microsecond apart, so that stories recorded together stay in their order.
            at = now + order * 1e-6
            args.extend([_pack(at, story_id, signature, cluster), _band_string(signature)])
        (self._client if writes is None else writes).eval(_RECORD_SCRIPT, 0, *args)


def _pack(at: float, story_id: str, signature: Signature, cluster: str) -> bytes:
    return _RECORD.pack(at, signature.size, _id_bytes(story_id), _id_bytes(cluster),
                        signature.slots)


def _unpack(data: bytes) -> _Recorded | None:
    """A record read back, or None for a place no story was written to (or one gone)."""
    if len(data) != RECORD:
        return None
    at, size, story_id, cluster, slots = _RECORD.unpack(data)
    if not size:
        return None
    return _Recorded(story_id.hex(), Signature(slots, size), cluster.hex(), at)


def _id_bytes(story_id: str) -> bytes:
    try:
        packed = bytes.fromhex(story_id)
    except ValueError:
        packed = b""
    if len(packed) != 16:
        raise ValueError(f"the near-duplicate index keeps story ids of 32 hex digits, "
                         f"not {story_id!r}")
    return packed


def _band_string(signature: Signature) -> bytes:
    """A signature's band values as the scripts take them: 4 bytes each, in band order."""
    if len(signature.bands) != neardup.BANDS:
        raise ValueError(f"a signature has {len(signature.bands)} bands, not {neardup.BANDS}")
    return _BANDS.pack(*signature.bands)


@dataclass
class Screened:
    """A poll's stories after the near-duplicate step, and what to record once published."""

    stories: list[Story]
    index: NearDuplicateIndex
    signatures: dict[str, Signature] = field(default_factory=dict)
    """The signature of each story by id; stories without one are never recorded."""
    found: int = 0
    """How many stories were near-duplicates of earlier ones (annotated or dropped)."""

    def record(
        self, published: Sequence[Story], writes: redis.client.Pipeline | None = None,
    ) -> None:
        """Remember the stories that were published, so that later copies find them (into
        ``writes`` when given)."""
        self.index.record([
            (story.id, self.signatures[story.id], story.cluster or story.id)
            for story in published if story.id in self.signatures
        ], writes)


def screen(
    index: NearDuplicateIndex, stories: Sequence[Story], mode: NearDuplicates,
) -> Screened:
    """Annotate or drop the stories that are near-duplicates of earlier ones.

    ``mode`` is the feed's ``near_duplicates``: ``annotate`` sets ``duplicate_of`` and
    ``cluster``; ``drop`` leaves the story out; ``off`` neither looks nor records (the feed's
    stories are left out of near-duplicate matching altogether).

    A story is compared with the recorded stories and with the stories before it in
    ``stories``, the earlier (recorded) ones first. Call :meth:`Screened.record` with the
    stories actually published.
    """
    if mode == "off":
        return Screened(list(stories), index)
    signed = [(story, neardup.story_signature(story)) for story in stories]
    wanted = [(story.id, signature) for story, signature in signed if signature is not None]
    recorded = dict(zip([story_id for story_id, _ in wanted], index.find_all(wanted),
                        strict=True))
    screened = Screened([], index)
    earlier = _Batch()
    for story, signature in signed:
        match = None
        if signature is not None:
            match = recorded[story.id] or earlier.match(story.id, signature)
        if match is not None:
            screened.found += 1
        if match is not None and mode == "drop":
            continue
        if match is not None:
            story = replace(story, duplicate_of=match.duplicate_of, cluster=match.cluster)
        screened.stories.append(story)
        if signature is not None:
            screened.signatures[story.id] = signature
            earlier.add(story, signature)
    return screened


class _Batch:
    """The stories of one poll screened so far, listed under their band values, as the index
    lists recorded ones: a story is compared with the earlier ones that share a band with it,
    not with each of them (a first poll of a 100-item feed would make 4,950 comparisons).
    Each earlier story is compared by its own signature, also when a feed repeats an id
    within one document."""

    def __init__(self) -> None:
        self._stories: list[tuple[Story, Signature]] = []
        self._by_band: dict[tuple[int, int], list[int]] = {}

    def add(self, story: Story, signature: Signature) -> None:
        position = len(self._stories)
        self._stories.append((story, signature))
        for band in enumerate(signature.bands):
            self._by_band.setdefault(band, []).append(position)

    def match(self, story_id: str, signature: Signature) -> Match | None:
        """The earliest story added that is a near-duplicate of this one, other than itself."""
        candidates = {position for band in enumerate(signature.bands)
                      for position in self._by_band.get(band, ())}
        for position in sorted(candidates):
            story, other = self._stories[position]
            if story.id != story_id and neardup.similarity(signature, other) >= neardup.THRESHOLD:
                return Match(story.id, story.cluster or story.id)
        return None


__all__ = ["Match", "NearDuplicateIndex", "Screened", "screen"]
