"""The README stays short, and the links between it and docs/ lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
MAX_README_BYTES = 12 * 1024
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"`[^`\n]*`")


def prose(text: str) -> str:
    """The text outside fenced code blocks (a `# comment` in a code block is no heading)."""
    kept, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(line)
    return "\n".join(kept)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose(page.read_text(encoding="utf-8")).splitlines():
        match = HEADING.match(line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[str]:
    text = INLINE_CODE.sub("", prose(page.read_text(encoding="utf-8")))
    return LINK.findall(text)


def relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)


def test_the_helpers_read_headings_and_links_as_github_does(tmp_path: Path) -> None:
    assert slug("Consumer groups: recovering, replaying") == "consumer-groups-recovering-replaying"
    assert slug("Per-host limits: `per_host` and `hosts`") == "per-host-limits-per_host-and-hosts"
    assert slug("feedwatch status") == "feedwatch-status"
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n```python\n# not a heading\n```\n\n## Title\n\n"
                    "[a](b.md#c) `[d](e.md)` [f](https://x.example) [g](#title-1)\n")
    assert anchors(page) == {"title", "title-1"}
    assert links(page) == ["b.md#c", "https://x.example", "#title-1"]


def test_the_readme_is_at_most_12_kib() -> None:
    size = README.stat().st_size
    assert size <= MAX_README_BYTES, f"README.md is {size} bytes; move detail to docs/"


def test_the_docs_pages_exist_and_the_readme_links_to_their_index() -> None:
    assert (ROOT / "docs" / "README.md").is_file()
    assert "docs/README.md" in links(README)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_points_to_a_file_that_exists(page: Path) -> None:
    missing = []
    for target in links(page):
        if not relative(target):
            continue
        path = target.split("#", 1)[0]
        if path and not (page.parent / path).exists():
            missing.append(target)
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_anchor_link_to_a_markdown_page_names_one_of_its_headings(page: Path) -> None:
    broken = []
    for target in links(page):
        if not relative(target) or "#" not in target:
            continue
        path, anchor = target.split("#", 1)
        linked = (page.parent / path).resolve() if path else page
        if linked.suffix != ".md" or not linked.is_relative_to(ROOT):
            continue
        if anchor not in anchors(linked):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} has anchors no heading gives: {broken}"
