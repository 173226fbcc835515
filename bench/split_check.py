"""Check over the whole shared corpus that reading items cut out of their document (see
``worker/parse/split.py``) gives the stories that reading the document whole gives.

Usage: ``.venv/bin/python bench/split_check.py [CORPUS_DIR]`` (default ``../shared/corpus/feeds``).
Prints one line per difference and a summary; exit status 1 when there is any.
"""

from __future__ import annotations

import sys

from corpus import difference_check
from splitcheck import split_differences

if __name__ == "__main__":
    sys.exit(difference_check(split_differences, "cut into items"))
