"""Liveness that Docker can check: a worker and a beat each note in Redis when they last did
their work, and ``feedwatch health worker|beat`` says whether that is recent.

A worker notes the time each time one of its processes takes a task (a tick or a batch of
polls), under its host name, so a worker whose pool hangs, or that lost its broker, stops
noting. A beat notes the time each time it sends a tick. Either is stale after
:func:`max_age`: several ticks missed, and never less than a minute, since with several
workers each takes only some of the ticks.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Literal, cast

import redis

from worker.keys import HEARTBEAT_KEY
from worker.state import Writer

Role = Literal["worker", "beat"]

MIN_AGE = 60.0
"""Seconds without a heartbeat after which a worker or beat counts as down, at least."""
TICKS_MISSED = 6
"""Ticks without a heartbeat after which a worker or beat counts as down, when longer."""


def max_age(tick: float) -> float:
    """How old a heartbeat may be, for a deployment ticking every ``tick`` seconds."""
    return max(MIN_AGE, TICKS_MISSED * tick)


def field(role: Role, host: str | None = None) -> str:
    """The heartbeat's field: ``beat``, or ``worker:<host>`` (this host by default)."""
    return "beat" if role == "beat" else f"worker:{host or socket.gethostname()}"


def note(client: Writer, role: Role, now: float | None = None) -> None:
    """Note that this host's worker (or a beat) is at work now."""
    client.hset(HEARTBEAT_KEY, field(role), time.time() if now is None else now)


@dataclass(frozen=True)
class Health:
    healthy: bool
    message: str


def seen(client: redis.Redis) -> dict[str, float]:
    """Every heartbeat: field (``beat``, ``worker:<host>``) → when it was noted."""
    found = cast(dict[bytes, bytes], client.hgetall(HEARTBEAT_KEY))
    return {name.decode(): float(value) for name, value in found.items()}


def check(client: redis.Redis, role: Role, limit: float, host: str | None = None,
          now: float | None = None) -> Health:
    """Whether the worker of ``host`` (or a beat) noted a heartbeat within ``limit`` seconds."""
    name = f"the worker on {host or socket.gethostname()}" if role == "worker" else "a beat"
    try:
        last = client.hget(HEARTBEAT_KEY, field(role, host))
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        return Health(False, f"Redis is unreachable ({exc})")
    return judge(name, role, None if last is None else float(last), limit,
                 time.time() if now is None else now)


def judge(name: str, role: Role, last: float | None, limit: float, now: float) -> Health:
    """Whether a heartbeat noted at ``last`` (None: never) is within ``limit`` seconds, and
    the sentence that says so, naming ``name``."""
    if last is None:
        return Health(False, f"no heartbeat from {name} yet")
    age = max(0.0, now - last)
    what = "took a task" if role == "worker" else "sent a tick"
    if age > limit:
        return Health(False, f"{name} last {what} {age:.0f} s ago (more than {limit:.0f} s)")
    return Health(True, f"{name} {what} {age:.0f} s ago")
