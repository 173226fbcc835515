"""Images, videos and audio attached to a feed entry.

Sources, in this order: Media RSS ``media:content`` (also inside ``media:group``), RSS
enclosures, then ``media:thumbnail``. Each item's type comes from its ``medium`` attribute, else
its MIME type, else its file extension; anything that is not an image, a video or an audio
file (PDFs, players, torrents) is left out. The same URL given twice (a podcast's enclosure and
its ``media:content``, say) is one item with the details of both.

feedparser folds ``media:title`` into the entry's title and ``media:description`` into its
summary or content, so those are not available per item; ``media:credit`` is kept and given to
the first item. ``itunes:duration`` is the length of the episode, so it goes to the first audio
or video item that has no duration of its own.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import fields
from typing import Any
from urllib.parse import urljoin, urlsplit

from worker.normalize.html import html_to_text
from worker.storytext import format_duration, parse_duration
from worker.types import MEDIA_TYPES, Media, MediaType

MIME_TYPES: dict[str, MediaType] = {
    "application/x-shockwave-flash": "video",  # YouTube's player URL stands for the video
    "application/vnd.apple.mpegurl": "video",
    "application/x-mpegurl": "video",
    "application/dash+xml": "video",
    "application/ogg": "audio",
}
"""MIME types outside image/*, video/* and audio/* that still name a media type."""

UNINFORMATIVE_MIMES = frozenset({"application/octet-stream", "binary/octet-stream", "unknown"})
"""MIME types that say nothing, so that the file extension decides."""

EXTENSIONS: dict[str, MediaType] = {
    **dict.fromkeys(
        (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".bmp", ".svg", ".heic"), "image"
    ),
    **dict.fromkeys(
        (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".wmv", ".flv", ".m3u8"), "video"
    ),
    **dict.fromkeys(
        (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac", ".wma"), "audio"
    ),
}  # fmt: skip


def entry_media(entry: Any, base: str | None = None) -> list[Media]:
    """The media of a feedparser entry, deduplicated by URL, in document order."""
    found: dict[str, Media] = {}
    for item in _candidates(entry, base):
        if item.url is None:
            continue
        if item.url in found:
            _fill_missing(found[item.url], item)
        else:
            found[item.url] = item
    media = list(found.values())
    _apply_itunes_duration(media, entry.get("itunes_duration"))
    _apply_credit(media, entry.get("media_credit"))
    return media


def media_type(medium: str | None, mime: str | None, url: str | None) -> MediaType | None:
    """image, video or audio from a Media RSS ``medium``, a MIME type or a URL's extension."""
    medium = (medium or "").strip().lower()
    if medium in MEDIA_TYPES:
        return medium
    mime = (mime or "").split(";")[0].strip().lower()
    major = mime.partition("/")[0]
    if major in MEDIA_TYPES:
        return major
    if mime in MIME_TYPES:
        return MIME_TYPES[mime]
    if medium or (mime and mime not in UNINFORMATIVE_MIMES):
        return None  # told what it is, and it is not an image, a video or audio
    return EXTENSIONS.get(_extension(url))


def seconds(text: Any) -> int | None:
    """Whole seconds in a duration as feeds write it: "312", "312.5", "46:34", "1:02:05"."""
    if text is None:
        return None
    value = str(text).strip()
    parsed = parse_duration(value)
    if parsed is not None:
        return parsed
    try:
        number = float(value)
    except ValueError:
        return None
    return round(number) if 0 <= number < 1e9 else None


def _candidates(entry: Any, base: str | None) -> Iterator[Media]:
    for attrs in _dicts(entry.get("media_content")):
        item = _media(attrs, attrs.get("url"), base)
        if item is not None:
            item.duration = seconds(attrs.get("duration"))
            yield item
    for link in _dicts(entry.get("links")):
        if link.get("rel") == "enclosure":
            yield from _optional(_media(link, link.get("href"), base))
    for attrs in _dicts(entry.get("media_thumbnail")):
        yield from _optional(_media({**attrs, "medium": "image"}, attrs.get("url"), base))


def _media(attrs: Mapping[str, Any], url: Any, base: str | None) -> Media | None:
    absolute = _absolute(url, base)
    mime = _text(attrs.get("type"))
    kind = media_type(_text(attrs.get("medium")), mime, absolute)
    if kind is None:
        return None
    return Media(
        type=kind,
        url=absolute,
        mime=mime,
        width=_positive_int(attrs.get("width")),
        height=_positive_int(attrs.get("height")),
    )


def _apply_itunes_duration(media: list[Media], raw: Any) -> None:
    duration = seconds(raw)
    if duration is not None:
        for item in media:
            if item.type in ("audio", "video"):
                if item.duration is None:
                    item.duration = duration
                break
    for item in media:
        if item.duration is not None:
            item.duration_text = format_duration(item.duration)


def _apply_credit(media: list[Media], credits: Any) -> None:
    names = [html_to_text(_text(c.get("content")) or "") for c in _dicts(credits)]
    credit = ", ".join(dict.fromkeys(n for n in names if n))
    if media and credit and media[0].credit is None:
        media[0].credit = credit


def _fill_missing(kept: Media, other: Media) -> None:
    for field in fields(Media):
        if getattr(kept, field.name) is None:
            setattr(kept, field.name, getattr(other, field.name))


def _absolute(url: Any, base: str | None) -> str | None:
    text = _text(url)
    if text is None:
        return None
    try:
        return urljoin(base, text) if base else text
    except ValueError:
        return text


def _extension(url: str | None) -> str:
    if not url:
        return ""
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    return posixpath.splitext(path)[1].lower()


def _positive_int(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, Mapping)]


def _optional(item: Media | None) -> Iterator[Media]:
    if item is not None:
        yield item
