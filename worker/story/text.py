r"""The story text layout: a story flattened to plain text, and read back.

``feedwatch convert --to text`` writes this layout and ``--to json`` reads it. It is the form
in which news sites' stories are often saved as text (CNN's, for one), so a text in this layout
can be read as a :class:`~worker.story.Story`, and a story rendered as text reads back the same.

Layout
======

A text is a sequence of *blocks* separated by one blank line (``"\n\n"``). Only the body's
blocks are required; every other part is left out when the story has nothing to put in it::

    U.S. aid convoys reach syria lklv pleitgen wrn_00000328.jpg     header: lead image's caption
    CNN travels with aid convoy in Syria                              header: lead video's title
    01:18 - Source: CNN                                               header: the duration line

    Story highlights                                                  the highlights marker

    Syrian President Bashar al-Assad tells El Pais ...                one block per highlight

    CNN \u00a0—\u00a0                                                  the dateline block

    Syria’s embattled leader is ready for a ceasefire – with a catch. one block per paragraph

    CNN’s Richard Beltran and Don Melvin contributed to this report.  the contributors line

Header
    The first block, when it is followed by the highlights marker or by the boundary (or is the
    whole text and has more than one line, or is a duration line). At most three lines. The
    *duration line* is ``"01:18 - Source: CNN"``, ``"01:18"`` or ``"Source: CNN"``: the lead
    video's duration as shown to readers and its credit. When the header ends with a duration
    line, the line before it is the lead video's title and the line before that the lead
    image's caption. Without a duration line, line 1 is the lead image's caption and line 2 the
    lead video's title. The lead image (the story's first ``image`` media) and the lead video
    (its first ``video`` media) are the only media the layout carries, and only those fields.
Highlights
    The block ``Story highlights``, then one block per highlight up to the boundary.
Boundary
    The dateline block, or, for a story with a header or highlights but no dateline, an empty
    block (so the text holds ``"\n\n\n\n"``) that says where the body begins. It is left
    out when nothing follows it. The dateline block is one line: the place and outlet, then a
    dash (``—``, ``–``, ``--`` or ``-``) between optional spaces and no-break spaces; for
    example ``WASHINGTON (CNN) -- `` or ``(CNN) —``. ``Story.dateline`` keeps the place and
    outlet only (``WASHINGTON (CNN)``). It is written as ``dateline + " \u00a0—\u00a0"``
    (space, no-break space, em dash, no-break space), as in the CNN text the layout is taken
    from.
Body
    One block per paragraph, after the boundary (or from the first block, for a text with no
    header, highlights or dateline).
Contributors line
    The last block, when it reads ``[Outlet’s ]Name[, Name] and Name contributed to this
    report.``. The names become ``Story.contributors`` (a serial comma is accepted); the
    outlet, if written, becomes ``Story.source``. When the story has a source, it is written.

Reading accepts Windows line endings and a final line ending, and ignores extra empty blocks
in the body. Writing adds no final line ending and leaves empty texts out. The text carries
nothing else (no title, URL or dates); the read story's ``id`` is derived from the text.

What the layout cannot carry: text with a line break, or one that starts or ends with
whitespace; a highlight or paragraph that looks like a dateline, a duration line, a
contributors line or the highlights marker; contributor names with ``", "`` or ``" and "``
in them; a lead video with a title but no duration line and no image caption before it (it
reads back as the image caption), or an image caption before a duration line but no video
title (it reads back as the title); and a story whose whole text would be a one-line header.
"""

from __future__ import annotations

import re

from worker.exceptions import StoryTextError
from worker.normalize.dateline import split_dateline
from worker.normalize.people import split_contributors
from worker.story import Media, Story
from worker.story.durations import format_duration, parse_duration
from worker.story.identity import story_id

BLOCK_SEPARATOR = "\n\n"
HIGHLIGHTS_MARKER = "Story highlights"
DATELINE_SEPARATOR = " \u00a0\u2014\u00a0"
CONTRIBUTORS_SUFFIX = " contributed to this report."
MAX_HEADER_LINES = 3

_DURATION_LINE = re.compile(
    r"(?:(?P<dur>\d{1,2}:\d{2}(?::\d{2})?)(?: - )?)?(?:Source: (?P<credit>.+))?"
)
_DATELINE = re.compile(r"(?P<place>.*?\S)[ \u00a0]*(?:—|–|--|-)[ \u00a0]*")
_CONTRIBUTORS = re.compile(r"(?:(?P<org>.+?)’s )?(?P<names>.+) contributed to this report\.")
_NAME_SEPARATOR = re.compile(r",? and |, ")


def render_text(story: Story) -> str:
    """``story`` in the text layout described in this module, without a final line ending."""
    front = _header_blocks(story) + _highlight_blocks(story)
    rest = _present(story.body) + _contributor_blocks(story)
    return BLOCK_SEPARATOR.join(front + _boundary_blocks(story.dateline, front, rest) + rest)


def parse_text(text: str) -> Story:
    """Read a text in the layout described in this module.

    Raises :class:`StoryTextError` when the text is empty or its header is malformed.
    """
    normalized = text.replace("\r\n", "\n").rstrip("\n")
    if not normalized.strip():
        raise StoryTextError("story text is empty: there is no block to read")
    blocks = normalized.split(BLOCK_SEPARATOR)
    story = Story(id=story_id(None, None, None, fallback=normalized))
    pos = 0
    if _starts_with_header(blocks):
        story.media = _parse_header(blocks[0])
        pos = 1
    if pos < len(blocks) and blocks[pos] == HIGHLIGHTS_MARKER:
        pos = _read_highlights(blocks, pos + 1, story.highlights)
    if pos < len(blocks) and _is_boundary(blocks[pos]):
        story.dateline = _dateline_of(blocks[pos])
        pos += 1
    _read_body(_present(blocks[pos:]), story)
    return story


STORY_HIGHLIGHT = "@highlight"


def parse_story_file(text: str) -> Story:
    """Read a story in the CNN/DailyMail ``.story`` layout: body paragraphs separated by blank
    lines, then the highlights, each a line ``@highlight``, a blank line and the point.

    The first paragraph's dateline ("WASHINGTON (CNN) -- ") becomes ``dateline`` and a last
    paragraph "X and Y contributed to this report." ``contributors``, as for feed text.
    Raises :class:`StoryTextError` when the text holds neither a paragraph nor a highlight.
    """
    normalized = text.replace("\r\n", "\n").strip()
    blocks = [b.strip() for b in normalized.split(BLOCK_SEPARATOR) if b.strip()]
    paragraphs: list[str] = []
    highlights: list[str] = []
    blocks_iter = iter(blocks)
    for block in blocks_iter:
        if block == STORY_HIGHLIGHT:
            highlights.extend(b for b in [next(blocks_iter, "")] if b != STORY_HIGHLIGHT)
        elif block.startswith(STORY_HIGHLIGHT + "\n"):  # no blank line after the marker
            highlights.append(block.removeprefix(STORY_HIGHLIGHT + "\n").strip())
        else:
            paragraphs.append(" ".join(block.split()))
    if not paragraphs and not highlights:
        raise StoryTextError("story file is empty: no paragraph and no @highlight")
    dateline, body = split_dateline(paragraphs)
    body, contributors = split_contributors(body)
    return Story(
        id=story_id(None, None, None, fallback=normalized), dateline=dateline, body=body,
        contributors=contributors, highlights=[h for h in highlights if h],
    )


# --- rendering ------------------------------------------------------------------------------


def _present(texts: list[str]) -> list[str]:
    return [text for text in texts if text]


def _lead(story: Story, kind: str) -> Media | None:
    return next((media for media in story.media if media.type == kind), None)


def _header_blocks(story: Story) -> list[str]:
    image, video = _lead(story, "image"), _lead(story, "video")
    lines = [
        image.caption if image else None,
        video.title if video else None,
        _duration_line(video) if video else None,
    ]
    present = [line for line in lines if line]
    return ["\n".join(present)] if present else []


def _duration_line(video: Media) -> str | None:
    shown = video.duration_text
    if not shown and video.duration is not None:
        shown = format_duration(video.duration)
    source = f"Source: {video.credit}" if video.credit else None
    return " - ".join(part for part in (shown, source) if part) or None


def _highlight_blocks(story: Story) -> list[str]:
    highlights = _present(story.highlights)
    return [HIGHLIGHTS_MARKER, *highlights] if highlights else []


def _contributor_blocks(story: Story) -> list[str]:
    names = _present(story.contributors)
    if not names:
        return []
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    outlet = f"{story.source}’s " if story.source else ""
    return [outlet + listed + CONTRIBUTORS_SUFFIX]


def _boundary_blocks(dateline: str | None, front: list[str], rest: list[str]) -> list[str]:
    if dateline:
        return [dateline + DATELINE_SEPARATOR]
    if front and rest:
        return [""]
    return []


# --- reading --------------------------------------------------------------------------------


def _is_boundary(block: str) -> bool:
    return block == "" or _DATELINE.fullmatch(block) is not None


def _dateline_of(block: str) -> str | None:
    match = _DATELINE.fullmatch(block)
    return match["place"] if match else None


def _duration_match(line: str) -> re.Match[str] | None:
    match = _DURATION_LINE.fullmatch(line)
    if match is None or (match["dur"] is None and match["credit"] is None):
        return None
    return match


def _starts_with_header(blocks: list[str]) -> bool:
    first = blocks[0]
    if first == HIGHLIGHTS_MARKER or _is_boundary(first):
        return False
    if len(blocks) > 1:
        return blocks[1] == HIGHLIGHTS_MARKER or _is_boundary(blocks[1])
    return "\n" in first or _duration_match(first) is not None


def _parse_header(block: str) -> list[Media]:
    lines = block.split("\n")
    if len(lines) > MAX_HEADER_LINES or "" in lines:
        raise StoryTextError(
            f"the header block must have 1 to {MAX_HEADER_LINES} non-blank lines "
            f"(lead image caption, lead video title, duration line), got: {block!r}"
        )
    duration = _duration_match(lines[-1])
    if duration is None and len(lines) == MAX_HEADER_LINES:
        raise StoryTextError(
            f"a 3-line header must end with a duration line such as '01:18 - Source: CNN', "
            f"got: {lines[-1]!r}"
        )
    named = lines[:-1] if duration else lines
    caption, title = _caption_and_title(named, title_last=duration is not None)
    media = [Media(type="image", caption=caption)] if caption is not None else []
    if title is not None or duration is not None:
        media.append(_video(title, duration))
    return media


def _caption_and_title(lines: list[str], title_last: bool) -> tuple[str | None, str | None]:
    if len(lines) == 2:
        return lines[0], lines[1]
    if not lines:
        return None, None
    return (None, lines[0]) if title_last else (lines[0], None)


def _video(title: str | None, duration: re.Match[str] | None) -> Media:
    shown = duration["dur"] if duration else None
    return Media(
        type="video",
        title=title,
        duration=parse_duration(shown) if shown else None,
        duration_text=shown,
        credit=duration["credit"] if duration else None,
    )


def _read_highlights(blocks: list[str], pos: int, highlights: list[str]) -> int:
    while pos < len(blocks) and not _is_boundary(blocks[pos]):
        highlights.append(blocks[pos])
        pos += 1
    return pos


def _read_body(blocks: list[str], story: Story) -> None:
    contributors = _CONTRIBUTORS.fullmatch(blocks[-1]) if blocks else None
    if contributors is None:
        story.body = blocks
        return
    story.body = blocks[:-1]
    story.contributors = _NAME_SEPARATOR.split(contributors["names"])
    if contributors["org"] and story.source is None:
        story.source = contributors["org"]
