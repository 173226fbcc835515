"""The shared corpus of real feed files (``../shared/corpus/feeds``), for the checks that run
over all of it: ``corpus_check.py``, ``split_check.py``, ``plain_check.py``."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from worker.exceptions import ParseError

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the checks live there


def feed_files() -> tuple[Path, list[Path]]:
    """The corpus folder (the first argument, else the default) and its feed files."""
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS
    return corpus, sorted(p for p in corpus.rglob("*")
                          if p.is_file() and p.suffix not in (".md", ".tsv"))


def difference_check(
    check: Callable[[bytes, str, datetime], tuple[bool, list[str]]], taken: str,
) -> int:
    """Run ``check`` (content, URL, fetch time -> whether the file was taken by the path under
    test, and its differences from the reference) on every file; print one line per
    difference and a summary; return the exit status: 1 when there is any difference."""
    corpus, files = feed_files()
    fetched_at = datetime.now(UTC)
    totals: Counter[str] = Counter()
    for path in files:
        try:
            took, problems = check(path.read_bytes(), f"https://feeds.example/{path.name}",
                                   fetched_at)
        except ParseError:
            took, problems = False, []
        totals["files"] += 1
        totals[taken] += took
        totals["with differences"] += bool(problems)
        for problem in problems:
            print(f"{path.relative_to(corpus)}: {problem}")
    print(", ".join(f"{name}: {count}" for name, count in totals.items()))
    return 1 if totals["with differences"] else 0
