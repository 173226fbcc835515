"""Per-host limits shared by every worker through Redis: spacing, concurrency, pauses."""

from __future__ import annotations

import redis

from worker.hosts import HostLimits, host_of


def limits(client: redis.Redis, **options: float) -> HostLimits:
    defaults: dict[str, float] = {
        "max_concurrent": 2, "min_spacing": 0.5, "request_seconds": 30, "max_wait": 2.0}
    defaults.update(options)
    return HostLimits(client, **defaults)  # type: ignore[arg-type]


def test_the_host_is_the_lower_cased_host_and_port() -> None:
    assert host_of("https://user:pw@News.Example.COM:8443/rss?x=1") == "news.example.com:8443"
    assert host_of("http://example.com/feed") == "example.com"


def test_turns_are_spaced_across_workers(redis_client: redis.Redis) -> None:
    worker_1, worker_2 = (limits(redis_client, max_concurrent=10) for _ in range(2))
    turns = [w.turn("h", now=100.0) for w in (worker_1, worker_2, worker_1, worker_2)]
    assert [t.granted for t in turns] == [True] * 4
    assert [t.at for t in turns] == [100.0, 100.5, 101.0, 101.5]
    assert worker_1.turn("other", now=100.0).at == 100.0, "other hosts are not held up"


def test_a_turn_booked_too_far_ahead_is_refused_with_the_time_to_come_back(
        redis_client: redis.Redis) -> None:
    host = limits(redis_client, max_concurrent=100, min_spacing=1.0, max_wait=2.0)
    granted = [host.turn("h", now=0.0) for _ in range(3)]
    assert [t.at for t in granted] == [0.0, 1.0, 2.0]
    refused = host.turn("h", now=0.0)
    assert (refused.granted, refused.reason, refused.at) == (False, "booked", 3.0)


def test_concurrent_requests_are_capped_until_one_is_done(redis_client: redis.Redis) -> None:
    host = limits(redis_client, max_concurrent=2, min_spacing=0.0)
    first, second = host.turn("h", now=10.0), host.turn("h", now=10.0)
    third = host.turn("h", now=10.0)
    assert (first.granted, second.granted) == (True, True)
    assert (third.granted, third.reason, third.at) == (False, "busy", 11.0)
    host.done("h", first)
    assert host.turn("h", now=10.0).granted


def test_a_slot_of_a_dead_worker_frees_itself(redis_client: redis.Redis) -> None:
    host = limits(redis_client, max_concurrent=1, min_spacing=0.0, request_seconds=30)
    assert host.turn("h", now=0.0).granted
    assert not host.turn("h", now=29.0).granted
    assert host.turn("h", now=31.0).granted


def test_a_pause_holds_the_whole_host_and_never_shortens(redis_client: redis.Redis) -> None:
    worker_1, worker_2 = limits(redis_client), limits(redis_client)
    worker_1.pause("h", 500.0, now=100.0)
    worker_1.pause("h", 300.0, now=100.0)
    refused = worker_2.turn("h", now=100.0)
    assert (refused.granted, refused.reason, refused.at) == (False, "paused", 500.0)
    assert worker_2.turn("h", now=501.0).granted
