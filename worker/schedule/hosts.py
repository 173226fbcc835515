"""Per-host politeness that holds across every worker: a cap on requests in flight, a minimum
spacing between request starts, pauses a host asked for (429, 503 with Retry-After), and an
even stretch of every feed's interval when a host's feeds need more than its limits allow.

The state lives in Redis, one small hash and one sorted set per host, changed by one Lua script
per request start and one per request end, so any number of worker processes on any number of
machines share it. The tick books each due feed a start time ahead (:mod:`worker.schedule`), as
many as the host's pace allows until the next tick; here a worker checks, when that time comes,
that the host really has a slot free and that the last start is far enough back, and waits a
little when not (another worker's article fetch, a task that arrived late).

The host hash holds: ``next_start`` (where the tick's bookings stand), ``last_start`` (the last
request actually started), ``paused_until`` and ``pause_reason``, ``latency`` (a moving average
of request times, which lowers the pace when requests take longer than ``max_concurrent`` slots
can absorb), ``rate``/``rate_at`` (requests a second over about a minute, for ``status``), and
the overload survey's ``stretch``, ``demand``, ``capacity`` and ``feeds``.
"""

from __future__ import annotations

import logging
import math
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import redis

from worker import lua
from worker.config import HostPolicy
from worker.exceptions import HostUnavailable
from worker.keys import HOST_PREFIX, SLOTS_PREFIX
from worker.schedule import outbox

log = logging.getLogger("feedwatch.hosts")

BUSY_RETRY = 0.25
"""Seconds until a request whose host has all its slots in flight asks again."""
MAX_AHEAD = 1.0
"""A start that must wait for the host's spacing is granted this far ahead at most; a worker
thread sleeps until then."""
RATE_WINDOW = 60.0
"""Seconds over which ``status`` reports the requests a second a host got."""
HOST_STATE_SECONDS = 86400
"""A host hash nobody touched for this long expires (a host whose feeds all went)."""
LATENCY_WEIGHT = 0.2
"""Weight of the newest request in the host's moving average of request times."""
STRETCH_STEP = 0.1
"""A host's stretch is logged again when it moves by this share."""
TARGET_UTILISATION = 0.9
"""The share of an overloaded host's capacity its stretched feeds fill: at all of it, any
slow answer starts a queue that never drains."""

_START = lua.load("worker.schedule", "host_start.lua")
_DONE = lua.load("worker.schedule", "host_done.lua")
_PAUSE = lua.load("worker.schedule", "host_pause.lua")


@dataclass(frozen=True)
class Lease:
    """A lock key to take with a turn (a feed's poll lease, see :mod:`worker.schedule`)."""

    key: str
    token: str
    milliseconds: int
    watch: tuple[str, str] | None = None
    """A hash and field read once the lease is taken (:attr:`Turn.watched`): what the last
    holder wrote there tells whether a copy read before taking the lease is still current."""


def host_of(url: str) -> str:
    """The host a URL's requests count against: its lower-cased host and port."""
    return urlsplit(url).netloc.lower().rpartition("@")[2]


@dataclass(frozen=True)
class Turn:
    """The answer to "may I fetch from this host now?"."""

    granted: bool
    at: float
    """Granted: when the request may start. Refused: when to ask again (Unix seconds)."""
    reason: str
    """"granted", or why not: "paused" (the host asked), "busy" (all slots in flight),
    "spaced" (the last start is too recent), or "leased" (another worker holds the lease)."""
    token: str = ""
    watched: str | None = None
    """The value of the lease's ``watch`` field when the turn was granted."""
    stretch: float = 1.0
    """The factor the host's feeds stretch their intervals by (see :func:`load`)."""


@dataclass(frozen=True)
class Load:
    """What a host's feeds ask of it against what its limits give."""

    feeds: int
    demand: float
    """Requests a second the feeds need at their intervals."""
    capacity: float
    """Requests a second the host's limits allow (``inf``: no limit binds)."""

    @property
    def stretch(self) -> float:
        """The factor every feed's interval is stretched by so that demand fits
        :data:`TARGET_UTILISATION` of capacity."""
        usable = self.capacity * TARGET_UTILISATION
        return max(1.0, self.demand / usable) if usable > 0 else 1.0

    @property
    def late(self) -> float:
        """How many seconds later than their intervals say the feeds are polled, on average."""
        if self.stretch <= 1.0 or self.demand <= 0:
            return 0.0
        return self.feeds / (self.demand / self.stretch) - self.feeds / self.demand

    def describe(self, host: str) -> str:
        return (f"{host}: {self.feeds:,} feeds need {self.demand:.1f} requests/s at their "
                f"intervals; its limits allow {self.capacity:.1f}; intervals stretched "
                f"{self.stretch:.2f} times to use {TARGET_UTILISATION:.0%} of that, polls run "
                f"{self.late:,.0f} s late")


def capacity(policy: HostPolicy, latency: float | None) -> float:
    """Requests a second a host's limits allow: one per ``min_spacing``, and no more than its
    ``max_concurrent`` slots get through when each request takes ``latency`` seconds."""
    by_spacing = 1 / policy.min_spacing if policy.min_spacing > 0 else math.inf
    by_slots = policy.max_concurrent / latency if latency else math.inf
    return min(by_spacing, by_slots)


def load(intervals: Sequence[float], policy: HostPolicy, latency: float | None) -> Load:
    """The load of a host whose feeds are polled at these intervals (seconds)."""
    return Load(len(intervals), sum(1 / i for i in intervals if i > 0), capacity(policy, latency))


class HostLimits:
    def __init__(
        self, client: redis.Redis, policy: Callable[[str], HostPolicy], *,
        request_seconds: float, writes: outbox.Outbox | None = None,
    ) -> None:
        """``policy`` gives each host's limits (:meth:`worker.config.Settings.host_policy`);
        ``request_seconds`` bounds one request (the fetch timeout and then some): a slot is
        freed after it even when its worker died. With ``writes``, each turn carries the
        writes waiting there to Redis ahead of it (see :mod:`worker.schedule.outbox`)."""
        self._client = client
        self._writes = writes
        self.policy = policy
        self.request_seconds = request_seconds
        self._start = client.register_script(_START)
        self._pause = client.register_script(_PAUSE)

    def turn(self, host: str, now: float | None = None, lease: Lease | None = None) -> Turn:
        """Take a slot to fetch from ``host`` now (or within :data:`MAX_AHEAD`), or say when
        to ask again.

        With a ``lease``, the turn is granted only if nobody holds it, and the lease is taken
        with the turn: one round trip to Redis for both."""
        at = time.time() if now is None else now
        token = uuid.uuid4().hex
        policy = self.policy(host)
        keys = [HOST_PREFIX + host, SLOTS_PREFIX + host]
        args: list[str | float] = [
            at, token, policy.max_concurrent, policy.min_spacing, self.request_seconds,
            MAX_AHEAD, BUSY_RETRY, RATE_WINDOW, HOST_STATE_SECONDS]
        if lease is not None:
            keys.append(lease.key)
            args.extend([lease.token, lease.milliseconds])
            if lease.watch is not None:
                keys.append(lease.watch[0])
                args.append(lease.watch[1])
        granted, when, reason, *rest = self._ask(keys, args)
        if not granted:
            return Turn(False, float(when), reason.decode())
        stretch, watched = rest
        value = watched.decode() if watched else None
        return Turn(True, float(when), "granted", token, value, float(stretch))

    def _ask(self, keys: list[str], args: list[str | float]) -> list[Any]:
        """Run the start script, behind the writes waiting in the outbox if there are any:
        one round trip for both."""
        if self._writes is None:
            return self._start(keys=keys, args=args)  # type: ignore[no-any-return]
        pipe = self._writes.pipeline()
        carried = self._writes.carry(pipe)
        if not carried:
            return self._start(keys=keys, args=args)  # type: ignore[no-any-return]
        pipe.evalsha(self._start.sha, len(keys), *keys, *args)
        try:
            results = pipe.execute(raise_on_error=False)
        except outbox.GONE:
            log.warning("bookkeeping of %d recent poll write(s) lost with a host turn, Redis is "
                        "unreachable; those feeds are polled again when their claims run out",
                        carried)
            raise
        outbox.check(results, carried)
        answer = results[-1]
        if isinstance(answer, redis.exceptions.NoScriptError):  # a restarted server
            return self._start(keys=keys, args=args)  # type: ignore[no-any-return]
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]

    def take(self, host: str, until: float, lease: Lease | None = None) -> Turn:
        """Ask for a turn until ``until`` (Unix seconds) while the host is busy or spaced, and
        sleep until a granted turn starts. A host paused, a lease held elsewhere, or no turn by
        ``until`` is returned at once, refused."""
        while True:
            turn = self.turn(host, lease=lease)
            now = time.time()
            if turn.granted:
                time.sleep(max(0.0, turn.at - now))
                return turn
            if turn.reason in ("leased", "paused") or turn.at > until:
                return turn
            # a little jitter, so that threads refused together do not ask together again
            time.sleep(max(0.0, turn.at - now) + random.uniform(0, 0.02))

    @contextmanager
    def request(self, host: str, patience: float) -> Iterator[None]:
        """Hold a turn on ``host`` for one request that is not a feed poll (an article page);
        raise :class:`~worker.exceptions.HostUnavailable` when none comes within ``patience``
        seconds."""
        turn = self.take(host, time.time() + patience)
        if not turn.granted:
            raise HostUnavailable(f"{host} gave no turn within {patience:.0f} s ({turn.reason})")
        try:
            yield
        finally:
            self.done(host, turn)

    def done(
        self, host: str, turn: Turn, pipe: redis.client.Pipeline | None = None,
        now: float | None = None,
    ) -> None:
        """Free a finished request's slot, and count its time in the host's latency."""
        if turn.granted:
            # EVAL, not a registered script: a pipeline would check scripts in a round trip
            (pipe or self._client).eval(
                _DONE, 2, HOST_PREFIX + host, SLOTS_PREFIX + host, turn.token, turn.at,
                time.time() if now is None else now, LATENCY_WEIGHT)

    def pause(self, host: str, until: float, reason: str = "", now: float | None = None) -> None:
        """Let nobody fetch from ``host`` before ``until`` (Unix seconds), for ``reason``."""
        self._pause(keys=[HOST_PREFIX + host], args=[
            until, time.time() if now is None else now, reason, HOST_STATE_SECONDS])

    def readings(self, hosts: Sequence[str]) -> dict[str, tuple[float | None, float]]:
        """Each host's moving average of request times (None before the first) and its
        stretch now, read in one round trip."""
        with self._client.pipeline(transaction=False) as pipe:
            for host in hosts:
                pipe.hmget(HOST_PREFIX + host, "latency", "stretch")
            found = pipe.execute()
        return {h: (float(latency) if latency else None, float(stretch) if stretch else 1.0)
                for h, (latency, stretch) in zip(hosts, found, strict=True)}

    def survey(self, loads: Mapping[str, Load], stretched: Mapping[str, float]) -> list[str]:
        """Record the load of each host in ``loads``, so its feeds stretch their intervals
        evenly (``stretched``: each host's stretch before); return a line for each host that
        became overloaded, changed its stretch noticeably, or recovered."""
        lines = []
        with self._client.pipeline(transaction=False) as pipe:
            for host, now in loads.items():
                was = stretched.get(host, 1.0)
                if now.stretch > 1.0:
                    pipe.hset(HOST_PREFIX + host, mapping=dict(zip(_SURVEY_FIELDS, (
                        now.stretch, now.demand, now.capacity, now.feeds),
                        strict=True)))
                    pipe.expire(HOST_PREFIX + host, HOST_STATE_SECONDS)
                    if abs(now.stretch - was) > STRETCH_STEP * was:
                        lines.append(now.describe(host))
                elif was > 1.0:
                    pipe.hdel(HOST_PREFIX + host, *_SURVEY_FIELDS)
                    lines.append(f"{host}: its feeds fit its limits again "
                                 f"({now.demand:.1f} requests/s needed, "
                                 f"{now.capacity:.1f} allowed)")
            pipe.execute()
        return lines


_SURVEY_FIELDS = ("stretch", "demand", "capacity", "feeds")
