"""Parse and normalize every feed of the shared corpus and report what went wrong.

Usage: ``.venv/bin/python bench/corpus_check.py [CORPUS_DIR]`` (default ``../shared/corpus/feeds``).
Prints one line per feed with a problem and a summary. A well-formed feed fails when it raises,
leaves markup or mojibake in a text field, or gives a story with neither title nor body (see
``tests/feedcheck.py``); feeds under ``malformed/`` only have to give stories or a clear error.
Exit status 1 when a well-formed feed fails.
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime

from corpus import feed_files
from feedcheck import check_feed, is_skipped_entry


def main() -> int:
    corpus, files = feed_files()
    fetched_at = datetime.now(UTC)
    totals: Counter[str] = Counter()
    for path in files:
        malformed = "malformed" in path.parts
        try:
            stories, problems = check_feed(path, fetched_at)
        except Exception as exc:  # a crash is what this script exists to find
            stories, problems = [], [f"CRASH {type(exc).__name__}: {exc}"]
        refused = bool(problems) and problems[0].startswith("refused")
        kind = "malformed" if malformed else "well-formed"
        totals[f"{kind} feeds"] += 1
        totals["stories"] += len(stories)
        totals[f"{kind} refused with a reason"] += refused
        failed = any(p.startswith("CRASH") for p in problems) or (not malformed and any(
            not is_skipped_entry(p) for p in problems))
        totals["failed"] += failed
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            print(f"{'FAIL' if failed else 'note'} {path.relative_to(corpus)}: "
                  f"{len(stories)} stories; {problems[0][:200]}{more}")
    print(", ".join(f"{k}: {v}" for k, v in sorted(totals.items())))
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
