"""What feedwatch remembers about each feed between polls, kept in one Redis hash per feed.

The fetch validators (ETag, Last-Modified, body hash) are written only after the stories of
that body were published: a crash in between makes the next poll fetch and publish again
(deduplicated) instead of skipping stories that never reached the stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from worker.fetch import Validators

FEED_PREFIX = "feedwatch:feed:"


def feed_key(key: str) -> str:
    return f"{FEED_PREFIX}{key}"


@dataclass(frozen=True)
class FeedState:
    """A feed's remembered state; every field is empty before its first poll."""

    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_poll: str | None = None
    last_result: str | None = None
    last_status: int | None = None
    last_error: str | None = None
    errors: int = 0
    stories: int = 0
    problem: str | None = None

    def validators_for(self, url: str) -> Validators | None:
        """The validators to send to ``url``: none when they were given for another URL."""
        if self.url != url or not (self.etag or self.last_modified):
            return None
        return Validators(etag=self.etag, last_modified=self.last_modified)


def load(client: redis.Redis, key: str) -> FeedState:
    raw = {k.decode(): v.decode() for k, v in client.hgetall(feed_key(key)).items()}  # type: ignore[union-attr]
    return FeedState(
        url=raw.get("url"),
        etag=raw.get("etag") or None,
        last_modified=raw.get("last_modified") or None,
        body_hash=raw.get("body_hash") or None,
        last_poll=raw.get("last_poll"),
        last_result=raw.get("last_result"),
        last_status=int(raw["last_status"]) if raw.get("last_status") else None,
        last_error=raw.get("last_error") or None,
        errors=int(raw.get("errors", 0)),
        stories=int(raw.get("stories", 0)),
        problem=raw.get("problem") or None,
    )


def record_success(
    client: redis.Redis,
    key: str,
    *,
    url: str,
    result: str,
    status: int,
    validators: Validators,
    body_hash: str | None,
    new_stories: int,
    problem: str | None,
) -> None:
    """Record a poll that worked, with the validators for the next conditional GET."""
    fields = {
        "url": url,
        "etag": validators.etag or "",
        "last_modified": validators.last_modified or "",
        "last_poll": now_iso(),
        "last_result": result,
        "last_status": status,
        "errors": 0,
        "last_error": "",
        "problem": problem or "",
    }
    if body_hash is not None:
        fields["body_hash"] = body_hash
    with client.pipeline() as pipe:
        pipe.hset(feed_key(key), mapping=fields)  # type: ignore[arg-type]
        pipe.hincrby(feed_key(key), "stories", new_stories)
        pipe.execute()


def record_error(client: redis.Redis, key: str, error: str, status: int | None = None) -> None:
    """Record a failed poll; the validators stay as they were."""
    with client.pipeline() as pipe:
        pipe.hset(feed_key(key), mapping={
            "last_poll": now_iso(),
            "last_result": "error",
            "last_status": status if status is not None else "",
            "last_error": error,
        })
        pipe.hincrby(feed_key(key), "errors", 1)
        pipe.execute()


def forget(client: redis.Redis, key: str) -> None:
    client.delete(feed_key(key))


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
