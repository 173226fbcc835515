"""One poll of one feed: fetch → parse → normalize → dedupe and publish → remember.

Every failure of a feed ends here as that feed's recorded error (see ``feedwatch status``);
nothing a feed serves can stop the others from being polled.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import redis

from worker import dedupe, state
from worker.config import FeedConfig, Settings
from worker.exceptions import FetchError, ParseError
from worker.fetch import FetchResult, fetch
from worker.normalize import normalize_entry
from worker.normalize.urls import canonical_url
from worker.parse import ParsedFeed, parse_feed
from worker.publish import Publisher
from worker.types import Story

log = logging.getLogger("feedwatch.poll")


@dataclass(frozen=True)
class PollOutcome:
    """What one poll did, for logs and tests."""

    feed: str
    result: str
    """"new" (a body was read), "not modified" (304), "unchanged" (same body), or "error"."""
    entries: int = 0
    new: int = 0
    error: str | None = None


class Poller:
    def __init__(self, settings: Settings, client: redis.Redis, http: httpx.Client) -> None:
        self.settings = settings
        self._client = client
        self._http = http
        self._publisher = Publisher(client, settings.stream, settings.retention_max_length)

    def poll(self, feed: FeedConfig) -> PollOutcome:
        previous = state.load(self._client, feed.key)
        try:
            response = fetch(
                self._http, feed.url, previous.validators_for(feed.url),
                max_bytes=self.settings.max_body_bytes, deadline=self.settings.timeout,
            )
        except FetchError as exc:
            return self._failed(feed, str(exc), getattr(exc, "status", None))
        if response.not_modified:
            return self._succeeded(feed, response, "not modified", None)
        body_hash = hashlib.blake2b(response.content, digest_size=16).hexdigest()
        if body_hash == previous.body_hash and previous.url == feed.url:
            return self._succeeded(feed, response, "unchanged", body_hash)
        try:
            parsed = parse_feed(response.content, url=response.url, headers=response.headers)
        except ParseError as exc:
            return self._failed(feed, str(exc), response.status)
        return self._publish(feed, response, parsed, body_hash)

    def _publish(
        self, feed: FeedConfig, response: FetchResult, parsed: ParsedFeed, body_hash: str,
    ) -> PollOutcome:
        stories, problems = normalize_all(parsed, feed, datetime.now(UTC))
        if parsed.problem:
            problems.insert(0, f"malformed feed: {parsed.problem}")
        shared = dedupe.shared_urls([s.url for s in stories], canonical_url(parsed.link))
        new = self._publisher.publish(stories, shared)
        problem = "; ".join(problems) or None
        result = f"{len(new)} new of {len(parsed.entries)}"
        state.record_success(
            self._client, feed.key, url=feed.url, result=result, status=response.status,
            validators=response.validators, body_hash=body_hash, new_stories=len(new),
            problem=problem,
        )
        log.info("%s: %s entries, %s new%s", feed.key, len(parsed.entries), len(new),
                 f" ({problem})" if problem else "")
        return PollOutcome(feed.key, "new", entries=len(parsed.entries), new=len(new))

    def _succeeded(
        self, feed: FeedConfig, response: FetchResult, result: str, body_hash: str | None,
    ) -> PollOutcome:
        state.record_success(
            self._client, feed.key, url=feed.url, result=result, status=response.status,
            validators=response.validators, body_hash=body_hash, new_stories=0, problem=None,
        )
        log.info("%s: %s", feed.key, result)
        return PollOutcome(feed.key, result)

    def _failed(self, feed: FeedConfig, error: str, status: int | None) -> PollOutcome:
        state.record_error(self._client, feed.key, error, status)
        log.warning("%s: %s", feed.key, error)
        return PollOutcome(feed.key, "error", error=error)


def normalize_all(
    parsed: ParsedFeed, feed: FeedConfig, fetched_at: datetime,
) -> tuple[list[Story], list[str]]:
    """Normalize every entry; an entry that fails is reported, and the others go on."""
    stories: list[Story] = []
    problems: list[str] = []
    for index, entry in enumerate(parsed.entries):
        where = entry.get("id") or entry.get("link") or f"entry {index}"
        try:
            story = normalize_entry(
                entry, parsed, feed_key=feed.key, source=feed.source, tags=feed.tags,
                fetched_at=fetched_at,
            )
        except Exception as exc:  # one bad entry must not cost the others
            problems.append(f"{where}: {type(exc).__name__}: {exc}")
            log.exception("%s: cannot normalize %s", feed.key, where)
            continue
        if story.title or story.body or story.url:
            stories.append(story)
        else:
            problems.append(f"{where}: empty entry (no title, body or link) skipped")
    return stories, problems


__all__ = ["PollOutcome", "Poller", "normalize_all"]
