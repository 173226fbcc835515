"""What one poll did: the poll writes it, the pacing decides the feed's next poll from it, the
logs and tests read it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PollOutcome:
    """What one poll did, for logs and tests."""

    feed: str
    result: str
    """"new" (a body was read), "not modified" (304), "unchanged" (same body), or "error"."""
    entries: int = 0
    read: int = 0
    """How many entries were parsed: fewer than ``entries`` when known items were skipped."""
    new: int = 0
    updated: int = 0
    """Stories published before whose content changed, published again as updates."""
    near_duplicates: int = 0
    """New stories found to be near-duplicates of earlier ones (annotated or dropped)."""
    error: str | None = None
    status: int | None = None
    """The HTTP status of the answer, when there was one."""
    moved_to: str | None = None
    """Where permanent redirects (301/308) led, when they did."""
    wait_until: float | None = None
    """For "asked to wait": when the server wants to hear from us again (Unix seconds)."""
    publisher_minimum: tuple[float, str] | None = None
    """The shortest interval the response headers ask for (max-age, Expires), with its source."""
    document_minimum: tuple[float, str] | None = None
    """For "new": the shortest interval the feed document asks for (<ttl>, sy:updatePeriod)."""
