"""Reading a feed document cut down to some of its items must give the same stories as reading
it whole: used by tests/parse/test_split.py on the feeds copied into tests/, and by
bench/split_check.py on the whole shared corpus."""

from __future__ import annotations

from datetime import datetime

from worker.config import FeedConfig
from worker.exceptions import ParseError
from worker.normalize.entries import normalize_entries
from worker.parse import ParsedFeed, parse_feed
from worker.parse.split import split_items

CHANNEL_FIELDS = ("title", "link", "language", "version", "poll_minimum")


def split_differences(content: bytes, url: str, fetched_at: datetime) -> tuple[bool, list[str]]:
    """Whether the document is cut into items, and every difference between the stories of
    the whole document and those of each item read alone with the channel (and between the
    channel read whole and read with no item)."""
    split = split_items(content)
    if split is None:
        return False, []
    feed = FeedConfig(key="check", url=url)
    whole = parse_feed(content, url=url)
    count = len(split.spans)
    if len(whole.entries) != count:
        return True, [f"{count} items cut, but feedparser reads {len(whole.entries)} entries"]
    stories = dict(normalize_entries(whole, feed, fetched_at)[0])
    problems = _channel_differences(whole, split.without(set(range(count))), url)
    for index in range(count):
        alone = parse_feed(split.without(set(range(count)) - {index}), url=url)
        got = dict(normalize_entries(alone, feed, fetched_at)[0]).get(0)
        expected = stories.get(index)
        if (got and got.to_dict()) != (expected and expected.to_dict()):
            problems.append(f"item {index}: read alone {_diff(got, expected)}")
    return True, problems


def _channel_differences(whole: ParsedFeed, skeleton: bytes, url: str) -> list[str]:
    try:
        alone = parse_feed(skeleton, url=url)
    except ParseError as exc:
        return [f"the channel without items is refused: {exc}"]
    return [f"channel {name}: {getattr(alone, name)!r} without items, "
            f"{getattr(whole, name)!r} whole"
            for name in CHANNEL_FIELDS if getattr(alone, name) != getattr(whole, name)]


def _diff(got: object, expected: object) -> str:
    if got is None or expected is None:
        return f"gives {got!r}, whole gives {expected!r}"
    mine, theirs = got.to_dict(), expected.to_dict()  # type: ignore[attr-defined]
    return "; ".join(f"{k}: {mine.get(k)!r} != {theirs.get(k)!r}"
                     for k in sorted(set(mine) | set(theirs)) if mine.get(k) != theirs.get(k))
