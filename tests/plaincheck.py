"""The fast reader of plain RSS and Atom (worker/parse/plain/) must give the stories feedparser
gives: used by tests/parse/test_plain.py on the feeds copied into tests/ and on generated
documents, and by bench/plain_check.py on the whole shared corpus."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from worker.config import FeedConfig
from worker.normalize.entries import normalize_entries
from worker.parse import ParsedFeed, from_feedparser
from worker.parse.feedparser_adapter import run_feedparser
from worker.parse.plain import read_plain

CHANNEL_FIELDS = ("title", "link", "language", "version", "poll_minimum", "problem")


def plain_differences(
    content: bytes, url: str, fetched_at: datetime, headers: Mapping[str, str] | None = None,
) -> tuple[bool, list[str]]:
    """Whether the fast reader reads the document, and every difference between what it gives
    and what feedparser gives: channel facts, entry count, and each story."""
    fast = read_plain(content, url, headers)
    if fast is None:
        return False, []
    mine = from_feedparser(content, fast)
    theirs = from_feedparser(content, run_feedparser(content, url, headers))
    problems = [f"channel {name}: {getattr(mine, name)!r} fast, {getattr(theirs, name)!r} "
                f"feedparser" for name in CHANNEL_FIELDS
                if getattr(mine, name) != getattr(theirs, name)]
    if len(mine.entries) != len(theirs.entries):
        problems.append(f"{len(mine.entries)} entries fast, {len(theirs.entries)} feedparser")
    fast_stories, slow_stories = _stories(mine, fetched_at), _stories(theirs, fetched_at)
    for index in sorted(set(fast_stories) | set(slow_stories)):
        got, expected = fast_stories.get(index), slow_stories.get(index)
        if got != expected:
            problems.append(f"item {index}: {_diff(got, expected)}")
    return True, problems


def _stories(parsed: ParsedFeed, fetched_at: datetime) -> dict[int, dict[str, object]]:
    feed = FeedConfig(key="check", url="https://feeds.example/")
    numbered, _ = normalize_entries(parsed, feed, fetched_at)
    return {index: story.to_dict() for index, story in numbered}


def _diff(got: dict[str, object] | None, expected: dict[str, object] | None) -> str:
    if got is None or expected is None:
        return f"fast gives {got!r}, feedparser gives {expected!r}"
    return "; ".join(f"{k}: {got.get(k)!r} != {expected.get(k)!r}"
                     for k in sorted(set(got) | set(expected)) if got.get(k) != expected.get(k))
