"""What a worker process keeps between tasks: settings, Redis and HTTP clients, the schedule.

The config file is re-read when it changes, so added, removed or edited feeds take effect at the
next tick without a restart. An edit that breaks the file is logged and the last good config
stays in force.
"""

from __future__ import annotations

import logging
import os
import time

import httpx

from worker.config import Settings, load_settings
from worker.connection import connect, redis_url
from worker.exceptions import ConfigError
from worker.fetch import new_client
from worker.poll import Poller, PollOutcome
from worker.schedule import Schedule

log = logging.getLogger("feedwatch.runtime")

RESYNC_SECONDS = 60.0
"""How often a tick re-checks the schedule against the config even when the file is unchanged,
so feeds come back after a Redis server lost its data."""


class Runtime:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self._mtime = _mtime(self.settings.path)
        self.client = connect(redis_url(self.settings))
        self.schedule = Schedule(self.client, lease_seconds=2 * self.settings.timeout + 30)
        self._http: httpx.Client | None = None
        self._poller: Poller | None = None
        self._synced_at = 0.0

    def tick(self, limit: int = 1000) -> list[str]:
        """Bring the schedule in line with the config if needed; claim the feeds now due."""
        if self._reload() or time.monotonic() - self._synced_at > RESYNC_SECONDS:
            self.schedule.sync(f.key for f in self.settings.enabled_feeds)
            self._synced_at = time.monotonic()
        return self.schedule.claim_due(limit)

    def poll(self, key: str) -> PollOutcome | None:
        """Poll one feed under its lease; None when it is gone from the config or leased."""
        self._reload()
        feed = self.settings.feed_by_key.get(key)
        if feed is None or not feed.enabled:
            log.info("%s: no longer in the config, not polled", key)
            return None
        token = self.schedule.acquire(key)
        if token is None:
            log.info("%s: another worker is polling it, skipped", key)
            return None
        try:
            return self.poller.poll(feed)
        finally:
            self.schedule.reschedule(key, time.time() + feed.interval)
            self.schedule.release(key, token)

    @property
    def poller(self) -> Poller:
        if self._poller is None:
            self._http = new_client(self.settings.user_agent, self.settings.timeout)
            self._poller = Poller(self.settings, self.client, self._http)
        return self._poller

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
        if self._http is not None:
            self._http.close()
        self._http, self._poller = None, None
        log.info("config reloaded: %d feeds", len(self.settings.feeds))
        return True


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0
