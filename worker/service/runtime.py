"""What a worker process keeps between tasks: settings, Redis and HTTP clients, the schedule.

The config file is re-read when it changes, so added, removed or edited feeds take effect at the
next tick without a restart. An edit that breaks the file is logged and the last good config
stays in force.

The tick books each due feed a start time at its host's pace (:mod:`worker.schedule`). A poll
task hands a batch of booked feeds to a pool of threads sharing one HTTP client, each to start
at its booked time, and returns once they have their places, so a process goes on to the next
batch while the last feeds of this one are polled. Each feed is polled under its lease, in its
turn for its host (:mod:`worker.schedule.hosts`), and then rescheduled as its outcome says
(:mod:`worker.schedule.pacing`), its interval stretched when its host is overloaded.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING

import redis

from worker import state
from worker.config import FeedConfig, Settings, load_settings
from worker.exceptions import ConfigError
from worker.outcome import PollOutcome
from worker.schedule import Booking, Schedule, interval, pacing
from worker.schedule.hosts import HostLimits, Load, Turn, host_of, load
from worker.schedule.outbox import Outbox
from worker.service import heartbeat
from worker.service.concurrency import PollPool
from worker.service.connection import connect, redis_url
from worker.service.counters import PollCounters

if TYPE_CHECKING:
    from worker.fetch import HttpClient
    from worker.poll import Poller

log = logging.getLogger("feedwatch.runtime")

REDIS_GONE = (redis.ConnectionError, redis.TimeoutError)
"""What a Redis restart or outage raises: expected, so logged in one line, not as a crash."""

RESYNC_SECONDS = 60.0
"""How often a tick re-checks the schedule against the config even when the file is unchanged,
so feeds come back after a Redis server lost its data."""
TICK_LIMIT = 5000
"""Most feeds one tick claims: 1000 feeds/s at the default 5 s tick (100,000 feeds at a 5-minute
interval need 333/s)."""
BOOKING_MARGIN = 1.0
"""Seconds past the next tick the tick books starts for: a tick that runs a little late does
not leave a host idle."""


class Runtime:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self._mtime = _mtime(self.settings.path)
        self.client = connect(redis_url(self.settings), threads=self.settings.poll_threads)
        self.schedule = Schedule(self.client, lease_seconds=self._lease_seconds())
        self.bookkeeping = Outbox(self.client)
        """Each poll's bookkeeping, sent with the next host turn (:mod:`worker.schedule.outbox`)."""
        self.counters = PollCounters()
        self.hosts = self._host_limits()
        self._http: list[HttpClient] = []
        self._poller: Poller | None = None
        self._threads = PollPool(self.settings.poll_threads)  # a config reload keeps it
        self._synced_at = 0.0

    @property
    def patience(self) -> float:
        """Seconds past its booked start a feed waits for its host's turn (a slot in flight
        that has not ended, another worker's article fetch) before it goes back to the
        schedule, in its place, for the next tick."""
        return max(self.settings.tick, 1.0)

    def _lease_seconds(self) -> float:
        """How long a claim and a lease hold a feed: its patience for a turn, then two
        timeouts (the feed and one article) and a margin."""
        return 2 * self.settings.timeout + 30 + self.patience

    def tick(
        self, limit: int = TICK_LIMIT, queue: str | None = None, feeds_per_task: int = 1,
    ) -> list[Booking]:
        """Bring the schedule in line with the config if needed; book and claim the feeds now
        due, each host's at its pace, with starts until a little past the next tick.

        With ``queue``, the broker's list of tasks waiting for a worker, the feeds waiting
        there (``feeds_per_task`` each) count against ``limit``: when the workers fall behind
        (a first start with many feeds, slow origins) the backlog stays at one tick's worth
        instead of growing until claims run out and the same feeds are claimed again.

        With Redis unreachable the tick claims nothing and says so in one line: the next tick
        after Redis is back finds the same feeds due."""
        try:
            if self._reload() or time.monotonic() - self._synced_at > RESYNC_SECONDS:
                self._sync()
                self._synced_at = time.monotonic()
            if queue is not None:
                limit -= int(self.client.llen(queue)) * feeds_per_task
            if limit <= 0:
                return []
            return self.schedule.claim(limit, self.settings.tick + BOOKING_MARGIN,
                                       self.settings.host_policy)
        except REDIS_GONE as exc:
            log.warning("tick skipped, Redis is unreachable (%s)", exc)
            return []

    def poll_batch(
        self, items: Iterable[Booking | str | Sequence[str | float]],
    ) -> list[PollOutcome | None]:
        """Poll a batch of feeds (keys, or bookings as a tick sends them) and wait for them;
        None for a feed not polled (gone from the config, leased by another worker, its host
        gave no turn, or failed: see :meth:`_poll_guarded`)."""
        now = time.time()
        wanted = [Booking.from_task(item, now) for item in items]
        started = self.start_batch(wanted)
        outcomes = [started[b.key].result() if b.key in started else None for b in wanted]
        self.bookkeeping.flush()  # the caller reads what the polls wrote
        return outcomes

    def start_batch(
        self, items: Iterable[Booking | str | Sequence[str | float]],
    ) -> dict[str, Future[PollOutcome | None]]:
        """Hand a batch of booked feeds to this process's poll threads, each to start at its
        booked time, and return as soon as each has its place, with their futures by key: a
        worker does not wait for a batch's slowest feed before it takes the next batch, and
        keeps up to twice as many feeds in hand as it polls at once
        (:class:`~worker.service.concurrency.PollPool`). A feed whose worker dies before its poll
        ended is polled again when its claim in the schedule runs out.

        The remembered states of the whole batch are read in one round trip to Redis; each
        feed then takes one to get its lease and its host's turn, carrying the bookkeeping of
        the polls before it (:mod:`worker.schedule.outbox`), and a changed feed one more to free the
        host's slot once its document is read."""
        self._reload()
        poller = self.poller
        now = time.time()
        bookings = {b.key: b for b in (Booking.from_task(item, now) for item in items)}
        try:
            loaded = self._load(list(bookings))
        except REDIS_GONE as exc:
            log.warning("poll of a batch abandoned (feeds: %d), Redis is unreachable (%s); "
                        "they are polled again when Redis is back", len(bookings), exc)
            return {}
        started = {}
        for feed, before in loaded:
            booking = bookings[feed.key]
            started[feed.key] = self._threads.submit(
                self._poll_guarded, feed, before, poller, booking, at=booking.start)
        return started

    def note_alive(self) -> None:
        """Note in Redis that this host's worker is taking tasks (``feedwatch health worker``),
        with the next round trip the process makes."""
        writes = self.bookkeeping.pipeline()
        heartbeat.note(writes, "worker")
        self.bookkeeping.put(writes)

    def drain(self) -> None:
        """Wait until every feed handed to this process's threads has been polled and its
        bookkeeping is in Redis."""
        self._threads.drain()
        writes = self.bookkeeping.pipeline()
        self.counters.flush_into(writes)
        self.bookkeeping.put(writes)
        self.bookkeeping.flush()

    def poll(self, key: str) -> PollOutcome | None:
        """Poll one feed under its lease; None when it is gone from the config or leased."""
        self._reload()
        loaded = self._load([key])
        if not loaded:
            return None
        now = time.time()
        outcome = self._poll_leased(*loaded[0], self.poller, Booking(key, "", now, now))
        self.bookkeeping.flush()
        return outcome

    def _load(self, keys: list[str]) -> list[tuple[FeedConfig, state.FeedState]]:
        """The feeds of ``keys`` still in the config, each with its remembered state."""
        feeds = []
        for key in keys:
            feed = self.settings.feed_by_key.get(key)
            if feed is None or not feed.enabled:
                log.info("%s: no longer in the config, not polled", key,
                         extra={"feed": key, "event": "not_in_config"})
            else:
                feeds.append(feed)
        states = state.load_many(self.client, [f.key for f in feeds])
        return list(zip(feeds, states, strict=True))

    def _poll_guarded(
        self, feed: FeedConfig, before: state.FeedState, poller: Poller, booking: Booking,
    ) -> PollOutcome | None:
        """One feed of a batch: whatever goes wrong with it (Redis gone away, a bug) is logged,
        and the other feeds of the batch are polled; its lease running out brings it back."""
        try:
            return self._poll_leased(feed, before, poller, booking)
        except REDIS_GONE as exc:
            log.warning("%s: poll abandoned, Redis is unreachable (%s); the feed is polled "
                        "again when Redis is back and its lease has run out", feed.key, exc,
                        extra={"feed": feed.key, "event": "redis_unreachable"})
            return None
        except Exception:
            log.exception("%s: poll failed", feed.key,
                          extra={"feed": feed.key, "event": "poll_failed"})
            return None

    def _poll_leased(
        self, feed: FeedConfig, before: state.FeedState, poller: Poller, booking: Booking,
    ) -> PollOutcome | None:
        """Poll when the feed's lease is free and its host gives a turn; its bookkeeping
        (state, pacing, next due time, the host's slot and the lease given back) goes to Redis
        after the poll, with the next host turn this process asks for. The host's slot is
        freed as soon as a changed document is read, before it is parsed and published. A
        poll that raises (a bug) is recorded as the feed's error, so that ``feedwatch status
        --broken`` shows it, and the feed is polled again at its interval."""
        claimed = self.schedule.claim_of(booking)
        if claimed is not None and time.time() > claimed:
            log.warning("%s: its booked start passed a lease ago, not polled: the tick books it "
                        "again (workers are falling behind)", feed.key,
                        extra={"feed": feed.key, "event": "start_missed"})
            return None
        lease = self.schedule.lease(feed.key, watch=state.poll_marker(feed.key))
        host = host_of(before.fetch_url(feed.url))
        turn = self.hosts.take(host, booking.start + self.patience, lease)
        if not turn.granted:
            self._turn_refused(feed, host, turn, booking)
            return None
        if turn.watched != before.poll_id:  # another worker polled it since the batch was read
            before = state.load(self.client, feed.key)
        next_due: float | None = time.time() + feed.interval
        writes = self.bookkeeping.pipeline()
        held = [turn]
        outcome: PollOutcome | None = None

        def read() -> None:  # the document is in: the host's slot is free for the next feed
            self.hosts.done(host, held.pop())

        try:
            try:
                outcome = poller.poll(feed, before, writes, lambda: self.schedule.renew(lease),
                                      read=read)
            except Exception as exc:
                if not isinstance(exc, REDIS_GONE):  # a bug: shown in status, not only logged
                    state.record_error(writes, feed.key, f"internal error (please report it): "
                                                         f"{type(exc).__name__}: {exc}")
                raise
            finally:
                if held:
                    self.hosts.done(host, held.pop(), writes)
            if outcome.wait_until is not None:
                self.hosts.pause(host, outcome.wait_until, outcome.error or "asked to wait")
            next_due, learned = self._pace(feed, before, outcome, turn, writes)
            if learned is not None:
                host = host_of(learned)
            return outcome
        finally:
            state.mark_polled(writes, feed.key, lease.token)
            self.schedule.finish(feed.key, next_due, host, (feed.key, lease.token), writes)
            self._count(outcome, time.time() - turn.at, writes)
            self.bookkeeping.put(writes)

    def _count(self, outcome: PollOutcome | None, seconds: float,
               writes: redis.client.Pipeline) -> None:
        """Count a poll for /metrics (None: it raised), and add this process's counts to
        Redis with its bookkeeping now and then (:mod:`worker.service.counters`)."""
        if outcome is None:
            self.counters.add_poll("error", seconds)
        else:
            self.counters.add_poll(outcome.result, seconds, outcome.new, outcome.updated,
                                   outcome.near_duplicates)
        if self.counters.flush_due():
            self.counters.flush_into(writes)

    def _turn_refused(self, feed: FeedConfig, host: str, turn: Turn, booking: Booking) -> None:
        """A feed that got no turn: another worker polls it (nothing to do), its host is paused
        (back when the pause ends), or its host stayed busy past the patience (back in its
        place, due when it was, for the next tick)."""
        if turn.reason == "leased":
            log.info("%s: another worker is polling it, skipped", feed.key,
                     extra={"feed": feed.key, "event": "leased"})
            return
        log.debug("%s: host %s %s, polled later", feed.key, host, turn.reason,
                  extra={"feed": feed.key, "event": "no_turn", "host": host,
                         "reason": turn.reason})
        due = turn.at + random.uniform(0, 1) if turn.reason == "paused" else booking.due
        self.schedule.reschedule(feed.key, due, host, claimed=self.schedule.claim_of(booking))

    def _pace(
        self, feed: FeedConfig, before: state.FeedState, outcome: PollOutcome, turn: Turn,
        writes: redis.client.Pipeline,
    ) -> tuple[float | None, str | None]:
        """Save what the poll means for the feed's pacing (into ``writes``) and return its
        next due time, its delay stretched by its host's overload (the state keeps the interval
        the feed itself asks for; None when the feed is retired), and the address it learned
        it moved to, if it did."""
        decision = pacing.decide(feed, self.settings, before, outcome, time.time())
        state.save_pacing(writes, feed.key, decision.fields, before)
        if decision.learned:
            log.warning("%s: %s has moved permanently to %s; polling it there, please update "
                        "the config", feed.key, feed.url, decision.learned,
                        extra={"feed": feed.key, "event": "moved", "moved_to": decision.learned})
        if decision.plan is None:
            log.warning("%s: retired, no longer polled: %s (a new url in the config revives it)",
                        feed.key, decision.retired,
                        extra={"feed": feed.key, "event": "retired", "reason": decision.retired})
            self.schedule.retire(feed.key, feed.url)
            return None, None
        plan = decision.plan
        if turn.stretch > 1.0:
            plan = dataclasses.replace(plan, delay=plan.delay * turn.stretch)
        return interval.next_poll(plan, feed.key, turn.at, time.time()), decision.learned

    def _sync(self) -> None:
        """The schedule holds the enabled feeds, less those retired at their current URL; those
        whose URL or interval settings changed are due now."""
        retired = self.schedule.retired()
        feeds = self.settings.enabled_feeds
        self.schedule.revive(f.key for f in feeds if retired.get(f.key, f.url) != f.url)
        scheduled = [f for f in feeds if retired.get(f.key) != f.url]
        synced = self.schedule.sync({
            f.key: (pacing.schedule_plan(f, self.settings), host_of(f.url)) for f in scheduled})
        changed = synced.changed
        if changed:
            log.info("%d feed(s) changed in the config, due now: %s", len(changed),
                     ", ".join(changed[:10]) + (", ..." if len(changed) > 10 else ""))
        self._survey_hosts(scheduled, synced.hosts)

    def _survey_hosts(self, feeds: list[FeedConfig], placed: dict[str, str]) -> None:
        """Find the hosts whose feeds need more requests than their limits allow, and record
        by how much each must stretch its feeds' intervals; log each change once.

        A host whose feeds could not overload it even at their shortest intervals is cleared
        without reading a state; for the others, the interval each feed is at now counts."""
        by_host: dict[str, list[FeedConfig]] = defaultdict(list)
        for feed in feeds:
            by_host[placed.get(feed.key, host_of(feed.url))].append(feed)
        readings = self.hosts.readings(list(by_host))
        loads: dict[str, Load] = {}
        for host, members in by_host.items():
            policy, (latency, stretch) = self.settings.host_policy(host), readings[host]
            shortest = [pacing.bounds(f, self.settings).min_interval for f in members]
            bound = load(shortest, policy, latency)
            if bound.stretch > 1.0:
                states = state.load_many(self.client, [f.key for f in members])
                loads[host] = load([s.interval or f.interval for f, s in
                                    zip(members, states, strict=True)], policy, latency)
            elif stretch > 1.0:
                loads[host] = bound
        for line in self.hosts.survey(loads, {h: readings[h][1] for h in loads}):
            log.warning("%s", line)

    @property
    def poller(self) -> Poller:
        if self._poller is None:
            from worker.fetch import new_client  # the poll path: see preload_poll_path
            from worker.poll import Poller

            settings = self.settings
            # As many connections to a host as it may have feed requests at once, and eight
            # more for the article pages and redirect targets its cap does not count.
            per_host = settings.host_max_concurrent + 8
            http = new_client(settings.user_agent, settings.timeout, per_host=per_host)
            guarded = None
            if not settings.allow_private_networks:
                guarded = new_client(settings.user_agent, settings.timeout, guard=True,
                                     per_host=per_host)
            self._http = [c for c in (http, guarded) if c is not None]
            self._poller = Poller(settings, self.client, http, redirect_http=guarded,
                                  turns=self.hosts)
        return self._poller

    def _host_limits(self) -> HostLimits:
        return HostLimits(self.client, self.settings.host_policy, writes=self.bookkeeping,
                          request_seconds=self.settings.timeout + 10)

    def _reload(self) -> bool:
        mtime = _mtime(self.settings.path)
        if mtime == self._mtime:
            return False
        self._mtime = mtime
        try:
            self.settings = load_settings(self.settings.path)
        except ConfigError as exc:
            log.error("config changed but is not valid, keeping the previous one:\n%s", exc)
            return False
        if self.settings.poll_threads != self._threads.ceiling:
            log.warning("poll_threads changed in the config: it takes effect when the worker "
                        "restarts (still %d)", self._threads.ceiling)
        self.drain()  # the polls in flight use the HTTP clients about to be closed
        for http in self._http:
            http.close()
        self._http, self._poller = [], None
        self.hosts = self._host_limits()
        self.schedule.lease_seconds = self._lease_seconds()
        log.info("config reloaded: %d feeds", len(self.settings.feeds))
        return True


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def preload_poll_path() -> None:
    """Import what polling needs (parsers, the normalizer, full-text extraction, near-duplicate
    signatures). A worker calls it before its pool forks, so its pool processes share those
    pages; a beat, which only ticks, never loads them."""
    import worker.poll  # noqa: F401
