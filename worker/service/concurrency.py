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

import collections
import heapq
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from worker.service.memory import release_free_memory

log = logging.getLogger("feedwatch.concurrency")
T = TypeVar("T")

WINDOW = 5.0
"""Seconds between two decisions; at the end of each the process also gives the memory its
polls freed back to the system."""
HEADROOM = 1.25
"""The limit over the polls in flight on average: what lets a bound limit grow."""
BUSY_CPU = 0.8
"""The share of one core from which a process's CPU counts as busy (no growth)."""
FLOOR = 64
"""The lowest limit (or ``poll_threads``, when lower): enough for origins on a fast network."""
IDLE_SECONDS = 30.0
"""Seconds a poll thread with nothing to do waits before it ends: a thread costs its stack
and its share of the allocator's arenas while it lives."""
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

    A poll waits in a queue, not in a thread, until a place under the limit is free; it then
    goes to the thread that became idle last, or to a new thread when none is idle. A thread
    idle for :data:`IDLE_SECONDS` ends: the limit bounds the threads, the polls actually in
    flight decide how many there are, and handing work to the latest idle thread lets the
    others reach their end. The pool holds at most twice its limit in polls, running or
    queued: :meth:`submit` waits for room beyond that, so a process takes no more work from
    the broker than it will start soon, and leaves the rest to the others.

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
        self._lock = threading.Lock()
        self._emptied = threading.Condition(self._lock)
        """Notified when a poll ends, while :attr:`_room_waiters` wait on it: room for one
        more in the pool."""
        self._room_waiters = 0
        self._queue: collections.deque[_Work] = collections.deque()
        """Polls waiting for a place under the limit, first come first."""
        self._idle: list[_Idle] = []
        """Threads waiting for a poll, the latest last."""
        self._running = 0
        self._held = 0
        """Polls handed to the pool and not ended: running or queued."""
        self._threads = itertools.count(1)
        self._window_start, self._cpu_start = clock(), cpu_clock()
        self._polls, self._poll_seconds = 0, 0.0
        self._parked: list[tuple[float, int, _Work]] = []
        """Polls waiting for their start time (Unix seconds), earliest first."""
        self._order = itertools.count()
        self._park_changed = threading.Condition(self._lock)
        self._timer: threading.Thread | None = None

    def submit(self, function: Callable[..., T], *args: Any, at: float | None = None) -> Future[T]:
        """Run ``function(*args)`` in a pool thread, once the pool has room and, with ``at``,
        not before that time (Unix seconds); its future has the result."""
        future: Future[T] = Future()
        work = _Work(future, function, args)
        with self._lock:
            if at is not None and at > time.time():
                while len(self._parked) >= PARKED_PER_PLACE * self.limit:
                    self._wait_for_room()
                heapq.heappush(self._parked, (at, next(self._order), work))
                if self._parked[0][2] is work:  # the timer sleeps until the earliest start
                    self._park_changed.notify()
                if self._timer is None:
                    self._timer = threading.Thread(target=self._release_parked,
                                                   name=f"{self._name}_timer", daemon=True)
                    self._timer.start()
            else:
                while self._held >= 2 * self.limit:
                    self._wait_for_room()
                self._queue_work(work)
        return future

    def _wait_for_room(self) -> None:
        """Wait until a poll ends or a parked one starts (lock held)."""
        self._room_waiters += 1
        try:
            self._emptied.wait()
        finally:
            self._room_waiters -= 1

    def _room_made(self) -> None:
        """Wake those waiting for room (lock held); none wait most of the time."""
        if self._room_waiters:
            self._emptied.notify_all()

    def _queue_work(self, work: _Work) -> None:
        """Queue a poll and start what the limit allows (lock held)."""
        self._held += 1
        self._queue.append(work)
        self._dispatch()

    def _dispatch(self) -> None:
        """Hand queued polls to idle threads, or new ones, while places are free (lock held)."""
        while self._queue and self._running < self.limit:
            work = self._queue.popleft()
            if self._idle:
                idle = self._idle.pop()
                idle.work = work
                idle.wake.release()
            else:
                try:
                    threading.Thread(target=self._serve, args=(work,), daemon=True,
                                     name=f"{self._name}_{next(self._threads)}").start()
                except RuntimeError:  # no new thread (the system's limit): a later end runs it
                    self._queue.appendleft(work)
                    raise
            self._running += 1

    def _release_parked(self) -> None:
        """The timer thread: queue each parked poll at its start time, whatever the pool
        holds (it was counted when parked), so a drain never sees it in neither place."""
        with self._lock:
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
                except RuntimeError:
                    log.exception("could not start a poll thread")
                self._room_made()  # room to park one more

    def drain(self) -> None:
        """Wait until every poll handed to the pool, parked ones too, has ended."""
        with self._lock:
            while self._held or self._parked:
                self._wait_for_room()

    def _serve(self, work: _Work | None) -> None:
        idle = _Idle()
        while work is not None:
            started = self._clock()
            work.run()
            work = self._ended(started) or self._wait_for_work(idle)

    def _wait_for_work(self, idle: _Idle) -> _Work | None:
        """The next poll handed to this thread, or None after :data:`IDLE_SECONDS` idle."""
        with self._lock:
            idle.work = None
            self._idle.append(idle)
        if idle.wake.acquire(timeout=IDLE_SECONDS):
            return idle.work
        with self._lock:
            if idle.work is None:
                self._idle.remove(idle)
                return None
        idle.wake.acquire()  # handed a poll as the wait ran out: its release is on the way
        return idle.work

    def _ended(self, started: float) -> _Work | None:
        """Count a poll that ended; the next queued one, if a place is free for it."""
        now = self._clock()
        window_ended = False
        with self._lock:
            self._running -= 1
            self._held -= 1
            self._room_made()  # the task thread handing polls over, or a drain
            self._polls += 1
            self._poll_seconds += now - started
            if now - self._window_start >= WINDOW:
                self._decide(now)
                window_ended = True
            following = None
            if self._queue and self._running < self.limit:
                following = self._queue.popleft()
                self._running += 1
            try:
                self._dispatch()  # the limit may have grown
            except RuntimeError:
                log.exception("could not start a poll thread")
        if window_ended:
            release_free_memory()  # outside the lock: it walks every arena of the allocator
        return following

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


class _Idle:
    """A poll thread's place in the idle stack: :meth:`PollPool._dispatch` sets ``work`` and
    releases ``wake``, a lock the thread waits to acquire (cheaper than a condition)."""

    def __init__(self) -> None:
        self.wake = threading.Lock()
        self.wake.acquire()
        self.work: _Work | None = None


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
