"""Check over the whole shared corpus that the fast reader of plain RSS and Atom
(``worker/parse/plain/``) gives the stories feedparser gives, wherever it reads a file.

Usage: ``.venv/bin/python bench/plain_check.py [CORPUS_DIR]`` (default
``../shared/corpus/feeds``). Prints one line per difference and a summary; exit status 1 when
there is any.
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from plaincheck import plain_differences

from worker.exceptions import ParseError

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"


def main() -> int:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS
    fetched_at = datetime.now(UTC)
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix not in (".md", ".tsv"))
    totals: Counter[str] = Counter()
    for path in files:
        try:
            read, problems = plain_differences(
                path.read_bytes(), f"https://feeds.example/{path.name}", fetched_at)
        except ParseError:
            read, problems = False, []
        totals["files"] += 1
        totals["read by the fast reader"] += read
        totals["with differences"] += bool(problems)
        for problem in problems:
            print(f"{path.relative_to(corpus)}: {problem}")
    print(", ".join(f"{name}: {count}" for name, count in totals.items()))
    return 1 if totals["with differences"] else 0


if __name__ == "__main__":
    sys.exit(main())
