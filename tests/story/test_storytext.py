"""The story text layout: reading, writing, and round trips through JSON."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from worker.exceptions import StoryTextError
from worker.story import Media, Story
from worker.story.durations import format_duration, parse_duration
from worker.story.identity import story_id
from worker.story.text import (
    parse_story_file,
    parse_text,
    render_text,
)

SEED_PATH = Path(__file__).parent.parent / "data" / "seed_story.txt"
NBSP = "\u00a0"


@pytest.fixture(scope="module")
def seed() -> str:
    return SEED_PATH.read_bytes().decode("utf-8")


def through_json(story: Story) -> Story:
    """The story as ``feedwatch convert --to json`` writes it and ``--to text`` reads it."""
    return Story.from_dict(json.loads(json.dumps(story.to_dict(), ensure_ascii=False)))


def without_id(story: Story) -> Story:
    return dataclasses.replace(story, id="")


# --- the seed -------------------------------------------------------------------------------


def test_seed_header_gives_lead_image_and_lead_video(seed: str) -> None:
    assert parse_text(seed).media == [
        Media(type="image", caption="U.S. aid convoys reach syria lklv pleitgen wrn_00000328.jpg"),
        Media(
            type="video",
            title="CNN travels with aid convoy in Syria",
            duration=78,
            duration_text="01:18",
            credit="CNN",
        ),
    ]


def test_seed_highlights_dateline_body_and_contributors(seed: str) -> None:
    story = parse_text(seed)

    assert story.highlights == [
        "Syrian President Bashar al-Assad tells El Pais he supports a cessation in hostilities",
        'But he says any such ceasefire can\'t allow "terrorists" to improve their positions',
        'Assad also calls Russian and Iranian support "essential" to Syrian military advances',
    ]
    assert story.dateline == "CNN"
    assert len(story.body) == 18
    assert story.body[0] == "Syria’s embattled leader is ready for a ceasefire – with a catch."
    assert story.body[-1] == (
        "“Of course, Syria is a small country,” Assad added. “We could fight, but at the end, "
        "there’s unlimited support (for) those terrorists.”"
    )
    assert story.contributors == ["Richard Beltran", "Josh Berlinger", "Don Melvin"]
    assert story.source == "CNN"


def test_seed_fields_the_layout_does_not_carry_are_empty(seed: str) -> None:
    story = parse_text(seed)

    assert story.id == story_id(None, None, None, fallback=seed)
    assert (story.title, story.url, story.guid, story.published, story.feed) == (None,) * 5
    assert story.authors == [] and story.tags == []


def test_seed_round_trips_byte_exactly(seed: str) -> None:
    assert render_text(parse_text(seed)).encode("utf-8") == SEED_PATH.read_bytes()


def test_seed_round_trips_through_json_byte_exactly(seed: str) -> None:
    assert render_text(through_json(parse_text(seed))) == seed


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "00:00"), (78, "01:18"), (3599, "59:59"), (3600, "1:00:00"), (3725, "1:02:05")],
)
def test_format_duration_is_mm_ss_below_an_hour_and_h_mm_ss_from_an_hour(
    seconds: int, shown: str
) -> None:
    assert format_duration(seconds) == shown
    assert parse_duration(shown) == seconds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("78", 78), ("01:18", 78), ("1:18", 78), ("1:02:05", 3725), (" 01:18 ", 78)],
)
def test_parse_duration_reads_seconds_and_clock_forms(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "1:75", "1:2", "1:60:00", "-5", "01:18 - x"])
def test_parse_duration_is_none_for_anything_else(text: str) -> None:
    assert parse_duration(text) is None


def test_format_duration_rejects_negative_seconds() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_duration(-1)


# --- edge cases -----------------------------------------------------------------------------


def test_body_only_story_is_just_its_paragraphs() -> None:
    story = Story(id="s", body=["First paragraph.", "Second paragraph."])

    text = render_text(story)

    assert text == "First paragraph.\n\nSecond paragraph."
    assert without_id(parse_text(text)) == without_id(story)


def test_dateline_without_media_or_highlights_comes_first() -> None:
    story = Story(id="s", dateline="WASHINGTON (CNN)", body=["Congress met."])

    text = render_text(story)

    assert text == f"WASHINGTON (CNN) {NBSP}—{NBSP}\n\nCongress met."
    assert without_id(parse_text(text)) == without_id(story)


@pytest.mark.parametrize(
    ("block", "dateline"),
    [
        (f"CNN{NBSP}—{NBSP}", "CNN"),
        (f"CNN {NBSP}—{NBSP}", "CNN"),
        ("WASHINGTON (CNN) -- ", "WASHINGTON (CNN)"),
        ("(CNN) —", "(CNN)"),
        ("(CNN) –", "(CNN)"),
        ("LONDON (Reuters) - ", "LONDON (Reuters)"),
        ("Paris-Match-", "Paris-Match"),
    ],
)
def test_dateline_block_keeps_only_place_and_outlet(block: str, dateline: str) -> None:
    story = parse_text(f"{block}\n\nThe body.")

    assert story.dateline == dateline
    assert story.body == ["The body."]


def test_highlights_without_dateline_are_followed_by_an_empty_block() -> None:
    story = Story(id="s", highlights=["One thing.", "Another."], body=["The body."])

    text = render_text(story)

    assert text == "Story highlights\n\nOne thing.\n\nAnother.\n\n\n\nThe body."
    assert without_id(parse_text(text)) == without_id(story)


def test_no_empty_block_when_nothing_follows_the_front_matter() -> None:
    story = Story(id="s", highlights=["Only highlights."])

    text = render_text(story)

    assert text == "Story highlights\n\nOnly highlights."
    assert without_id(parse_text(text)) == without_id(story)


def test_header_then_dateline_without_highlights() -> None:
    story = Story(
        id="s",
        media=[Media(type="image", caption="A photo.")],
        dateline="(CNN)",
        body=["The body."],
    )

    text = render_text(story)

    assert text == f"A photo.\n\n(CNN) {NBSP}—{NBSP}\n\nThe body."
    assert without_id(parse_text(text)) == without_id(story)


def test_video_without_credit_has_a_bare_duration_line() -> None:
    video = Media(type="video", title="A clip", duration=78, duration_text="01:18")
    story = Story(id="s", media=[video], body=["The body."])

    text = render_text(story)

    assert text == "A clip\n01:18\n\n\n\nThe body."
    assert parse_text(text).media == [video]


def test_video_with_credit_only_has_a_source_line() -> None:
    video = Media(type="video", title="A clip", credit="CNN")
    story = Story(id="s", media=[video], body=["The body."])

    text = render_text(story)

    assert text == "A clip\nSource: CNN\n\n\n\nThe body."
    assert parse_text(text).media == [video]


def test_video_of_an_hour_or_more_is_shown_as_h_mm_ss() -> None:
    story = Story(id="s", media=[Media(type="video", title="Long", duration=3725)], body=["B."])

    text = render_text(story)

    assert text.startswith("Long\n1:02:05\n\n")
    assert parse_text(text).media == [
        Media(type="video", title="Long", duration=3725, duration_text="1:02:05")
    ]


def test_header_alone_with_several_lines_is_read_as_header() -> None:
    text = "A photo.\nA clip\n01:18 - Source: CNN"

    story = parse_text(text)

    assert [m.type for m in story.media] == ["image", "video"]
    assert story.body == []
    assert render_text(story) == text


@pytest.mark.parametrize(
    ("line", "contributors", "source"),
    [
        ("Jane Doe contributed to this report.", ["Jane Doe"], None),
        ("CNN’s Jane Doe contributed to this report.", ["Jane Doe"], "CNN"),
        (
            "CNN’s Jane Doe and John Roe contributed to this report.",
            ["Jane Doe", "John Roe"],
            "CNN",
        ),
        ("A Bé, C Dé and E Fé contributed to this report.", ["A Bé", "C Dé", "E Fé"], None),
        ("A Bé, C Dé, and E Fé contributed to this report.", ["A Bé", "C Dé", "E Fé"], None),
    ],
)
def test_contributors_line_gives_names_and_source(
    line: str, contributors: list[str], source: str | None
) -> None:
    story = parse_text(f"The body.\n\n{line}")

    assert story.body == ["The body."]
    assert story.contributors == contributors
    assert story.source == source


@pytest.mark.parametrize(
    ("names", "source", "line"),
    [
        (["Jane Doe"], None, "Jane Doe contributed to this report."),
        (["Jane Doe"], "CNN", "CNN’s Jane Doe contributed to this report."),
        (
            ["Jane Doe", "John Roe"],
            "CNN",
            "CNN’s Jane Doe and John Roe contributed to this report.",
        ),
        (["A", "B", "C"], None, "A, B and C contributed to this report."),
    ],
)
def test_contributors_are_written_as_the_last_block(
    names: list[str], source: str | None, line: str
) -> None:
    story = Story(id="s", source=source, body=["The body."], contributors=names)

    text = render_text(story)

    assert text == f"The body.\n\n{line}"
    assert without_id(parse_text(text)) == without_id(story)


def test_contributors_line_is_only_read_as_the_last_block() -> None:
    text = "Jane Doe contributed to this report.\n\nThe end."

    story = parse_text(text)

    assert story.contributors == []
    assert story.body == ["Jane Doe contributed to this report.", "The end."]


def test_source_is_written_only_with_contributors() -> None:
    assert render_text(Story(id="s", source="CNN", body=["The body."])) == "The body."


def test_windows_line_endings_read_the_same(seed: str) -> None:
    assert parse_text(seed.replace("\n", "\r\n")) == parse_text(seed)


def test_final_line_ending_is_accepted_and_not_written(seed: str) -> None:
    story = parse_text(seed + "\n")

    assert story == parse_text(seed)
    assert render_text(story) == seed


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "\r\n", f" {NBSP}\t\n"])
def test_empty_text_is_an_error(text: str) -> None:
    with pytest.raises(StoryTextError, match="story text is empty"):
        parse_text(text)


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("one\ntwo\nthree\n01:18", "1 to 3 non-blank lines"),
        ("caption\ntitle\nnot a duration", "must end with a duration line"),
    ],
)
def test_malformed_header_is_an_error(header: str, problem: str) -> None:
    with pytest.raises(StoryTextError, match=problem):
        parse_text(f"{header}\n\nStory highlights\n\nA highlight.")


def test_fields_the_layout_does_not_carry_are_not_written() -> None:
    plain = Story(id="s", media=[Media(type="image", caption="A photo.")], body=["The body."])
    rich = dataclasses.replace(
        plain,
        title="A title",
        url="https://example.com/a",
        published="2016-02-20T12:00:00Z",
        authors=["Someone"],
        media=[
            Media(type="audio", title="A podcast"),
            Media(type="image", url="https://example.com/a.jpg", caption="A photo.", width=640),
            Media(type="image", caption="A second photo."),
        ],
    )

    assert render_text(rich) == render_text(plain) == "A photo.\n\n\n\nThe body."


def test_empty_paragraphs_and_highlights_are_left_out() -> None:
    story = Story(id="s", highlights=["", "H."], body=["A.", "", "B."])

    assert render_text(story) == "Story highlights\n\nH.\n\n\n\nA.\n\nB."


def test_extra_empty_blocks_in_the_body_are_ignored() -> None:
    assert parse_text("(CNN) —\n\nA.\n\n\n\nB.").body == ["A.", "B."]


# --- properties -----------------------------------------------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéèàçñöüßÉØå"
TEXT_ALPHABET = LETTERS + "0123456789 " + NBSP + ".,;:!?'\"“”‘’()–—-/&%$@#"
DASHES = ("—", "–", "-")


def _is_carried_text(text: str) -> bool:
    """Whether ``text`` can be a line or block of the layout without being misread."""
    return (
        text == text.strip()
        and bool(text)
        and not text.rstrip(" " + NBSP).endswith(DASHES)
        and re.match(r"\d{1,2}:\d{2}|Source: ", text) is None
        and not text.endswith("contributed to this report.")
        and text != "Story highlights"
    )


texts = st.text(TEXT_ALPHABET, min_size=1, max_size=30).filter(_is_carried_text)
words = st.text(LETTERS, min_size=1, max_size=8).filter(lambda w: w != "and")
names = st.lists(words, min_size=1, max_size=3).map(" ".join)
durations = st.integers(min_value=0, max_value=99 * 3600 + 3599)


@st.composite
def lead_media(draw: st.DrawFn) -> list[Media]:
    caption = draw(st.none() | texts)
    title = draw(st.none() | texts)
    duration = draw(st.none() | durations)
    credit = draw(st.none() | texts)
    has_duration_line = duration is not None or credit is not None
    # The title line is found by its place: last line, or the one before the duration line.
    assume(title is not None or not caption or not has_duration_line)
    assume(caption is not None or title is None or has_duration_line)
    media = [Media(type="image", caption=caption)] if caption is not None else []
    if title is not None or has_duration_line:
        shown = format_duration(duration) if duration is not None else None
        media.append(
            Media(type="video", title=title, duration=duration, duration_text=shown, credit=credit)
        )
    return media


@st.composite
def stories(draw: st.DrawFn) -> Story:
    contributors = draw(st.lists(names, max_size=4))
    source = draw(st.none() | names) if contributors else None
    story = Story(
        id="generated",
        media=draw(lead_media()),
        highlights=draw(st.lists(texts, max_size=3)),
        dateline=draw(st.none() | texts),
        body=draw(st.lists(texts, max_size=5)),
        contributors=contributors,
        source=source,
    )
    text = render_text(story)
    assume(text)
    # A whole text of one header line reads as a paragraph, unless it is a duration line.
    assume("\n" in text or not story.media or story.media[0].type == "video")
    return story


@given(stories())
def test_json_to_text_to_json_keeps_every_carried_field(story: Story) -> None:
    """Every story the layout can carry reads back with the same fields.

    The layout cannot carry (so these stories are not generated): empty text, or text that
    starts or ends with whitespace or holds a line break (blocks and lines are split on line
    breaks); text that looks like a dateline (ends with a dash), a duration line ("01:18",
    "Source: ..."), a contributors line or the "Story highlights" marker, since the reader
    finds the layout's parts by those shapes; contributor names holding ", " or " and " (the
    separators); a video title with no duration line and no caption before it, or a caption
    before a duration line with no title (lines are told apart by position); and a story whose
    whole text is one header line (read as a paragraph). Only the lead image's caption and the
    lead video's title, duration and credit are carried; the id is derived from the text.
    """
    read = parse_text(render_text(through_json(story)))

    assert dataclasses.replace(read, id=story.id) == story
    assert read.id == story_id(None, None, None, fallback=render_text(story))


@given(stories())
def test_text_to_json_to_text_is_byte_exact(story: Story) -> None:
    text = render_text(story)

    assert render_text(through_json(parse_text(text))) == text


# --- the CNN/DailyMail .story layout ---------------------------------------------------------

STORIES = Path(__file__).parent.parent / "data" / "stories"


def test_a_story_file_gives_body_highlights_and_dateline() -> None:
    text = (STORIES / "017d27d00eb43678c15cb4a8dd4723a035323219.story").read_text("utf-8")
    story = parse_story_file(text)
    assert story.dateline == "WASHINGTON (CNN)"
    assert story.body[0].startswith("As he awaits a crucial progress report on Iraq, President")
    assert len(story.body) == 20
    assert story.highlights == [
        "President Bush to address the Veterans of Foreign Wars on Wednesday",
        "Bush to say that withdrawing from Vietnam emboldened today's terrorists",
        "Speech will be latest White House attempt to try to reframe the debate over Iraq",
    ]
    assert not any("@highlight" in p for p in story.body)


def test_a_story_files_contributors_line_leaves_the_body() -> None:
    text = "(CNN) -- Something happened.\n\nAnn Lee and Bo Chen contributed to this report.\n\n@highlight\n\nA point"
    story = parse_story_file(text)
    assert (story.dateline, story.body, story.contributors, story.highlights) == (
        "(CNN)", ["Something happened."], ["Ann Lee", "Bo Chen"], ["A point"])


def test_an_empty_story_file_is_refused() -> None:
    with pytest.raises(StoryTextError, match="no paragraph and no @highlight"):
        parse_story_file("\n\n  \n")


def test_convert_from_story_renders_the_text_layout() -> None:
    path = STORIES / "06352019a19ae31e527f37f7571c6dd7f0c5da37.story"
    run = subprocess.run([sys.executable, "-m", "worker.cli", "convert", "--from", "story",
                          "--to", "text", str(path)], capture_output=True, check=True)
    text = run.stdout.decode("utf-8")
    assert text.startswith("Story highlights\n\n")
    assert parse_text(text).body == parse_story_file(path.read_text("utf-8")).body
