"""Feed dates to ISO 8601 UTC strings (``2016-02-20T12:00:00Z``).

feedparser already turns every date format it knows into a ``time.struct_time`` in UTC (the
``*_parsed`` keys). For the few strings it gives up on, the raw text is tried once more as
ISO 8601 and as RFC 2822; anything else is no date rather than a guessed one.

Two corrections are made by :func:`story_date`, each reported as a flag on the story:

* A date written without a time zone ("2016-02-20T12:00:00", "Sat, 20 Feb 2016 12:00:00", a
  bare day) is read by feedparser as UTC. It is taken in the feed's configured zone instead
  ("date-without-zone").
* A date more than :data:`FUTURE_SKEW` after the fetch is a publisher's mistake (a wrong zone,
  a scheduled post): it becomes the fetch time ("date-in-future-clamped"), so that readers
  sorting by date do not see it stuck on top.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime

FUTURE_SKEW = timedelta(minutes=10)
"""How far after the fetch a date may lie (clocks differ) before it is clamped."""

WITHOUT_ZONE = "date-without-zone"
CLAMPED = "date-in-future-clamped"

_NUMERIC_DATE = re.compile(
    r"(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_AFTER_TIME = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[ap]\.?m\.?)?\s*(?P<zone>.*)$",
                         re.IGNORECASE)


def story_date(
    parsed: time.struct_time | None, raw: str | None, *, zone: tzinfo, fetched_at: datetime,
) -> tuple[str | None, list[str]]:
    """A feed date as ISO UTC, corrected as the module docstring says, and the flags raised."""
    moment = _moment(parsed, raw)
    if moment is None:
        return None, []
    flags = []
    if raw and not has_zone(raw):
        try:
            moment = _in_zone(moment, zone)
        except OverflowError:  # year 1 or 9999
            return None, []
        flags.append(WITHOUT_ZONE)
    if moment > fetched_at + FUTURE_SKEW:
        moment = fetched_at
        flags.append(CLAMPED)
    return _format(moment), flags


def _in_zone(moment: datetime, zone: tzinfo) -> datetime:
    """The same wall-clock time as ``moment`` in UTC, but in ``zone``."""
    wall_clock = moment.astimezone(UTC).replace(tzinfo=None)
    return wall_clock.replace(tzinfo=zone).astimezone(UTC)


def has_zone(raw: str) -> bool:
    """Whether a date as written names its zone: "Z", "+01:00", "GMT", "EST"... after the time.

    A date without a time of day has no zone either.
    """
    match = _AFTER_TIME.search(raw.strip())
    return match is not None and bool(match["zone"].strip())


def _moment(parsed: time.struct_time | None, raw: str | None) -> datetime | None:
    """The aware datetime of ``parsed``, else of ``raw`` (a date without zone taken as UTC).

    A plain numeric date ("2020/1/10 14:33:00") is read here rather than trusted to
    feedparser, which reads that one as 1 November 2020.
    """
    numeric = _NUMERIC_DATE.fullmatch(raw.strip()) if raw else None
    if numeric:
        return _from_numeric(numeric)
    moment = _from_struct_time(parsed) if parsed is not None else None
    if moment is None and raw and raw.strip():
        moment = _from_text(raw.strip())
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _format(moment: datetime) -> str | None:
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


def _from_numeric(match: re.Match[str]) -> datetime | None:
    try:
        year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # month 13, day 32...
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
