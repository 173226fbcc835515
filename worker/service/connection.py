"""Which Redis-protocol server feedwatch talks to, and clients for it."""

from __future__ import annotations

import os

import redis

from worker.config import Settings
from worker.exceptions import RedisUnavailable
from worker.service.embedded import running_url

REDIS_URL_ENV = "REDIS_URL"


def redis_url(settings: Settings) -> str:
    """``$REDIS_URL``, else the config's ``redis_url``, else the embedded server running here."""
    url = os.environ.get(REDIS_URL_ENV) or settings.redis_url or running_url(settings.data_dir)
    if not url:
        raise RedisUnavailable(
            "no Redis server to talk to: set REDIS_URL, set redis_url in the config, "
            f"or start `feedwatch run` in this folder (it runs an embedded Valkey under "
            f"{settings.data_dir}/)"
        )
    return url


def connect(url: str, threads: int = 1) -> redis.Redis:
    """A client that retries briefly on a dropped connection and health-checks idle ones.

    ``threads``: how many threads may use it at once. Its pool holds a connection for each
    of them, and a few more: redis-py's pool refuses a command once it has 100 connections,
    with "Too many connections", a connection error like that of a server gone away."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=5,
        socket_timeout=30,
        health_check_interval=30,
        retry_on_timeout=True,
        max_connections=threads + 8,
    )
