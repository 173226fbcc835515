"""Images, videos and audio attached to a feed entry.

Sources, in this order: Media RSS ``media:content``, RSS enclosures, ``media:thumbnail`` and
``itunes:image``, then the ``<img>`` elements of the entry's HTML (alt text as the caption;
tracking pixels, ad-network images and emoji left out). The ``media:content`` items of one
``media:group`` are renditions of one medium (sizes, formats): only one is kept, the one marked
``isDefault``, else the largest, else the first. Each item's type comes from its ``medium``
attribute, else its MIME type, else its file extension; anything that is not an image, a video
or an audio file (PDFs, players, torrents) is left out. The same URL given twice (a podcast's
enclosure and its ``media:content``, say) is one item with the details of both.

feedparser folds ``media:title`` into the entry's title, so it is not available per item;
``media:description`` becomes the lead image's caption (see :mod:`worker.normalize.body`);
``media:credit`` is kept and given to the first item. ``itunes:duration`` is the length of the
episode, so it goes to the first audio or video item that has no duration of its own.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import fields
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from worker.normalize.html import html_to_text
from worker.parse.feedparser_adapter import MEDIA_GROUP_KEY
from worker.story import MEDIA_TYPES, Media, MediaType
from worker.story.durations import format_duration, parse_duration

MIME_TYPES: dict[str, MediaType] = {
    "application/x-shockwave-flash": "video",  # YouTube's player URL stands for the video
    "application/vnd.apple.mpegurl": "video",
    "application/x-mpegurl": "video",
    "application/dash+xml": "video",
    "application/ogg": "audio",
}
"""MIME types outside image/*, video/* and audio/* that still name a media type."""

MAX_PIXEL_SIZE = 2
"""An ``<img>`` this many pixels wide or high, or less, is a tracking pixel."""

NOT_PICTURE_HOSTS = (
    "feedsportal.com", "feeds.feedburner.com", "feeds.wordpress.com", "pixel.wp.com",
    "stats.wordpress.com", "doubleclick.net", "pheedo.com", "rss.slashdot.org",
)
"""Hosts of ad networks and tracking pixels found in feed HTML."""

NOT_PICTURE_PATHS = (
    "/images/core/emoji/", "/wp-includes/images/smilies/", "piwik.php", "matomo.php", "idsite=",
    "/~c/", "/~a/", "/~f/", "/~r/",
)
"""WordPress's emoji images, Matomo's tracking pixel, FeedBurner's ads and share buttons."""

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
    for attrs in _one_per_group(_dicts(entry.get("media_content"))):
        item = _media(attrs, attrs.get("url"), base)
        if item is not None:
            item.duration = seconds(attrs.get("duration"))
            yield item
    for link in _dicts(entry.get("links")):
        if link.get("rel") == "enclosure":
            yield from _optional(_media(link, link.get("href"), base))
    for attrs in _dicts(entry.get("media_thumbnail")):
        yield from _optional(_media({**attrs, "medium": "image"}, attrs.get("url"), base))
    itunes_image = entry.get("image")
    if isinstance(itunes_image, Mapping):
        yield from _optional(_media({"medium": "image"}, itunes_image.get("href"), base))
    for attrs in _content_images(entry):
        image = _media({**attrs, "medium": "image"}, attrs.get("src"), base)
        if image is not None and _is_picture(image):
            image.caption = html_to_text(attrs.get("alt") or "") or None
            yield image


def _content_images(entry: Any) -> Iterator[Mapping[str, Any]]:
    """The attributes of every ``<img>`` in the entry's HTML content and summary."""
    details = [*_dicts(entry.get("content")), entry.get("summary_detail")]
    for detail in details:
        if isinstance(detail, Mapping) and "html" in str(detail.get("type", "")):
            value = detail.get("value")
            if isinstance(value, str) and "<img" in value.lower():
                collector = _ImageCollector()
                collector.feed(value)
                collector.close()
                yield from collector.images


class _ImageCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))


def _is_picture(image: Media) -> bool:
    """Not a tracking pixel, an ad network's image or an emoji."""
    if (image.width or 99) <= MAX_PIXEL_SIZE or (image.height or 99) <= MAX_PIXEL_SIZE:
        return False
    url = image.url or ""
    if not url.startswith(("http://", "https://")):
        return False
    host = urlsplit(url).hostname or ""
    return not any(host == h or host.endswith("." + h) for h in NOT_PICTURE_HOSTS) and not any(
        part in url for part in NOT_PICTURE_PATHS)


def _one_per_group(contents: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``contents`` with each media:group's renditions reduced to the best one, in order."""
    groups: dict[Any, list[Mapping[str, Any]]] = {}
    for attrs in contents:
        groups.setdefault(attrs.get(MEDIA_GROUP_KEY) or id(attrs), []).append(attrs)
    return [max(renditions, key=_rendition_rank) for renditions in groups.values()]


def _rendition_rank(attrs: Mapping[str, Any]) -> tuple[bool, int]:
    """isDefault first, then the larger picture; ties keep the first (``max`` is stable)."""
    default = str(attrs.get("isdefault", "")).strip().lower() == "true"
    area = (_positive_int(attrs.get("width")) or 0) * (_positive_int(attrs.get("height")) or 0)
    return default, area


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
