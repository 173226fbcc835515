"""The ``reader`` library as a feed monitor, for the benchmark.

Every ``interval`` seconds, ``Reader.update_feeds(workers=16, scheduled=False)`` updates all
feeds (reader keeps ETag and Last-Modified and its entries in SQLite, and dedupes by feed and
entry id); an ``after_entry_update_hooks`` hook appends each entry reader reports as new to a
Redis stream with the fields ``feed``, ``guid``, ``link`` and ``title``, so the driver measures
it the same way as the others.

    python bench/peers/reader_peer.py --feeds FEEDS.json --interval 60 --redis-url URL \
        --stream S --db reader.sqlite

``FEEDS.json`` is a list of ``[key, url]`` pairs. Runs until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import redis
from reader import EntryUpdateStatus, Reader, make_reader

WORKERS = 16


def publish_new_entries(client: redis.Redis, stream: str,
                        key_of: dict[str, str]) -> Any:
    def hook(_reader: Reader, entry: Any, status: EntryUpdateStatus) -> None:
        if status is EntryUpdateStatus.NEW:
            client.xadd(stream, {
                "feed": key_of.get(entry.feed_url, entry.feed_url), "guid": entry.id,
                "link": getattr(entry, "link", None) or "",
                "title": getattr(entry, "title", None) or ""})
    return hook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=Path, required=True)
    parser.add_argument("--interval", type=float, default=300)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--stream", default="reader:stories")
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    feeds = [(key, url) for key, url in json.loads(args.feeds.read_text(encoding="utf-8"))]
    reader = make_reader(str(args.db))
    for _key, url in feeds:
        reader.add_feed(url, exist_ok=True)
    reader.after_entry_update_hooks.append(publish_new_entries(
        redis.Redis.from_url(args.redis_url), args.stream, {url: key for key, url in feeds}))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"reader: {len(feeds)} feeds", flush=True)
    try:
        while not stop.is_set():
            started = time.monotonic()
            reader.update_feeds(workers=WORKERS, scheduled=False)
            stop.wait(max(0.0, args.interval - (time.monotonic() - started)))
    except KeyboardInterrupt:
        pass
    finally:
        reader.close()


if __name__ == "__main__":
    main()
