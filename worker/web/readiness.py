"""``/healthz`` and ``/readyz``: whether ``serve`` is up, and whether the deployment works.

Ready means: Redis answers, a beat sent a tick within the last three ticks (at least
:data:`MIN_BEAT_AGE` seconds, so one late tick is no alarm), and a worker took a task within the
last :data:`WORKER_AGE` seconds. Each check is named in the answer, so a 503 says what failed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

from worker.service import heartbeat

TICKS = 3
"""Ticks a beat may miss before the deployment is not ready."""
MIN_BEAT_AGE = 10.0
WORKER_AGE = 60.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def checks(client: redis.Redis, tick: float, now: float | None = None) -> list[Check]:
    """The readiness checks, in order; those after Redis are failed too when it is away."""
    at = time.time() if now is None else now
    try:
        beats = heartbeat.seen(client)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        return [Check("redis", False, f"unreachable: {exc}"),
                Check("beat", False, "unknown, Redis is unreachable"),
                Check("worker", False, "unknown, Redis is unreachable")]
    beat = heartbeat.judge("a beat", "beat", beats.get("beat"),
                           max(MIN_BEAT_AGE, TICKS * tick), at)
    workers = [seen for name, seen in beats.items() if name.startswith("worker:")]
    worker = heartbeat.judge("any worker", "worker", max(workers, default=None), WORKER_AGE, at)
    return [Check("redis", True, "answers"), Check("beat", beat.healthy, beat.message),
            Check("worker", worker.healthy, worker.message)]


def answer(results: list[Check]) -> tuple[int, dict[str, object]]:
    """The HTTP status (200 or 503) and JSON body of ``/readyz``."""
    ready = all(check.ok for check in results)
    body: dict[str, object] = {
        "ready": ready,
        "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in results},
    }
    if not ready:
        body["failed"] = [check.name for check in results if not check.ok]
    return (200 if ready else 503), body
