"""The near-duplicate index in Redis, and the poll step that uses it.

For every published story that has a signature (:mod:`worker.dedupe.neardup`), Redis keeps for
:data:`WINDOW` seconds:

- ``feedwatch:near:story:<ref>``: a hash with the story's id, signature, cluster and when it
  was recorded; ``<ref>`` is the hex of the story's *reference*, an 8-byte digest of its id;
- ``feedwatch:near:band:<period>:<band number>``: one hash per LSH band number and period
  (periods are :data:`WINDOW` long), whose fields are band values and whose values are the
  packed references of the stories with that band value recorded in that period, the latest
  :data:`MAX_CANDIDATES_PER_BAND`. A lookup reads the current period and the one before; a
  band hash expires after both.

Packing the bands of all stories into 50 hashes a period, rather than one set per band value
(51 keys a story), keeps the index small (its memory a story: bench/RESULTS.md).
The lookup and record scripts make these key names themselves, from prefixes, periods and each
story's band values in one string (one argument a story, where a hundred keys and values cost
the worker more to send than the script took to run): the index suits a single Redis server,
not a cluster.

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

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import redis

from worker import lua
from worker.config import NearDuplicates
from worker.dedupe import neardup
from worker.dedupe.neardup import Signature
from worker.keys import NEAR_BAND_PREFIX, NEAR_STORY_PREFIX
from worker.story import Story

WINDOW = 86400
"""Seconds a story is remembered (a day): copies of a wire story appear within hours of each
other, and each remembered story costs Redis memory."""
MAX_CANDIDATES_PER_BAND = 50
"""Stories of one template share band values; only the latest this many are kept under one."""


_LOOKUP = lua.load("worker.dedupe", "neardup_lookup.lua")
_RECORD = lua.load("worker.dedupe", "neardup_record.lua")


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

    Each call is one Lua script, however many stories it is given: a lookup reads 100 band
    hash fields per story, which as separate commands cost the worker more than the rest of a
    poll.
    """

    def __init__(self, client: redis.Redis, window: int = WINDOW) -> None:
        self._client = client
        self._window = window
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
        period = int(time.time() // self._window)
        candidates, flat = self._lookup(args=[
            NEAR_BAND_PREFIX, period, period - 1, NEAR_STORY_PREFIX,
            *(_band_string(signature) for _story_id, signature in wanted)])
        records = {
            ref: _Recorded(found.decode(), Signature.from_bytes(sig), cluster.decode(), float(at))
            for ref, found, sig, cluster, at in zip(*[iter(flat)] * 5, strict=True)}
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
        """Remember (story id, signature, cluster) of each story for :data:`WINDOW` seconds;
        into ``writes`` when given (a poll's last round trip), else at once.

        A plain EVAL: a registered script in a pipeline would cost a round trip of its own to
        check that the server has it."""
        if not stories:
            return
        now = time.time()
        period = int(now // self._window)
        args: list[str | bytes | float] = [
            self._window, (period + 2) * self._window, repr(now), MAX_CANDIDATES_PER_BAND,
            f"{NEAR_BAND_PREFIX}{period}:", NEAR_STORY_PREFIX]
        for story_id, signature, cluster in stories:
            args.extend([story_id, _reference(story_id), signature.to_bytes(), cluster,
                         _band_string(signature)])
        (self._client if writes is None else writes).eval(_RECORD, 0, *args)


@dataclass
class Screened:
    """A poll's stories after the near-duplicate step, and what to record once published."""

    stories: list[Story]
    index: NearDuplicateIndex
    signatures: dict[str, Signature] = field(default_factory=dict)
    """The signature of each story by id; stories without one are never recorded."""

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
        self._by_band: dict[tuple[int, bytes], list[int]] = {}

    def add(self, story: Story, signature: Signature) -> None:
        position = len(self._stories)
        self._stories.append((story, signature))
        for band in enumerate(signature.band_values):
            self._by_band.setdefault(band, []).append(position)

    def match(self, story_id: str, signature: Signature) -> Match | None:
        """The earliest story added that is a near-duplicate of this one, other than itself."""
        candidates = {position for band in enumerate(signature.band_values)
                      for position in self._by_band.get(band, ())}
        for position in sorted(candidates):
            story, other = self._stories[position]
            if story.id != story_id and neardup.similarity(signature, other) >= neardup.THRESHOLD:
                return Match(story.id, story.cluster or story.id)
        return None


def _reference(story_id: str) -> bytes:
    """The 8 bytes a story is listed under in the band hashes."""
    return hashlib.blake2b(story_id.encode(), digest_size=8).digest()


def _band_string(signature: Signature) -> bytes:
    """A signature's band values as the scripts take them: 8 bytes each, in band order."""
    bands = b"".join(signature.band_values)
    if len(bands) != 8 * neardup.BANDS:
        raise ValueError(f"a signature has {len(bands)} bytes of bands, not {8 * neardup.BANDS}")
    return bands


def story_key(story_id: str) -> str:
    """Where a story's signature is recorded."""
    return f"{NEAR_STORY_PREFIX}{_reference(story_id).hex()}"


__all__ = ["Match", "NearDuplicateIndex", "Screened", "screen", "story_key"]
