"""The Celery tasks: thin wrappers around :class:`worker.runtime.Runtime`."""

from __future__ import annotations

from typing import Any

from worker.celery_app import POLL_TASK, TICK_TASK, app
from worker.runtime import Runtime

_runtime: Runtime | None = None


def runtime() -> Runtime:
    """This worker process's runtime, made on first use (after the pool forked)."""
    global _runtime
    if _runtime is None:
        _runtime = Runtime()
    return _runtime


@app.task(name=TICK_TASK)  # type: ignore[untyped-decorator]
def tick() -> int:
    """Claim the feeds that are due and send one poll task for each."""
    keys = runtime().tick()
    for key in keys:
        poll.apply_async(args=[key], expires=runtime().schedule.lease_seconds)
    return len(keys)


@app.task(name=POLL_TASK)  # type: ignore[untyped-decorator]
def poll(key: str) -> dict[str, Any] | None:
    """Poll one feed."""
    outcome = runtime().poll(key)
    return outcome.__dict__ if outcome else None
