"""Each worker pool process held to a core of its own (worker/affinity.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.affinity import core_for


def test_pool_processes_take_the_allowed_cores_in_turn() -> None:
    allowed = [5, 2, 7]
    assert [core_for(index, allowed) for index in range(5)] == [2, 5, 7, 2, 5]


def test_with_one_core_or_none_nothing_is_pinned() -> None:
    assert core_for(0, [3]) is None
    assert core_for(1, []) is None


@given(st.sets(st.integers(0, 255), min_size=2), st.integers(0, 1000))
def test_a_process_always_gets_one_of_its_allowed_cores(allowed: set[int], index: int) -> None:
    assert core_for(index, sorted(allowed)) in allowed


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and two cores to choose from")
def test_a_pinned_process_runs_on_its_core_only() -> None:
    cores = sorted(os.sched_getaffinity(0))
    code = ("import os; from worker.affinity import pin_pool_process; "
            "print(pin_pool_process(1), sorted(os.sched_getaffinity(0)))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert run.stdout.split(None, 1) == [str(cores[1]), f"[{cores[1]}]\n"]
