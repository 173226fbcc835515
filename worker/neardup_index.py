"""The near-duplicate index in Redis, and the poll step that uses it.

For every published story that has a signature (:mod:`worker.neardup`), Redis keeps for
:data:`WINDOW` seconds:

- ``feedwatch:near:story:<id>``: a hash with the signature, the story's cluster and when it was
  recorded;
- ``feedwatch:near:band:<period>:<band key>``: for each of its LSH bands, a set of the ids of
  the stories with that band recorded in that period (periods are :data:`WINDOW` long; a
  lookup reads the current one and the one before, and a set expires after both).

A new story's candidates are the stories in its band sets; it is a near-duplicate of the earliest
recorded candidate whose signature is similar enough. Per feed, ``near_duplicates`` says what
then happens (see :func:`screen`).

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

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import redis

from worker import neardup
from worker.config import NearDuplicates
from worker.neardup import Signature
from worker.types import Story

PREFIX = "feedwatch:near:"
WINDOW = 86400
"""Seconds a story is remembered (a day): copies of a wire story appear within hours of each
other, and each remembered story costs about 10 kB of Redis memory (bench/RESULTS.md)."""
MAX_CANDIDATES_PER_BAND = 50
"""Band sets of templated stories can grow large; a lookup reads at most this many ids of each."""


_LOOKUP = """
-- KEYS: per story, its ARGV[1] band sets; ARGV[2]: most ids read from a set; ARGV[3]: the
-- prefix of story keys. Returns the candidate ids of each story, and (id, signature,
-- cluster, at) of every candidate still recorded. Story keys are derived from the ids read,
-- so this script suits a single Redis server, not a cluster.
local per_story, most = tonumber(ARGV[1]), tonumber(ARGV[2])
local candidates, records, seen = {}, {}, {}
for first = 1, #KEYS, per_story do
  local ids, mine = {}, {}
  for k = first, first + per_story - 1 do
    for _, id in ipairs(redis.call('SRANDMEMBER', KEYS[k], most)) do
      if not mine[id] then mine[id] = true; ids[#ids + 1] = id end
    end
  end
  candidates[#candidates + 1] = ids
  for _, id in ipairs(ids) do
    if not seen[id] then
      seen[id] = true
      local found = redis.call('HMGET', ARGV[3] .. id, 'signature', 'cluster', 'at')
      if found[1] then
        records[#records + 1] = id
        records[#records + 1] = found[1]
        records[#records + 1] = found[2]
        records[#records + 1] = found[3]
      end
    end
  end
end
return {candidates, records}
"""

_RECORD = """
-- ARGV[1]: seconds a story is kept; ARGV[2]: when this period's band sets expire; ARGV[3]: now.
-- Then per story: its number of bands n, id, signature, cluster; KEYS: per story, its story
-- key, then its n band sets.
local key, arg = 1, 4
while arg <= #ARGV do
  local bands, id = tonumber(ARGV[arg]), ARGV[arg + 1]
  redis.call('HSET', KEYS[key], 'signature', ARGV[arg + 2], 'cluster', ARGV[arg + 3],
    'at', ARGV[3])
  redis.call('EXPIRE', KEYS[key], ARGV[1])
  for b = 1, bands do
    redis.call('SADD', KEYS[key + b], id)
    redis.call('EXPIREAT', KEYS[key + b], ARGV[2])
  end
  key, arg = key + bands + 1, arg + 4
end
return 1
"""


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
    sets per story, which as separate commands cost the worker more than the rest of a poll.
    """

    def __init__(self, client: redis.Redis, window: int = WINDOW) -> None:
        self._client = client
        self._window = window
        self._lookup = client.register_script(_LOOKUP)
        self._record = client.register_script(_RECORD)

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
        keys = [_band_key(recent, band) for _story_id, signature in wanted
                for band in neardup.bands(signature) for recent in (period, period - 1)]
        candidates, flat = self._lookup(
            keys=keys, args=[2 * neardup.BANDS, MAX_CANDIDATES_PER_BAND, PREFIX + "story:"])
        records = {
            found.decode(): _Recorded(found.decode(), Signature.from_bytes(sig), cluster.decode(),
                                      float(at))
            for found, sig, cluster, at in zip(*[iter(flat)] * 4, strict=True)}
        matches_of: list[Match | None] = []
        for (story_id, signature), ids in zip(wanted, candidates, strict=True):
            matches = [
                records[i] for i in (raw.decode() for raw in ids)
                if i in records and i != story_id and records[i].cluster != story_id
                and neardup.similarity(signature, records[i].signature) >= neardup.THRESHOLD
            ]
            first = min(matches, key=lambda r: (r.at, r.id), default=None)
            matches_of.append(None if first is None else Match(first.id, first.cluster))
        return matches_of

    def record(self, stories: Sequence[tuple[str, Signature, str]]) -> None:
        """Remember (story id, signature, cluster) of each story for :data:`WINDOW` seconds."""
        if not stories:
            return
        now = time.time()
        period = int(now // self._window)
        keys: list[str] = []
        args: list[str | bytes | float] = [self._window, (period + 2) * self._window, repr(now)]
        for story_id, signature, cluster in stories:
            bands = neardup.bands(signature)
            keys.append(_story_key(story_id))
            keys.extend(_band_key(period, band) for band in bands)
            args.extend([len(bands), story_id, signature.to_bytes(), cluster])
        self._record(keys=keys, args=args)


@dataclass
class Screened:
    """A poll's stories after the near-duplicate step, and what to record once published."""

    stories: list[Story]
    index: NearDuplicateIndex
    signatures: dict[str, Signature] = field(default_factory=dict)
    """The signature of each story by id; stories without one are never recorded."""

    def record(self, published: Sequence[Story]) -> None:
        """Remember the stories that were published, so that later copies find them."""
        self.index.record([
            (story.id, self.signatures[story.id], story.cluster or story.id)
            for story in published if story.id in self.signatures
        ])


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
    for story, signature in signed:
        match = None
        if signature is not None:
            match = recorded[story.id] or _in_batch(screened, signature, story.id)
        if match is not None and mode == "drop":
            continue
        if match is not None:
            story = replace(story, duplicate_of=match.duplicate_of, cluster=match.cluster)
        screened.stories.append(story)
        if signature is not None:
            screened.signatures[story.id] = signature
    return screened


def _in_batch(screened: Screened, signature: Signature, story_id: str) -> Match | None:
    for earlier in screened.stories:
        other = screened.signatures.get(earlier.id)
        if other is not None and earlier.id != story_id and neardup.is_near_duplicate(
                signature, other):
            return Match(earlier.id, earlier.cluster or earlier.id)
    return None


def _story_key(story_id: str) -> str:
    return f"{PREFIX}story:{story_id}"


def _band_key(period: int, band: str) -> str:
    return f"{PREFIX}band:{period}:{band}"


__all__ = ["Match", "NearDuplicateIndex", "Screened", "screen"]
