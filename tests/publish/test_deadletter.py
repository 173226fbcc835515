"""Dead letters: entries that could not become stories are kept, listed, and re-run after a fix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from feedserver import FeedServer, item, rss
from processes import environment

from worker import poll
from worker.config import FeedConfig, Settings
from worker.fetch import HttpClient, new_client
from worker.keys import dead_stream
from worker.normalize import entries
from worker.parse import ParsedFeed
from worker.publish import deadletter

STREAM = "test:stories"
EMPTY_ITEM = b'<item><guid isPermaLink="false">blank-1</guid></item>'


@pytest.fixture
def http() -> HttpClient:
    return new_client("feedwatch-test", timeout=1.0)


def titles(client: redis.Redis) -> list[str]:
    return [json.loads(f[b"story"])["title"] for _id, f in client.xrange(STREAM)]


def test_an_entry_the_normalizer_fails_on_is_kept_and_published_after_the_fix(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = feed_server.serve("/d.xml", rss([item(1), item(2)]))
    feed = FeedConfig(key="d", url=url)
    settings = Settings(path="<t>", feeds=(feed,), stream=STREAM, timeout=1.0)
    real = entries.normalize_entry

    def buggy(entry: Any, *args: Any, **kwargs: Any) -> Any:
        if "story-2" in entry.get("id", ""):
            raise ValueError("a bug in the normalizer")
        return real(entry, *args, **kwargs)

    monkeypatch.setattr(entries, "normalize_entry", buggy)
    poller = poll.Poller(settings, redis_client, http)
    assert poller.poll(feed).new == 1
    feed_server.serve("/d.xml", rss([item(1), item(2)]) + b"\n")  # polled again: still one letter
    poller.poll(feed)
    [letter] = deadletter.letters(redis_client, STREAM)
    assert (letter.feed, letter.error) == ("d", "ValueError: a bug in the normalizer")
    assert letter.where == "http://news.example.com/2026/11/24/story-2.html"
    assert letter.entry["title"] == "Story number 2", "the raw entry is kept"

    assert not deadletter.retry(redis_client, settings)[0].published, "not fixed yet"
    monkeypatch.undo()  # the fix
    [result] = deadletter.retry(redis_client, settings)
    assert result.published
    assert titles(redis_client) == ["Story number 1", "Story number 2"]
    assert deadletter.letters(redis_client, STREAM) == []
    assert poll.Poller(settings, redis_client, http).poll(feed).new == 0, "once, as ever"


def test_feedwatch_dead_lists_an_empty_entry_and_a_retry_says_it_still_fails(
        tmp_path: Path, feed_server: FeedServer, redis_url: str, redis_client: redis.Redis,
        http: HttpClient) -> None:
    url = feed_server.serve("/e.xml", rss([item(1)]).replace(b"</channel>", EMPTY_ITEM + b"</channel>"))
    feed = FeedConfig(key="e", url=url)
    poll.Poller(Settings(path="<t>", feeds=(feed,), stream=STREAM), redis_client, http).poll(feed)
    config = tmp_path / "feeds.yaml"
    config.write_text(yaml.safe_dump({"stream": STREAM, "feeds": [{"key": "e", "url": url}]}))
    env = environment(REDIS_URL=redis_url)

    def dead(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "worker.cli", "dead", "--config",
                               str(config), *args], env=env, capture_output=True, text=True,
                              timeout=60, check=False)

    listed = dead("--json")
    [letter] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (letter["feed"], letter["where"]) == ("e", "blank-1")
    assert letter["error"] == "empty entry (no title, body or link)"
    retried = dead("--retry")
    assert retried.returncode == 2 and "failed again" in retried.stdout
    assert "blank-1" in dead().stdout, "a letter that still fails stays"


def test_a_letter_is_removed_only_when_its_story_is_published(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two letters whose items both link to the site's home page: each becomes its own story,
    and a letter whose story the stream already knows is kept, never deleted unpublished."""
    home = "https://site.example/"
    items = [{"title": f"Headline {n}", "link": home, "description": f"<p>Item {n}.</p>"}
             for n in range(2)]
    url = feed_server.serve("/home.xml", rss(items, link=home))
    feed = FeedConfig(key="h", url=url)
    settings = Settings(path="<t>", feeds=(feed,), stream=STREAM, timeout=1.0)
    monkeypatch.setattr(entries, "normalize_entry", lambda *a, **k: 1 / 0)
    poll.Poller(settings, redis_client, http).poll(feed)
    assert len(deadletter.letters(redis_client, STREAM)) == 2
    monkeypatch.undo()
    assert [r.published for r in deadletter.retry(redis_client, settings)] == [True, True]
    assert titles(redis_client) == ["Headline 0", "Headline 1"]

    poll.Poller(settings, redis_client, http).poll(feed)  # nothing new to publish
    monkeypatch.setattr(entries, "normalize_entry", lambda *a, **k: 1 / 0)
    feed_server.serve("/home.xml", rss(items, link=home) + b"\n")
    poll.Poller(settings, redis_client, http).poll(feed)
    monkeypatch.undo()
    results = deadletter.retry(redis_client, settings)
    assert [r.published for r in results] == [False, False]
    assert all("already known" in (r.error or "") for r in results)
    assert len(deadletter.letters(redis_client, STREAM)) == 2, "kept, not deleted"


def test_a_letter_whose_writing_failed_is_written_at_the_next_poll(
        redis_client: redis.Redis) -> None:
    """Recording a failure and adding its letter are one step: when the letter cannot be
    added, the failure is not taken as recorded, so the next poll adds it."""
    parsed = ParsedFeed(title="t", link=None, language=None, version="rss20")
    failure = deadletter.Failure("entry 0", "empty entry (no title, body or link)", {})
    redis_client.set(dead_stream(STREAM), "not a stream")
    with pytest.raises(redis.ResponseError):
        deadletter.record(redis_client, STREAM, "d", parsed, [failure])
    redis_client.delete(dead_stream(STREAM))
    assert deadletter.record(redis_client, STREAM, "d", parsed, [failure]) == 1
    assert deadletter.record(redis_client, STREAM, "d", parsed, [failure]) == 0, "once"
    assert [letter.where for letter in deadletter.letters(redis_client, STREAM)] == ["entry 0"]
