"""Redis writes that can wait a moment: they go with the next round trip the process makes.

A poll's bookkeeping (its state, its next due time, its lease given back, its host's slot
freed) needs no answer, and most polls are a 304 whose bookkeeping is all they write. Sent
alone it would be a round trip of its own for every poll, as dear to the worker as the request
to the origin. Put here instead, it rides ahead of the next host turn this process asks for
(:meth:`worker.schedule.hosts.HostLimits.turn`), in the same pipeline; when no turn comes within
:data:`FLUSH_SECONDS`, a thread of the outbox sends it alone.

Writes of one poll stay together and in order, and the writes of all polls go in the order
they were put. A process that dies loses what it had not sent: the feeds of those polls are
polled again when their claims run out (:mod:`worker.schedule`), and their stories, published
before the bookkeeping was put here, are known to deduplication.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis

log = logging.getLogger("feedwatch.outbox")

FLUSH_SECONDS = 0.2
"""Longest a write waits for a round trip to ride with before it is sent alone: a host slot
freed this late holds back no feed of a host's pace, and a poll of a process polling a few
feeds a second or more finds writes waiting."""

Command = tuple[tuple[Any, ...], dict[str, Any]]
"""A command as a redis-py pipeline stacks it: its arguments and options."""

GONE = (redis.ConnectionError, redis.TimeoutError)


class Outbox:
    def __init__(self, client: redis.Redis, flush_seconds: float = FLUSH_SECONDS) -> None:
        self._client = client
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._put = threading.Condition(self._lock)
        self._waiting: list[Command] = []
        self._since = 0.0
        """When the oldest waiting write was put (monotonic seconds)."""
        self._flusher: threading.Thread | None = None

    def pipeline(self) -> redis.client.Pipeline:
        """A pipeline to stack a poll's writes in, for :meth:`put`."""
        return self._client.pipeline(transaction=False)

    def put(self, writes: redis.client.Pipeline) -> None:
        """Send the commands stacked in ``writes`` with the next round trip, or within
        :data:`FLUSH_SECONDS`."""
        commands: list[Command] = list(writes.command_stack)
        writes.reset()
        if not commands:
            return
        with self._lock:
            if not self._waiting:
                self._since = time.monotonic()
            self._waiting.extend(commands)
            if self._flusher is None:
                self._flusher = threading.Thread(target=self._flush_late, name="outbox",
                                                 daemon=True)
                self._flusher.start()
            self._put.notify()

    def carry(self, pipe: redis.client.Pipeline) -> int:
        """Move the waiting writes to the front of ``pipe``, which the caller executes with
        ``raise_on_error=False`` and passes to :func:`check`; return how many there were."""
        with self._lock:
            waiting, self._waiting = self._waiting, []
        pipe.command_stack[:0] = waiting
        return len(waiting)

    def flush(self) -> None:
        """Send the waiting writes now (a drain, a shutdown, a caller that reads them next)."""
        pipe = self.pipeline()
        if self.carry(pipe):
            try:
                check(pipe.execute(raise_on_error=False))
            except GONE as exc:
                log.warning("bookkeeping of recent polls lost, Redis is unreachable (%s); "
                            "those feeds are polled again when their claims run out", exc)

    def _flush_late(self) -> None:
        """The outbox thread: send writes no round trip took within their time."""
        while True:
            with self._lock:
                while not self._waiting:
                    self._put.wait()
                wait = self._since + self.flush_seconds - time.monotonic()
            if wait > 0:
                time.sleep(wait)
                continue
            self.flush()


def check(results: list[Any], carried: int | None = None) -> None:
    """Log the carried writes that Redis refused (the first ``carried`` results, all when
    None): a refused write is a bug to see, and must not fail the round trip it rode with."""
    for result in results[:carried]:
        if isinstance(result, Exception):
            log.error("a bookkeeping write was refused: %s", result)
