"""The config file: global settings and the list of feeds, validated on load.

A file with problems is refused whole, with one message per problem naming the feed and the
field, so that a worker never starts on a config it half understood. See ``config/feeds.yaml``
for the documented defaults.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from worker.exceptions import ConfigError
from worker.keys import DEFAULT_STREAM

NearDuplicates = Literal["annotate", "drop", "off"]
LogFormat = Literal["text", "json"]
"""``near_duplicates`` modes: mark copies of earlier stories, leave them out, or do not look."""

DEFAULT_PATH = Path("config/feeds.yaml")
CONFIG_ENV = "FEEDWATCH_CONFIG"
FEED_KEY = re.compile(r"^[a-z0-9_-]+$")

DEFAULT_INTERVAL = 300
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_USER_AGENT = "feedwatch/0.1 (+https://github.com/feedwatch/feedwatch)"
DEFAULT_MAX_INTERVAL = 3600
DEFAULT_HOST_MAX_CONCURRENT = 4
DEFAULT_HOST_MIN_SPACING = 0.2
DEFAULT_POLL_THREADS = 256
"""The most feeds one worker process polls at once; it polls as many as its origins need, 64
at least (see :mod:`worker.service.concurrency`). A poll mostly waits (for the origin, for its
host's turn), so with origins that answer slowly the limit rises towards this ceiling."""


@dataclass(frozen=True)
class FeedConfig:
    """One feed as the user listed it."""

    key: str
    url: str
    source: str | None = None
    interval: int = DEFAULT_INTERVAL
    tags: tuple[str, ...] = ()
    enabled: bool = True
    updates: bool = True
    """Publish a story again, as ``updated``, when its content changes (see
    :mod:`worker.publish.revision`)."""
    timezone: str = "UTC"
    """IANA zone name; dates in the feed that name no zone are taken in it."""
    full_text: str = "auto"
    """Fetch the article page for the body: "auto" (when the feed's is short), "always", "never"."""
    min_interval: int | None = None
    """Shortest interval adaptation may choose; None: ``defaults.min_interval``, else interval."""
    max_interval: int | None = None
    """Longest interval adaptation and backoff may reach; None: ``defaults.max_interval``."""
    max_body_bytes: int | None = None
    """Overrides ``defaults.max_body_bytes`` for this feed."""
    near_duplicates: NearDuplicates | None = None
    """What to do with near-duplicates of earlier stories; None: ``defaults.near_duplicates``."""


FULL_TEXT_MODES = ("auto", "always", "never")
NEAR_DUPLICATE_MODES: tuple[NearDuplicates, ...] = ("annotate", "drop", "off")
_LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
_NAME = rf"{_LABEL}(\.{_LABEL})*"
HOST_PATTERN = re.compile(rf"^({_NAME}(:[0-9]+)?|\*\.{_NAME})$")
"""A ``hosts:`` key: a host name (with a port, optionally), or ``*.`` and a domain (any port)."""


@dataclass(frozen=True)
class HostPolicy:
    """How hard feedwatch may press one host, across all its workers."""

    max_concurrent: int = DEFAULT_HOST_MAX_CONCURRENT
    """Requests in flight to the host at once."""
    min_spacing: float = DEFAULT_HOST_MIN_SPACING
    """Seconds between two request starts."""


@dataclass(frozen=True)
class Settings:
    """The whole config file."""

    path: str
    feeds: tuple[FeedConfig, ...]
    redis_url: str | None = None
    stream: str = DEFAULT_STREAM
    data_dir: str = "var"
    retention_max_length: int = 100_000
    retention_max_age_days: float = 30.0
    """Stream entries older than this are trimmed (approximately); 0: no age limit."""
    retention_seen_days: float = 90.0
    """How long a published story is remembered, so that it is not published again."""
    updates_max_revisions: int = 5
    updates_window_days: int = 7
    """How long after its last revision a story's content is compared for updates."""
    tick: float = 5.0
    timeout: float = DEFAULT_TIMEOUT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    user_agent: str = DEFAULT_USER_AGENT
    default_interval: int = DEFAULT_INTERVAL
    default_min_interval: int | None = None
    default_max_interval: int = DEFAULT_MAX_INTERVAL
    allow_private_networks: bool = False
    """Let redirects and article fetches reach loopback, link-local and private addresses."""
    host_max_concurrent: int = DEFAULT_HOST_MAX_CONCURRENT
    host_min_spacing: float = DEFAULT_HOST_MIN_SPACING
    hosts: tuple[tuple[str, HostPolicy], ...] = ()
    """The ``hosts:`` section: a pattern (a host, or ``*.`` and a domain) and its policy."""
    default_near_duplicates: NearDuplicates = "annotate"
    pin_processes: bool = True
    """Hold each worker pool process to one CPU core (see worker/service/affinity.py)."""
    poll_threads: int = DEFAULT_POLL_THREADS
    """The most feeds one worker process polls at once; read when the process starts."""
    log_format: LogFormat = "text"
    """How worker and beat write their log lines (see :mod:`worker.service.logs`)."""
    feed_by_key: dict[str, FeedConfig] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.feed_by_key.update({f.key: f for f in self.feeds})

    def near_duplicates(self, feed: FeedConfig) -> NearDuplicates:
        """The feed's ``near_duplicates`` mode, else the default's (see
        :mod:`worker.dedupe.neardup_index`)."""
        return feed.near_duplicates or self.default_near_duplicates

    def host_policy(self, host: str) -> HostPolicy:
        """The limits for ``host`` (as :func:`worker.schedule.hosts.host_of` gives it): its own
        entry in ``hosts:`` (with its port, else without), else the longest ``*.domain``
        pattern it is under, else ``per_host``."""
        exact = self._exact_hosts
        if host in exact:
            return exact[host]
        name = urlsplit(f"//{host}").hostname or host
        if name in exact:
            return exact[name]
        for suffix, policy in self._domain_hosts:
            if name.endswith(suffix):
                return policy
        return self._per_host

    @cached_property
    def _exact_hosts(self) -> dict[str, HostPolicy]:
        """The ``hosts:`` entries that name a host, read once: every poll asks for its host's
        limits."""
        return {p: policy for p, policy in self.hosts if not p.startswith("*.")}

    @cached_property
    def _domain_hosts(self) -> list[tuple[str, HostPolicy]]:
        """The ``*.domain`` entries as suffixes (".domain"), the longest first."""
        return sorted(((p[1:], policy) for p, policy in self.hosts if p.startswith("*.")),
                      key=lambda entry: -len(entry[0]))

    @cached_property
    def _per_host(self) -> HostPolicy:
        return HostPolicy(self.host_max_concurrent, self.host_min_spacing)

    @property
    def enabled_feeds(self) -> list[FeedConfig]:
        return [f for f in self.feeds if f.enabled]


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it: 100,000 feeds load in a third of the
time."""


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config file to use: the explicit one, else ``$FEEDWATCH_CONFIG``, else the default."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_PATH)


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate a config file; raise :class:`ConfigError` listing every problem."""
    target = config_path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(target), [f"cannot read the file: {exc.strerror or exc}"]) from exc
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise ConfigError(str(target), [f"not valid YAML: {exc}"]) from exc
    return parse_settings(data, str(target))


def parse_settings(data: Any, path: str = "<config>") -> Settings:
    """Validate already-loaded YAML data; raise :class:`ConfigError` listing every problem."""
    checker = _Checker()
    if not isinstance(data, dict):
        raise ConfigError(path, ["the file must be a mapping with a 'feeds' list"])
    settings = _read_globals(data, checker)
    defaults = settings["default_interval"]
    feeds = _read_feeds(data.get("feeds"), defaults, checker)
    if checker.problems:
        raise ConfigError(path, checker.problems)
    return Settings(path=path, feeds=tuple(feeds), **settings)


_GLOBAL_KEYS = {
    "redis_url", "stream", "data_dir", "retention", "tick", "user_agent", "defaults", "feeds",
    "contact", "allow_private_networks", "per_host", "updates", "pin_processes", "poll_threads",
    "hosts", "log_format",
}
_DEFAULTS_KEYS = {"interval", "timeout", "max_body_bytes", "min_interval", "max_interval",
                  "near_duplicates"}
_FEED_KEYS = {"key", "url", "source", "interval", "tags", "enabled", "timezone", "full_text",
              "min_interval", "max_interval", "max_body_bytes", "near_duplicates", "updates"}


class _Checker:
    """Collects problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def unknown(self, where: str, data: dict[str, Any], allowed: set[str]) -> None:
        for name in sorted(set(data) - allowed, key=str):
            self.problems.append(f"{where}: unknown field {name!r}")

    def value(
        self, where: str, data: dict[str, Any], name: str, check: Callable[[Any], Any],
        default: Any, expected: str,
    ) -> Any:
        if data.get(name) is None:
            return default
        raw = data[name]
        try:
            return check(raw)
        except (TypeError, ValueError):
            self.problems.append(f"{where}: {name}: must be {expected}, got {raw!r}")
            return default


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError
    return value


def _positive_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError
    return float(value)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError
    return value.strip()


def _http_url(value: Any) -> str:
    url = _text(value)
    if not re.match(r"^https?://[^/\s]+", url, re.IGNORECASE):
        raise ValueError
    if urlsplit(url).port == 0:  # .port raises ValueError itself for no number up to 65535
        raise ValueError
    return url


def _redis_url(value: Any) -> str:
    url = _text(value)
    if not re.match(r"^(rediss?|unix|valkeys?)://", url):
        raise ValueError
    return url


def _tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        raise ValueError
    return tuple(t.strip() for t in value)


def _time_zone(value: Any) -> str:
    name = _text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(name) from exc
    return name


def _full_text_mode(value: Any) -> str:
    if value not in FULL_TEXT_MODES:
        raise ValueError(value)
    return str(value)


def _log_format(value: Any) -> LogFormat:
    if value == "text":
        return "text"
    if value == "json":
        return "json"
    raise ValueError(value)


def _near_duplicates_mode(value: Any) -> NearDuplicates:
    for mode in NEAR_DUPLICATE_MODES:
        if value == mode:
            return mode
    raise ValueError(value)


def _non_negative_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError
    return float(value)


_CONTACT_PART = re.compile(r"\s*\(\+[^)]*\)")


def _user_agent(data: dict[str, Any], checker: _Checker) -> str:
    """``user_agent``, with the ``contact`` URL as its "(+URL)" part, where publishers look."""
    top = "top level"
    agent = checker.value(
        top, data, "user_agent", _text, DEFAULT_USER_AGENT, "a User-Agent string")
    contact = checker.value(top, data, "contact", _http_url, None, "an http:// or https:// URL")
    if contact is None:
        return str(agent)
    return f"{_CONTACT_PART.sub('', agent)} (+{contact})"


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def _read_globals(data: dict[str, Any], checker: _Checker) -> dict[str, Any]:
    checker.unknown("top level", data, _GLOBAL_KEYS)
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        checker.problems.append("defaults: must be a mapping")
        defaults = {}
    checker.unknown("defaults", defaults, _DEFAULTS_KEYS)
    retention = data.get("retention") or {}
    if not isinstance(retention, dict):
        checker.problems.append("retention: must be a mapping such as {max_length: 100000}")
        retention = {}
    checker.unknown("retention", retention, {"max_length", "max_age_days", "seen_days"})
    updates = data.get("updates") or {}
    if not isinstance(updates, dict):
        checker.problems.append("updates: must be a mapping such as {max_revisions: 5}")
        updates = {}
    checker.unknown("updates", updates, {"max_revisions", "window_days"})
    per_host = data.get("per_host") or {}
    if not isinstance(per_host, dict):
        checker.problems.append("per_host: must be a mapping such as {max_concurrent: 4}")
        per_host = {}
    checker.unknown("per_host", per_host, {"max_concurrent", "min_spacing"})
    top = "top level"
    found = {
        "redis_url": checker.value(
            top, data, "redis_url", _redis_url, None, "a redis:// or rediss:// URL"),
        "stream": checker.value(top, data, "stream", _text, DEFAULT_STREAM, "a name"),
        "data_dir": checker.value(top, data, "data_dir", _text, "var", "a folder path"),
        "tick": checker.value(top, data, "tick", _positive_number, 5.0, "seconds > 0"),
        "user_agent": _user_agent(data, checker),
        "allow_private_networks": checker.value(
            top, data, "allow_private_networks", _boolean, False, "true or false"),
        "pin_processes": checker.value(top, data, "pin_processes", _boolean, True, "true or false"),
        "poll_threads": checker.value(
            top, data, "poll_threads", _positive_int, DEFAULT_POLL_THREADS, "a whole number > 0"),
        "log_format": checker.value(top, data, "log_format", _log_format, "text", "text or json"),
        "host_max_concurrent": checker.value(
            "per_host", per_host, "max_concurrent", _positive_int, DEFAULT_HOST_MAX_CONCURRENT,
            "a whole number > 0"),
        "host_min_spacing": checker.value(
            "per_host", per_host, "min_spacing", _non_negative_number, DEFAULT_HOST_MIN_SPACING,
            "seconds >= 0"),
        "default_near_duplicates": checker.value(
            "defaults", defaults, "near_duplicates", _near_duplicates_mode, "annotate",
            "annotate, drop or off"),
        "default_min_interval": checker.value(
            "defaults", defaults, "min_interval", _positive_int, None, "whole seconds > 0"),
        "default_max_interval": checker.value(
            "defaults", defaults, "max_interval", _positive_int, DEFAULT_MAX_INTERVAL,
            "whole seconds > 0"),
        "retention_max_length": checker.value(
            "retention", retention, "max_length", _positive_int, 100_000, "a whole number > 0"),
        "retention_max_age_days": checker.value(
            "retention", retention, "max_age_days", _non_negative_number, 30.0,
            "days >= 0 (0: no age limit)"),
        "retention_seen_days": checker.value(
            "retention", retention, "seen_days", _positive_number, 90.0, "days > 0"),
        "updates_max_revisions": checker.value(
            "updates", updates, "max_revisions", _positive_int, 5, "a whole number > 0"),
        "updates_window_days": checker.value(
            "updates", updates, "window_days", _positive_int, 7, "whole days > 0"),
        "default_interval": checker.value(
            "defaults", defaults, "interval", _positive_int, DEFAULT_INTERVAL, "whole seconds > 0"),
        "timeout": checker.value(
            "defaults", defaults, "timeout", _positive_number, DEFAULT_TIMEOUT, "seconds > 0"),
        "max_body_bytes": checker.value(
            "defaults", defaults, "max_body_bytes", _positive_int, DEFAULT_MAX_BODY_BYTES,
            "a whole number of bytes > 0"),
    }
    base = HostPolicy(found["host_max_concurrent"], found["host_min_spacing"])
    return {**found, "hosts": _read_hosts(data.get("hosts"), base, checker)}


def _read_hosts(
    raw: Any, base: HostPolicy, checker: _Checker,
) -> tuple[tuple[str, HostPolicy], ...]:
    """The ``hosts:`` section; a field an entry leaves out comes from ``per_host`` (``base``)."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        checker.problems.append(
            'hosts: must be a mapping such as {"www.youtube.com": {max_concurrent: 8}}')
        return ()
    entries = []
    for pattern, limits in raw.items():
        where = f"hosts: {pattern!r}"
        name = str(pattern).strip().lower()
        if not HOST_PATTERN.match(name):
            checker.problems.append(f"{where}: must be a host name such as www.youtube.com "
                                    "(with :port if need be), or *. and a domain such as "
                                    "*.substack.com (no port)")
            continue
        if not isinstance(limits, dict):
            checker.problems.append(f"{where}: must be a mapping such as {{min_spacing: 1.0}}")
            continue
        checker.unknown(where, limits, {"max_concurrent", "min_spacing"})
        entries.append((name, HostPolicy(
            checker.value(where, limits, "max_concurrent", _positive_int,
                          base.max_concurrent, "a whole number > 0"),
            checker.value(where, limits, "min_spacing", _non_negative_number,
                          base.min_spacing, "seconds >= 0"))))
    return tuple(entries)


def _read_feeds(raw: Any, default_interval: int, checker: _Checker) -> list[FeedConfig]:
    if not isinstance(raw, list):
        checker.problems.append("feeds: must be a list of feeds (it is missing or not a list)")
        return []
    feeds: list[FeedConfig] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        feed = _read_feed(index, item, default_interval, checker)
        if feed is None:
            continue
        if feed.key in seen:
            checker.problems.append(
                f"feeds[{index}] ({feed.key}): key: {feed.key!r} is already used by "
                f"feeds[{seen[feed.key]}]")
            continue
        seen[feed.key] = index
        feeds.append(feed)
    return feeds


def _read_feed(
    index: int, item: Any, default_interval: int, checker: _Checker,
) -> FeedConfig | None:
    if not isinstance(item, dict):
        checker.problems.append(f"feeds[{index}]: must be a mapping with at least key and url")
        return None
    key = item.get("key")
    where = f"feeds[{index}] ({key})" if isinstance(key, str) else f"feeds[{index}]"
    before = len(checker.problems)
    checker.unknown(where, item, _FEED_KEYS)
    if not isinstance(key, str) or not FEED_KEY.match(key):
        checker.problems.append(f"{where}: key: required, letters a-z, digits, '_' or '-' only")
    if item.get("url") is None:
        checker.problems.append(f"{where}: url: required")
    url = checker.value(where, item, "url", _http_url, "", "an http:// or https:// URL")
    feed = FeedConfig(
        key=key if isinstance(key, str) else "",
        url=url,
        source=checker.value(where, item, "source", _text, None, "an outlet name"),
        interval=checker.value(
            where, item, "interval", _positive_int, default_interval, "whole seconds > 0"),
        tags=checker.value(where, item, "tags", _tags, (), "a list of words"),
        enabled=checker.value(where, item, "enabled", _boolean, True, "true or false"),
        updates=checker.value(where, item, "updates", _boolean, True, "true or false"),
        timezone=checker.value(
            where, item, "timezone", _time_zone, "UTC", "an IANA time zone such as Europe/Berlin"),
        full_text=checker.value(
            where, item, "full_text", _full_text_mode, "auto", "auto, always or never"),
        min_interval=checker.value(
            where, item, "min_interval", _positive_int, None, "whole seconds > 0"),
        max_interval=checker.value(
            where, item, "max_interval", _positive_int, None, "whole seconds > 0"),
        max_body_bytes=checker.value(
            where, item, "max_body_bytes", _positive_int, None, "a whole number of bytes > 0"),
        near_duplicates=checker.value(
            where, item, "near_duplicates", _near_duplicates_mode, None, "annotate, drop or off"),
    )
    if feed.min_interval and feed.max_interval and feed.min_interval > feed.max_interval:
        checker.problems.append(f"{where}: min_interval: must not be above max_interval "
                                f"({feed.min_interval} > {feed.max_interval})")
    return feed if len(checker.problems) == before else None
