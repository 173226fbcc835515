"""How many feeds one worker process polls at once: enough for its origins, no more.

A poll mostly waits, for the origin and for its host's turn, so a process keeps many polls in
flight; but polls that run side by side when the origins answer at once only share one core
(Python's interpreter lock) and hold more memory, and cost more CPU each. So the limit
adapts, between a floor and ``poll_threads``:

By Little's law the polls a process had in flight on average over a window are its throughput
times the mean time a poll took. Each window (:data:`WINDOW` seconds), the limit becomes that
figure with :data:`HEADROOM`, never below the floor. While the limit is what holds polls back,
the figure equals it, so the limit grows by the headroom each window until it no longer
binds, as when origins take a second to answer; with fast origins the figure stays about the
floor. The limit grows only while the process's CPU has room: a process whose core is busy
would only queue more polls at the interpreter lock. (How it behaves in the benchmark:
bench/RESULTS.md, eighth round.)
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger("feedwatch.concurrency")
T = TypeVar("T")

WINDOW = 5.0
"""Seconds between two decisions."""
HEADROOM = 1.25
"""The limit over the polls in flight on average: what lets a bound limit grow."""
BUSY_CPU = 0.8
"""The share of one core from which a process's CPU counts as busy (no growth)."""
FLOOR = 64
"""The lowest limit (or ``poll_threads``, when lower): enough for origins on a fast network."""
PARKED_PER_PLACE = 8
"""Polls a pool keeps parked for a later start, per place under its limit: a tick's bookings
reach seconds ahead, so at full speed a process holds several seconds of starts, but not all
of a backlog the other workers could take."""


def next_limit(
    *, limit: int, floor: int, ceiling: int, polls: int, poll_seconds: float,
    elapsed: float, cpu_seconds: float,
) -> int:
    """The limit for the next window, from the last one: ``polls`` ended in ``elapsed``
    seconds, taking ``poll_seconds`` in all (wall time), while the process used
    ``cpu_seconds`` of CPU."""
    if polls == 0 or elapsed <= 0:
        return limit
    in_flight = poll_seconds / elapsed  # Little's law: throughput x mean time a poll took
    wanted = max(floor, min(ceiling, math.ceil(in_flight * HEADROOM)))
    if wanted > limit and cpu_seconds / elapsed >= BUSY_CPU:
        return limit
    return wanted


class PollPool:
    """Threads that run the polls handed to them, as many at once as :func:`next_limit` says.

    A thread takes a poll from the queue only once it holds a place under the limit, so a
    poll waits in the queue, not in a thread, and wakes one thread when it starts. Threads are
    made as the limit first reaches them, and stay. The pool holds at most twice its limit in
    polls, running or queued: :meth:`submit` waits for room beyond that, so a process takes no
    more work from the broker than it will start soon, and leaves the rest to the others.

    A poll handed over with a start time (``at``) waits, parked, in one timer thread until
    then, not in a poll thread: a tick books a host's feeds seconds ahead. The pool parks at
    most :data:`PARKED_PER_PLACE` polls per place under its limit; :meth:`submit` waits for
    room beyond that too."""

    def __init__(
        self, ceiling: int, floor: int = FLOOR, *, name: str = "poll",
        clock: Callable[[], float] = time.monotonic,
        cpu_clock: Callable[[], float] = time.process_time,
    ) -> None:
        self.floor = min(floor, ceiling)
        self.ceiling = ceiling
        self.limit = self._logged = self.floor
        self._name = name
        self._clock, self._cpu_clock = clock, cpu_clock
        self._queue: queue.SimpleQueue[_Work] = queue.SimpleQueue()
        lock = threading.Lock()
        self._changed = threading.Condition(lock)
        """Notified when places under the limit free up."""
        self._emptied = threading.Condition(lock)
        """Notified when a poll ends: room for one more in the pool."""
        self._placed = 0
        """Threads holding a place under the limit: polling, or waiting for a poll to run."""
        self._held = 0
        """Polls handed to the pool and not ended: running or queued."""
        self._threads = 0
        self._window_start, self._cpu_start = clock(), cpu_clock()
        self._polls, self._poll_seconds = 0, 0.0
        self._parked: list[tuple[float, int, _Work]] = []
        """Polls waiting for their start time (Unix seconds), earliest first."""
        self._order = itertools.count()
        self._park_changed = threading.Condition(lock)
        self._timer: threading.Thread | None = None

    def submit(self, function: Callable[..., T], *args: Any, at: float | None = None) -> Future[T]:
        """Run ``function(*args)`` in a pool thread, once the pool has room and, with ``at``,
        not before that time (Unix seconds); its future has the result."""
        future: Future[T] = Future()
        work = _Work(future, function, args)
        with self._changed:
            if at is not None and at > time.time():
                while len(self._parked) >= PARKED_PER_PLACE * self.limit:
                    self._emptied.wait()
                heapq.heappush(self._parked, (at, next(self._order), work))
                self._park_changed.notify()
                if self._timer is None:
                    self._timer = threading.Thread(target=self._release_parked,
                                                   name=f"{self._name}_timer", daemon=True)
                    self._timer.start()
            else:
                while self._held >= 2 * self.limit:
                    self._emptied.wait()
                self._queue_work(work)
        return future

    def _queue_work(self, work: _Work) -> None:
        """Queue a poll for the next free place (lock held)."""
        self._held += 1
        self._queue.put(work)
        self._start_threads()

    def _release_parked(self) -> None:
        """The timer thread: queue each parked poll at its start time, whatever the pool
        holds (it was counted when parked), so a drain never sees it in neither place."""
        with self._changed:
            while True:
                if not self._parked:
                    self._park_changed.wait()
                    continue
                wait = self._parked[0][0] - time.time()
                if wait > 0:
                    self._park_changed.wait(wait)
                    continue
                work = heapq.heappop(self._parked)[2]
                try:
                    self._queue_work(work)
                except RuntimeError:  # no new thread (the system's limit): the others run it
                    log.exception("could not start a poll thread")
                self._emptied.notify_all()  # room to park one more

    def drain(self) -> None:
        """Wait until every poll handed to the pool, parked ones too, has ended."""
        with self._changed:
            while self._held or self._parked:
                self._emptied.wait()

    def _start_threads(self) -> None:
        while self._threads < self.limit:
            self._threads += 1
            threading.Thread(target=self._serve, name=f"{self._name}_{self._threads}",
                             daemon=True).start()

    def _serve(self) -> None:
        while True:
            with self._changed:
                while self._placed >= self.limit:
                    self._changed.wait()
                self._placed += 1
            work = self._queue.get()
            started = self._clock()
            try:
                work.run()
            finally:
                self._ended(started)

    def _ended(self, started: float) -> None:
        now = self._clock()
        with self._changed:
            self._placed -= 1
            self._held -= 1
            self._emptied.notify_all()  # the task thread handing polls over, or a drain
            self._polls += 1
            self._poll_seconds += now - started
            if now - self._window_start >= WINDOW:
                self._decide(now)
                self._start_threads()
            room = self.limit - self._placed
            if room > 0:
                self._changed.notify(room)  # not all: hundreds may wait, few can go

    def _decide(self, now: float) -> None:
        cpu = self._cpu_clock()
        elapsed = now - self._window_start
        before, self.limit = self.limit, next_limit(
            limit=self.limit, floor=self.floor, ceiling=self.ceiling, polls=self._polls,
            poll_seconds=self._poll_seconds, elapsed=elapsed, cpu_seconds=cpu - self._cpu_start)
        if self.limit != before:
            # A line each time it moves by a quarter since the last: not one every window.
            level = logging.INFO if abs(self.limit - self._logged) * 4 >= self._logged \
                else logging.DEBUG
            if level == logging.INFO:
                self._logged = self.limit
            log.log(level, "polling up to %d feeds at once (was %d): %.0f in flight on "
                    "average, %.0f%% of a core", self.limit, before,
                    self._poll_seconds / elapsed, 100 * (cpu - self._cpu_start) / elapsed)
        self._window_start, self._cpu_start = now, cpu
        self._polls, self._poll_seconds = 0, 0.0


@dataclass(frozen=True)
class _Work:
    future: Future[Any]
    function: Callable[..., Any]
    args: tuple[Any, ...]

    def run(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            self.future.set_result(self.function(*self.args))
        except BaseException as exc:  # the caller sees it, as with concurrent.futures
            self.future.set_exception(exc)
