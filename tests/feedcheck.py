"""What every story of every feed must satisfy: used by tests/parse/test_feed_files.py on the feeds
copied into tests/, and by bench/corpus_check.py on the whole shared corpus."""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path

from worker.config import FeedConfig
from worker.exceptions import ParseError
from worker.normalize.entries import normalize_all
from worker.parse import parse_feed
from worker.story import Story

# Tags of the HTML that carries feed text. Other tag-like text (<Account>, <description>,
# <meta> in a post about Go modules) is what authors wrote inside <code>: text, not markup.
TAG = re.compile(
    r"</?(?:a|b|br|div|em|font|h[1-6]|i|iframe|img|li|p|script|span|strong|style|table|td|tr"
    r"|ul)(?:\s[^<>]*)?/?>", re.IGNORECASE)
# UTF-8 read as Latin-1 or windows-1252: "Ã©" for "é", "â€™" for "’". (U+FFFD is not
# counted: feeds that carry it carry it in the file, where the lost bytes cannot be recovered.)
MOJIBAKE = re.compile("[ÃÂ][\u0080-\u00bf]|â€")


def leak(text: str) -> str | None:
    """Markup, an undecoded entity or mojibake left in ``text``; None when it is clean."""
    found = TAG.search(text) or MOJIBAKE.search(text)
    if found:
        return found.group(0)
    return "an entity" if html.unescape(text) != text else None


def story_problems(story: Story) -> list[str]:
    """Markup or mojibake left in a text field, or a story with neither title nor body."""
    texts = {"title": story.title, "summary": story.summary, "dateline": story.dateline}
    texts.update({f"body[{i}]": p for i, p in enumerate(story.body)})
    texts.update({f"highlights[{i}]": h for i, h in enumerate(story.highlights)})
    texts.update({f"authors[{i}]": a for i, a in enumerate(story.authors)})
    texts.update({f"media[{i}].caption": m.caption for i, m in enumerate(story.media)})
    problems = []
    for name, text in texts.items():
        found = leak(text) if text else None
        if found:
            problems.append(f"{name}: {found!r} left in {text[:80]!r}")
    if not story.title and not story.body:
        problems.append("neither title nor body")
    return problems


def check_feed(path: Path, fetched_at: datetime) -> tuple[list[Story], list[str]]:
    """The stories of a feed file and its problems: "refused: <why>" when it gives none,
    entries that could not be normalized, and :func:`story_problems` of each story."""
    url = f"https://feeds.example/{path.name}"
    try:
        parsed = parse_feed(path.read_bytes(), url=url)
    except ParseError as exc:
        return [], [f"refused: {exc}"]
    stories, problems = normalize_all(parsed, FeedConfig(key="check", url=url), fetched_at)
    for story in stories:
        problems += [f"{story.guid or story.url}: {p}" for p in story_problems(story)]
    return stories, problems


def is_skipped_entry(problem: str) -> bool:
    """An item with no title, body or link, which the poll skips and reports."""
    return problem.endswith("empty entry (no title, body or link) skipped")
