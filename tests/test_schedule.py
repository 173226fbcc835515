"""The due-feeds schedule: sync with the config, atomic claims, per-feed leases."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import pytest
import redis

from worker import pacing
from worker.config import FeedConfig, Settings
from worker.hosts import HostLimits
from worker.schedule import PLANS_KEY, SCHEDULE_KEY, Schedule

SETTINGS = Settings(path="<test>", feeds=())


def plans(*feeds: FeedConfig) -> dict[str, str]:
    return {f.key: pacing.schedule_plan(f, SETTINGS) for f in feeds}


def feeds(*keys: str) -> dict[str, str]:
    """Plans for feeds whose settings never change."""
    return plans(*(FeedConfig(key=key, url=f"https://{key}.example/feed") for key in keys))


def due_times(client: redis.Redis) -> dict[bytes, float]:
    return dict(client.zrange(SCHEDULE_KEY, 0, -1, withscores=True))


def test_sync_adds_new_feeds_due_now_and_drops_removed_ones(redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    schedule.sync(feeds("a", "b"), now=1000)
    schedule.reschedule("a", 5000)
    schedule.sync(feeds("a", "c"), now=2000)
    assert due_times(redis_client) == {
        b"a": 5000.0, b"c": 2000.0}, "a keeps its due time, b is gone, c is due now"
    assert sorted(redis_client.hkeys(PLANS_KEY)) == [b"a", b"c"], "b's plan is forgotten"


@pytest.mark.parametrize("edit", [
    {"url": "https://moved.example/feed"}, {"interval": 60}, {"min_interval": 30},
    {"max_interval": 7200},
], ids=lambda edit: next(iter(edit)))
def test_a_feed_whose_url_or_interval_changed_is_due_at_the_sync(
        redis_client: redis.Redis, edit: dict[str, Any]) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    edited = FeedConfig(key="edited", url="https://edited.example/feed", interval=600)
    tagged = FeedConfig(key="tagged", url="https://tagged.example/feed", interval=600)
    schedule.sync(plans(edited, tagged), now=1000)
    schedule.reschedule("edited", 5000)
    schedule.reschedule("tagged", 5000)
    new_config = plans(replace(edited, **edit), replace(tagged, tags=("world",)))
    assert schedule.sync(new_config, now=2000) == ["edited"]
    assert due_times(redis_client) == {b"edited": 2000.0, b"tagged": 5000.0}, \
        "the edited feed is due now; an edit that does not change its polling changes nothing"
    schedule.reschedule("edited", 6000)
    assert schedule.sync(new_config, now=3000) == [], "due once, not at every sync"
    assert due_times(redis_client) == {b"edited": 6000.0, b"tagged": 5000.0}


def test_feeds_scheduled_before_plans_were_kept_are_not_all_made_due_by_an_upgrade(
        redis_client: redis.Redis) -> None:
    redis_client.zadd(SCHEDULE_KEY, {"old": 5000})  # as the previous release left it
    schedule = Schedule(redis_client, lease_seconds=60)
    feed = FeedConfig(key="old", url="https://old.example/feed")
    assert schedule.sync(plans(feed), now=2000) == []
    assert schedule.next_due("old") == 5000, "keeps its due time"
    assert schedule.sync(plans(replace(feed, interval=60)), now=3000) == ["old"], \
        "its plan was recorded: a later edit is seen"
    assert schedule.next_due("old") == 3000


def test_a_claim_takes_only_due_feeds_and_hides_them_for_one_lease(
        redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    schedule.sync(feeds("due", "later"), now=1000)
    schedule.reschedule("later", 1500)
    assert schedule.claim_due(now=1100) == ["due"]
    assert schedule.claim_due(now=1100) == [], "claimed feeds are not due again at once"
    assert schedule.claim_due(now=1159) == []
    assert schedule.claim_due(now=1161) == ["due"], "a claim whose worker died runs out"


def test_two_beats_claiming_at_once_never_share_a_feed(redis_url: str,
                                                      redis_client: redis.Redis) -> None:
    Schedule(redis_client, 60).sync(feeds(*(f"f{n}" for n in range(500))), now=0)
    claims: list[list[str]] = []

    def beat() -> None:
        schedule = Schedule(redis.Redis.from_url(redis_url), 60)
        for _ in range(10):
            claims.append(schedule.claim_due(limit=30, now=10))

    threads = [threading.Thread(target=beat) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [key for claim in claims for key in claim]
    assert len(claimed) == len(set(claimed)) == 500


def test_a_lease_admits_one_poller_until_released(redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    hosts = HostLimits(redis_client, max_concurrent=10, min_spacing=0, request_seconds=10)
    first = schedule.lease("feed")
    assert hosts.turn("host", lease=first).granted
    assert hosts.turn("host", lease=schedule.lease("feed")).reason == "leased"
    with redis_client.pipeline(transaction=False) as pipe:
        schedule.release("feed", "someone-elses-token", pipe)
        pipe.execute()
    assert hosts.turn("host", lease=schedule.lease("feed")).reason == "leased", \
        "only the holder can release"
    with redis_client.pipeline(transaction=False) as pipe:
        schedule.release("feed", first.token, pipe)
        pipe.execute()
    assert hosts.turn("host", lease=schedule.lease("feed")).granted


def test_only_the_holder_renews_a_lease(redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    hosts = HostLimits(redis_client, max_concurrent=10, min_spacing=0, request_seconds=10)
    held = schedule.lease("feed")
    assert hosts.turn("host", lease=held).granted
    redis_client.pexpire(held.key, 1000)
    assert schedule.renew(held)
    assert redis_client.pttl(held.key) > 59_000
    assert not schedule.renew(schedule.lease("feed")), "another token renews nothing"
    redis_client.delete(held.key)
    assert not schedule.renew(held), "a lease run out is not taken again by renewing"
    assert not redis_client.exists(held.key)


def test_a_turn_refused_for_its_host_does_not_take_the_lease(redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    hosts = HostLimits(redis_client, max_concurrent=10, min_spacing=0, request_seconds=10)
    hosts.pause("host", time.time() + 60)
    assert hosts.turn("host", lease=schedule.lease("feed")).reason == "paused"
    assert hosts.turn("other", lease=schedule.lease("feed")).granted


def test_reschedule_does_not_bring_back_a_removed_feed(redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    schedule.sync(feeds("gone"), now=0)
    schedule.sync({}, now=0)
    schedule.reschedule("gone", 100)
    assert schedule.next_due("gone") is None
