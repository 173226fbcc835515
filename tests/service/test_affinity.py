"""Each worker pool process held to a core of its own (worker/service/affinity.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.service.affinity import _cpu_list, core_for, read_siblings


def test_pool_processes_take_the_allowed_cores_in_turn() -> None:
    allowed = [5, 2, 7]
    assert [core_for(index, allowed) for index in range(5)] == [2, 5, 7, 2, 5]


def test_with_one_core_or_none_nothing_is_pinned() -> None:
    assert core_for(0, [3]) is None
    assert core_for(1, []) is None


def test_second_hardware_threads_come_after_every_core_has_a_process() -> None:
    """Two pool processes on the two threads of one core would share its execution units
    while other cores stay idle."""
    paired_far = {cpu: [cpu % 4, cpu % 4 + 4] for cpu in range(8)}  # Intel: 0 and 4 share
    paired_near = {cpu: [cpu - cpu % 2, cpu - cpu % 2 + 1] for cpu in range(8)}  # 0 and 1 share
    assert [core_for(i, range(8), paired_far) for i in range(8)] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert [core_for(i, range(8), paired_near) for i in range(8)] == [0, 2, 4, 6, 1, 3, 5, 7]


@given(st.integers(1, 16), st.integers(1, 4), st.data())
def test_processes_fill_physical_cores_before_sharing_one(
        cores: int, threads: int, data: st.DataObject) -> None:
    numbering = data.draw(st.permutations(range(cores * threads)))
    core_of = {cpu: position // threads for position, cpu in enumerate(numbering)}
    siblings = {cpu: [c for c in numbering if core_of[c] == core_of[cpu]] for cpu in numbering}
    if cores * threads < 2:
        return
    first = [core_for(i, sorted(numbering), siblings) for i in range(cores)]
    assert len({core_of[cpu] for cpu in first if cpu is not None}) == cores


def test_linux_cpu_lists_are_read() -> None:
    assert _cpu_list("0,4\n") == [0, 4]
    assert _cpu_list("0-3,8-9") == [0, 1, 2, 3, 8, 9]
    assert _cpu_list("") == []
    assert _cpu_list("x-y,2") == [2]


@pytest.mark.skipif(not os.path.exists("/sys/devices/system/cpu/cpu0/topology"),
                    reason="needs Linux's CPU topology in /sys")
def test_this_machines_siblings_include_each_cpu_itself() -> None:
    cpus = sorted(os.sched_getaffinity(0))
    found = read_siblings(cpus)
    assert found, "Linux lists the siblings of the CPUs this process may use"
    for cpu, shared in found.items():
        assert cpu in shared


@given(st.sets(st.integers(0, 255), min_size=2), st.integers(0, 1000))
def test_a_process_always_gets_one_of_its_allowed_cores(allowed: set[int], index: int) -> None:
    assert core_for(index, sorted(allowed)) in allowed


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and two cores to choose from")
def test_a_pinned_process_runs_on_its_core_only() -> None:
    cores = sorted(os.sched_getaffinity(0))
    code = ("import os; from worker.service.affinity import pin_pool_process; "
            "print(pin_pool_process(1), sorted(os.sched_getaffinity(0)))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert run.stdout.split(None, 1) == [str(cores[1]), f"[{cores[1]}]\n"]
