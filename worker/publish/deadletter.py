"""Dead letters: feed entries that could not become stories, kept so nothing is dropped silently.

An entry that fails normalization (an exception in the normalizer, or nothing to publish: no
title, body or link) goes to the stream ``<stream>:dead`` with its feed, where it was in the feed,
the error, and the raw entry as feedparser read it (JSON), together with the channel facts the
normalizer needs. ``feedwatch dead`` lists them; ``feedwatch dead --retry`` normalizes them again
with the code and config of now (after a fix) and publishes those that work, deduplicated as
usual. The same failure of the same entry is recorded once, however often the feed is polled.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import feedparser
import redis

from worker import dedupe, lua
from worker.config import Settings
from worker.keys import dead_known, dead_stream
from worker.normalize.entries import Failure, normalize_all
from worker.normalize.urls import canonical_url
from worker.parse import ParsedFeed
from worker.publish import Publisher

_RECORD = lua.load("worker.publish", "deadletter_record.lua")


@dataclass(frozen=True)
class DeadLetter:
    id: str
    feed: str
    where: str
    error: str
    at: str
    """When it was recorded, ISO 8601 UTC."""
    entry: dict[str, Any]
    channel: dict[str, Any]


def record(client: redis.Redis, stream: str, feed_key: str, parsed: ParsedFeed,
           failures: list[Failure]) -> int:
    """Add the failures not recorded before; return how many were added."""
    channel = json.dumps({"title": parsed.title, "link": parsed.link,
                          "language": parsed.language, "version": parsed.version})
    added = 0
    for failure in failures:
        added += int(client.eval(
            _RECORD, 2, dead_known(stream), dead_stream(stream), _identity(feed_key, failure),
            feed_key, failure.where, failure.error,
            json.dumps(failure.entry, default=str, ensure_ascii=False), channel))
    return added


def letters(client: redis.Redis, stream: str) -> list[DeadLetter]:
    """Every dead letter, oldest first."""
    found = []
    entries = cast(list[tuple[bytes, dict[bytes, bytes]]], client.xrange(dead_stream(stream)))
    for entry_id, raw in entries:
        fields = {k.decode(): v.decode() for k, v in raw.items()}
        millis = int(entry_id.decode().split("-")[0])
        found.append(DeadLetter(
            id=entry_id.decode(), feed=fields["feed"], where=fields["where"],
            error=fields["error"],
            at=datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            entry=json.loads(fields["entry"]), channel=json.loads(fields["channel"])))
    return found


@dataclass(frozen=True)
class RetryResult:
    letter: DeadLetter
    published: bool
    """A story came out of it and was published (new or updated); only then is it removed."""
    error: str | None
    """Why it failed again; the letter stays."""


def retry(
    client: redis.Redis, settings: Settings, ids: list[str] | None = None,
) -> list[RetryResult]:
    """Normalize the dead letters (all, or those with ``ids``) again and publish what works.

    A letter whose story is now published is removed; one that fails again, or whose story
    the stream already knows, stays, with the reason reported. A letter whose feed is no
    longer configured fails with that reason.
    """
    publisher = Publisher.for_settings(client, settings)
    results = []
    for letter in letters(client, settings.stream):
        if ids is not None and letter.id not in ids:
            continue
        results.append(_retry_one(client, settings, publisher, letter))
    return results


def _retry_one(client: redis.Redis, settings: Settings, publisher: Publisher,
               letter: DeadLetter) -> RetryResult:
    feed = settings.feed_by_key.get(letter.feed)
    if feed is None:
        return RetryResult(letter, False, f"feed {letter.feed!r} is not in the config")
    parsed = ParsedFeed(title=letter.channel.get("title"), link=letter.channel.get("link"),
                        language=letter.channel.get("language"),
                        version=letter.channel.get("version") or "",
                        entries=[_feedparser_entry(letter.entry)])
    stories, problems = normalize_all(parsed, feed, datetime.now(UTC))
    if not stories:
        return RetryResult(letter, False, "; ".join(problems) or "no story")
    shared = dedupe.shared_urls([s.url for s in stories], canonical_url(parsed.link))
    outcome = publisher.publish(stories, shared, updates=feed.updates)
    if not (outcome.new or outcome.updated):
        return RetryResult(letter, False, "its story is already known on the stream (by its "
                           "link or guid), so nothing was published; the letter is kept")
    client.xdel(dead_stream(settings.stream), letter.id)
    client.srem(dead_known(settings.stream), _identity(letter.feed, Failure(
        letter.where, letter.error, letter.entry)))
    return RetryResult(letter, True, None)


def _identity(feed_key: str, failure: Failure) -> str:
    material = json.dumps([feed_key, failure.where, failure.error,
                           json.dumps(failure.entry, default=str, sort_keys=True)])
    return hashlib.blake2b(material.encode(), digest_size=12).hexdigest()


def _feedparser_entry(data: Any, key: str = "") -> Any:
    """An entry read back from JSON into the shape feedparser gave it."""
    if isinstance(data, dict):
        return feedparser.FeedParserDict({k: _feedparser_entry(v, k) for k, v in data.items()})
    if isinstance(data, list):
        if key.endswith("_parsed") and len(data) == 9:
            return time.struct_time(data)
        return [_feedparser_entry(v) for v in data]
    return data
