"""When each feed is due, and who may poll it.

The schedule is partitioned by host: each host has a sorted set of its feeds (member: feed key,
score: when it is next due, Unix seconds), and one index holds, for each host, the earliest time
one of its feeds could start. A tick reads the hosts that could start a feed before the next
tick and, in one Lua call for many hosts, *books* each host's feeds due by then a start time
apiece: its due time, or the host's next free start when the host's pace says so (one start per
``min_spacing``, or per request time over ``max_concurrent`` when requests take longer), most
overdue first. It claims them by pushing their score one lease past their start, so a second
beat's tick does not see them. A feed due between two ticks starts on time, not at the next
tick; a host with 10,000 feeds due gets its share of starts and the others theirs in the same
tick; its other feeds keep their due times, so they come next in order of lateness.

A poll then holds a per-feed lease key while it runs, so a redelivered task never polls a feed
another worker is polling. A claimed feed whose worker died becomes due again when its claim
runs out.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import redis
from redis.typing import EncodableT, FieldT

from worker import lua
from worker.config import HostPolicy
from worker.keys import (
    DUE_PREFIX,
    FEED_HOST_KEY,
    HOST_PREFIX,
    HOSTS_DUE_KEY,
    LEASE_PREFIX,
    LEGACY_SCHEDULE_KEY,
    PLANS_KEY,
    RETIRED_KEY,
)
from worker.schedule.hosts import Lease

HOSTS_PER_CALL = 500
"""Hosts one booking call looks at: a tick over many hosts takes several short calls, so no
call holds Redis long."""

_BOOK = lua.load("worker.schedule", "book.lua")
_FINISH = lua.load("worker.schedule", "finish.lua")
_RENEW = lua.load("worker.schedule", "renew.lua")


@dataclass(frozen=True)
class Booking:
    """A feed claimed by a tick: poll it from ``host`` at ``start``; it was due at ``due``."""

    key: str
    host: str
    start: float
    due: float

    def as_task(self) -> list[str | float]:
        """The booking as a poll task carries it (JSON)."""
        return [self.key, self.host, self.start, self.due]

    @classmethod
    def from_task(cls, item: Booking | str | Sequence[str | float], now: float) -> Booking:
        """A booking from a poll task; a bare key (a task sent by an older release) starts
        now."""
        if isinstance(item, Booking):
            return item
        if isinstance(item, str):
            return cls(item, "", now, now)
        key, host, start, due = item
        return cls(str(key), str(host), float(start), float(due))


@dataclass(frozen=True)
class Synced:
    """What a sync did: the feeds whose plan changed (now due), and every feed's host."""

    changed: list[str]
    hosts: dict[str, str]


class Schedule:
    def __init__(self, client: redis.Redis, lease_seconds: float) -> None:
        self._client = client
        self.lease_seconds = lease_seconds
        self._book = client.register_script(_BOOK)

    def sync(self, feeds: Mapping[str, tuple[str, str]], now: float | None = None) -> Synced:
        """Make the schedule hold exactly these feeds (key → its plan, see
        :func:`worker.schedule.pacing.schedule_plan`, and the host of its URL): new ones due
        now, removed ones gone, and those whose plan changed due now too, under their URL's
        host, so an edit to the config does not wait for the feed's next poll. Return the keys
        of the changed ones, and each feed's host after the sync.

        A scheduled feed with no plan recorded yet (scheduled by a release that kept none)
        gets its plan without being made due; so do feeds of the single schedule of earlier
        releases, which keep their due times: an upgrade does not poll every feed at once."""
        due = time.time() if now is None else now
        scheduled, recorded, legacy = self._read_all()
        changed = sorted(k for k in scheduled.keys() & feeds.keys()
                         if k in recorded and recorded[k] != feeds[k][0])
        added = feeds.keys() - scheduled.keys()
        removed = scheduled.keys() - feeds.keys()
        placed: dict[str, dict[str, float]] = defaultdict(dict)
        for key in added:
            placed[feeds[key][1]][key] = legacy.get(key, due)
        for key in changed:
            placed[feeds[key][1]][key] = due
        gone: dict[str, list[str]] = defaultdict(list)
        for key in removed | {k for k in changed if scheduled[k] != feeds[k][1]}:
            gone[scheduled[key]].append(key)
        with self._client.pipeline() as pipe:
            for host, keys in gone.items():
                pipe.zrem(DUE_PREFIX + host, *keys)
            if removed:
                pipe.hdel(FEED_HOST_KEY, *removed)
            for host, dues in placed.items():
                pipe.hset(FEED_HOST_KEY, mapping=dict.fromkeys(dues, host))
                pipe.zadd(DUE_PREFIX + host, dues)
                pipe.zadd(HOSTS_DUE_KEY, {host: min(dues.values())}, lt=True)
            if legacy:
                pipe.delete(LEGACY_SCHEDULE_KEY)
            _record_plans(pipe, {k: plan for k, (plan, _) in feeds.items()}, recorded)
            pipe.execute()
        hosts = {k: h for k, h in scheduled.items() if k not in removed}
        hosts.update((key, host) for host, dues in placed.items() for key in dues)
        return Synced(changed, hosts)

    def _read_all(self) -> tuple[dict[str, str], dict[str, str], dict[str, float]]:
        """The scheduled feeds with their hosts, the plans recorded, and what is left of the
        single schedule of earlier releases, read in one round trip."""
        with self._client.pipeline() as pipe:
            pipe.hgetall(FEED_HOST_KEY)
            pipe.hgetall(PLANS_KEY)
            pipe.zrange(LEGACY_SCHEDULE_KEY, 0, -1, withscores=True)
            hosts, plans, legacy = pipe.execute()
        return ({k.decode(): v.decode() for k, v in hosts.items()},
                {k.decode(): v.decode() for k, v in plans.items()},
                {k.decode(): float(v) for k, v in legacy})

    def claim(
        self, limit: int, horizon: float, policy: Callable[[str], HostPolicy],
        now: float | None = None,
    ) -> list[Booking]:
        """Book and claim up to ``limit`` feeds due within ``horizon`` seconds, each at its due
        time or, when its host's pace says so, at the host's next free start, until ``horizon``
        seconds ahead; hosts that waited longest first, and the most overdue feeds first within
        a host. A feed due before the next tick starts on time, not at that tick."""
        at = time.time() if now is None else now
        due = self._client.zrangebyscore(HOSTS_DUE_KEY, "-inf", at + horizon, 0, limit)
        hosts = [h.decode() for h in due]  # type: ignore[union-attr]
        bookings: list[Booking] = []
        for first in range(0, len(hosts), HOSTS_PER_CALL):
            left = limit - len(bookings)
            if left <= 0:
                break
            args: list[str | float] = [at, self.lease_seconds, horizon, left, HOSTS_DUE_KEY,
                                       DUE_PREFIX, HOST_PREFIX, FEED_HOST_KEY]
            for host in hosts[first:first + HOSTS_PER_CALL]:
                limits = policy(host)
                args.extend([host, limits.max_concurrent, limits.min_spacing])
            booked = self._book(keys=[], args=args)
            bookings.extend(
                Booking(booked[i].decode(), booked[i + 1].decode(), float(booked[i + 2]),
                        float(booked[i + 3]))
                for i in range(0, len(booked), 4))
        return bookings

    def finish(
        self, key: str, due_at: float | None = None, host: str = "",
        lease: tuple[str, str] | None = None, pipe: redis.client.Pipeline | None = None,
        claimed: float | None = None,
    ) -> None:
        """After a poll: set the feed's next due time (unless it was removed meanwhile), under
        ``host`` when it moved there, and give up its lease (key, token) if still held. With
        ``claimed``, the due time a tick's claim gave the feed, only while the feed still has
        it: a claim that ran out and was booked again belongs to the newer booking."""
        args: list[str | float] = [key, "" if due_at is None else due_at, host,
                                   FEED_HOST_KEY, DUE_PREFIX, HOSTS_DUE_KEY,
                                   "" if claimed is None else claimed]
        if lease is not None:
            args.extend([LEASE_PREFIX + lease[0], lease[1]])
        # EVAL, not a registered script: a pipeline would check scripts in a round trip
        (pipe or self._client).eval(_FINISH, 0, *args)

    def reschedule(
        self, key: str, due_at: float, host: str = "", claimed: float | None = None,
    ) -> None:
        """Set a feed's next due time, unless the feed was removed meanwhile (or, with
        ``claimed``, claimed again since)."""
        self.finish(key, due_at, host, claimed=claimed)

    def claim_of(self, booking: Booking) -> float | None:
        """The due time the tick's claim gave a booked feed (None for a bare key)."""
        return booking.start + self.lease_seconds if booking.host else None

    def retire(self, key: str, url: str) -> None:
        """Stop polling a feed at this URL: out of the schedule until its URL changes."""
        host = self._client.hget(FEED_HOST_KEY, key)
        with self._client.pipeline() as pipe:
            pipe.hset(RETIRED_KEY, key, url)
            if host is not None:
                pipe.zrem(DUE_PREFIX + host.decode(), key)  # type: ignore[union-attr]
            pipe.hdel(FEED_HOST_KEY, key)
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

    def hosts(self) -> dict[str, str]:
        """Every scheduled feed's host."""
        found = self._client.hgetall(FEED_HOST_KEY)
        return {k.decode(): v.decode() for k, v in found.items()}  # type: ignore[union-attr]

    def next_due(self, key: str) -> float | None:
        return due_times(self._client, [key])[key]

    def lease(self, key: str, watch: tuple[str, str] | None = None) -> Lease:
        """A new lease for a feed, to be taken with its host's turn
        (:mod:`worker.schedule.hosts`)."""
        return Lease(LEASE_PREFIX + key, uuid.uuid4().hex, int(self.lease_seconds * 1000), watch)

    def renew(self, lease: Lease) -> bool:
        """Start a held lease's time again; False when it is no longer held by its token."""
        return bool(self._client.eval(
            _RENEW, 1, lease.key, lease.token, lease.milliseconds))


def due_times(client: redis.Redis, keys: Sequence[str]) -> dict[str, float | None]:
    """When each feed is next due (None: not scheduled), in two round trips."""
    hosts: list[bytes | None] = client.hmget(FEED_HOST_KEY, keys)  # type: ignore[assignment]
    by_host: dict[str, list[str]] = defaultdict(list)
    for key, host in zip(keys, hosts, strict=True):
        if host is not None:
            by_host[host.decode()].append(key)
    due: dict[str, float | None] = dict.fromkeys(keys)
    with client.pipeline(transaction=False) as pipe:
        for host_name, members in by_host.items():
            pipe.zmscore(DUE_PREFIX + host_name, members)
        for members, scores in zip(by_host.values(), pipe.execute(), strict=True):
            due.update((k, float(s) if s is not None else None)
                       for k, s in zip(members, scores, strict=True))
    return due


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
