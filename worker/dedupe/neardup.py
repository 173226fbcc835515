"""Near-duplicate stories: MinHash signatures of a story's words, and LSH bands to find them.

The same wire story carried by several outlets, or lightly edited, has different URLs and ids, so
exact deduplication (:mod:`worker.dedupe`) publishes each copy. What the copies share is their
words. A story's headline and text become a set of *shingles* (runs of :data:`SHINGLE_WORDS`
consecutive words, after markup, entities, punctuation and case are dropped), summarised by a
:data:`SLOTS`-value MinHash signature: the share of slots where two signatures agree estimates
the Jaccard similarity of their shingle sets. Two stories are near-duplicates when the share of
the shorter text's shingles found in the other (:func:`similarity`) reaches :data:`THRESHOLD`
(chosen on the labelled pairs in ``bench/neardup_pairs/``; precision and recall measured there
are in ``bench/RESULTS.md``).

To find the earlier stories worth comparing without comparing with all of them, the first
``BANDS * ROWS`` slots are cut into :data:`BANDS` bands of :data:`ROWS` slots (locality-sensitive
hashing): stories that agree on every slot of at least one band are candidates. A pair with
Jaccard similarity ``j`` becomes a candidate with probability ``1 - (1 - j**ROWS)**BANDS``:
0.9999 at 0.54 (two texts of equal length at the threshold), 0.99 at 0.3 (a lead cut to a third
by one outlet), 0.39 at 0.1, 0.02 at 0.02 (unrelated stories). Short bands find the copies
whose lengths differ; candidates that are not near-duplicates only cost a comparison.

Pure: no Redis (the index is :mod:`worker.dedupe.neardup_index`), no Celery.
"""

from __future__ import annotations

import hashlib
import html
import random
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from worker.story import Story

SHINGLE_WORDS = 3
"""Words per shingle: three keep stories built from one template (same phrases) apart."""
MIN_WORDS = 8
"""Texts with fewer words (a bare headline) get no signature: too little to tell copies apart."""
SLOTS = 256
"""MinHash values per signature: the Jaccard estimate's standard error is at most 0.031."""
BANDS = 50
ROWS = 2
"""LSH bands and slots per band, taken from the first BANDS * ROWS slots."""
THRESHOLD = 0.7
"""Estimated share of the shorter text found in the other from which two stories count as
near-duplicates (see :func:`similarity`)."""
MAX_WORDS = 400
"""Only the start of a long text counts: copies share the lead, and the cost stays bounded."""

# The SLOTS hash functions are multiply-shift hashes of a shingle's 64-bit hash x,
# h(x) = ((a*x + b) mod 2**64) >> 32 with a odd, computed for all slots at once with numpy.
# Every process and every release must compute the same signature for the same text, so
# a and b come from a fixed seed.
_RANDOM = random.Random(20261124)
_MULTIPLIERS = np.array([_RANDOM.getrandbits(64) | 1 for _ in range(SLOTS)], dtype=np.uint64)
_ADDENDS = np.array([_RANDOM.getrandbits(64) for _ in range(SLOTS)], dtype=np.uint64)
_SHIFT = np.uint64(32)
_FORMAT = f"<{SLOTS + 1}I"
_BAND_ROWS = struct.Struct(f"<{ROWS}I")

_TAG = re.compile(r"<[^>]*>")
# A CJK ideograph or kana is a word of its own (those scripts do not separate words by spaces).
WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")


@dataclass(frozen=True)
class Signature:
    """A text's MinHash values and the number of shingles they summarise."""

    values: tuple[int, ...]
    size: int

    def to_bytes(self) -> bytes:
        """The form kept in Redis: the shingle count, then each value, 4 bytes each."""
        return struct.pack(_FORMAT, self.size, *self.values)

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        size, *values = struct.unpack(_FORMAT, data)
        return cls(tuple(values), size)

    @property
    def band_values(self) -> tuple[bytes, ...]:
        """Each LSH band's value, in band order: an 8-byte digest of the band's slots.

        Computed once, when first asked (a new story's bands are looked up, then recorded;
        the signatures of candidates read from Redis never need theirs). Not a
        ``functools.cached_property``: before Python 3.12 that takes one lock for all
        instances, which a process's polling threads would queue on."""
        found: tuple[bytes, ...] | None = self.__dict__.get("_band_values")
        if found is None:
            values = self.values
            found = tuple(
                hashlib.blake2b(_BAND_ROWS.pack(*values[at:at + ROWS]), digest_size=8).digest()
                for at in range(0, BANDS * ROWS, ROWS))
            object.__setattr__(self, "_band_values", found)  # the same value, whoever wins
        return found


def words(text: str) -> list[str]:
    """The words of a text: markup, entities, punctuation and case do not count."""
    plain = html.unescape(_TAG.sub(" ", text))
    return WORD.findall(plain.casefold())


def story_text(story: Story) -> str:
    """What a story is compared by: its headline and its text (the summary when no body)."""
    text = "\n".join(story.body) if story.body else story.summary or ""
    return f"{story.title or ''}\n{text}"


def shingles(tokens: Sequence[str]) -> set[int]:
    """The 64-bit hashes of every run of :data:`SHINGLE_WORDS` consecutive words."""
    tokens = tokens[:MAX_WORDS]
    runs = max(1, len(tokens) - SHINGLE_WORDS + 1)
    return {
        int.from_bytes(hashlib.blake2b(
            " ".join(tokens[i:i + SHINGLE_WORDS]).encode(), digest_size=8).digest(), "little")
        for i in range(runs)
    }


def signature(text: str) -> Signature | None:
    """The MinHash signature of a text, or None when it has fewer than :data:`MIN_WORDS` words."""
    tokens = words(text)
    if len(tokens) < MIN_WORDS:
        return None
    hashed = shingles(tokens)
    x = np.fromiter(hashed, dtype=np.uint64, count=len(hashed))
    # In place: each temporary array of SLOTS x shingles would be a fresh mapping of memory,
    # which costs more than the arithmetic.
    slots = _MULTIPLIERS[:, None] * x
    slots += _ADDENDS[:, None]
    slots >>= _SHIFT
    return Signature(tuple(slots.min(axis=1).tolist()), len(hashed))


def story_signature(story: Story) -> Signature | None:
    return signature(story_text(story))


def jaccard(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures (0.0 to 1.0)."""
    return sum(x == y for x, y in zip(a.values, b.values, strict=True)) / SLOTS


def similarity(a: Signature, b: Signature) -> float:
    """Estimated share of the shorter text's shingles found in the other (0.0 to 1.0).

    This containment, rather than the Jaccard similarity, lets a lead cut short by one outlet
    ("... to scale ...") match the same lead given in full by another. It follows from the
    Jaccard estimate ``j`` and the set sizes: ``|A ∩ B| = j * (|A| + |B|) / (1 + j)``.
    """
    j = jaccard(a, b)
    shared = j * (a.size + b.size) / (1 + j)
    return min(1.0, shared / min(a.size, b.size))


def is_near_duplicate(a: Signature, b: Signature) -> bool:
    return are_candidates(a, b) and similarity(a, b) >= THRESHOLD


def are_candidates(a: Signature, b: Signature) -> bool:
    """Whether the index would ever compare two signatures: they agree on every slot of one
    band at least (as their :attr:`Signature.band_values` would; the slots are compared
    directly, which costs a fraction of hashing them)."""
    x, y = a.values, b.values
    return any(x[at:at + ROWS] == y[at:at + ROWS] for at in range(0, BANDS * ROWS, ROWS))


__all__ = [
    "BANDS", "MIN_WORDS", "ROWS", "SHINGLE_WORDS", "SLOTS", "THRESHOLD", "Signature",
    "are_candidates", "is_near_duplicate", "jaccard", "shingles", "signature",
    "similarity", "story_signature", "story_text", "words",
]
