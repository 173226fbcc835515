"""One core for each worker pool process.

A pool process polls in many threads, and only one of them runs Python at a time (the GIL).
When the kernel spreads those threads over several cores, a hand-over of the GIL wakes a thread
on another core: system calls, a wake-up between processors, and the interpreter's hot data
moved from one cache to another, all for no gain in parallel work: held to one core each,
pool processes spend less CPU a poll (bench/RESULTS.md, fourth round). A pool process does
nearly all of its work holding the GIL, so a second core gains it little.

Process *n* of the pool (Celery numbers them from 0) takes the *n*-th of the cores this worker
may use, wrapping round when there are more processes than cores. The cores are counted one
physical core at a time: where a core runs two hardware threads (SMT, hyper-threading), each
core's first thread comes before any second one, so that two pool processes share a physical
core only when every core already has one. Several workers on one machine, each with fewer
processes than cores, would crowd the first cores: they should set ``pin_processes: false``.
Where the system cannot set affinity (not Linux), or only one core is allowed, nothing is
done.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

log = logging.getLogger("feedwatch.affinity")


SIBLINGS = "/sys/devices/system/cpu/cpu{}/topology/thread_siblings_list"
"""Where Linux lists the hardware threads that share a CPU's physical core, e.g. "0,4" or "2-3"."""


def core_for(
    index: int, allowed: Sequence[int], siblings: Mapping[int, Sequence[int]] | None = None,
) -> int | None:
    """The CPU pool process ``index`` is held to, among ``allowed``; None to leave it free
    (one CPU or none allowed: there is nothing to choose). ``siblings`` gives, for a CPU, the
    CPUs that share its physical core (itself included); first threads of cores come first."""
    if len(allowed) < 2 or index < 0:
        return None
    known = siblings or {}

    def turn(cpu: int) -> tuple[int, int]:
        shared = sorted(known.get(cpu, (cpu,)))
        return (shared.index(cpu) if cpu in shared else 0, cpu)

    return sorted(allowed, key=turn)[index % len(allowed)]


def read_siblings(cpus: Iterable[int]) -> dict[int, list[int]]:
    """The CPUs sharing each CPU's physical core, as Linux lists them; CPUs it does not list
    are left out (counted as cores of their own)."""
    found: dict[int, list[int]] = {}
    for cpu in cpus:
        try:
            listed = Path(SIBLINGS.format(cpu)).read_text(encoding="ascii")
        except OSError:
            continue
        found[cpu] = _cpu_list(listed)
    return found


def _cpu_list(text: str) -> list[int]:
    """Linux's CPU list format: "0,4" or "0-3,8-11"."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        first, _, last = part.strip().partition("-")
        if first.isdigit() and (not last or last.isdigit()):
            cpus.extend(range(int(first), int(last or first) + 1))
    return cpus


def pin_pool_process(index: int | None) -> int | None:
    """Hold this process to its core (see :func:`core_for`); return the core, or None when
    the process is left free."""
    get = getattr(os, "sched_getaffinity", None)
    pin = getattr(os, "sched_setaffinity", None)
    if index is None or get is None or pin is None:
        return None
    allowed = list(get(0))
    core = core_for(index, allowed, read_siblings(allowed))
    if core is None:
        return None
    try:
        pin(0, {core})
    except OSError as exc:  # a sandbox may forbid it: run unpinned rather than not at all
        log.warning("pool process %d: cannot hold it to CPU %d (%s)", index, core, exc)
        return None
    log.info("pool process %d held to CPU %d (pin_processes)", index, core)
    return core
