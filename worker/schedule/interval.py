"""How long until a feed's next poll, and why: pure functions, no network, no Redis.

- After a success the interval follows the feed's publishing rhythm (stories per day over the
  last days, once a day has been watched), within the feed's ``min_interval``/``max_interval``,
  and is never shorter than what the publisher asks for (Cache-Control max-age, Expires, RSS
  ``<ttl>``, ``sy:updatePeriod``/``sy:updateFrequency``).
- After an error it backs off exponentially up to ``max_interval``; the first success brings
  it back.
- When the server asked us to wait (429, 503 with Retry-After) the next poll is after that.

A feed polled at its own pace (configured, or following its rhythm) keeps a *cadence*: its
polls land on a grid of multiples of its interval, shifted by a phase drawn from its key, so
feeds sharing an interval are spread evenly and the time a poll waits for a tick, a worker and
its fetch does not add up period after period (:func:`next_poll`). The other delays carry
jitter instead, which only ever lengthens a publisher's minimum, never shortens it.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from worker.hints import DAY

JITTER = 0.1
"""Delays the publisher set are stretched by a random 0-10%."""
MAX_PUBLISHER_MINIMUM = DAY
"""A publisher's minimum is believed up to one day: a feed with a year-long max-age is still
polled daily."""
RHYTHM_DAYS = 7
"""Days of new-story counts kept to judge a feed's rhythm."""
POLLS_PER_GAP = 2
"""Polls between two stories of a feed with a steady rhythm: a new story waits at most half its
gap to the previous one."""



@dataclass(frozen=True)
class Bounds:
    """A feed's configured interval and the limits adaptation keeps within."""

    interval: int
    min_interval: int
    max_interval: int


@dataclass(frozen=True)
class Plan:
    """The next poll: ``delay`` seconds from now (jitter included), or, for a plan on the
    feed's ``cadence``, its period; ``interval`` and ``why`` are what ``feedwatch status``
    shows. :func:`next_poll` turns a plan into a time."""

    delay: float
    interval: int
    why: str
    cadence: bool = False


Random = Callable[[float, float], float]


def after_success(
    bounds: Bounds,
    *,
    stories_per_day: float | None,
    publisher: list[tuple[float, str]],
    uniform: Random = random.uniform,
) -> Plan:
    """The plan after a poll that worked; ``stories_per_day`` is None until a day was watched."""
    if stories_per_day is None:
        seconds, why = float(bounds.interval), "configured"
    elif stories_per_day <= 0:
        seconds, why = float(bounds.max_interval), f"no new stories in {RHYTHM_DAYS} days"
    else:
        seconds = DAY / stories_per_day / POLLS_PER_GAP
        why = f"rhythm: {stories_per_day:.1f} stories/day"
    seconds = min(max(seconds, bounds.min_interval), bounds.max_interval)
    asked = max(publisher, default=None)
    if asked is not None and asked[0] > seconds:
        seconds, why = min(asked[0], MAX_PUBLISHER_MINIMUM), f"publisher asks: {asked[1]}"
        return Plan(seconds * uniform(1.0, 1.0 + JITTER), round(seconds), why)
    return Plan(seconds, round(seconds), why, cadence=True)


def after_error(bounds: Bounds, errors: int, uniform: Random = random.uniform) -> Plan:
    """Exponential backoff with jitter: interval, 2x, 4x... up to ``max_interval``."""
    seconds = min(float(bounds.max_interval), bounds.interval * 2.0 ** min(errors - 1, 30))
    seconds = max(seconds, 1.0)
    return Plan(seconds * uniform(0.5, 1.0), round(seconds),
                f"backoff after {errors} error{'s' if errors != 1 else ''}")


def after_wait(
    until: float, now: float, status: int, shortest: float, uniform: Random = random.uniform,
) -> Plan:
    """The server asked to be left alone until ``until`` (Unix seconds); never sooner than
    ``shortest`` (the feed's ``min_interval``): a 429 with ``Retry-After: 0``, or a date
    already past, would otherwise bring the feed back at every tick."""
    why = f"asked to wait (HTTP {status} Retry-After)"
    seconds = until - now
    if seconds < shortest:
        seconds, why = shortest, f"{why}, no sooner than min_interval"
    return Plan(seconds * uniform(1.0, 1.0 + JITTER), round(seconds), why)


def next_poll(plan: Plan, key: str, started: float, now: float) -> float:
    """When to poll a feed next (Unix seconds), after a poll whose fetch ``started`` then.

    A plan on the cadence lands on the feed's grid, at least half a period after this poll
    started: a poll that ran late does not push the next ones later, and one that ran very
    late skips a point of the grid rather than coming back at once. Any other plan counts from
    ``now``."""
    if not plan.cadence:
        return now + plan.delay
    period = plan.delay
    phase = zlib.crc32(key.encode()) / 2**32 * period
    earliest = started + period / 2
    return earliest + (phase - earliest) % period


def count_new(counts: Mapping[str, int], day: str, new: int) -> dict[str, int]:
    """Daily new-story counts with ``new`` added to ``day`` (YYYY-MM-DD); the last days kept."""
    oldest = (date.fromisoformat(day) - timedelta(days=RHYTHM_DAYS - 1)).isoformat()
    updated = {d: n for d, n in counts.items() if d >= oldest}
    updated[day] = updated.get(day, 0) + new
    return updated


def stories_per_day(counts: Mapping[str, int], watched_for: float) -> float | None:
    """The feed's rhythm; None until it has been watched for a day."""
    if watched_for < DAY:
        return None
    return sum(counts.values()) / min(watched_for / DAY, RHYTHM_DAYS)
