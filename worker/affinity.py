"""One core for each worker pool process.

A pool process polls in many threads, and only one of them runs Python at a time (the GIL).
When the kernel spreads those threads over several cores, a hand-over of the GIL wakes a thread
on another core: system calls, a wake-up between processors, and the interpreter's hot data
moved from one cache to another, all for no gain in parallel work.
Measured on the 2-core benchmark machine (``bench/driver.py``, 3,000 feeds every 9 s, the
compose file's worker, 2026-12-01): held to one core each, the two pool processes spend 1.09 to
1.11 ms of CPU an unchanged poll instead of 1.36.
A pool process does nearly all of its work holding the GIL, so a second core gains it little.

Process *n* of the pool (Celery numbers them from 0) takes the *n*-th of the cores this worker
may use, wrapping round when there are more processes than cores. Several workers on one
machine, each with fewer processes than cores, would crowd the first cores: they should set
``pin_processes: false``. Where the system cannot set affinity (not Linux), or only one core
is allowed, nothing is done.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

log = logging.getLogger("feedwatch.affinity")


def core_for(index: int, allowed: Sequence[int]) -> int | None:
    """The core pool process ``index`` is held to, among ``allowed``; None to leave it free
    (one core or none allowed: there is nothing to choose)."""
    if len(allowed) < 2 or index < 0:
        return None
    return sorted(allowed)[index % len(allowed)]


def pin_pool_process(index: int | None) -> int | None:
    """Hold this process to its core (see :func:`core_for`); return the core, or None when
    the process is left free."""
    get = getattr(os, "sched_getaffinity", None)
    pin = getattr(os, "sched_setaffinity", None)
    if index is None or get is None or pin is None:
        return None
    core = core_for(index, list(get(0)))
    if core is None:
        return None
    try:
        pin(0, {core})
    except OSError as exc:  # a sandbox may forbid it: run unpinned rather than not at all
        log.warning("pool process %d: cannot hold it to CPU %d (%s)", index, core, exc)
        return None
    log.info("pool process %d held to CPU %d (pin_processes)", index, core)
    return core
