"""The naive feed monitor the benchmark compares feedwatch with.

What most people write first: every ``interval`` seconds, poll all feeds with a pool of 16
threads; httpx with conditional GET (the ETag and Last-Modified it saw last, kept in memory);
feedparser with its default options; per entry ``SET NX`` on a seen key and ``XADD`` when the
key was new. Each stream entry has the fields ``feed``, ``guid``, ``link`` and ``title``.

    python bench/peers/naive.py --feeds FEEDS.json --interval 60 --redis-url URL --stream S

``FEEDS.json`` is a list of ``[key, url]`` pairs. Runs until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import feedparser
import httpx
import redis

THREADS = 16


class Naive:
    def __init__(self, client: redis.Redis, stream: str) -> None:
        self.redis = client
        self.stream = stream
        self.http = httpx.Client(timeout=30, follow_redirects=True,
                                 limits=httpx.Limits(max_connections=THREADS))
        self.validators: dict[str, dict[str, str]] = {}

    def poll(self, key: str, url: str) -> None:
        try:
            response = self.http.get(url, headers=self.validators.get(url, {}))
        except httpx.HTTPError as exc:
            print(f"{key}: {exc!r}", flush=True)
            return
        if response.status_code == 304 or response.status_code >= 400:
            return
        validators = {}
        if "etag" in response.headers:
            validators["If-None-Match"] = response.headers["etag"]
        if "last-modified" in response.headers:
            validators["If-Modified-Since"] = response.headers["last-modified"]
        self.validators[url] = validators
        for entry in feedparser.parse(response.content).entries:
            ident = entry.get("id") or entry.get("link") or entry.get("title", "")
            if self.redis.set(f"naive:seen:{key}:{ident}", 1, nx=True):
                self.redis.xadd(self.stream, {
                    "feed": key, "guid": ident, "link": entry.get("link", ""),
                    "title": entry.get("title", "")})


def run(feeds: list[tuple[str, str]], interval: float, naive: Naive,
        stop: threading.Event) -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        while not stop.is_set():
            started = time.monotonic()
            list(pool.map(lambda feed: naive.poll(*feed), feeds))
            stop.wait(max(0.0, interval - (time.monotonic() - started)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=Path, required=True)
    parser.add_argument("--interval", type=float, default=300)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--stream", default="naive:stories")
    args = parser.parse_args()
    feeds = [(key, url) for key, url in json.loads(args.feeds.read_text(encoding="utf-8"))]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    client = redis.Redis.from_url(args.redis_url)
    try:
        run(feeds, args.interval, Naive(client, args.stream), stop)
    except KeyboardInterrupt:
        stop.set()


if __name__ == "__main__":
    main()
