"""Near-duplicate stories: MinHash signatures of a story's words, and LSH bands to find them.

The same wire story carried by several outlets, or lightly edited, has different URLs and ids, so
exact deduplication (:mod:`worker.dedupe`) publishes each copy. What the copies share is their
words. A story's headline and text become a set of *shingles* (runs of :data:`SHINGLE_WORDS`
consecutive words, after markup, entities, punctuation and case are dropped), summarised by a
:data:`SLOTS`-value MinHash signature, of which one byte a value is kept (b-bit MinHash): the
share of slots where two signatures agree, less the share that agrees by chance, estimates the
Jaccard similarity of their shingle sets. Two stories are near-duplicates when the share of
the shorter text's shingles found in the other (:func:`similarity`) reaches :data:`THRESHOLD`
(chosen on the labelled pairs in ``bench/neardup_pairs/``; precision and recall measured there
are in ``bench/RESULTS.md``).

To find the earlier stories worth comparing without comparing with all of them, the first
``BANDS * ROWS`` slots, with their full values, are cut into :data:`BANDS` bands of :data:`ROWS`
slots (locality-sensitive hashing): stories that agree on every slot of at least one band are
candidates. A pair with Jaccard similarity ``j`` becomes a candidate with probability
``1 - (1 - j**ROWS)**BANDS``: 0.999999 at 0.54 (two texts of equal length at the threshold),
0.98 at 0.3 (a lead cut to a third by one outlet), 0.33 at 0.1, 0.016 at 0.02 (unrelated
stories). Short bands find the copies whose lengths differ; candidates that are not
near-duplicates only cost a comparison. Each band is one entry of the index a story, so their
number is what a remembered story costs Redis.

Pure: no Redis (the index is :mod:`worker.dedupe.neardup_index`), no Celery.
"""

from __future__ import annotations

import hashlib
import html
import random
import re
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
SLOT_BITS = 8
"""Bits kept of each MinHash value (b-bit MinHash): one byte a slot. Two unrelated values
agree by chance once in 256 slots, which :func:`jaccard` corrects for."""
BANDS = 40
ROWS = 2
"""LSH bands and slots per band, taken from the first BANDS * ROWS slots (their full values)."""
THRESHOLD = 0.7
"""Estimated share of the shorter text found in the other from which two stories count as
near-duplicates (see :func:`similarity`)."""
MAX_WORDS = 400
"""Only the start of a long text counts: copies share the lead, and the cost stays bounded."""

# The SLOTS hash functions are multiply-shift hashes of a shingle's 64-bit hash x,
# h(x) = ((a*x + b) mod 2**64) >> 32 with a odd, computed for all slots at once with numpy.
# A band's value hashes its ROWS full slot values the same way (multiply-add-shift of a
# vector). Every process and every release must compute the same signature for the same
# text, so the constants come from a fixed seed.
_RANDOM = random.Random(20261124)
_MULTIPLIERS = np.array([_RANDOM.getrandbits(64) | 1 for _ in range(SLOTS)], dtype=np.uint64)
_ADDENDS = np.array([_RANDOM.getrandbits(64) for _ in range(SLOTS)], dtype=np.uint64)
_BAND_MULTIPLIERS = np.array(
    [[_RANDOM.getrandbits(64) | 1 for _ in range(ROWS)] for _ in range(BANDS)], dtype=np.uint64)
_BAND_ADDENDS = np.array([_RANDOM.getrandbits(64) for _ in range(BANDS)], dtype=np.uint64)
_SHIFT = np.uint64(32)
_SLOT_MASK = np.uint64((1 << SLOT_BITS) - 1)
_CHANCE = 2.0 ** -SLOT_BITS

_TAG = re.compile(r"<[^>]*>")
# A CJK ideograph or kana is a word of its own (those scripts do not separate words by spaces).
WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")


@dataclass(frozen=True)
class Signature:
    """A text's b-bit MinHash values, the number of shingles they summarise, and its LSH band
    values.

    ``bands`` are computed from the full MinHash values, which are not kept: a signature read
    back from the index (:mod:`worker.dedupe.neardup_index`) has none, and is found by the
    bands it was recorded under."""

    slots: bytes
    """One byte a slot: the low :data:`SLOT_BITS` bits of each MinHash value."""
    size: int
    bands: tuple[int, ...] = ()
    """Each band's 32-bit value, in band order."""


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
    values = slots.min(axis=1)
    return Signature(
        (values & _SLOT_MASK).astype(np.uint8).tobytes(), len(hashed), band_values(values))


def band_values(values: np.ndarray) -> tuple[int, ...]:
    """The 32-bit value of each LSH band of full MinHash values: two texts agree on a band's
    value when they agree on every slot of the band (and, by chance, once in 2**32)."""
    rows = values[:BANDS * ROWS].reshape(BANDS, ROWS) * _BAND_MULTIPLIERS
    hashed = rows.sum(axis=1, dtype=np.uint64) + _BAND_ADDENDS
    return tuple((hashed >> _SHIFT).tolist())


def story_signature(story: Story) -> Signature | None:
    return signature(story_text(story))


def jaccard(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures (0.0 to 1.0).

    Slots agree when the shingle sets share their minimum (probability ``j``) or, failing
    that, when two different values agree on their kept bits by chance; the estimate takes
    the chance agreements out."""
    agreeing = np.count_nonzero(
        np.frombuffer(a.slots, dtype=np.uint8) == np.frombuffer(b.slots, dtype=np.uint8))
    return max(0.0, (agreeing / SLOTS - _CHANCE) / (1 - _CHANCE))


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
    """Whether the index would ever compare two signatures: they share a band value."""
    return any(x == y for x, y in zip(a.bands, b.bands, strict=True))


__all__ = [
    "BANDS", "MIN_WORDS", "ROWS", "SHINGLE_WORDS", "SLOTS", "SLOT_BITS", "THRESHOLD", "Signature",
    "are_candidates", "band_values", "is_near_duplicate", "jaccard", "shingles", "signature",
    "similarity", "story_signature", "story_text", "words",
]
