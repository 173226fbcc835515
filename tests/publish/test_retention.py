"""Retention by length and age, and the consumer-group report that warns before it bites."""

from __future__ import annotations

import time

import redis

from worker.config import Settings
from worker.publish import Publisher
from worker.report import groups
from worker.story import Story
from worker.story.identity import story_id

STREAM = "test:stories"
DAY_MS = 86_400_000


def stories(first: int, count: int) -> list[Story]:
    return [Story(id=story_id("f", f"g{n}", None), feed="f", guid=f"g{n}", title=f"T{n}")
            for n in range(first, first + count)]


def settings(**values: object) -> Settings:
    return Settings(path="<t>", feeds=(), stream=STREAM, **values)  # type: ignore[arg-type]


def test_entries_older_than_the_age_limit_are_trimmed(redis_client: redis.Redis) -> None:
    now_ms = int(time.time() * 1000)
    for n in range(500):  # written 40 days ago, before the limit was set
        redis_client.xadd(STREAM, {"event": "new", "id": f"old{n}"}, id=f"{now_ms - 40 * DAY_MS + n}-0")
    Publisher(redis_client, STREAM, 100_000, max_age_days=30).publish(stories(0, 20))
    kept = [fields[b"id"] for _id, fields in redis_client.xrange(STREAM)]
    assert sum(1 for i in kept if i.startswith(b"old")) < 100, "whole old blocks are gone"
    assert len([i for i in kept if not i.startswith(b"old")]) == 20, "new stories all kept"


def test_without_an_age_limit_old_entries_stay(redis_client: redis.Redis) -> None:
    redis_client.xadd(STREAM, {"event": "new", "id": "old"}, id="1000-0")
    Publisher(redis_client, STREAM, 100_000, max_age_days=None).publish(stories(0, 5))
    assert redis_client.xlen(STREAM) == 6


def test_status_warns_about_a_group_that_lags_towards_the_length_limit(
        redis_client: redis.Redis) -> None:
    Publisher(redis_client, STREAM, 1000).publish(stories(0, 10))
    redis_client.xgroup_create(STREAM, "slow", id="0")
    redis_client.xgroup_create(STREAM, "fast", id="0")
    redis_client.xgroup_create(STREAM, "stuck", id="0")
    for _id, _fields in redis_client.xreadgroup("fast", "c", {STREAM: ">"})[0][1]:
        redis_client.xack(STREAM, "fast", _id)
    redis_client.xreadgroup("stuck", "dead", {STREAM: ">"})  # read, never acknowledged

    report = {g.name: g for g in groups.collect(redis_client, settings(retention_max_length=12))}
    assert (report["fast"].lag, report["fast"].pending, report["fast"].warning) == (0, 0, None)
    assert report["slow"].lag == 10 and report["slow"].warning
    assert "10 stories not yet handled" in report["slow"].warning
    assert (report["stuck"].lag, report["stuck"].pending) == (0, 10)
    assert report["stuck"].warning, "read but unacknowledged stories are lost to trimming too"
    text = groups.render(list(report.values()))
    assert "warning: group slow:" in text and "warning: group fast" not in text


def test_status_warns_about_a_group_whose_oldest_story_nears_the_age_limit(
        redis_client: redis.Redis) -> None:
    now = time.time()
    redis_client.xadd(STREAM, {"event": "new"}, id=f"{int((now - 26 * 86400) * 1000)}-0")
    redis_client.xgroup_create(STREAM, "behind", id="0")
    [report] = groups.collect(redis_client, settings(retention_max_age_days=30.0), now=now)
    assert report.warning and "26.0 days old" in report.warning
    [relaxed] = groups.collect(redis_client, settings(retention_max_age_days=60.0), now=now)
    assert relaxed.warning is None


def test_no_stream_means_no_groups(redis_client: redis.Redis) -> None:
    assert groups.collect(redis_client, settings()) == []
    assert groups.render([]) == "no consumer groups"
