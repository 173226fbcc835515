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
from pathlib import Path
from typing import Any

import yaml

from worker.exceptions import ConfigError

DEFAULT_PATH = Path("config/feeds.yaml")
CONFIG_ENV = "FEEDWATCH_CONFIG"
FEED_KEY = re.compile(r"^[a-z0-9_-]+$")

DEFAULT_INTERVAL = 300
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_USER_AGENT = "feedwatch/0.1 (+https://github.com/feedwatch/feedwatch)"


@dataclass(frozen=True)
class FeedConfig:
    """One feed as the user listed it."""

    key: str
    url: str
    source: str | None = None
    interval: int = DEFAULT_INTERVAL
    tags: tuple[str, ...] = ()
    enabled: bool = True


@dataclass(frozen=True)
class Settings:
    """The whole config file."""

    path: str
    feeds: tuple[FeedConfig, ...]
    redis_url: str | None = None
    stream: str = "feedwatch:stories"
    data_dir: str = "var"
    retention_max_length: int = 100_000
    tick: float = 5.0
    timeout: float = DEFAULT_TIMEOUT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    user_agent: str = DEFAULT_USER_AGENT
    default_interval: int = DEFAULT_INTERVAL
    feed_by_key: dict[str, FeedConfig] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.feed_by_key.update({f.key: f for f in self.feeds})

    @property
    def enabled_feeds(self) -> list[FeedConfig]:
        return [f for f in self.feeds if f.enabled]


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
        data = yaml.safe_load(text)
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
}
_DEFAULTS_KEYS = {"interval", "timeout", "max_body_bytes"}
_FEED_KEYS = {"key", "url", "source", "interval", "tags", "enabled"}


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
    checker.unknown("retention", retention, {"max_length"})
    top = "top level"
    return {
        "redis_url": checker.value(
            top, data, "redis_url", _redis_url, None, "a redis:// or rediss:// URL"),
        "stream": checker.value(top, data, "stream", _text, "feedwatch:stories", "a name"),
        "data_dir": checker.value(top, data, "data_dir", _text, "var", "a folder path"),
        "tick": checker.value(top, data, "tick", _positive_number, 5.0, "seconds > 0"),
        "user_agent": checker.value(
            top, data, "user_agent", _text, DEFAULT_USER_AGENT, "a User-Agent string"),
        "retention_max_length": checker.value(
            "retention", retention, "max_length", _positive_int, 100_000, "a whole number > 0"),
        "default_interval": checker.value(
            "defaults", defaults, "interval", _positive_int, DEFAULT_INTERVAL, "whole seconds > 0"),
        "timeout": checker.value(
            "defaults", defaults, "timeout", _positive_number, DEFAULT_TIMEOUT, "seconds > 0"),
        "max_body_bytes": checker.value(
            "defaults", defaults, "max_body_bytes", _positive_int, DEFAULT_MAX_BODY_BYTES,
            "a whole number of bytes > 0"),
    }


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
    )
    return feed if len(checker.problems) == before else None
