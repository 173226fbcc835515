"""Check over the whole shared corpus that the lxml reader of plain RSS and Atom
(``worker/parse/plain/``) gives the stories feedparser gives, wherever it reads a file.

Usage: ``.venv/bin/python bench/plain_check.py [CORPUS_DIR]`` (default
``../shared/corpus/feeds``). Prints one line per difference and a summary; exit status 1 when
there is any.
"""

from __future__ import annotations

import sys

from corpus import difference_check
from plaincheck import plain_differences

if __name__ == "__main__":
    sys.exit(difference_check(plain_differences, "read by the fast reader"))
