"""What feedwatch remembers about each feed between polls, kept in one Redis hash per feed.

The fetch validators (ETag, Last-Modified, body hash) are written only after the stories of
that body were published: a crash in between makes the next poll fetch and publish again
(deduplicated) instead of skipping stories that never reached the stream.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis

from worker.keys import FEED_PREFIX

POLL_ID_FIELD = "poll_id"
KNOWN_ITEMS_FIELD = "items"
"""The items of the last document already published (:mod:`worker.parse.known_items`)."""


@dataclass(frozen=True)
class Validators:
    """What the server told us last time, to ask it "only if changed": kept between polls,
    sent by the fetch stage."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        sent = {}
        if self.etag:
            sent["If-None-Match"] = self.etag
        if self.last_modified:
            sent["If-Modified-Since"] = self.last_modified
        return sent


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
    interval: int | None = None
    interval_why: str | None = None
    """The interval chosen after the last poll and the reason, e.g. "backoff after 3 errors"."""
    retired: str | None = None
    """Why the feed is no longer polled (410 Gone, a long 404)."""
    missing_since: float | None = None
    """When the current run of 404 answers began (Unix seconds)."""
    moved_to: str | None = None
    moved_polls: int = 0
    """Where permanent redirects led, and for how many polls in a row."""
    location: str | None = None
    """The learned new address of the feed, polled instead of ``url``."""
    document_minimum: float | None = None
    document_minimum_why: str | None = None
    """The shortest interval the feed document last asked for (<ttl>, sy:updatePeriod)."""
    header_minimum: float | None = None
    header_minimum_why: str | None = None
    """The same from the last response headers that said (max-age, Expires)."""
    rhythm: dict[str, int] = field(default_factory=dict)
    """New stories per day (YYYY-MM-DD) over the last days."""
    watched_since: float | None = None
    poll_id: str | None = None
    """The lease token of the last poll that wrote this state (:func:`mark_polled`)."""
    known_items: bytes = b""
    """The items of the last document already through the publish step, packed (see
    :mod:`worker.parse.known_items`)."""
    stored: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    """The hash as it was read: writes leave out the fields that would not change."""

    def fetch_url(self, url: str) -> str:
        """The URL to poll for the configured ``url``: the one learned for it, if any."""
        return self.location if self.location and self.url == url else url

    def validators_for(self, url: str) -> Validators | None:
        """The validators to send to ``url``: none when they were given for another URL."""
        if self.url != url or not (self.etag or self.last_modified):
            return None
        return Validators(etag=self.etag, last_modified=self.last_modified)


Writer = redis.Redis | redis.client.Pipeline
"""Where state is written: a client, or a pipeline that the caller executes (so that a poll's
bookkeeping costs one round trip to Redis)."""


def load(client: redis.Redis, key: str) -> FeedState:
    return from_hash(client.hgetall(feed_key(key)))  # type: ignore[arg-type]


def load_many(
    client: redis.Redis, keys: list[str], fields: Sequence[str] | None = None,
) -> list[FeedState]:
    """The states of several feeds in one round trip; with ``fields``, only those are read
    (a report that needs no validators or known items reads a fraction of the bytes)."""
    pipe = client.pipeline(transaction=False)
    for key in keys:
        if fields is None:
            pipe.hgetall(feed_key(key))
        else:
            pipe.hmget(feed_key(key), list(fields))
    found = pipe.execute()
    if fields is None:
        return [from_hash(stored) for stored in found]
    names = [name.encode() for name in fields]
    return [from_hash({n: v for n, v in zip(names, values, strict=True) if v is not None})
            for values in found]


def from_hash(found: Mapping[bytes, bytes]) -> FeedState:
    """A state from its stored hash (as HGETALL returns it)."""
    known_items = found.get(KNOWN_ITEMS_FIELD.encode(), b"")
    raw = {k.decode(): v.decode() for k, v in found.items()
           if k != KNOWN_ITEMS_FIELD.encode()}
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
        interval=int(raw["interval"]) if raw.get("interval") else None,
        interval_why=raw.get("interval_why") or None,
        retired=raw.get("retired") or None,
        missing_since=float(raw["missing_since"]) if raw.get("missing_since") else None,
        moved_to=raw.get("moved_to") or None,
        moved_polls=int(raw.get("moved_polls") or 0),
        location=raw.get("location") or None,
        document_minimum=float(raw["document_minimum"]) if raw.get("document_minimum") else None,
        document_minimum_why=raw.get("document_minimum_why") or None,
        header_minimum=float(raw["header_minimum"]) if raw.get("header_minimum") else None,
        header_minimum_why=raw.get("header_minimum_why") or None,
        rhythm=json.loads(raw["rhythm"]) if raw.get("rhythm") else {},
        watched_since=float(raw["watched_since"]) if raw.get("watched_since") else None,
        poll_id=raw.get(POLL_ID_FIELD),
        known_items=known_items,
        stored=raw,
    )


def _changes(fields: Mapping[str, object], previous: FeedState | None) -> dict[str, object]:
    """The fields whose stored form differs from what ``previous`` was read with (all of
    them without ``previous``): most polls change a timestamp and nothing else."""
    stored = previous.stored if previous is not None else {}
    return {name: value for name, value in fields.items()
            if isinstance(value, bytes) or stored.get(name) != str(value)}


def save_pacing(
    client: Writer, key: str, fields: Mapping[str, object], previous: FeedState | None = None,
) -> None:
    """Save the scheduling fields of a feed (see :mod:`worker.schedule.pacing`); None clears a
    field. With ``previous``, only the fields that change are written."""
    stored = _changes({name: "" if value is None else
                       json.dumps(value) if isinstance(value, dict) else str(value)
                       for name, value in fields.items()}, previous)
    if stored:
        client.hset(feed_key(key), mapping=stored)  # type: ignore[arg-type]


def record_success(
    client: Writer,
    key: str,
    *,
    url: str,
    result: str,
    status: int,
    validators: Validators,
    body_hash: str | None,
    new_stories: int,
    problem: str | None,
    known_items: bytes | None = None,
    previous: FeedState | None = None,
) -> None:
    """Record a poll that worked, with the validators for the next conditional GET, and
    the items of its document known from now on, when it read one. With ``previous``, only
    the fields that change are written."""
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
    if known_items is not None:
        fields[KNOWN_ITEMS_FIELD] = known_items
    changed = _changes(fields, previous)
    if changed:
        client.hset(feed_key(key), mapping=changed)  # type: ignore[arg-type]
    if new_stories:
        client.hincrby(feed_key(key), "stories", new_stories)


def record_wait(client: Writer, key: str, message: str, status: int) -> None:
    """Record a poll the server asked us to postpone (429, 503 with Retry-After): no error."""
    client.hset(feed_key(key), mapping={
        "last_poll": now_iso(), "last_result": message, "last_status": status})


def record_error(client: Writer, key: str, error: str, status: int | None = None) -> None:
    """Record a failed poll; the validators stay as they were."""
    client.hset(feed_key(key), mapping={
        "last_poll": now_iso(),
        "last_result": "error",
        "last_status": status if status is not None else "",
        "last_error": error,
    })
    client.hincrby(feed_key(key), "errors", 1)


def mark_polled(client: Writer, key: str, poll_id: str) -> None:
    """Sign the state with the poll that wrote it: a worker that read the state before taking
    the feed's lease compares the signature it finds under the lease with the one it read, and
    reads the state again if another poll came in between (see :func:`poll_marker`)."""
    client.hset(feed_key(key), POLL_ID_FIELD, poll_id)


def poll_marker(key: str) -> tuple[str, str]:
    """The hash and field that :func:`mark_polled` writes."""
    return feed_key(key), POLL_ID_FIELD


def forget(client: redis.Redis, key: str) -> None:
    client.delete(feed_key(key))


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
