"""Every feed file kept in tests/ normalizes cleanly; every malformed one fails clearly.

The same check runs over the whole shared corpus with ``bench/corpus_check.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from feedcheck import check_feed, is_skipped_entry

TESTS = Path(__file__).parent.parent
FEED_DIRS = (TESTS / "feeds", TESTS / "golden" / "feeds")
WELL_FORMED = sorted(
    p for d in FEED_DIRS for p in d.iterdir() if p.is_file() and p.suffix != ".md")
MALFORMED = sorted((TESTS / "feeds" / "malformed").iterdir())
FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("path", WELL_FORMED, ids=[p.name for p in WELL_FORMED])
def test_feed_normalizes_with_clean_text_and_a_title_or_body(path: Path) -> None:
    stories, problems = check_feed(path, FETCHED_AT)
    assert stories
    assert [p for p in problems if not is_skipped_entry(p)] == []


@pytest.mark.parametrize("path", MALFORMED, ids=[p.name for p in MALFORMED])
def test_malformed_feed_gives_stories_or_a_clear_error(path: Path) -> None:
    stories, problems = check_feed(path, FETCHED_AT)
    if not stories:
        assert problems and problems[0].startswith(("refused: not a feed", "refused: broken"))


def test_the_checker_sees_markup_mojibake_and_empty_stories() -> None:
    from feedcheck import story_problems

    from worker.story import Story

    bad = Story(id="x", title="Caf\u00c3\u00a9", body=["<p>left</p>", "a &amp; b"])
    assert len(story_problems(bad)) == 3
    assert story_problems(Story(id="y")) == ["neither title nor body"]
