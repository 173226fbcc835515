"""Full text from the article page, for stories whose feed carries only a teaser.

Per feed, the config's ``full_text`` says when (:func:`wants_full_text`): ``auto`` when the
feed's body has fewer than :data:`MIN_WORDS` words, ``always``, or ``never``. Links to the
names reserved for examples and tests (RFC 2606/6761: ``example.com``, ``*.example``,
``*.test``, ``*.invalid``, ``localhost``) have no page to fetch and are never fetched.

The poll fetches the page of each *new* story that wants it (never of a story already
published) and hands it to :func:`add_full_text`, which extracts the article (:mod:`.extract`)
and merges it:

* the page's text becomes the body (with its dateline and contributors line taken off, as for
  feed text) when it has more words than the feed's; the feed's summary stays the summary;
* for everything else the feed's own fields win: the byline fills ``authors`` only when the
  feed named none, the page's date ``published`` only when the feed gave none, its lead image
  is added only when the story has no image;
* the outcome is recorded on the story as ``extraction``: ``ok``; ``empty`` (the page gave no
  more text than the feed) or ``failed`` (the page could not be fetched or read), both with
  the reason, and the feed's content is kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, tzinfo
from urllib.parse import urlsplit

from worker.exceptions import FetchError
from worker.fulltext.extract import Article, extract_article
from worker.normalize.dateline import split_dateline
from worker.normalize.dates import story_date
from worker.normalize.people import split_contributors, split_names
from worker.story import Extraction, Media, Story

MIN_WORDS = 80
"""``auto`` fetches the page when the feed's body has fewer words than this."""

# A word: a run of letters or digits, or one CJK character (those scripts write no spaces).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")

RESERVED_NAMES = frozenset({"example.com", "example.net", "example.org", "localhost"})
RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost", ".example.com",
                     ".example.net", ".example.org")

PageFetcher = Callable[[str], tuple[bytes, str]]
"""Fetches a page: URL in, (body, final URL) out; raises FetchError."""


def word_count(paragraphs: list[str]) -> int:
    return sum(len(_WORD.findall(p)) for p in paragraphs)


def wants_full_text(story: Story, mode: str) -> bool:
    """Whether the story's page should be fetched under the feed's ``full_text`` mode."""
    if mode == "never" or not story.url or _is_reserved(story.url):
        return False
    return mode == "always" or word_count(story.body) < MIN_WORDS


def _is_reserved(url: str) -> bool:
    host = (urlsplit(url).hostname or "").rstrip(".")
    return host in RESERVED_NAMES or host.endswith(RESERVED_SUFFIXES)


def add_full_text(
    story: Story, fetch_page: PageFetcher, *, zone: tzinfo, fetched_at: datetime,
) -> None:
    """Fetch the story's page, extract it and merge it into ``story`` (module docstring)."""
    assert story.url is not None
    try:
        page, final_url = fetch_page(story.url)
        article = extract_article(page, final_url)
    except FetchError as exc:
        story.extraction = Extraction("failed", f"page not fetched: {exc}")
        return
    except Exception as exc:  # a page the extractor chokes on costs its story nothing else
        story.extraction = Extraction("failed", f"page not readable: {type(exc).__name__}")
        return
    merge_article(story, article, zone=zone, fetched_at=fetched_at)


def merge_article(story: Story, article: Article, *, zone: tzinfo, fetched_at: datetime) -> None:
    """Put what the page adds into ``story``; the feed's own fields win (module docstring)."""
    dateline, paragraphs = split_dateline(article.paragraphs)
    body, contributors = split_contributors(paragraphs)
    if not body:
        story.extraction = Extraction("empty", "no main text found on the page")
        return
    if word_count(body) <= word_count(story.body):
        story.extraction = Extraction(
            "empty", f"the page's text ({word_count(body)} words) is no longer than the feed's")
        return
    story.body = body
    story.dateline = story.dateline or dateline
    story.contributors = story.contributors or contributors
    story.authors = story.authors or split_names([article.byline] if article.byline else [])
    if story.published is None and article.date:
        story.published, flags = story_date(None, article.date, zone=zone, fetched_at=fetched_at)
        story.flags = list(dict.fromkeys(story.flags + flags))
    if article.image and not any(m.type == "image" for m in story.media):
        story.media.append(Media(type="image", url=article.image))
    story.extraction = Extraction("ok")


__all__ = ["MIN_WORDS", "add_full_text", "merge_article", "wants_full_text"]
