"""The golden set: real feeds from the corpus and the stories they must give, field by field.

tests/golden/feeds holds the feeds (trimmed to their first items), tests/golden/expected the
first two stories of each, one JSON list per feed: every value in them was read against the
source feed (see tests/golden/README.md for how, and for what they deliberately say). The
stories after those are held to the checks every corpus story must pass (tests/feedcheck.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from feedcheck import story_problems

from worker.config import FeedConfig
from worker.normalize.entries import normalize_all
from worker.parse import parse_feed
from worker.story import Story

GOLDEN = Path(__file__).parent.parent / "golden"
FETCHED_AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
NAMES = sorted(p.name for p in (GOLDEN / "feeds").iterdir())


def stories_of(name: str) -> list[Story]:
    """The stories of a golden feed, as a poll at FETCHED_AT would publish them."""
    url = f"https://golden.example/{name}"
    parsed = parse_feed((GOLDEN / "feeds" / name).read_bytes(), url=url)
    stories, _ = normalize_all(parsed, FeedConfig(key="golden", url=url), FETCHED_AT)
    return stories


def expected_of(name: str) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(
        (GOLDEN / "expected" / f"{name}.json").read_text("utf-8"))
    return loaded


def test_the_golden_set_is_large_and_every_feed_has_its_expected_stories() -> None:
    assert len(NAMES) >= 40
    expected = sorted(p.name.removesuffix(".json") for p in (GOLDEN / "expected").iterdir())
    assert expected == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_golden_feed_gives_the_expected_stories(name: str) -> None:
    expected = expected_of(name)
    actual = [s.to_dict() for s in stories_of(name)]
    assert len(actual) >= len(expected), "number of stories"
    mismatches = [
        f"story {index} ({want.get('guid') or want.get('url')}): {field}:"
        f" expected {want[field]!r}, got {got.get(field)!r}"
        for index, (want, got) in enumerate(zip(expected, actual[:len(expected)], strict=True))
        for field in want
        if got.get(field) != want[field]
    ]
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("name", NAMES)
def test_every_golden_story_passes_the_corpus_checks(name: str) -> None:
    problems = [problem for story in stories_of(name) for problem in story_problems(story)]
    assert not problems, problems
