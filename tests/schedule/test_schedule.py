"""The due-feeds schedule: sync with the config, claims booked at each host's pace, leases."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import pytest
import redis

from worker.config import FeedConfig, HostPolicy, Settings
from worker.keys import LEGACY_SCHEDULE_KEY, PLANS_KEY
from worker.schedule import Booking, Schedule, pacing
from worker.schedule.hosts import HostLimits, host_of

SETTINGS = Settings(path="<test>", feeds=())
UNPACED = HostPolicy(max_concurrent=100, min_spacing=0.0)
DEFAULT = HostPolicy()
"""4 in flight, starts 0.2 s apart."""


def plans(*feeds: FeedConfig) -> dict[str, tuple[str, str]]:
    return {f.key: (pacing.schedule_plan(f, SETTINGS), host_of(f.url)) for f in feeds}


def feeds(*keys: str, host: str | None = None) -> dict[str, tuple[str, str]]:
    """Plans for feeds whose settings never change, each on its own host or all on ``host``."""
    return plans(*(FeedConfig(key=key, url=f"https://{host or key + '.example'}/{key}")
                   for key in keys))


def due_times(client: redis.Redis) -> dict[str, float | None]:
    schedule = Schedule(client, 60)
    return {key: schedule.next_due(key) for key in sorted(schedule.hosts())}


def claim(schedule: Schedule, now: float, limit: int = 1000, horizon: float = 0.0,
          policy: HostPolicy = UNPACED) -> list[Booking]:
    return schedule.claim(limit, horizon, lambda _: policy, now=now)


def keys(bookings: list[Booking]) -> list[str]:
    return [b.key for b in bookings]


def test_sync_adds_new_feeds_due_now_and_drops_removed_ones(redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    schedule.sync(feeds("a", "b"), now=1000)
    schedule.reschedule("a", 5000)
    schedule.sync(feeds("a", "c"), now=2000)
    assert due_times(redis_client) == {
        "a": 5000.0, "c": 2000.0}, "a keeps its due time, b is gone, c is due now"
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
    assert schedule.sync(new_config, now=2000).changed == ["edited"]
    assert due_times(redis_client) == {"edited": 2000.0, "tagged": 5000.0}, \
        "the edited feed is due now; an edit that does not change its polling changes nothing"
    schedule.reschedule("edited", 6000)
    assert schedule.sync(new_config, now=3000).changed == [], "due once, not at every sync"
    assert due_times(redis_client) == {"edited": 6000.0, "tagged": 5000.0}


def test_feeds_scheduled_before_plans_were_kept_are_not_all_made_due_by_an_upgrade(
        redis_client: redis.Redis) -> None:
    redis_client.zadd(LEGACY_SCHEDULE_KEY, {"old": 5000})  # as a release before hosts left it
    schedule = Schedule(redis_client, lease_seconds=60)
    feed = FeedConfig(key="old", url="https://old.example/feed")
    assert schedule.sync(plans(feed), now=2000).changed == []
    assert schedule.next_due("old") == 5000, "keeps its due time, now under its host"
    assert schedule.hosts() == {"old": "old.example"}
    assert not redis_client.exists(LEGACY_SCHEDULE_KEY), "the single schedule is gone"
    assert schedule.sync(plans(replace(feed, interval=60)), now=3000).changed == ["old"], \
        "its plan was recorded: a later edit is seen"
    assert schedule.next_due("old") == 3000


def test_a_claim_takes_only_due_feeds_and_hides_them_for_one_lease(
        redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    schedule.sync(feeds("due", "later"), now=1000)
    schedule.reschedule("later", 1500)
    assert keys(claim(schedule, now=1100)) == ["due"]
    assert claim(schedule, now=1100) == [], "claimed feeds are not due again at once"
    assert claim(schedule, now=1159) == []
    assert keys(claim(schedule, now=1161)) == ["due"], "a claim whose worker died runs out"


def test_a_host_s_feeds_are_booked_at_its_pace_most_overdue_first(
        redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    schedule.sync(feeds(*(f"f{n:02}" for n in range(40)), host="big.example"), now=0)
    for n in range(40):
        schedule.reschedule(f"f{n:02}", 1000 - n)  # f39 is the most overdue
    booked = claim(schedule, now=1000, horizon=5.0, policy=DEFAULT)
    assert keys(booked) == [f"f{n:02}" for n in range(39, 13, -1)], \
        "26 starts fit in 5 s at 0.2 s apart: the most overdue"
    assert [b.start for b in booked] == pytest.approx([1000 + 0.2 * i for i in range(26)])
    assert {b.host for b in booked} == {"big.example"}
    assert booked[0].due == 961
    assert keys(claim(schedule, now=1000, horizon=5.0, policy=DEFAULT)) == [], \
        "the host is booked until the horizon"
    later = claim(schedule, now=1005, horizon=5.0, policy=DEFAULT)
    assert keys(later) == [f"f{n:02}" for n in range(13, -1, -1)], "the rest, in order"
    assert later[0].start == pytest.approx(1005.2), "after the last booked start"


def test_a_host_with_a_long_backlog_does_not_hold_back_other_hosts(
        redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    schedule.sync(feeds(*(f"big{n}" for n in range(10_000)), host="big.example"), now=0)
    schedule.sync({**feeds(*(f"big{n}" for n in range(10_000)), host="big.example"),
                   **feeds("small1", "small2")}, now=500)
    booked = claim(schedule, now=1000, horizon=6.0, policy=DEFAULT)
    by_host = {host: [b for b in booked if b.host == host] for host in {b.host for b in booked}}
    assert len(by_host["big.example"]) == 31
    assert [b.start for b in by_host["small1.example"]] == [1000.0], "polled at once"
    assert [b.start for b in by_host["small2.example"]] == [1000.0]


def test_a_learned_location_moves_the_feed_to_its_new_host(redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    schedule.sync(feeds("a", host="old.example"), now=0)
    schedule.reschedule("a", 100, host="new.example")
    assert schedule.hosts() == {"a": "new.example"}
    assert [(b.key, b.host) for b in claim(schedule, now=100)] == [("a", "new.example")]
    assert claim(schedule, now=100) == []


def test_a_paused_host_is_not_booked_until_its_pause_ends(redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    HostLimits(redis_client, lambda _: DEFAULT, request_seconds=10).pause(
        "paused.example", 1030, now=0)
    schedule.sync({**feeds("p", host="paused.example"), **feeds("q")}, now=0)
    assert keys(claim(schedule, now=1000, policy=DEFAULT)) == ["q"]
    assert keys(claim(schedule, now=1031, policy=DEFAULT)) == ["p"]


def test_two_beats_claiming_at_once_never_share_a_feed(redis_url: str,
                                                      redis_client: redis.Redis) -> None:
    Schedule(redis_client, 60).sync(feeds(*(f"f{n}" for n in range(500))), now=0)
    claims: list[list[str]] = []

    def beat() -> None:
        schedule = Schedule(redis.Redis.from_url(redis_url), 60)
        for _ in range(10):
            claims.append(keys(claim(schedule, now=10, limit=30)))

    threads = [threading.Thread(target=beat) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # A beat that lost the race for a host books nothing there this tick: the next tick does.
    schedule = Schedule(redis_client, 60)
    while late := keys(claim(schedule, now=10, limit=30)):
        claims.append(late)
    claimed = [key for claim in claims for key in claim]
    assert len(claimed) == len(set(claimed)) == 500


def test_a_lease_admits_one_poller_until_released(redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    hosts = HostLimits(redis_client, lambda _: UNPACED, request_seconds=10)
    first = schedule.lease("feed")
    assert hosts.turn("host", lease=first).granted
    assert hosts.turn("host", lease=schedule.lease("feed")).reason == "leased"
    with redis_client.pipeline(transaction=False) as pipe:
        schedule.finish("feed", lease=("feed", "someone-elses-token"), pipe=pipe)
        pipe.execute()
    assert hosts.turn("host", lease=schedule.lease("feed")).reason == "leased", \
        "only the holder can release"
    with redis_client.pipeline(transaction=False) as pipe:
        schedule.finish("feed", lease=("feed", first.token), pipe=pipe)
        pipe.execute()
    assert hosts.turn("host", lease=schedule.lease("feed")).granted


def test_only_the_holder_renews_a_lease(redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    hosts = HostLimits(redis_client, lambda _: UNPACED, request_seconds=10)
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
    hosts = HostLimits(redis_client, lambda _: UNPACED, request_seconds=10)
    hosts.pause("host", time.time() + 60)
    assert hosts.turn("host", lease=schedule.lease("feed")).reason == "paused"
    assert hosts.turn("other", lease=schedule.lease("feed")).granted


def test_reschedule_does_not_bring_back_a_removed_feed(redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    schedule.sync(feeds("gone"), now=0)
    schedule.sync({}, now=0)
    schedule.reschedule("gone", 100)
    assert schedule.next_due("gone") is None


def test_a_feed_due_before_the_next_tick_is_booked_to_start_on_time(
        redis_client: redis.Redis) -> None:
    schedule = Schedule(redis_client, lease_seconds=60)
    schedule.sync(feeds("soon", "later", "now", host="news.example"), now=0)
    schedule.reschedule("soon", 1003.5)
    schedule.reschedule("later", 1010)
    schedule.reschedule("now", 999)
    booked = claim(schedule, now=1000, horizon=6.0, policy=DEFAULT)
    assert [(b.key, b.start) for b in booked] == [("now", 1000.0), ("soon", 1003.5)], \
        "at its due time, not at the tick after it"
    assert claim(schedule, now=1003.9, horizon=6.0, policy=DEFAULT) == [], \
        "1010 is past this tick's horizon"
    assert [(b.key, b.start) for b in claim(schedule, now=1005, horizon=6.0, policy=DEFAULT)] \
        == [("later", 1010.0)]


def test_a_host_with_no_spacing_and_no_request_time_yet_gets_its_slots_a_tick(
        redis_client: redis.Redis) -> None:
    """With nothing to pace by, a tick books as many as the host has slots, not the whole
    tick's limit: the first requests teach it how long one takes."""
    schedule = Schedule(redis_client, lease_seconds=60)
    schedule.sync(feeds(*(f"f{n}" for n in range(50)), host="fast.example"), now=0)
    booked = claim(schedule, now=1000, horizon=6.0, policy=HostPolicy(4, 0.0))
    assert len(booked) == 4 and {b.start for b in booked} == {1000.0}


def test_a_feed_left_behind_under_its_old_host_is_dropped_not_polled_twice(
        redis_client: redis.Redis) -> None:
    """A sync that read the feed's host just before a poll moved it leaves a copy under the
    old host: booking that host drops the copy, and the feed is booked once, where it is."""
    schedule = Schedule(redis_client, lease_seconds=60)
    schedule.sync(feeds("a", host="old.example"), now=0)
    schedule.reschedule("a", 100, host="new.example")
    redis_client.zadd("feedwatch:due:old.example", {"a": 50})  # the stale copy
    redis_client.zadd("feedwatch:hosts-due", {"old.example": 50})
    assert [(b.key, b.host) for b in claim(schedule, now=100)] == [("a", "new.example")]
    assert not redis_client.zscore("feedwatch:due:old.example", "a"), "the copy is gone"


def test_a_refused_booking_goes_back_only_while_its_claim_is_the_feed_s(
        redis_client: redis.Redis) -> None:
    """A worker that got no turn puts the feed back at its due time; but when its claim had
    run out and a later tick booked the feed again, the newer booking stands."""
    schedule = Schedule(redis_client, lease_seconds=60)
    schedule.sync(feeds("a"), now=0)
    [first] = claim(schedule, now=1000)
    schedule.reschedule("a", first.due, "a.example", claimed=schedule.claim_of(first))
    assert schedule.next_due("a") == first.due, "back in its place"
    [stale] = claim(schedule, now=1000)
    [again] = claim(schedule, now=1061)  # the claim ran out: booked again
    schedule.reschedule("a", stale.due, "a.example", claimed=schedule.claim_of(stale))
    assert schedule.next_due("a") == pytest.approx(1061 + 60), "the newer claim holds"
    assert again.start == 1061
