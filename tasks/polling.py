"""The Celery tasks: thin wrappers around :class:`worker.runtime.Runtime`."""

from __future__ import annotations

from typing import Any

from celery import signals

from worker.celery_app import POLL_TASK, QUEUE, TICK_TASK, app
from worker.runtime import Runtime

BATCH = 50
"""Feeds per poll task: one Celery task costs about as much as polling an unchanged feed."""

_runtime: Runtime | None = None


def runtime() -> Runtime:
    """This worker process's runtime, made on first use (after the pool forked)."""
    global _runtime
    if _runtime is None:
        _runtime = Runtime()
    return _runtime


@app.task(name=TICK_TASK)  # type: ignore[untyped-decorator]
def tick() -> int:
    """Claim the feeds that are due and send them to the workers in batches; no more than a
    tick's worth wait in the queue."""
    keys = runtime().tick(queue=QUEUE, feeds_per_task=BATCH)
    for start in range(0, len(keys), BATCH):
        poll.apply_async(args=[keys[start:start + BATCH]],
                         expires=runtime().schedule.lease_seconds)
    return len(keys)


@app.task(name=POLL_TASK)  # type: ignore[untyped-decorator]
def poll(keys: list[str]) -> int:
    """Hand a batch of feeds to this process's poll threads; return how many it took (the
    others are gone from the config). The task ends before the last of them are polled."""
    return len(runtime().start_batch(keys))


@signals.worker_process_shutdown.connect  # type: ignore[untyped-decorator]
def _finish_polls(**_: Any) -> None:
    """A worker stopping (warm shutdown) first finishes the polls its process holds."""
    if _runtime is not None:
        _runtime.drain()
