"""What a publisher asks of our polling, read off its answer and its document: how long to
wait after a 429 or 503 (Retry-After), and the shortest interval it wants (Cache-Control
max-age, Expires, RSS ``<ttl>``, ``sy:updatePeriod``). Pure functions: fetching reads the first,
parsing the document's, scheduling (:mod:`worker.schedule.interval`) applies them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

DAY = 86400.0
MAX_RETRY_AFTER = DAY
"""A pause a server asks for (429 or 503 with Retry-After) is believed up to one day: it
holds its whole host, and ``Retry-After: Fri, 31 Dec 9999`` would stop it for good."""
_SECONDS = re.compile(r"[0-9]+")
"""A count in a header or a feed: ASCII digits (``str.isdigit`` also takes "²" and "١٢")."""
_SY_PERIODS = {"hourly": 3600, "daily": DAY, "weekly": 7 * DAY, "monthly": 30 * DAY,
               "yearly": 365 * DAY}


def retry_after_time(value: str | None, now: float) -> float | None:
    """The Unix time a Retry-After header (seconds or an HTTP date) points at, at most
    :data:`MAX_RETRY_AFTER` ahead; None if unusable."""
    if not value:
        return None
    value = value.strip()
    seconds = _count(value)
    if seconds is not None:
        return now + min(seconds, MAX_RETRY_AFTER)
    when = _http_date(value)
    return min(max(when, now), now + MAX_RETRY_AFTER) if when is not None else None


def header_minimum(headers: Mapping[str, str], now: float) -> tuple[float, str] | None:
    """What the response headers ask: Cache-Control max-age, else Expires (against Date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    control = lowered.get("cache-control", "")
    found = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", control, re.IGNORECASE)
    if found:
        return float(found.group(1)), f"Cache-Control max-age={found.group(1)}"
    expires = _http_date(lowered.get("expires", ""))
    if expires is None:
        return None
    served = _http_date(lowered.get("date", "")) or now
    return (expires - served, "Expires") if expires > served else None


def feed_minimum(channel: Mapping[str, Any]) -> tuple[float, str] | None:
    """What the feed document asks: RSS ``<ttl>`` (minutes) or ``sy:updatePeriod``/``Frequency``."""
    asked: list[tuple[float, str]] = []
    ttl = str(channel.get("ttl") or "").strip()
    minutes = _count(ttl)
    if minutes:
        asked.append((minutes * 60.0, f"<ttl>{ttl[:12]}</ttl>"))
    period = str(channel.get("sy_updateperiod") or "").strip().lower()
    if period in _SY_PERIODS:
        frequency = str(channel.get("sy_updatefrequency") or "1").strip()
        times = _count(frequency) or 1.0
        asked.append((_SY_PERIODS[period] / times, f"sy:updatePeriod {period} x{times:g}"))
    return max(asked, default=None)


def _count(text: str) -> float | None:
    """A count written in ASCII digits, however long (a float: 5,000 digits are infinity,
    where int() would refuse them); None for anything else."""
    return float(text) if _SECONDS.fullmatch(text) else None


def _http_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
