"""The Celery tasks: thin wrappers around :class:`worker.service.runtime.Runtime`."""

from __future__ import annotations

from typing import Any

from celery import signals

from worker.keys import POLL_QUEUE
from worker.service.celery_app import POLL_TASK, TICK_TASK, app
from worker.service.memory import freeze_before_fork
from worker.service.runtime import Runtime, preload_poll_path

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
    """Book and claim the feeds that are due, each host's at its pace, and send them to the
    workers in batches; no more than a tick's worth wait in the queue."""
    runtime().note_alive()
    booked = runtime().tick(queue=POLL_QUEUE, feeds_per_task=BATCH)
    for start in range(0, len(booked), BATCH):
        poll.apply_async(args=[[b.as_task() for b in booked[start:start + BATCH]]],
                         expires=runtime().schedule.lease_seconds)
    return len(booked)


@app.task(name=POLL_TASK)  # type: ignore[untyped-decorator]
def poll(bookings: list[list[str | float] | str]) -> int:
    """Hand a batch of booked feeds to this process's poll threads, each to start at its
    booked time; return how many it took (the others are gone from the config). The task
    ends before the last of them are polled. A bare key (a task of an older release) is
    polled at once."""
    runtime().note_alive()
    return len(runtime().start_batch(bookings))


@signals.worker_init.connect  # type: ignore[untyped-decorator]
def _preload(**_: Any) -> None:
    """The worker's main process loads the poll path before it forks its pool, and freezes
    it there so that the pool processes keep sharing it."""
    preload_poll_path()
    freeze_before_fork()


@signals.worker_process_shutdown.connect  # type: ignore[untyped-decorator]
def _finish_polls(**_: Any) -> None:
    """A worker stopping (warm shutdown) first finishes the polls its process holds."""
    if _runtime is not None:
        _runtime.drain()
