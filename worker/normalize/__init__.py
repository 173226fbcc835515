"""Step 2 of the pipeline: one feedparser entry to one :class:`~worker.story.Story`.

One module per concern, as in Miniflux's ``internal/reader``: :mod:`.html` (markup to text),
:mod:`.urls` (canonical URLs), :mod:`.dates`, :mod:`.media`, :mod:`.people` (authors and
contributors), :mod:`.dateline`, and :mod:`.body` (which field is the story's text). This
module only puts them together. Pure: no network, no Redis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from worker.normalize.body import entry_text
from worker.normalize.dateline import split_dateline
from worker.normalize.dates import format_iso_utc, story_date
from worker.normalize.html import html_to_text
from worker.normalize.media import entry_media
from worker.normalize.people import entry_authors, split_contributors
from worker.normalize.urls import canonical_url, story_link
from worker.parse import ParsedFeed
from worker.story import Story
from worker.story.identity import story_id

__all__ = ["normalize_entry"]


def normalize_entry(
    entry: Any,
    feed: ParsedFeed,
    *,
    feed_key: str | None,
    source: str | None,
    tags: Sequence[str] = (),
    fetched_at: datetime,
    timezone: tzinfo = UTC,
) -> Story:
    """The story told by one entry of ``feed``.

    ``feed_key`` is the feed's name in the config (it scopes guids and ids), ``source`` the
    outlet's name from the config (else the feed's own title is used), ``tags`` the config's
    tags for the feed, added after the entry's own categories. ``timezone`` is the zone of the
    feed's dates that name none; a date after ``fetched_at`` becomes ``fetched_at`` (both
    flagged, see :mod:`worker.normalize.dates`).
    """
    base = _entry_base(entry, feed)
    title = html_to_text(_string(entry.get("title"))) or None
    guid = _string(entry.get("id")).strip() or None
    link = story_link(
        _string(entry.get("link")), original=_string(entry.get("feedburner_origlink")), guid=guid,
    )
    url = canonical_url(link, base)
    # dict.get, not entry.get: feedparser answers "updated" with "published" when there is
    # none, and the story should not claim an update that the feed does not.
    updated, updated_flags = story_date(
        dict.get(entry, "updated_parsed"), _string(dict.get(entry, "updated")),
        zone=timezone, fetched_at=fetched_at,
    )
    published, published_flags = story_date(
        dict.get(entry, "published_parsed"), _string(dict.get(entry, "published")),
        zone=timezone, fetched_at=fetched_at,
    )
    if published is None:  # Atom entries often carry <updated> only: the best date we have
        published, published_flags = updated, []
    text = entry_text(entry)
    dateline, paragraphs = split_dateline(text.body)
    body, contributors = split_contributors(paragraphs)
    media = entry_media(entry, base)
    if text.caption and media and media[0].type == "image" and media[0].caption is None:
        media[0].caption = text.caption
    return Story(
        id=story_id(feed_key, guid, url, fallback=(title or "") + ("" if url else published or "")),
        feed=feed_key,
        url=url,
        guid=guid,
        title=title,
        published=published,
        updated=updated,
        source=source or (html_to_text(feed.title) if feed.title else None) or None,
        authors=entry_authors(entry),
        media=media,
        highlights=text.highlights,
        dateline=dateline,
        body=body,
        contributors=contributors,
        summary=text.summary,
        language=_language(entry, feed),
        tags=_tags(entry, tags),
        fetched_at=format_iso_utc(fetched_at),
        first_seen=format_iso_utc(fetched_at),
        flags=list(dict.fromkeys(published_flags + updated_flags)),
    )


def _entry_base(entry: Any, feed: ParsedFeed) -> str | None:
    """The URL relative links of the entry resolve against: its xml:base, else the feed's."""
    for key in ("title_detail", "summary_detail"):
        detail = entry.get(key)
        if isinstance(detail, dict) and isinstance(detail.get("base"), str) and detail["base"]:
            return str(detail["base"])
    return feed.link


def _language(entry: Any, feed: ParsedFeed) -> str | None:
    for key in ("content", "summary_detail", "title_detail"):
        detail = entry.get(key)
        if isinstance(detail, list):
            detail = detail[0] if detail else None
        if isinstance(detail, dict) and isinstance(detail.get("language"), str):
            language = str(detail["language"]).strip()
            if language:
                return language
    return feed.language


def _tags(entry: Any, configured: Iterable[str]) -> list[str]:
    terms = [t.get("term") for t in entry.get("tags") or [] if isinstance(t, dict)]
    unique: dict[str, str] = {}
    for term in [*terms, *configured]:
        tag = html_to_text(term) if isinstance(term, str) else ""
        if tag:
            unique.setdefault(tag.casefold(), tag)
    return list(unique.values())


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""
