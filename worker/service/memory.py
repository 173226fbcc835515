"""What a worker process does so that its memory follows its load, not its peak.

- Before its pool forks, the main process moves every object alive out of the garbage
  collector's view (:func:`freeze_before_fork`): a pool process's collections then never
  write to the pages it shares with the main process, and those stay shared instead of being
  copied into each pool process.
- A poll process hands its allocator's free memory back to the system from time to time
  (:func:`release_free_memory`): what a burst of polls took (a first round, a backlog)
  otherwise stays with the process after they ended, in the arenas of its threads.
"""

from __future__ import annotations

import ctypes
import functools
import gc
from collections.abc import Callable


def freeze_before_fork() -> None:
    """Collect, then keep every object alive now out of later collections (``gc.freeze``)."""
    gc.collect()
    gc.freeze()


def release_free_memory() -> None:
    """Return the allocator's free pages to the system (glibc's ``malloc_trim``; nothing
    where the C library has none, as with musl)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    trim: Callable[[int], int] | None = getattr(ctypes.CDLL(None), "malloc_trim", None)
    return trim
