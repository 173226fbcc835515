"""A process's limit on polls at once grows while it binds and the CPU has room, else falls
back to its floor."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from worker.service import concurrency
from worker.service.concurrency import HEADROOM, PARKED_PER_PLACE, PollPool, next_limit


def decide(limit: int, poll_seconds: float, cpu_seconds: float = 0.5, polls: int = 100) -> int:
    """The next limit after a 5-second window (floor 64, ceiling 256)."""
    return next_limit(limit=limit, floor=64, ceiling=256, polls=polls,
                      poll_seconds=poll_seconds, elapsed=5.0, cpu_seconds=cpu_seconds)


def test_fast_origins_stay_at_the_floor() -> None:
    assert decide(64, poll_seconds=1000 * 0.005) == 64, "5 ms polls: one in flight on average"


def test_a_limit_that_holds_polls_back_grows_by_the_headroom() -> None:
    """64 in flight all the time (one-second origins): the limit was what held them."""
    assert decide(64, poll_seconds=64 * 5.0) == int(64 * HEADROOM)


def test_it_grows_no_further_while_the_cpu_is_busy_nor_past_the_ceiling() -> None:
    assert decide(64, poll_seconds=64 * 5.0, cpu_seconds=4.5) == 64
    assert decide(250, poll_seconds=250 * 5.0) == 256


def test_it_falls_back_when_fewer_polls_are_in_flight() -> None:
    assert decide(200, poll_seconds=100 * 5.0) == 125, "100 in flight, with headroom"
    assert decide(200, poll_seconds=10.0, cpu_seconds=4.9) == 64, "shrinking needs no room"


def test_a_window_without_polls_changes_nothing() -> None:
    assert decide(100, poll_seconds=0.0, polls=0) == 100


def soon(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_the_pool_runs_as_many_as_its_limit_and_the_next_when_one_ends() -> None:
    pool = PollPool(ceiling=10, floor=2)
    go = [threading.Event() for _ in range(3)]
    running: list[int] = []

    def poll(n: int) -> int:
        running.append(n)
        go[n].wait(5)
        return n

    futures = [pool.submit(poll, n) for n in range(3)]
    assert soon(lambda: sorted(running) == [0, 1])
    time.sleep(0.2)
    assert sorted(running) == [0, 1], "two at once, the third waits"
    go[0].set()
    assert futures[0].result(timeout=2) == 0
    assert soon(lambda: sorted(running) == [0, 1, 2]), "the third starts when one ends"
    for event in go:
        event.set()
    assert [f.result(timeout=2) for f in futures] == [0, 1, 2]


def test_a_poll_that_raises_gives_its_error_to_its_future_and_the_pool_goes_on() -> None:
    pool = PollPool(ceiling=2, floor=1)

    def broken() -> None:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        pool.submit(broken).result(timeout=2)
    assert pool.submit(lambda: 42).result(timeout=2) == 42


def test_the_limit_follows_the_windows() -> None:
    """One-second polls that fill the pool: the limit grows each window; once polls end
    quickly, it is back at the floor."""
    clock = [0.0]
    pool = PollPool(ceiling=100, floor=8, clock=lambda: clock[0], cpu_clock=lambda: 0.0)
    limits = []
    for seconds_a_poll in (1.0, 1.0, 1.0, 0.001):
        for _ in range(5):  # a window of five seconds, the pool full each second
            polls = pool.limit
            clock[0] += 1.0
            for _ in range(polls):
                pool._running += 1
                pool._ended(clock[0] - seconds_a_poll)
        limits.append(pool.limit)
    assert 8 < limits[0] < limits[1] < limits[2], "grows each window while bound"
    assert limits[3] == 8, "back at the floor"


def test_the_pool_holds_twice_its_limit_and_drain_waits_for_them_all() -> None:
    """Past twice its limit (running or queued), handing over a poll waits: a process takes
    no more from the broker than it will start soon."""
    pool = PollPool(ceiling=10, floor=2)
    go = threading.Event()
    futures = [pool.submit(go.wait, 5) for _ in range(4)]
    handed = threading.Event()
    threading.Thread(target=lambda: (pool.submit(go.wait, 5), handed.set()),
                     daemon=True).start()
    assert not handed.wait(0.3), "the fifth waits for room"
    drained = threading.Event()
    threading.Thread(target=lambda: (pool.drain(), drained.set()), daemon=True).start()
    go.set()
    assert handed.wait(2) and drained.wait(5), "room once one ended; drained once all did"
    assert all(f.done() for f in futures)


def test_a_poll_with_a_start_time_waits_parked_without_a_thread_and_runs_then() -> None:
    pool = PollPool(ceiling=2, floor=2)
    began = time.time()
    later = [pool.submit(time.time, at=began + delay) for delay in (0.6, 0.3)]
    now = pool.submit(time.time)
    assert now.result(timeout=5) - began < 0.2, "a parked poll does not hold a place"
    pool.drain()
    assert [f.done() for f in later] == [True, True], "drain waits for parked polls too"
    starts = [f.result() - began for f in later]
    assert 0.6 <= starts[0] < 1.5 and 0.3 <= starts[1] < 1.2, f"each at its time: {starts}"


def test_a_pool_parks_a_bounded_number_of_polls_and_waits_for_room_beyond() -> None:
    """A worker does not take a whole backlog of later starts from the broker: past
    PARKED_PER_PLACE per place, handing over one more waits until a parked poll starts."""
    pool = PollPool(ceiling=1, floor=1)
    began = time.time()
    parked = [pool.submit(time.time, at=began + 0.5) for _ in range(PARKED_PER_PLACE)]
    handed = threading.Event()
    threading.Thread(target=lambda: (pool.submit(time.time, at=began + 0.5), handed.set()),
                     daemon=True).start()
    assert not handed.wait(0.3), "no room to park a ninth"
    assert handed.wait(5), "room once the parked ones started"
    pool.drain()
    assert all(f.result() >= began + 0.5 for f in parked)


def test_drain_waits_for_a_parked_poll_that_comes_due_while_the_pool_is_full() -> None:
    pool = PollPool(ceiling=1, floor=1)
    go = threading.Event()
    pool.submit(go.wait, 5)
    pool.submit(go.wait, 5)  # the pool holds twice its limit
    parked = pool.submit(time.time, at=time.time() + 0.2)
    drained = threading.Event()
    threading.Thread(target=lambda: (pool.drain(), drained.set()), daemon=True).start()
    time.sleep(0.5)  # the parked poll is due: queued behind the two
    assert not drained.is_set() and not parked.done()
    go.set()
    assert drained.wait(5) and parked.done(), "drained only once the parked poll ran too"


def threads_of(name: str) -> int:
    return sum(thread.name.startswith(f"{name}_") for thread in threading.enumerate())


def test_polls_one_at_a_time_need_one_thread_whatever_the_limit() -> None:
    """Threads are made for polls no thread is free to take, not up to the limit."""
    pool = PollPool(ceiling=64, floor=64, name="serial")
    for n in range(20):
        assert pool.submit(lambda n=n: n).result(timeout=2) == n
        pool.drain()
    assert threads_of("serial") == 1


def test_polls_at_once_get_a_thread_each_and_idle_threads_end(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(concurrency, "IDLE_SECONDS", 0.2)
    pool = PollPool(ceiling=64, floor=64, name="burst")
    go = threading.Event()
    running: list[int] = []

    def poll(n: int) -> int:
        running.append(n)
        go.wait(5)
        return n

    futures = [pool.submit(poll, n) for n in range(5)]
    assert soon(lambda: len(running) == 5), "five at once, each in a thread of its own"
    assert threads_of("burst") == 5
    go.set()
    assert [f.result(timeout=2) for f in futures] == [0, 1, 2, 3, 4]
    assert soon(lambda: threads_of("burst") == 0), "idle threads end"
    assert pool.submit(lambda: 7).result(timeout=2) == 7, "and a new one is made for the next"
