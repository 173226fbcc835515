"""Near-duplicate signatures (worker/dedupe/neardup.py): pure functions, no Redis."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.dedupe import neardup
from worker.story import Story

PAIRS = json.loads(
    (Path(__file__).parent.parent / "data" / "neardup_pairs.json").read_text(encoding="utf-8"))["pairs"]

WIRE = (
    "Russia said Friday it is withdrawing its aircraft carrier and other warships from the "
    "waters off Syria, following orders from President Vladimir Putin to scale back his forces "
    "as he casts himself as a peacemaker for the Middle Eastern country."
)

# Texts of at least MIN_WORDS words, from a small vocabulary so that words repeat as in prose.
VOCABULARY = [
    "the", "minister", "said", "on", "friday", "that", "talks", "would", "resume", "in", "paris",
    "after", "a", "week", "of", "protests", "police", "arrested", "dozens", "storm", "river",
    "market", "shares", "fell", "court", "ruled", "against", "team", "won", "final",
]
prose = st.lists(st.sampled_from(VOCABULARY), min_size=neardup.MIN_WORDS, max_size=120).map(
    " ".join)


def signature(text: str) -> neardup.Signature:
    found = neardup.signature(text)
    assert found is not None, f"no signature for {text!r}"
    return found


@settings(max_examples=60, deadline=None)
@given(prose)
def test_a_text_is_its_own_near_duplicate(text: str) -> None:
    a, b = signature(text), signature(text)
    assert a == b
    assert neardup.similarity(a, b) == 1.0
    assert neardup.is_near_duplicate(a, b)


@settings(max_examples=60, deadline=None)
@given(prose, st.data())
def test_whitespace_punctuation_case_and_markup_do_not_change_the_signature(
    text: str, data: st.DataObject,
) -> None:
    dressed = []
    for word in text.split(" "):
        word = data.draw(st.sampled_from([word, word.upper(), word.capitalize()]))
        before = data.draw(st.sampled_from(["", "<p>", "<b>", "\u201c", "(", "<a href='x'>"]))
        after = data.draw(st.sampled_from(["", ",", ".", "!", "</b>", "&nbsp;", ";\n", "&amp;"]))
        space = data.draw(st.sampled_from([" ", "  ", "\n", "\t", " \n "]))
        dressed.append(f"{before}{word}{after}{space}")
    assert signature("".join(dressed)) == signature(text)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_two_unrelated_texts_are_not_near_duplicates(seed: int) -> None:
    first = " ".join(f"alpha{seed}x{i}" for i in range(40))
    second = " ".join(f"beta{seed}y{i}" for i in range(40))
    a, b = signature(first), signature(second)
    assert neardup.similarity(a, b) < 0.1
    assert not neardup.is_near_duplicate(a, b)


def test_a_lightly_edited_copy_is_a_near_duplicate() -> None:
    edited = WIRE.replace("Russia said Friday", "Russia said on Friday").replace(
        "Middle Eastern country", "country")
    assert neardup.is_near_duplicate(signature(WIRE), signature(edited))


def test_a_lead_cut_short_is_a_near_duplicate_of_the_full_lead() -> None:
    cut = " ".join(WIRE.split()[:24]) + " ..."
    assert neardup.is_near_duplicate(signature(cut), signature(WIRE))


def test_a_bare_headline_gets_no_signature() -> None:
    assert neardup.signature("Markets fall sharply again") is None
    assert neardup.story_signature(Story(id="x", title="Markets fall sharply again")) is None


def test_a_story_is_compared_by_headline_and_body_else_summary() -> None:
    with_body = Story(id="a", title="Headline", body=["First.", "Second."], summary="Teaser")
    without_body = Story(id="b", title="Headline", summary="Teaser text")
    assert neardup.story_text(with_body) == "Headline\nFirst.\nSecond."
    assert neardup.story_text(without_body) == "Headline\nTeaser text"


def test_chinese_text_is_compared_character_by_character() -> None:
    assert neardup.words("今年两会，代表不再露富") == ["今", "年", "两", "会", "代", "表", "不", "再", "露", "富"]


def test_a_signature_keeps_one_byte_a_slot_and_a_value_a_band() -> None:
    sig = signature(WIRE)
    assert len(sig.slots) == neardup.SLOTS
    assert len(sig.bands) == neardup.BANDS and all(0 <= v < 2 ** 32 for v in sig.bands)


def test_bands_are_what_makes_candidates() -> None:
    a, b = signature(WIRE), signature(WIRE + " Officials gave no timetable.")
    assert bands(a) & bands(b) and neardup.are_candidates(a, b)
    other = signature(" ".join(f"word{i}" for i in range(50)))
    assert not neardup.are_candidates(a, other)


def bands(sig: neardup.Signature) -> set[tuple[int, int]]:
    """A signature's bands: band number and value."""
    return set(enumerate(sig.bands))


def test_signatures_and_bands_are_the_same_in_every_release() -> None:
    """The index in Redis holds what earlier processes computed: a release that hashed a text
    or a band differently would not find the stories recorded before it."""
    sig = signature(" ".join(f"word{i}" for i in range(20)))
    assert sig.size == 18
    assert hashlib.blake2b(sig.slots, digest_size=8).hexdigest() == "28a17c6799b9323e"
    assert (sig.bands[0], sig.bands[1], sig.bands[-1]) == (2493195807, 864746353, 958130764)


def _pair_id(pair: dict[str, Any]) -> str:
    return f"{pair['label']}: {pair['a']['from']} | {pair['b']['from']}"


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_known_pairs_from_the_corpus_are_decided_as_labelled(pair: dict[str, Any]) -> None:
    a = neardup.signature(pair["a"]["text"])
    b = neardup.signature(pair["b"]["text"])
    found = a is not None and b is not None and neardup.is_near_duplicate(a, b)
    assert found == (pair["label"] == "duplicate"), pair["why"]


def test_the_copied_pairs_hold_both_labels() -> None:
    labels = [pair["label"] for pair in PAIRS]
    assert labels.count("duplicate") >= 6 and labels.count("different") >= 6


@settings(max_examples=200)
@given(st.lists(st.integers(0, 3), min_size=2 * neardup.BANDS, max_size=2 * neardup.BANDS),
       st.lists(st.integers(0, 3), min_size=2 * neardup.BANDS, max_size=2 * neardup.BANDS))
def test_two_signatures_share_a_band_value_where_they_share_its_slots(
        first: list[int], second: list[int]) -> None:
    """A band's value stands for its full slot values: equal where they are equal, and apart
    where they differ, so the index finds exactly the pairs that agree on a whole band."""
    a = neardup.band_values(np.array(first, dtype=np.uint64))
    b = neardup.band_values(np.array(second, dtype=np.uint64))
    rows = neardup.ROWS
    assert [x == y for x, y in zip(a, b, strict=True)] == [
        first[at:at + rows] == second[at:at + rows] for at in range(0, len(first), rows)]


@settings(max_examples=100, deadline=None)
@given(prose, prose)
def test_similarity_is_symmetric_and_a_share(first: str, second: str) -> None:
    a, b = signature(first), signature(second)
    assert neardup.similarity(a, b) == neardup.similarity(b, a)
    assert 0.0 <= neardup.jaccard(a, b) <= neardup.similarity(a, b) <= 1.0
