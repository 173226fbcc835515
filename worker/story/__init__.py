"""The story schema: what every consumer of the output stream receives.

A :class:`Story` is the normalized form of one feed item. Its JSON form (``to_dict``) is the
``story`` field of each stream entry and is described by ``worker/story/schema/message.json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any, Literal

SCHEMA_VERSION = 1

MediaType = Literal["image", "video", "audio"]
MEDIA_TYPES: tuple[MediaType, ...] = ("image", "video", "audio")


@dataclass
class Media:
    """One image, video or audio item attached to a story."""

    type: MediaType
    url: str | None = None
    title: str | None = None
    caption: str | None = None
    duration: int | None = None
    """Length in whole seconds."""
    duration_text: str | None = None
    """The same length as shown to readers: "mm:ss", or "h:mm:ss" from one hour on."""
    credit: str | None = None
    mime: str | None = None
    width: int | None = None
    height: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Media:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


STORY_FLAGS = {
    "date-without-zone": "a date had no time zone; it was read in the feed's `timezone`",
    "date-in-future-clamped": "a date lay in the future; it was set to the fetch time",
}
"""Every flag a story can carry, with what it means."""

ExtractionStatus = Literal["ok", "failed", "empty"]


@dataclass
class Extraction:
    """How fetching the full text from the article page went."""

    status: ExtractionStatus
    """"ok" (the page's text is the body), "failed" (no page or no text), "empty" (too little)."""
    reason: str | None = None
    """Why it was not "ok", in a few words."""


@dataclass
class Story:
    """One news story, as published on the output stream."""

    id: str
    feed: str | None = None
    url: str | None = None
    guid: str | None = None
    title: str | None = None
    published: str | None = None
    """ISO 8601 in UTC (``2016-02-20T12:00:00Z``) or None."""
    updated: str | None = None
    source: str | None = None
    """The outlet's name (from the feed's config, else the feed's own title)."""
    authors: list[str] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    highlights: list[str] = field(default_factory=list)
    dateline: str | None = None
    """Where and by whom the story was filed, e.g. "WASHINGTON (CNN)"; the dash is not kept."""
    body: list[str] = field(default_factory=list)
    """Plain-text paragraphs, no markup."""
    contributors: list[str] = field(default_factory=list)
    summary: str | None = None
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    fetched_at: str | None = None
    first_seen: str | None = None
    """When feedwatch first saw the story: the fetch time of the poll that first published it,
    kept on its ``updated`` events."""
    flags: list[str] = field(default_factory=list)
    """What feedwatch corrected or guessed, e.g. "date-without-zone" (see ``STORY_FLAGS``)."""
    extraction: Extraction | None = None
    """The article-page fetch for the full text, when one was made."""
    duplicate_of: str | None = None
    """The id of the earlier story this one is a near-duplicate of (another outlet's copy of
    the same wire story, or a lightly edited version), else None. See
    :mod:`worker.dedupe.neardup`."""
    cluster: str | None = None
    """The id of the near-duplicate group this story belongs to (the id of its first story),
    else None. The first story itself has None: group by ``cluster or id``."""
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The story as plain data, fields in schema order, ready for JSON."""
        plain: dict[str, Any] = _plain(self)
        return plain

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Story:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["media"] = [Media.from_dict(m) for m in values.get("media") or []]
        if isinstance(values.get("extraction"), dict):
            values["extraction"] = Extraction(**values["extraction"])
        return cls(**values)


_FIELD_NAMES = {cls: tuple(f.name for f in fields(cls)) for cls in (Story, Media, Extraction)}
_SCALARS = (str, int, float)


def _plain(value: Any) -> Any:
    """What ``dataclasses.asdict`` gives, without its deep copy of every string and number:
    only containers and dataclasses need new objects."""
    if value is None or isinstance(value, _SCALARS):
        return value
    names = _FIELD_NAMES.get(type(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, list | tuple):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value
