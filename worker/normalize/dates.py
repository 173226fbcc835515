"""Feed dates to ISO 8601 UTC strings (``2016-02-20T12:00:00Z``).

feedparser already turns every date format it knows into a ``time.struct_time`` in UTC (the
``*_parsed`` keys). For the few strings it gives up on, the raw text is tried once more as
ISO 8601 and as RFC 2822; anything else is no date rather than a guessed one.
"""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def to_iso_utc(parsed: time.struct_time | None, raw: str | None = None) -> str | None:
    """``parsed`` (feedparser's UTC struct_time), else ``raw``, as ISO UTC; None if neither."""
    moment = _from_struct_time(parsed) if parsed is not None else None
    if moment is None and raw and raw.strip():
        moment = _from_text(raw.strip())
    if moment is None:
        return None
    try:
        return format_iso_utc(moment)
    except OverflowError:  # year 1 or 9999 pushed out of range by the UTC offset
        return None


def format_iso_utc(moment: datetime) -> str:
    """A datetime as ISO UTC; a naive datetime is taken to be in UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    # Not strftime: it writes year 800 as "800", not "0800".
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"
    )


def _from_struct_time(parsed: time.struct_time) -> datetime | None:
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def _from_text(raw: str) -> datetime | None:
    try:
        return datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
