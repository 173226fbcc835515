"""The feedwatch command as a user runs it: convert, poll, tail."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import redis
from feedserver import FeedServer, item, rss
from hypothesis import given
from hypothesis import strategies as st
from processes import environment

from worker.cli.tail import stream_position
from worker.publish import Publisher
from worker.story import Story

DATA = Path(__file__).parent.parent / "data"
FEEDS = Path(__file__).parent.parent / "feeds"


def feedwatch(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "worker.cli", *args], input=stdin,
                          capture_output=True, env=env or environment(), cwd=cwd, timeout=60,
                          check=False)


def test_seed_round_trips_through_convert_byte_for_byte() -> None:
    seed = (DATA / "seed_story.txt").read_bytes()
    as_json = feedwatch("convert", "--to", "json", stdin=seed)
    assert as_json.returncode == 0, as_json.stderr
    story = json.loads(as_json.stdout)
    assert story["dateline"] == "CNN"
    assert story["contributors"] == ["Richard Beltran", "Josh Berlinger", "Don Melvin"]
    back = feedwatch("convert", "--to", "text", stdin=as_json.stdout)
    assert back.returncode == 0, back.stderr
    assert back.stdout == seed


def test_convert_reads_a_file_argument_and_says_what_is_wrong(tmp_path: Path) -> None:
    assert feedwatch("convert", "--to", "json", str(DATA / "seed_story.txt")).returncode == 0
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "x", "body": ', encoding="utf-8")
    run = feedwatch("convert", "--to", "text", str(broken))
    assert run.returncode == 2
    assert b"input is not a story in JSON" in run.stderr
    empty = feedwatch("convert", "--to", "json", stdin=b"  \n")
    assert empty.returncode == 2 and empty.stderr.startswith(b"feedwatch: ")


def test_poll_prints_one_story_per_line_from_a_local_file() -> None:
    run = feedwatch("poll", str(FEEDS / "nytimes_us.xml"), "--key", "nyt")
    assert run.returncode == 0, run.stderr
    stories = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(stories) > 5
    assert all(s["feed"] == "nyt" and s["title"] and s["url"].startswith("https://")
               for s in stories)


def test_poll_fetches_a_url_and_publishes_nothing(
        feed_server: FeedServer, redis_client: redis.Redis) -> None:
    url = feed_server.serve("/p.xml", rss([item(1), item(2)]))
    run = feedwatch("poll", url, "--format", "text")
    assert run.returncode == 0, run.stderr
    assert b"First paragraph of story 1." in run.stdout
    assert redis_client.keys("*") == []


def test_poll_of_something_that_is_not_a_feed_fails_clearly(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>Hello</p></body></html>", encoding="utf-8")
    run = feedwatch("poll", str(page))
    assert run.returncode == 2
    assert b"not a feed" in run.stderr
    missing = feedwatch("poll", str(tmp_path / "nope.xml"))
    assert missing.returncode == 2 and b"cannot read" in missing.stderr


def test_tail_with_a_group_acknowledges_what_it_printed(
        tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("stream: cli:stories\nfeeds: []\n", encoding="utf-8")
    publisher = Publisher(redis_client, "cli:stories", 1000)
    publisher.publish([Story(id=f"s{n}", feed="f", guid=f"g{n}", title=f"T{n}")
                       for n in range(3)])
    env = environment(REDIS_URL=redis_url)
    args = ("tail", "--config", str(config), "--group", "g", "--consumer", "c", "--from", "0")
    first = feedwatch(*args, "--count", "2", env=env)
    assert [json.loads(x)["title"] for x in first.stdout.splitlines()] == ["T0", "T1"]
    second = feedwatch(*args, "--count", "1", env=env)
    assert [json.loads(x)["title"] for x in second.stdout.splitlines()] == ["T2"]
    assert redis_client.xpending("cli:stories", "g")["pending"] == 0


def publish_titles(client: redis.Redis, stream: str, titles: list[str]) -> list[bytes]:
    """Publish one story per title; return their entry ids."""
    Publisher(client, stream, 1000).publish(
        [Story(id=f"id-{t}", feed="f", guid=f"g-{t}", title=t) for t in titles])
    return [entry_id for entry_id, _ in client.xrange(stream)][-len(titles):]


def tail_config(tmp_path: Path) -> Path:
    config = tmp_path / "feeds.yaml"
    config.write_text("stream: cli:stories\nfeeds: []\n", encoding="utf-8")
    return config


def printed_titles(run: subprocess.CompletedProcess[bytes]) -> list[str]:
    assert run.returncode == 0, run.stderr
    return [json.loads(line)["title"] for line in run.stdout.splitlines()]


def test_tail_takes_over_what_a_dead_consumer_left_unacknowledged(
        tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> None:
    publish_titles(redis_client, "cli:stories", ["T0", "T1", "T2"])
    redis_client.xgroup_create("cli:stories", "g", id="0")
    redis_client.xreadgroup("g", "dead", {"cli:stories": ">"}, count=2)  # then it died
    args = ("tail", "--config", str(tail_config(tmp_path)), "--group", "g", "--consumer", "alive")
    env = environment(REDIS_URL=redis_url)

    fresh = feedwatch(*args, "--count", "1", env=env)
    assert printed_titles(fresh) == ["T2"], "stories pending elsewhere wait for --claim-idle"
    claimed = feedwatch(*args, "--claim-idle", "0", "--count", "2", env=env)
    assert printed_titles(claimed) == ["T0", "T1"]
    assert redis_client.xpending("cli:stories", "g")["pending"] == 0


def test_tail_starts_from_a_point_in_time(
        tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> None:
    publish_titles(redis_client, "cli:stories", ["old"])
    time.sleep(0.01)
    [later_id] = publish_titles(redis_client, "cli:stories", ["new"])
    millis = int(later_id.split(b"-")[0])
    since = datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds")
    args = ("tail", "--config", str(tail_config(tmp_path)), "--from", since.replace("+00:00", "Z"))
    env = environment(REDIS_URL=redis_url)
    assert printed_titles(feedwatch(*args, "--count", "1", env=env)) == ["new"]
    grouped = feedwatch(*args, "--group", "replay", "--count", "1", env=env)
    assert printed_titles(grouped) == ["new"]
    everything = feedwatch(*args[:3], "--from", "0", "--count", "2", env=env)
    assert printed_titles(everything) == ["old", "new"]
    wrong = feedwatch(*args[:3], "--from", "yesterday", env=env)
    assert wrong.returncode == 2 and b"ISO 8601" in wrong.stderr


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.just(UTC)))
def test_a_time_becomes_the_position_just_before_its_first_entry(when: datetime) -> None:
    millis = int(when.timestamp() * 1000)
    position = stream_position(when.isoformat())
    ms, seq = (int(part) for part in position.split("-"))
    assert (ms, seq) < (millis, 0), "an entry added at that moment is read"
    assert ms == millis - 1, "nothing earlier is"
