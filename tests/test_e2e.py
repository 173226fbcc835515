"""End to end: real celery worker and beat processes, real Valkey, real local feeds.

The worker and beat commands are read from docker-compose.yml, so what is tested here is what
production runs.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml
from compose import service_command
from feedserver import FeedServer, item, rss
from processes import Process, command, environment, wait_for

pytestmark = pytest.mark.e2e

STREAM = "e2e:stories"


class Cluster:
    """Workers and beats for one config, started and stopped by a test."""

    def __init__(self, tmp_path: Path, redis_url: str, config: Path) -> None:
        self.tmp_path = tmp_path
        self.env = environment(REDIS_URL=redis_url, FEEDWATCH_CONFIG=str(config))
        self.processes: list[Process] = []

    def start(self, service: str, name: str) -> Process:
        argv = command(service_command(service))
        if "--schedule" in argv:
            argv[argv.index("--schedule") + 1] = str(self.tmp_path / f"{name}-schedule")
        process = Process(argv, self.tmp_path / f"{name}.log", self.env)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.popen.poll() is None:
                process.stop()


@pytest.fixture
def cluster_for(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[object]:
    clusters: list[Cluster] = []

    def make(feeds: list[dict[str, object]], **top: object) -> Cluster:
        config = tmp_path / "feeds.yaml"
        body = {"stream": STREAM, "tick": 0.5, "data_dir": str(tmp_path / "var"),
                "defaults": {"interval": 2, "timeout": 2}, "feeds": feeds, **top}
        config.write_text(yaml.safe_dump(body), encoding="utf-8")
        cluster = Cluster(tmp_path, redis_url, config)
        clusters.append(cluster)
        return cluster

    yield make
    for cluster in clusters:
        cluster.stop_all()


def stream_ids(client: redis.Redis) -> list[str]:
    return [fields[b"id"].decode() for _id, fields in client.xrange(STREAM)]


def titles(client: redis.Redis) -> list[str]:
    return [json.loads(fields[b"story"])["title"] for _id, fields in client.xrange(STREAM)]


def status(cluster: Cluster) -> dict[str, dict[str, object]]:
    run = subprocess.run([sys.executable, "-m", "worker.cli", "status", "--json"],
                         env=cluster.env, capture_output=True, text=True, check=True)
    return {row["key"]: row for row in json.loads(run.stdout)}


def test_stories_arrive_once_new_items_follow_and_broken_feeds_are_reported(
        cluster_for: object, feed_server: FeedServer, redis_client: redis.Redis) -> None:
    shared = item(99, site="http://wire.example")
    feed_server.serve("/a.xml", rss([item(1), item(2), shared]))
    feed_server.serve("/b.xml", rss([item(1, site="http://other.example"), shared]))
    feed_server.fail("/500.xml", 500)
    feed_server.serve("/broken.xml", b"<rss><channel><title>a & b</title></channel></rss")
    feed_server.serve("/slow.xml", rss([item(5)]), delay=6)
    cluster = cluster_for([  # type: ignore[operator]
        {"key": "a", "url": feed_server.url("/a.xml"), "source": "A"},
        {"key": "b", "url": feed_server.url("/b.xml")},
        {"key": "err500", "url": feed_server.url("/500.xml")},
        {"key": "broken", "url": feed_server.url("/broken.xml")},
        {"key": "slow", "url": feed_server.url("/slow.xml")},
    ])
    worker = cluster.start("worker", "worker")
    beat = cluster.start("beat", "beat")
    logs = [worker, beat]

    wait_for(lambda: len(stream_ids(redis_client)) >= 4, 60, "the first stories", logs)
    wait_for(lambda: len(feed_server.hits("/a.xml")) >= 3, 30, "a few polls of /a.xml", logs)
    assert sorted(titles(redis_client)) == sorted(
        ["Story number 1", "Story number 2", "Story number 99", "Story number 1"])
    assert len(set(stream_ids(redis_client))) == 4, "the wire story shared by a and b once"

    feed_server.serve("/a.xml", rss([item(3), item(1), item(2), shared]))
    wait_for(lambda: "Story number 3" in titles(redis_client), 30, "the new item", logs)

    rows = wait_for(lambda: (lambda r: r if r["slow"]["errors"] else None)(status(cluster)),
                    30, "the slow feed to time out", logs)
    assert rows["err500"]["last_error"] == "HTTP 500 Internal Server Error"
    assert rows["err500"]["http_status"] == 500
    assert "XML" in rows["broken"]["last_error"] or "feed" in rows["broken"]["last_error"]
    assert "timed out" in rows["slow"]["last_error"]
    assert rows["a"]["errors"] == rows["b"]["errors"] == 0
    assert rows["a"]["stories"] + rows["b"]["stories"] == 5, "whichever feed had it first"
    assert rows["a"]["next_due"] is not None

    worker.kill()
    feed_server.serve("/a.xml", rss([item(4), item(3), item(1), item(2), shared]))
    restarted = cluster.start("worker", "worker-again")
    wait_for(lambda: "Story number 4" in titles(redis_client), 60,
             "the item added while the worker was down", [restarted, beat])
    # A feed the killed worker held is claimed again once its lease runs out (2 x timeout
    # + 32 s = 36 s here): the wait covers that, not only b's 2 s interval.
    wait_for(lambda: len(feed_server.hits("/b.xml")) >= 6, 60, "more polls", [restarted])
    ids = stream_ids(redis_client)
    assert len(ids) == len(set(ids)) == 6, Counter(titles(redis_client))


def test_two_beats_and_two_workers_poll_each_feed_once_at_a_time(
        cluster_for: object, feed_server: FeedServer, redis_client: redis.Redis) -> None:
    for n in range(6):
        feed_server.serve(f"/f{n}.xml", rss([item(n * 10 + k) for k in range(3)]), delay=0.5)
    cluster = cluster_for([  # type: ignore[operator]
        {"key": f"f{n}", "url": feed_server.url(f"/f{n}.xml"), "interval": 1}
        for n in range(6)
    ])
    logs = [cluster.start("worker", "worker-1"), cluster.start("worker", "worker-2"),
            cluster.start("beat", "beat-1"), cluster.start("beat", "beat-2")]
    wait_for(lambda: all(len(feed_server.hits(f"/f{n}.xml")) >= 4 for n in range(6)), 90,
             "several polls of every feed", logs)
    assert max(feed_server.most_in_flight.values()) == 1, feed_server.most_in_flight
    ids = stream_ids(redis_client)
    assert len(ids) == len(set(ids)) == 18


def pool_processes(worker: Process) -> list[int]:
    """The worker's pool processes: the children of the celery worker's main process."""
    children = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:  # not a process, or one that just ended
            continue
        if int(stat.rpartition(")")[2].split()[1]) == worker.popen.pid:
            children.append(int(entry.name))
    return children


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and two cores to choose from")
@pytest.mark.parametrize("pinned", [True, False])
def test_each_pool_process_runs_on_a_core_of_its_own_unless_told_not_to(
        cluster_for: object, pinned: bool) -> None:
    cores = os.sched_getaffinity(0)
    cluster = cluster_for([], pin_processes=pinned)  # type: ignore[operator]
    worker = cluster.start("worker", "worker")
    pool = wait_for(lambda: (lambda p: p if len(p) >= 2 else None)(pool_processes(worker)), 60,
                    "the pool processes", [worker])
    wait_for(lambda: "ready" in worker.output(), 30, "the worker to be ready", [worker])
    if pinned:
        held = wait_for(
            lambda: (lambda h: h if all(len(c) == 1 for c in h) else None)(
                [os.sched_getaffinity(pid) for pid in pool]),
            10, "each pool process held to one core", [worker])
        assert len(set().union(*held)) == min(len(pool), len(cores)), f"one core each: {held}"
    else:
        assert [os.sched_getaffinity(pid) for pid in pool] == [cores] * len(pool)
    assert os.sched_getaffinity(worker.popen.pid) == cores, "the main process stays free"


def test_a_worker_does_not_start_on_a_bad_config(
        tmp_path: Path, redis_url: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("feeds:\n  - {key: Not Valid, url: 'gopher://x'}\n", encoding="utf-8")
    env = environment(REDIS_URL=redis_url, FEEDWATCH_CONFIG=str(config))
    run = subprocess.run(command(service_command("worker")), env=env, capture_output=True,
                         text=True, timeout=60, check=False)
    assert run.returncode != 0
    assert "feeds[0] (Not Valid): key:" in run.stderr
    assert "feeds[0] (Not Valid): url: must be an http:// or https:// URL" in run.stderr


def test_feeds_sharing_a_host_are_polled_at_its_pace_and_never_hold_up_another_host(
        cluster_for: object, feed_server: FeedServer, redis_client: redis.Redis) -> None:
    """With the default 5 s tick, 60 feeds on one host go as fast as its limits allow (here
    2 in flight, 0.4 s apart: 2.5 polls/s, shared by two workers), no faster, while the feeds
    of a small host beside it keep their 4 s interval."""
    small = FeedServer().start()
    try:
        big_feeds = [{"key": f"big{n}", "interval": 600, "url": feed_server.serve(
            f"/big/{n}.xml", rss([item(n)]))} for n in range(60)]
        small_feeds = [{"key": f"small{n}", "interval": 4, "url": small.serve(
            f"/small/{n}.xml", rss([item(1000 + n)]))} for n in range(3)]
        big_host = feed_server.url("/").split("/")[2]
        cluster = cluster_for(  # type: ignore[operator]
            big_feeds + small_feeds, tick=5.0,
            hosts={big_host: {"max_concurrent": 2, "min_spacing": 0.4}})
        logs = [cluster.start("worker", "worker-1"), cluster.start("worker", "worker-2"),
                cluster.start("beat", "beat")]
        wait_for(lambda: len(feed_server.arrival_times("/big/")) == 60, 120,
                 "every feed of the big host polled once", logs)
        big = sorted(t for times in feed_server.arrival_times("/big/").values() for t in times)
        small_times = small.arrival_times("/small/")
    finally:
        small.stop()
    first_round = big[:60]
    span = first_round[-1] - first_round[0]
    assert 59 * 0.4 - 0.5 <= span <= 59 * 0.4 + 5 + 3, \
        f"60 polls at 2.5/s take 23.6 s, plus at most a tick: {span:.1f} s"
    assert min(b - a for a, b in zip(first_round, first_round[5:], strict=False)) >= 5 * 0.4 - 0.2, \
        "starts at least min_spacing apart (arrival jitter allowed)"
    assert feed_server.most_at_once <= 2, "never more than max_concurrent in flight"
    for path, times in small_times.items():
        inside = [t for t in times if first_round[0] <= t <= first_round[-1]]
        assert len(inside) >= 3, (path, times)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert max(gaps) <= 4 + 5 + 2.5, f"{path}: interval + one tick at most: {gaps}"
    assert all("feedwatch.poll" in p.output() for p in logs[:2]), "both workers polled"
    ids = stream_ids(redis_client)
    assert len(ids) == len(set(ids)) == 63
