"""One poll of one feed: fetch → parse → normalize → dedupe and publish → remember.

Every failure of a feed ends here as that feed's recorded error (see ``feedwatch status``);
nothing a feed serves can stop the others from being polled.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis

from worker import dedupe, fulltext, state
from worker.config import FeedConfig, Settings
from worker.dedupe import neardup_index
from worker.exceptions import AskedToWait, FetchError, ParseError
from worker.fetch import FetchResult, HttpClient, fetch
from worker.hints import header_minimum
from worker.normalize.entries import Failure, normalize_entries
from worker.normalize.urls import canonical_url
from worker.outcome import PollOutcome
from worker.parse import ParsedFeed, known_items, parse_feed, partial
from worker.parse.split import split_items
from worker.publish import Publisher, deadletter
from worker.publish.revision import field_digests
from worker.schedule.hosts import HostLimits, host_of
from worker.story import Story

log = logging.getLogger("feedwatch.poll")


def _nothing() -> None:
    return None


class Poller:
    def __init__(
        self, settings: Settings, client: redis.Redis, http: HttpClient,
        redirect_http: HttpClient | None = None, turns: HostLimits | None = None,
    ) -> None:
        """``redirect_http`` fetches redirect targets (a client guarded against private
        networks, see :mod:`worker.fetch.netguard`); without it ``http`` follows them too. With
        ``turns``, each article page waits for its turn on its host like a feed does."""
        self.settings = settings
        self._turns = turns
        self._client = client
        self._http = http
        self._redirect_http = redirect_http
        self._publisher = Publisher.for_settings(client, settings)
        self._near_duplicates = neardup_index.NearDuplicateIndex(client)

    def poll(
        self, feed: FeedConfig, previous: state.FeedState | None = None,
        writes: redis.client.Pipeline | None = None, renew_lease: Callable[[], object] = _nothing,
        read: Callable[[], object] = _nothing,
    ) -> PollOutcome:
        """Poll ``feed``; ``previous`` is its remembered state when the caller loaded it already.

        The feed's new state is written into ``writes`` when given, for the caller to execute
        with the rest of its bookkeeping; otherwise it is written before returning.
        ``renew_lease`` is called before each article page is fetched for full text: each may
        take up to the fetch timeout, so a poll can outlast the lease it started with.
        ``read`` is called once a changed document is read, before the work on it: the
        request is over for its host."""
        previous = previous or state.load(self._client, feed.key)
        if writes is not None:
            return self._poll(feed, previous, writes, renew_lease, read)
        own = self._client.pipeline(transaction=False)
        outcome = self._poll(feed, previous, own, renew_lease, read)
        own.execute()
        return outcome

    def _poll(
        self, feed: FeedConfig, previous: state.FeedState, writes: redis.client.Pipeline,
        renew_lease: Callable[[], object], read: Callable[[], object],
    ) -> PollOutcome:
        url = previous.fetch_url(feed.url)
        # A learned location came from a redirect: it is held to the redirect guard for good.
        first_hop = self._redirect_http if url != feed.url and self._redirect_http else self._http
        try:
            response = fetch(
                first_hop, url, previous.validators_for(feed.url),
                max_bytes=feed.max_body_bytes or self.settings.max_body_bytes,
                deadline=self.settings.timeout, redirect_client=self._redirect_http,
            )
        except AskedToWait as exc:
            state.record_wait(writes, feed.key, str(exc), exc.status)
            log.info("%s: %s, asked to wait", feed.key, exc, extra={
                "feed": feed.key, "event": "asked_to_wait", "status": exc.status})
            return PollOutcome(feed.key, "asked to wait", error=str(exc), status=exc.status,
                               wait_until=exc.until)
        except FetchError as exc:
            return self._failed(writes, feed, str(exc), getattr(exc, "status", None))
        if response.not_modified:
            return self._succeeded(writes, feed, previous, response, "not modified", None)
        body_hash = hashlib.blake2b(response.content, digest_size=16).hexdigest()
        if body_hash == previous.body_hash and previous.url == feed.url:
            return self._succeeded(writes, feed, previous, response, "unchanged", body_hash)
        read()
        reading = _Reading.of(response.content, previous.known_items,
                              known_items.fingerprint(feed, self.settings))
        try:
            parsed, reading = reading.parse(response)
        except ParseError as exc:
            return self._failed(writes, feed, str(exc), response.status)
        return self._publish(writes, feed, response, reading, parsed, body_hash, renew_lease)

    def _publish(
        self, writes: redis.client.Pipeline, feed: FeedConfig, response: FetchResult,
        reading: _Reading, parsed: ParsedFeed, body_hash: str, renew_lease: Callable[[], object],
    ) -> PollOutcome:
        parsed, held_back = partial.complete_entries(
            reading.content, parsed, url=response.url, headers=response.headers)
        failures: list[Failure] = []
        numbered, problems = normalize_entries(parsed, feed, datetime.now(UTC), failures)
        stories = [story for _, story in numbered]
        deadletter.record(self._client, self.settings.stream, feed.key, parsed, failures)
        if held_back:
            problems.insert(0, f"the document ends inside an item: {held_back} held back until "
                               "a complete document brings it")
        if parsed.problem:
            problems.insert(0, f"malformed feed: {parsed.problem}")
        shared = dedupe.shared_urls([s.url for s in stories], canonical_url(parsed.link),
                                    elsewhere=reading.skipped_urls())
        fresh = self._fresh(feed, stories, shared)
        screened = neardup_index.screen(
            self._near_duplicates, fresh, self.settings.near_duplicates(feed))
        feed_digests = self._add_full_text(feed, screened.stories, problems, renew_lease)
        passed = _with_screened(stories, fresh, screened.stories)
        published = self._publisher.publish(
            passed, shared, updates=feed.updates, feed_digests=feed_digests)
        new = published.new
        screened.record(new, writes)
        problem = "; ".join(problems) or None
        entries = reading.items if reading.items is not None else len(parsed.entries)
        result = f"{len(new)} new of {entries}" + (
            f", {len(published.updated)} updated" if published.updated else "")
        # A document cut short is not remembered: the next poll must fetch it whole, or the
        # items held back could be pushed out of the feed before a 304 ever lets them in.
        state.record_success(
            writes, feed.key, url=feed.url, result=result, status=response.status,
            validators=state.Validators() if held_back else response.validators,
            body_hash=None if held_back else body_hash, new_stories=len(new), problem=problem,
            known_items=reading.known_after(
                len(parsed.entries), numbered, {story.id for story in passed}),
        )
        log.info("%s: %s entries, %s read, %s new%s", feed.key, entries, len(parsed.entries),
                 len(new), f" ({problem})" if problem else "", extra={
                     "feed": feed.key, "event": "read", "entries": entries,
                     "read": len(parsed.entries), "new": len(new),
                     "updated": len(published.updated), "problem": problem})
        return PollOutcome(feed.key, "new", entries=entries, read=len(parsed.entries), new=len(new),
                           updated=len(published.updated), near_duplicates=screened.found,
                           document_minimum=parsed.poll_minimum,
                           **_answer_facts(response))

    def _fresh(self, feed: FeedConfig, stories: list[Story], shared: set[str]) -> list[Story]:
        """The stories not published before (one read-only look), when near-duplicate screening
        or full text will work on them: both are costly, and only new stories deserve them."""
        needed = self.settings.near_duplicates(feed) != "off" or any(
            fulltext.wants_full_text(s, feed.full_text) for s in stories)
        return self._publisher.unseen(stories, shared) if needed else []

    def _add_full_text(
        self, feed: FeedConfig, fresh: list[Story], problems: list[str],
        renew_lease: Callable[[], object],
    ) -> dict[str, list[str]]:
        """Fill new stories whose feed gives too little text from their article page (see
        :mod:`worker.fulltext`); return the field digests of those stories as the feed gave
        them, and add failed extractions to ``problems``."""
        feed_digests: dict[str, list[str]] = {}
        for story in fresh:
            if not fulltext.wants_full_text(story, feed.full_text):
                continue
            feed_digests[story.id] = field_digests(story)
            renew_lease()
            fulltext.add_full_text(story, self._fetch_page, zone=ZoneInfo(feed.timezone),
                                   fetched_at=datetime.now(UTC))
            if story.extraction and story.extraction.status != "ok":
                problems.append(f"{story.url}: full text {story.extraction.status}: "
                                f"{story.extraction.reason}")
        return feed_digests

    def _fetch_page(self, url: str) -> tuple[bytes, str]:
        """An article page, fetched like a feed; the URL came from the feed, so through the
        client guarded against private networks when there is one, in its turn on its host."""
        turn: AbstractContextManager[None] = nullcontext()
        if self._turns is not None:
            turn = self._turns.request(host_of(url), self.settings.timeout)
        with turn:
            response = fetch(self._redirect_http or self._http, url,
                             max_bytes=self.settings.max_body_bytes,
                             deadline=self.settings.timeout, redirect_client=self._redirect_http)
        return response.content, response.url

    def _succeeded(
        self, writes: redis.client.Pipeline, feed: FeedConfig, previous: state.FeedState,
        response: FetchResult, result: str, body_hash: str | None,
    ) -> PollOutcome:
        state.record_success(
            writes, feed.key, url=feed.url, result=result, status=response.status,
            validators=response.validators, body_hash=body_hash, new_stories=0, problem=None,
            previous=previous,
        )
        log.debug("%s: %s", feed.key, result,  # most polls: a line each would drown the log
                  extra={"feed": feed.key, "event": result.replace(" ", "_")})
        return PollOutcome(feed.key, result, **_answer_facts(response))

    def _failed(
        self, writes: redis.client.Pipeline, feed: FeedConfig, error: str, status: int | None,
    ) -> PollOutcome:
        state.record_error(writes, feed.key, error, status)
        log.warning("%s: %s", feed.key, error,
                    extra={"feed": feed.key, "event": "error", "error": error, "status": status})
        return PollOutcome(feed.key, "error", error=error, status=status)


@dataclass(frozen=True)
class _Reading:
    """A changed document, to be read without the items already known (see
    :mod:`worker.parse.known_items`); it tells which story came from which item."""

    content: bytes
    """What is parsed: the document, less the items skipped."""
    whole: bytes
    digests: list[bytes]
    """Every item's digest, in document order; empty when the document could not be cut."""
    skipped: frozenset[int]
    known: dict[bytes, bytes]
    fingerprint: bytes

    @classmethod
    def of(cls, content: bytes, stored: bytes, fingerprint: bytes) -> _Reading:
        split = split_items(content)
        if split is None:
            return cls(content, content, [], frozenset(), {}, fingerprint)
        known = known_items.unpack(stored, fingerprint)
        digests = split.digests()
        skipped = frozenset(i for i, d in enumerate(digests) if d in known)
        return cls(split.without(set(skipped)) if skipped else content, content, digests,
                   skipped, known, fingerprint)

    @property
    def items(self) -> int | None:
        """How many items the document has, when it could be cut."""
        return len(self.digests) if self.digests else None

    def parse(self, response: FetchResult) -> tuple[ParsedFeed, _Reading]:
        """The document parsed without the skipped items, or whole if that part is refused;
        with the reading that was done."""
        try:
            return parse_feed(self.content, url=response.url, headers=response.headers), self
        except ParseError:
            if not self.skipped:
                raise
        whole = dataclasses.replace(self, content=self.whole, skipped=frozenset())
        return parse_feed(self.whole, url=response.url, headers=response.headers), whole

    def skipped_urls(self) -> set[bytes]:
        """The URL digests of the stories of the items skipped."""
        return {self.known[self.digests[i]] for i in self.skipped}

    def known_after(
        self, entries: int, numbered: list[tuple[int, Story]], passed: set[str],
    ) -> bytes:
        """What to remember as known after publishing: the items skipped, and those read whose
        story went to the publish step. ``numbered`` pairs stories with their entry index;
        when feedparser did not read one entry per item read, only the skipped are known."""
        if not self.digests:
            return b""
        read = [i for i in range(len(self.digests)) if i not in self.skipped]
        items = {self.digests[i]: self.known[self.digests[i]] for i in self.skipped}
        if entries == len(read):
            items.update((self.digests[read[entry]], dedupe.url_digest(story.url))
                         for entry, story in numbered if story.id in passed)
        return known_items.pack(self.fingerprint, items)


def _with_screened(
    stories: list[Story], fresh: list[Story], screened: list[Story],
) -> list[Story]:
    """``stories`` in feed order, the fresh ones as screening left them (annotated, or gone
    when dropped); stories seen before pass as they are, for update detection."""
    fresh_ids = {s.id for s in fresh}
    kept = {s.id: s for s in screened}
    return [kept.get(s.id, s) for s in stories if s.id not in fresh_ids or s.id in kept]


def _answer_facts(response: FetchResult) -> dict[str, Any]:
    """What scheduling needs to know of an answer: status, permanent move, publisher's minimum."""
    return {"status": response.status, "moved_to": response.moved_to,
            "publisher_minimum": header_minimum(response.headers, time.time())}
