"""Stories per second through parse + normalize over the shared corpus, and where time goes.

Usage: ``.venv/bin/python bench/normalize_bench.py [CORPUS_DIR] [--rounds N] [--top K]``
(default ``../shared/corpus/feeds``, 3 rounds, top 15 functions). Every feed file is read into
memory first; each round parses and normalizes all of them (feeds that are refused count their
time, not their stories). Prints the best round's stories per second and MB per second, then a
cProfile of one more round: the functions with the most time of their own, and the cumulative
time of the pipeline's steps.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import platform
import pstats
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from worker.config import FeedConfig
from worker.exceptions import ParseError
from worker.normalize.entries import normalize_all
from worker.parse import parse_feed

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
STEPS = ("parse_feed", "normalize_entry", "html_to_paragraphs", "entry_media", "story_date",
         "fix_encoding", "run_feedparser")


def run_once(bodies: list[tuple[str, bytes]], fetched_at: datetime) -> int:
    stories = 0
    for name, body in bodies:
        url = f"https://feeds.example/{name}"
        try:
            parsed = parse_feed(body, url=url)
        except ParseError:
            continue
        stories += len(normalize_all(parsed, FeedConfig(key="bench", url=url), fetched_at)[0])
    return stories


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    options.add_argument("--rounds", type=int, default=3)
    options.add_argument("--top", type=int, default=15)
    args = options.parse_args()
    files = sorted(p for p in args.corpus.rglob("*")
                   if p.is_file() and p.suffix not in (".md", ".tsv"))
    bodies = [(p.name, p.read_bytes()) for p in files]
    megabytes = sum(len(b) for _, b in bodies) / 1e6
    fetched_at = datetime.now(UTC)
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
          f"{platform.machine()}; {len(bodies)} files, {megabytes:.1f} MB")
    best = float("inf")
    stories = 0
    for _ in range(args.rounds):
        started = time.perf_counter()
        stories = run_once(bodies, fetched_at)
        best = min(best, time.perf_counter() - started)
    print(f"best of {args.rounds} rounds: {stories} stories in {best:.2f} s = "
          f"{stories / best:.0f} stories/s, {megabytes / best:.2f} MB/s")
    profile = cProfile.Profile()
    profile.runcall(run_once, bodies, fetched_at)
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(args.top)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[-4000:])
    print("\ncumulative time of the pipeline's steps (profiled round):")
    for (filename, _line, function), entry in stats.stats.items():
        if function in STEPS and ("worker" in filename or function == "fix_encoding"):
            print(f"  {function:<20} {entry[3]:7.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
