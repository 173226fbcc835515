"""When the schedule has a feed due, for tests of pacing and config reloads."""

from __future__ import annotations

import time

from worker.service.runtime import Runtime


def due_in(runtime: Runtime, key: str) -> float:
    """Seconds until the feed is next due (negative when overdue)."""
    due = runtime.schedule.next_due(key)
    assert due is not None, f"{key} is not scheduled"
    return due - time.time()
