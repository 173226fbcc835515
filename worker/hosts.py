"""Per-host politeness that holds across every worker: a cap on concurrent requests, a minimum
spacing between request starts, and pauses a host asked for (429, 503 with Retry-After).

The state lives in Redis, one small hash and one sorted set per host, and is changed by one Lua
script per request, so any number of worker processes on any number of machines share it. A
request gets a *turn*: a start time at least ``min_spacing`` after the previous turn's. A turn
that starts soon is waited for; a host that is paused, busy or booked further ahead than
``max_wait`` makes the feed wait in the schedule instead, so no worker thread sleeps long.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis

HOST_PREFIX = "feedwatch:host:"
SLOTS_PREFIX = "feedwatch:host-slots:"
BUSY_RETRY = 1.0
"""Seconds until a feed whose host has all its concurrent requests in flight is tried again."""

_ACQUIRE = """
local now, token = tonumber(ARGV[1]), ARGV[2]
local cap, spacing = tonumber(ARGV[3]), tonumber(ARGV[4])
local ttl, max_wait = tonumber(ARGV[5]), tonumber(ARGV[6])
local lease = KEYS[3]
if lease and redis.call('EXISTS', lease) == 1 then return {0, tostring(now), 'leased'} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until') or '0')
if paused > now then return {0, tostring(paused), 'paused'} end
if redis.call('ZCARD', KEYS[2]) >= cap then return {0, tostring(now + ARGV[7]), 'busy'} end
local start = math.max(now, tonumber(redis.call('HGET', KEYS[1], 'next_start') or '0'))
if start - now > max_wait then return {0, tostring(start), 'booked'} end
redis.call('HSET', KEYS[1], 'next_start', tostring(start + spacing))
redis.call('ZADD', KEYS[2], start + ttl, token)
redis.call('EXPIRE', KEYS[1], math.ceil(ttl + max_wait + spacing) + 60)
redis.call('EXPIRE', KEYS[2], math.ceil(ttl + max_wait) + 60)
if lease then redis.call('SET', lease, ARGV[8], 'PX', ARGV[9]) end
local watched = false
if KEYS[4] then watched = redis.call('HGET', KEYS[4], ARGV[10]) end
return {1, tostring(start), 'granted', watched}
"""

_PAUSE = """
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until') or '0')
if tonumber(ARGV[1]) > paused then
  redis.call('HSET', KEYS[1], 'paused_until', ARGV[1])
  redis.call('EXPIRE', KEYS[1], math.max(math.ceil(tonumber(ARGV[1]) - tonumber(ARGV[2])), 0) + 60)
end
return 1
"""


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
    """The answer to "may I fetch from this host?"."""

    granted: bool
    at: float
    """Granted: when the request may start. Refused: when to try again (Unix seconds)."""
    reason: str
    """"granted", or why not: "paused" (the host asked), "busy" (cap reached), "booked", or
    "leased" (another worker holds the feed's lease)."""
    token: str = ""
    watched: str | None = None
    """The value of the lease's ``watch`` field when the turn was granted."""


class HostLimits:
    def __init__(
        self, client: redis.Redis, *, max_concurrent: int, min_spacing: float,
        request_seconds: float, max_wait: float = 2.0,
    ) -> None:
        """``request_seconds`` bounds one request (the fetch timeout and then some): a turn's
        concurrency slot is freed after it even when its worker died."""
        self._client = client
        self.max_concurrent = max_concurrent
        self.min_spacing = min_spacing
        self.request_seconds = request_seconds
        self.max_wait = max_wait
        self._acquire = client.register_script(_ACQUIRE)
        self._pause = client.register_script(_PAUSE)

    def turn(self, host: str, now: float | None = None, lease: Lease | None = None) -> Turn:
        """Book a turn to fetch from ``host``, or say when to try again.

        With a ``lease``, the turn is granted only if nobody holds it, and the lease is taken
        with the turn: one round trip to Redis for both."""
        at = time.time() if now is None else now
        token = uuid.uuid4().hex
        keys = [HOST_PREFIX + host, SLOTS_PREFIX + host]
        args: list[str | float] = [
            at, token, self.max_concurrent, self.min_spacing, self.request_seconds,
            self.max_wait, BUSY_RETRY]
        if lease is not None:
            keys.append(lease.key)
            args.extend([lease.token, lease.milliseconds])
            if lease.watch is not None:
                keys.append(lease.watch[0])
                args.append(lease.watch[1])
        granted, when, reason, *watched = self._acquire(keys=keys, args=args)
        value = watched[0].decode() if watched and watched[0] is not None else None
        return Turn(bool(granted), float(when), reason.decode(), token if granted else "", value)

    def wait_for(self, host: str, lease: Lease | None = None) -> Turn:
        """Book a turn and sleep until it starts; a refused turn is returned at once."""
        turn = self.turn(host, lease=lease)
        if turn.granted:
            time.sleep(max(0.0, turn.at - time.time()))
        return turn

    def done(self, host: str, turn: Turn, pipe: redis.client.Pipeline | None = None) -> None:
        """Free the concurrency slot of a finished request."""
        if turn.granted:
            (pipe or self._client).zrem(SLOTS_PREFIX + host, turn.token)

    def pause(self, host: str, until: float, now: float | None = None) -> None:
        """Let nobody fetch from ``host`` before ``until`` (Unix seconds)."""
        self._pause(keys=[HOST_PREFIX + host], args=[until, time.time() if now is None else now])

    def paused_until(self, host: str) -> float | None:
        value = self._client.hget(HOST_PREFIX + host, "paused_until")
        return float(value) if value else None
