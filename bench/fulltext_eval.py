"""Main-text extraction against the shared corpus's article pages and their expected text.

Usage: ``.venv/bin/python bench/fulltext_eval.py [PAGES_DIR]`` (default ``../shared/corpus/pages``).
A page passes when its extracted body holds every ``with`` text of ``expected.json`` and none
of its ``without`` texts (whitespace aside). Prints one line per failing page and the total.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from worker.fulltext.extract import extract_article

DEFAULT_PAGES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pages"


def flat(text: str) -> str:
    return " ".join(text.split())


def main() -> int:
    pages = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PAGES
    expected = json.loads((pages / "expected.json").read_text("utf-8"))
    passed = 0
    started = time.perf_counter()
    for name, want in sorted(expected.items()):
        article = extract_article((pages / "html" / name).read_bytes(), want["url"])
        body = flat(" ".join(article.paragraphs))
        missing = [w for w in want["with"] if flat(w) not in body]
        boilerplate = [w for w in want["without"] if flat(w) in body]
        passed += not missing and not boilerplate
        if missing or boilerplate:
            print(f"{name}: {len(missing)} missing, {len(boilerplate)} boilerplate kept")
    elapsed = time.perf_counter() - started
    print(f"{passed} of {len(expected)} pages pass; {elapsed:.1f} s, "
          f"{elapsed / len(expected) * 1000:.0f} ms a page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
