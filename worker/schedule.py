"""When each feed is due, and who may poll it.

Due times live in one sorted set (member: feed key, score: when it is next due, Unix seconds).
A tick *claims* the due feeds atomically by pushing their score one lease ahead, so a second
beat's tick does not see them; a poll then holds a per-feed lease key while it runs, so a
redelivered task never polls a feed another worker is polling. A claimed feed whose worker
died becomes due again when its lease runs out.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping

import redis
from redis.typing import EncodableT, FieldT

from worker.hosts import Lease

SCHEDULE_KEY = "feedwatch:schedule"
LEASE_PREFIX = "feedwatch:lease:"
PLANS_KEY = "feedwatch:schedule:plans"
"""Hash of each scheduled feed's plan at the last sync (:func:`worker.pacing.schedule_plan`)."""
RETIRED_KEY = "feedwatch:retired"
"""Hash of retired feeds: key → the URL that was retired (a new URL in the config revives it)."""

_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, key in ipairs(due) do
  redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[1]) + tonumber(ARGV[2]), key)
end
return due
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Schedule:
    def __init__(self, client: redis.Redis, lease_seconds: float) -> None:
        self._client = client
        self.lease_seconds = lease_seconds
        self._claim = client.register_script(_CLAIM)

    def sync(self, plans: Mapping[str, str], now: float | None = None) -> list[str]:
        """Make the schedule hold exactly these feeds (key → plan, see
        :func:`worker.pacing.schedule_plan`): new ones due now, removed ones gone, and those
        whose plan changed due now too, so an edit to the config does not wait for the feed's
        next poll. Return the keys of the changed ones.

        A scheduled feed with no plan recorded yet (scheduled by a release that kept none)
        gets its plan without being made due: an upgrade does not poll every feed at once."""
        due = time.time() if now is None else now
        scheduled, recorded = self._scheduled_and_plans()
        changed = sorted(k for k in scheduled & plans.keys()
                         if k in recorded and recorded[k] != plans[k])
        added = plans.keys() - scheduled
        removed = scheduled - plans.keys()
        with self._client.pipeline() as pipe:
            if added:
                pipe.zadd(SCHEDULE_KEY, dict.fromkeys(added, due), nx=True)
            if changed:
                pipe.zadd(SCHEDULE_KEY, dict.fromkeys(changed, due), xx=True)
            if removed:
                pipe.zrem(SCHEDULE_KEY, *removed)
            _record_plans(pipe, plans, recorded)
            pipe.execute()
        return changed

    def _scheduled_and_plans(self) -> tuple[set[str], dict[str, str]]:
        """The feeds in the schedule and the plans recorded, read in one round trip."""
        with self._client.pipeline() as pipe:
            pipe.zrange(SCHEDULE_KEY, 0, -1)
            pipe.hgetall(PLANS_KEY)
            members, plans = pipe.execute()
        return {k.decode() for k in members}, {k.decode(): v.decode() for k, v in plans.items()}

    def claim_due(self, limit: int = 1000, now: float | None = None) -> list[str]:
        """Claim up to ``limit`` due feeds for one lease; return their keys."""
        at = time.time() if now is None else now
        claimed = self._claim(keys=[SCHEDULE_KEY], args=[at, self.lease_seconds, limit])
        return [k.decode() for k in claimed]

    def reschedule(
        self, key: str, due_at: float, pipe: redis.client.Pipeline | None = None,
    ) -> None:
        """Set a feed's next due time, unless the feed was removed meanwhile."""
        (pipe or self._client).zadd(SCHEDULE_KEY, {key: due_at}, xx=True)

    def retire(self, key: str, url: str) -> None:
        """Stop polling a feed at this URL: out of the schedule until its URL changes."""
        with self._client.pipeline() as pipe:
            pipe.hset(RETIRED_KEY, key, url)
            pipe.zrem(SCHEDULE_KEY, key)
            pipe.execute()

    def retired(self) -> dict[str, str]:
        """Retired feeds: key → the URL retired."""
        found = self._client.hgetall(RETIRED_KEY)
        return {k.decode(): v.decode() for k, v in found.items()}  # type: ignore[union-attr]

    def revive(self, keys: Iterable[str]) -> None:
        """Let retired feeds be scheduled again (their URL changed in the config)."""
        names = list(keys)
        if names:
            self._client.hdel(RETIRED_KEY, *names)

    def next_due(self, key: str) -> float | None:
        score = self._client.zscore(SCHEDULE_KEY, key)
        return float(score) if score is not None else None

    def lease(self, key: str, watch: tuple[str, str] | None = None) -> Lease:
        """A new lease for a feed, to be taken with its host's turn (:mod:`worker.hosts`)."""
        return Lease(LEASE_PREFIX + key, uuid.uuid4().hex, int(self.lease_seconds * 1000), watch)

    def renew(self, lease: Lease) -> bool:
        """Start a held lease's time again; False when it is no longer held by its token."""
        return bool(self._client.eval(
            _RENEW, 1, lease.key, lease.token, lease.milliseconds))

    def release(self, key: str, token: str, pipe: redis.client.Pipeline) -> None:
        """Give up a lease, if this token still holds it, with the poll's bookkeeping."""
        # EVAL, not a registered script: a pipeline would check scripts in a round trip
        pipe.eval(_RELEASE, 1, LEASE_PREFIX + key, token)


def _record_plans(
    pipe: redis.client.Pipeline, plans: Mapping[str, str], recorded: Mapping[str, str],
) -> None:
    """Store the plans that differ from those recorded; forget those of removed feeds."""
    stale: dict[FieldT, EncodableT] = {
        k: plan for k, plan in plans.items() if recorded.get(k) != plan}
    if stale:
        pipe.hset(PLANS_KEY, mapping=stale)
    forgotten = recorded.keys() - plans.keys()
    if forgotten:
        pipe.hdel(PLANS_KEY, *forgotten)
