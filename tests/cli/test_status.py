"""`feedwatch status` as a user reads it: interval and why, retired and moved feeds, --broken."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import redis
import yaml
from feedserver import FeedServer, Route, item, rss
from processes import environment

from worker import state
from worker.config import FeedConfig, Settings, load_settings
from worker.report import status
from worker.schedule import Schedule
from worker.service.runtime import Runtime


def test_status_shows_why_and_broken_lists_only_the_unhealthy(
        tmp_path: Path, redis_url: str, redis_client: redis.Redis,
        feed_server: FeedServer) -> None:
    new = feed_server.serve("/new.xml", rss([item(1)]))
    feed_server.routes["/old.xml"] = Route(status=301, headers={"Location": new})
    config = tmp_path / "feeds.yaml"
    config.write_text(yaml.safe_dump({
        "redis_url": redis_url, "stream": "test:stories", "allow_private_networks": True,
        "per_host": {"min_spacing": 0},
        "feeds": [
            {"key": "fine", "url": feed_server.serve("/fine.xml", rss([item(2)]))},
            {"key": "failing", "url": feed_server.fail("/500.xml", 500)},
            {"key": "gone", "url": feed_server.fail("/410.xml", 410)},
            {"key": "moved", "url": feed_server.url("/old.xml")},
        ]}), encoding="utf-8")
    runtime = Runtime(load_settings(config))
    runtime.tick()
    for key in ("fine", "failing", "gone", "moved", "moved", "moved"):
        runtime.poll(key)

    env = environment(REDIS_URL=redis_url)
    run = subprocess.run([sys.executable, "-m", "worker.cli", "status", "--config", str(config)],
                         env=env, capture_output=True, text=True, timeout=60, check=True)
    table = run.stdout
    assert "INTERVAL" in table and "300s (configured)" in table
    assert "300s (backoff after 1 error)" in table
    assert "gone: retired, no longer polled: 410 Gone" in table
    assert f"moved: moved permanently to {new}, polled there; please update" in table

    broken = subprocess.run(
        [sys.executable, "-m", "worker.cli", "status", "--broken", "--json", "--config",
         str(config)], env=env, capture_output=True, text=True, timeout=60, check=True)
    rows = {row["key"]: row for row in json.loads(broken.stdout)}
    assert sorted(rows) == ["failing", "gone", "moved"]
    assert rows["failing"]["interval_why"] == "backoff after 1 error"
    assert rows["failing"]["last_error"] == "HTTP 500 Internal Server Error"
    assert rows["gone"]["next_due"] is None


def test_status_reads_every_feed_and_names_those_waiting_past_their_due_time(
        redis_client: redis.Redis) -> None:
    """More feeds than one round trip reads, each with its own state and due time; a feed
    still waiting a while after its due time means no beat, or workers that fall behind."""
    feeds = tuple(FeedConfig(key=f"f{n}", url=f"http://127.0.0.1:9/{n}.xml")
                  for n in range(2 * status.CHUNK + 500))
    now = 1_000_000.0
    schedule = Schedule(redis_client, lease_seconds=60)
    schedule.sync({feed.key: ("plan", "127.0.0.1:9") for feed in feeds}, now=now + 100)
    schedule.reschedule("f1234", now - 300)
    schedule.reschedule("f2400", now - 30)
    redis_client.hset(state.feed_key("f2499"), mapping={"stories": 7, "errors": 2})
    rows = status.collect(redis_client, Settings(path="<test>", feeds=feeds), now=now)
    assert [row.key for row in rows] == [feed.key for feed in feeds]
    assert (rows[2499].stories, rows[2499].errors, rows[0].stories) == (7, 2, 0)
    assert rows[0].next_due == "1970-01-12T13:48:20Z"
    assert {row.key: row.late for row in rows if row.late is not None} == {"f1234": 300}, \
        "30 s past due is a tick's wait, not late"
    assert ("1 feed(s) waiting more than 60 s past their due time, f1234 the longest "
            "(300 s)") in status.render(rows)
    assert [row.key for row in rows if not row.healthy] == ["f1234", "f2499"], \
        "late, and failing: both listed by --broken"
