"""The Redis client of a worker process: enough connections for all of its poll threads."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import redis

from worker.service.connection import connect


def test_every_poll_thread_can_wait_on_redis_at_the_same_time(
        redis_url: str, redis_client: redis.Redis) -> None:
    """redis-py's pool refuses a 101st connection by default ("Too many connections"): with
    more poll threads than that, polls were abandoned as if Redis had gone away."""
    threads = 150
    client = connect(redis_url, threads=threads)
    together = threading.Barrier(threads)

    def wait(_: int) -> object:
        together.wait(timeout=10)
        return client.blpop(["test:nothing"], timeout=0.5)  # holds its connection meanwhile

    with ThreadPoolExecutor(threads) as pool:
        assert list(pool.map(wait, range(threads))) == [None] * threads
    client.close()
