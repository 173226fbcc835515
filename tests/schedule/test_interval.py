"""The next poll's timing: publisher's minimums, rhythm, backoff, jitter (pure functions)."""

from __future__ import annotations

from collections import Counter
from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.hints import DAY, feed_minimum, header_minimum, retry_after_time
from worker.schedule.interval import (
    JITTER,
    Bounds,
    after_error,
    after_success,
    after_wait,
    count_new,
    next_poll,
    stories_per_day,
)

BOUNDS = Bounds(interval=300, min_interval=120, max_interval=3600)


def no_jitter(low: float, high: float) -> float:
    return low


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert retry_after_time("120", now=1000.0) == 1120.0
    assert retry_after_time(formatdate(5000.0, usegmt=True), now=1000.0) == 5000.0
    assert retry_after_time(formatdate(10.0, usegmt=True), now=1000.0) == 1000.0, "past: now"
    assert retry_after_time("soon", now=1000.0) is None
    assert retry_after_time(None, now=1000.0) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("\u00b2", None), ("\u0661\u0662", None), ("9" * 5000, 1000.0 + DAY),
    ("999999999999", 1000.0 + DAY), ("Fri, 31 Dec 9999 23:59:59 GMT", 1000.0 + DAY),
])
def test_a_retry_after_beyond_reason_is_refused_or_held_to_a_day(
        value: str, expected: float | None) -> None:
    """Digits of other scripts are not delay-seconds, and no server pauses its host for longer
    than a day: ``Retry-After: Fri, 31 Dec 9999`` would have stopped it for good."""
    assert retry_after_time(value, now=1000.0) == expected


def test_cache_control_max_age_wins_over_expires() -> None:
    headers = {"Cache-Control": "public, max-age=900", "Expires": formatdate(99999, usegmt=True)}
    assert header_minimum(headers, now=0) == (900.0, "Cache-Control max-age=900")
    expires = {"Date": formatdate(1000, usegmt=True), "Expires": formatdate(1600, usegmt=True)}
    assert header_minimum(expires, now=0) == (600.0, "Expires")
    assert header_minimum({"Expires": "0"}, now=0) is None
    assert header_minimum({}, now=0) is None


def test_rss_ttl_and_syndication_module() -> None:
    assert feed_minimum({"ttl": "30"}) == (1800.0, "<ttl>30</ttl>")
    assert feed_minimum({"sy_updateperiod": "hourly", "sy_updatefrequency": "2"}) == (
        1800.0, "sy:updatePeriod hourly x2")
    assert feed_minimum({"ttl": "10", "sy_updateperiod": "daily"})[0] == DAY, "the larger"
    assert feed_minimum({"ttl": "soon", "sy_updateperiod": "sometimes"}) is None


def test_without_a_rhythm_the_configured_interval_is_used() -> None:
    plan = after_success(BOUNDS, stories_per_day=None, publisher=[], uniform=no_jitter)
    assert (plan.delay, plan.interval, plan.why) == (300, 300, "configured")


def test_the_rhythm_sets_the_interval_within_the_bounds() -> None:
    busy = after_success(BOUNDS, stories_per_day=288, publisher=[], uniform=no_jitter)
    assert busy.interval == 150 and busy.why == "rhythm: 288.0 stories/day"
    frantic = after_success(BOUNDS, stories_per_day=10_000, publisher=[], uniform=no_jitter)
    assert frantic.interval == 120, "not below min_interval"
    quiet = after_success(BOUNDS, stories_per_day=0, publisher=[], uniform=no_jitter)
    assert quiet.interval == 3600 and "no new stories" in quiet.why


def test_never_shorter_than_the_publisher_asks() -> None:
    plan = after_success(BOUNDS, stories_per_day=288, uniform=no_jitter,
                         publisher=[(1800.0, "<ttl>30</ttl>"), (60.0, "max-age=60")])
    assert (plan.interval, plan.why) == (1800, "publisher asks: <ttl>30</ttl>")


@given(st.floats(0, 1e6) | st.none(), st.lists(st.tuples(st.floats(1, 1e7), st.just("x"))),
       st.floats(0, 1))
def test_a_success_plan_stays_in_bounds_and_above_the_publisher(
        rate: float | None, publisher: list[tuple[float, str]], draw: float) -> None:
    plan = after_success(BOUNDS, stories_per_day=rate, publisher=publisher,
                         uniform=lambda low, high: low + (high - low) * draw)
    asked = min(max((p[0] for p in publisher), default=0), DAY)
    assert plan.delay >= max(BOUNDS.min_interval, asked) - 1e-6
    assert plan.delay <= max(BOUNDS.max_interval, asked) * (1 + JITTER) + 1e-6


def test_backoff_doubles_up_to_max_interval_with_jitter() -> None:
    intervals = [after_error(BOUNDS, n, uniform=no_jitter).interval for n in range(1, 8)]
    assert intervals == [300, 600, 1200, 2400, 3600, 3600, 3600]
    assert after_error(BOUNDS, 3, uniform=no_jitter).why == "backoff after 3 errors"
    assert after_error(BOUNDS, 2, uniform=no_jitter).delay == 300, "jitter takes up to half"
    assert after_error(BOUNDS, 10_000, uniform=no_jitter).interval == 3600


def test_feeds_sharing_an_interval_are_spread_over_it() -> None:
    plan = after_success(BOUNDS, stories_per_day=None, publisher=[])
    nexts = [next_poll(plan, f"feed-{n}", started=1000.0, now=1000.5) for n in range(1000)]
    assert all(1150 <= t < 1450 for t in nexts), "half a period to one and a half after"
    per_minute = Counter(int((t - 1150) // 60) for t in nexts)
    assert sorted(per_minute) == [0, 1, 2, 3, 4]
    assert all(150 < count < 250 for count in per_minute.values()), per_minute


@given(st.lists(st.floats(0, 0.45), min_size=1, max_size=200), st.text(max_size=20))
def test_a_cadence_does_not_drift_when_polls_start_late(
        lateness: list[float], key: str) -> None:
    """However late each poll starts (under half a period) and however long it takes, a feed
    with a 300 s interval is polled once per 300 s: n polls span n periods."""
    plan = after_success(BOUNDS, stories_per_day=None, publisher=[])
    due = next_poll(plan, key, started=0.0, now=0.0)
    first = due
    for late in lateness:
        started = due + late * 300
        due = next_poll(plan, key, started=started, now=started + 7.0)
        assert due >= started + 150
    assert due - first == pytest.approx(300 * len(lateness))


def test_a_poll_running_very_late_skips_a_point_of_its_grid() -> None:
    plan = after_success(BOUNDS, stories_per_day=None, publisher=[])
    on_time = next_poll(plan, "k", started=0.0, now=0.0)
    late = next_poll(plan, "k", started=on_time + 200, now=on_time + 201)
    assert late == pytest.approx(on_time + 600), "not back 100 s after a poll"


def test_delays_the_publisher_or_an_error_set_count_from_now() -> None:
    asked = after_success(BOUNDS, stories_per_day=None, publisher=[(900.0, "max-age=900")])
    assert not asked.cadence
    assert next_poll(asked, "k", started=0.0, now=50.0) == 50.0 + asked.delay
    backoff = after_error(BOUNDS, 2)
    assert next_poll(backoff, "k", started=0.0, now=50.0) == 50.0 + backoff.delay


def test_asked_to_wait_until_the_given_time() -> None:
    plan = after_wait(1600.0, now=1000.0, status=429, shortest=300, uniform=no_jitter)
    assert (plan.delay, plan.why) == (600.0, "asked to wait (HTTP 429 Retry-After)")


@pytest.mark.parametrize("until", [1000.0, 900.0], ids=["retry-after-0", "a-date-past"])
def test_asked_to_wait_for_nothing_waits_the_feeds_shortest_interval(until: float) -> None:
    """Not polled again at the next tick, and the next, and the next."""
    plan = after_wait(until, now=1000.0, status=429, shortest=300, uniform=no_jitter)
    assert plan.delay == 300.0
    assert plan.why == "asked to wait (HTTP 429 Retry-After), no sooner than min_interval"


def test_the_rhythm_counts_the_last_seven_days() -> None:
    counts: dict[str, int] = {}
    for day in range(1, 12):
        counts = count_new(counts, f"2026-11-{day:02d}", 10)
    assert sorted(counts) == [f"2026-11-{d:02d}" for d in range(5, 12)]
    assert stories_per_day(counts, watched_for=30 * DAY) == 10.0
    assert stories_per_day({"2026-11-01": 12}, watched_for=2 * DAY) == 6.0
    assert stories_per_day({"2026-11-01": 12}, watched_for=DAY / 2) is None, "too early"


@pytest.mark.parametrize(("channel", "expected"), [
    ({"ttl": "\u00b2"}, None),
    ({"ttl": "9" * 5000}, (float("inf"), "<ttl>999999999999</ttl>")),
    ({"sy_updateperiod": "hourly", "sy_updatefrequency": "\u00b2"},
     (3600.0, "sy:updatePeriod hourly x1")),
    ({"sy_updateperiod": "hourly", "sy_updatefrequency": "9" * 5000},
     (0.0, "sy:updatePeriod hourly xinf")),
])
def test_a_feed_asking_in_odd_digits_is_read_or_passed_over(
        channel: dict[str, str], expected: tuple[float, str] | None) -> None:
    """'<ttl>²</ttl>' and 5,000 digits raised ValueError out of the parse (str.isdigit takes
    superscripts, int() refuses both); pacing holds what is asked to a day."""
    assert feed_minimum(channel) == expected
