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
from typing import Literal

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


def check(client: redis.Redis, role: Role, limit: float, host: str | None = None,
          now: float | None = None) -> Health:
    """Whether the worker of ``host`` (or a beat) noted a heartbeat within ``limit`` seconds."""
    name = f"the worker on {host or socket.gethostname()}" if role == "worker" else "a beat"
    try:
        seen = client.hget(HEARTBEAT_KEY, field(role, host))
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        return Health(False, f"Redis is unreachable ({exc})")
    if seen is None:
        return Health(False, f"no heartbeat from {name} yet")
    age = (time.time() if now is None else now) - float(seen)
    what = "took a task" if role == "worker" else "sent a tick"
    if age > limit:
        return Health(False, f"{name} last {what} {age:.0f} s ago (more than {limit:.0f} s)")
    return Health(True, f"{name} {what} {max(age, 0):.0f} s ago")
