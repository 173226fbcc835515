"""A poll's bookkeeping rides with the next host turn, or goes alone within a moment; a write
Redis refuses, or a server that lost its scripts, never costs the turn its answer."""

from __future__ import annotations

import logging
import time

import pytest
import redis

from worker.config import HostPolicy
from worker.schedule.hosts import HostLimits
from worker.schedule.outbox import Outbox


def turns(client: redis.Redis, writes: Outbox, max_concurrent: int = 1) -> HostLimits:
    policy = HostPolicy(max_concurrent, 0.0)
    return HostLimits(client, lambda _: policy, request_seconds=30, writes=writes)


def put(writes: Outbox, *commands: tuple[str, ...]) -> None:
    pipe = writes.pipeline()
    for command in commands:
        pipe.execute_command(*command)
    writes.put(pipe)


def test_writes_wait_for_the_next_turn_and_go_ahead_of_it(redis_client: redis.Redis) -> None:
    writes = Outbox(redis_client, flush_seconds=60)
    hosts = turns(redis_client, writes)
    first = hosts.turn("h")
    pipe = writes.pipeline()
    pipe.set("feedwatch:test:state", "polled")
    hosts.done("h", first, pipe)  # the host's only slot, freed by a write that waits
    writes.put(pipe)
    assert redis_client.get("feedwatch:test:state") is None, "sent before any round trip"
    assert hosts.turn("h").granted, "the slot freed ahead of the turn, in the same round trip"
    assert redis_client.get("feedwatch:test:state") == b"polled"


def test_writes_go_alone_when_no_turn_comes(redis_client: redis.Redis) -> None:
    writes = Outbox(redis_client, flush_seconds=0.05)
    put(writes, ("SET", "feedwatch:test:a", "1"), ("SET", "feedwatch:test:b", "2"))
    deadline = time.monotonic() + 5
    while redis_client.get("feedwatch:test:b") is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert redis_client.mget("feedwatch:test:a", "feedwatch:test:b") == [b"1", b"2"]


def test_flush_sends_what_waits_in_the_order_it_was_put(redis_client: redis.Redis) -> None:
    writes = Outbox(redis_client, flush_seconds=60)
    put(writes, ("RPUSH", "feedwatch:test:order", "1"))
    put(writes, ("RPUSH", "feedwatch:test:order", "2"), ("RPUSH", "feedwatch:test:order", "3"))
    writes.flush()
    assert redis_client.lrange("feedwatch:test:order", 0, -1) == [b"1", b"2", b"3"]


def test_a_refused_write_is_logged_and_the_turn_still_answers(
        redis_client: redis.Redis, caplog: pytest.LogCaptureFixture) -> None:
    redis_client.set("feedwatch:test:string", "x")
    writes = Outbox(redis_client, flush_seconds=60)
    put(writes, ("HSET", "feedwatch:test:string", "f", "v"), ("SET", "feedwatch:test:ok", "1"))
    with caplog.at_level(logging.ERROR, logger="feedwatch.outbox"):
        assert turns(redis_client, writes).turn("h").granted
    assert "WRONGTYPE" in caplog.text
    assert redis_client.get("feedwatch:test:ok") == b"1", "the writes after it went too"


def test_a_server_that_lost_its_scripts_still_gives_turns(redis_client: redis.Redis) -> None:
    writes = Outbox(redis_client, flush_seconds=60)
    hosts = turns(redis_client, writes, max_concurrent=5)
    assert hosts.turn("h").granted  # the script is known to the server now
    redis_client.script_flush()  # as a restarted server without persistence
    put(writes, ("SET", "feedwatch:test:carried", "1"))
    assert hosts.turn("h").granted
    assert redis_client.get("feedwatch:test:carried") == b"1"


def test_carried_writes_lost_with_the_server_are_said_in_the_log(
        caplog: pytest.LogCaptureFixture) -> None:
    gone = redis.Redis(port=1, socket_connect_timeout=0.2)  # nothing listens there
    writes = Outbox(gone, flush_seconds=60)
    put(writes, ("SET", "feedwatch:test:lost", "1"))
    with caplog.at_level(logging.WARNING), pytest.raises(redis.ConnectionError):
        turns(gone, writes).turn("h")
    assert "1 recent poll write(s) lost" in caplog.text
    put(writes, ("SET", "feedwatch:test:lost", "1"))
    with caplog.at_level(logging.WARNING, logger="feedwatch.outbox"):
        writes.flush()  # no exception: the feeds come back when their claims run out
    assert "bookkeeping of recent polls lost" in caplog.text
