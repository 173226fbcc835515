"""Every entry of a parsed feed normalized into a story; the ones that fail kept as failures.

One entry that raises, or has nothing to publish (no title, body or link), costs only itself:
it becomes a :class:`Failure` (for the dead-letter stream) and a problem line, and the others
go on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from worker.config import FeedConfig
from worker.normalize import normalize_entry
from worker.parse import ParsedFeed
from worker.story import Story

log = logging.getLogger("feedwatch.poll")


@dataclass(frozen=True)
class Failure:
    """One entry of a polled document that did not become a story."""

    where: str
    """The entry's guid or link, else its position ("entry 3")."""
    error: str
    entry: Any
    """The feedparser entry."""


def normalize_all(
    parsed: ParsedFeed, feed: FeedConfig, fetched_at: datetime,
    failures: list[Failure] | None = None,
) -> tuple[list[Story], list[str]]:
    """Normalize every entry (see :func:`normalize_entries`); return the stories and problems."""
    numbered, problems = normalize_entries(parsed, feed, fetched_at, failures)
    return [story for _, story in numbered], problems


def normalize_entries(
    parsed: ParsedFeed, feed: FeedConfig, fetched_at: datetime,
    failures: list[Failure] | None = None,
) -> tuple[list[tuple[int, Story]], list[str]]:
    """Normalize every entry; an entry that fails is reported (and added to ``failures``,
    for the dead-letter stream), and the others go on. Each story comes with the index of
    its entry."""
    stories: list[tuple[int, Story]] = []
    problems: list[str] = []
    for index, entry in enumerate(parsed.entries):
        where = entry.get("id") or entry.get("link") or f"entry {index}"
        try:
            story = normalize_entry(
                entry, parsed, feed_key=feed.key, source=feed.source, tags=feed.tags,
                fetched_at=fetched_at, timezone=ZoneInfo(feed.timezone),
            )
        except Exception as exc:  # one bad entry must not cost the others
            problems.append(f"{where}: {type(exc).__name__}: {exc}")
            log.exception("%s: cannot normalize %s", feed.key, where,
                          extra={"feed": feed.key, "event": "normalize_failed", "entry": where})
            if failures is not None:
                failures.append(Failure(where, f"{type(exc).__name__}: {exc}", entry))
            continue
        if story.title or story.body or story.url:
            stories.append((index, story))
        else:
            problems.append(f"{where}: empty entry (no title, body or link) skipped")
            if failures is not None:
                failures.append(Failure(where, "empty entry (no title, body or link)", entry))
    return stories, problems

