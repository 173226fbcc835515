"""Per-host limits shared by every worker through Redis: spacing, requests in flight, pauses,
and the overload survey that stretches a busy host's intervals evenly."""

from __future__ import annotations

import math
import threading
import time

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from worker.config import HostPolicy
from worker.exceptions import HostUnavailable
from worker.keys import HOST_PREFIX
from worker.schedule.hosts import (
    BUSY_RETRY,
    TARGET_UTILISATION,
    HostLimits,
    capacity,
    host_of,
    load,
)


def limits(client: redis.Redis, max_concurrent: int = 2, min_spacing: float = 0.5,
           request_seconds: float = 30) -> HostLimits:
    policy = HostPolicy(max_concurrent, min_spacing)
    return HostLimits(client, lambda _: policy, request_seconds=request_seconds)


def test_the_host_is_the_lower_cased_host_and_port() -> None:
    assert host_of("https://user:pw@News.Example.COM:8443/rss?x=1") == "news.example.com:8443"
    assert host_of("http://example.com/feed") == "example.com"


def test_starts_are_spaced_across_workers_and_granted_at_most_a_second_ahead(
        redis_client: redis.Redis) -> None:
    worker_1, worker_2 = (limits(redis_client, max_concurrent=10) for _ in range(2))
    turns = [w.turn("h", now=100.0) for w in (worker_1, worker_2, worker_1)]
    assert [(t.granted, t.at) for t in turns] == [(True, 100.0), (True, 100.5), (True, 101.0)]
    refused = worker_2.turn("h", now=100.0)
    assert (refused.granted, refused.reason, refused.at) == (False, "spaced", 101.5)
    assert worker_1.turn("other", now=100.0).at == 100.0, "other hosts are not held up"


def test_requests_in_flight_are_capped_until_one_is_done(redis_client: redis.Redis) -> None:
    host = limits(redis_client, max_concurrent=2, min_spacing=0.0)
    first, second = host.turn("h", now=10.0), host.turn("h", now=10.0)
    third = host.turn("h", now=10.0)
    assert (first.granted, second.granted) == (True, True)
    assert (third.granted, third.reason, third.at) == (False, "busy", 10.0 + BUSY_RETRY)
    host.done("h", first, now=10.5)
    assert host.turn("h", now=10.0).granted


def test_a_slot_of_a_dead_worker_frees_itself(redis_client: redis.Redis) -> None:
    host = limits(redis_client, max_concurrent=1, min_spacing=0.0, request_seconds=30)
    assert host.turn("h", now=0.0).granted
    assert not host.turn("h", now=29.0).granted
    assert host.turn("h", now=31.0).granted


def test_a_pause_holds_the_whole_host_never_shortens_and_keeps_its_reason(
        redis_client: redis.Redis) -> None:
    worker_1, worker_2 = limits(redis_client), limits(redis_client)
    worker_1.pause("h", 500.0, "HTTP 429", now=100.0)
    worker_1.pause("h", 300.0, "HTTP 503", now=100.0)
    refused = worker_2.turn("h", now=100.0)
    assert (refused.granted, refused.reason, refused.at) == (False, "paused", 500.0)
    assert redis_client.hget(HOST_PREFIX + "h", "pause_reason") == b"HTTP 429"
    assert worker_2.turn("h", now=501.0).granted


def test_request_times_make_a_moving_average(redis_client: redis.Redis) -> None:
    host = limits(redis_client, max_concurrent=4, min_spacing=0.0)
    host.done("h", host.turn("h", now=0.0), now=2.0)
    assert host.readings(["h"]) == {"h": (2.0, 1.0)}
    host.done("h", host.turn("h", now=10.0), now=11.0)
    latency, _ = host.readings(["h"])["h"]
    assert latency == pytest.approx(1.8), "the newest request weighs a fifth"


def test_a_waiting_request_gets_the_slot_as_soon_as_it_frees(redis_client: redis.Redis) -> None:
    host = limits(redis_client, max_concurrent=1, min_spacing=0.0)
    first = host.turn("h")
    threading.Timer(0.3, host.done, args=("h", first)).start()
    began = time.monotonic()
    second = host.take("h", until=time.time() + 5)
    assert second.granted
    assert 0.25 < time.monotonic() - began < 0.3 + BUSY_RETRY + 0.5


def test_a_page_fetch_on_a_paused_host_is_refused_with_a_clear_error(
        redis_client: redis.Redis) -> None:
    host = limits(redis_client)
    host.pause("news.example", time.time() + 60, "HTTP 429")
    with pytest.raises(HostUnavailable, match=r"news\.example gave no turn .*paused"), \
            host.request("news.example", patience=5):
        pass


def test_capacity_is_the_tighter_of_spacing_and_slots_over_request_time() -> None:
    assert capacity(HostPolicy(4, 0.2), None) == 5.0
    assert capacity(HostPolicy(4, 0.2), 2.0) == 2.0, "4 slots of 2 s each: 2 requests/s"
    assert capacity(HostPolicy(4, 0.0), None) == math.inf


def test_an_overloaded_host_stretches_every_interval_by_the_same_factor() -> None:
    youtube = load([300.0] * 1200, HostPolicy(4, 0.5), None)
    assert (youtube.demand, youtube.capacity) == pytest.approx((4.0, 2.0))
    assert youtube.stretch == pytest.approx(4.0 / 1.8), "stretched to fill 90% of 2/s"
    assert youtube.late == pytest.approx(1200 / 1.8 - 300), \
        "a round of 1,200 polls takes 667 s, not 300"
    assert youtube.describe("www.youtube.com") == (
        "www.youtube.com: 1,200 feeds need 4.0 requests/s at their intervals; its limits "
        "allow 2.0; intervals stretched 2.22 times to use 90% of that, polls run 367 s late")
    assert load([300.0] * 100, HostPolicy(4, 0.5), None).stretch == 1.0


@given(st.lists(st.floats(1, 86400), min_size=1, max_size=200),
       st.integers(1, 16), st.floats(0, 5), st.one_of(st.none(), st.floats(0.001, 60)))
def test_stretched_intervals_fit_the_host_capacity(
        intervals: list[float], slots: int, spacing: float, latency: float | None) -> None:
    found = load(intervals, HostPolicy(slots, spacing), latency)
    stretched = sum(1 / (i * found.stretch) for i in intervals)
    assert stretched <= found.capacity * TARGET_UTILISATION * (1 + 1e-9)
    assert found.stretch >= 1.0
    if found.demand <= found.capacity * TARGET_UTILISATION:
        assert found.stretch == 1.0 and found.late == 0.0


def test_the_survey_logs_a_change_once_and_the_recovery(redis_client: redis.Redis) -> None:
    host = limits(redis_client)
    policy = HostPolicy(2, 0.5)
    busy, calm = load([10.0] * 40, policy, None), load([10.0], policy, None)
    assert host.survey({"h": busy}, {"h": 1.0}) == [busy.describe("h")]
    assert host.readings(["h"])["h"][1] == pytest.approx(4.0 / 1.8), "to fill 90% of 2/s"
    assert host.survey({"h": busy}, {"h": 4.0 / 1.8}) == [], "said once"
    assert host.survey({"h": calm}, {"h": 4.0 / 1.8}) == [
        "h: its feeds fit its limits again (0.1 requests/s needed, 2.0 allowed)"]
    assert host.readings(["h"])["h"][1] == 1.0
