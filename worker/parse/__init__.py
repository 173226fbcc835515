"""Step 1 of the pipeline: response bytes to a parsed feed (feedparser entries and metadata).

Pure: no network, no Redis. The next step, :mod:`worker.normalize`, turns each entry into a
:class:`~worker.story.Story`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from worker.exceptions import ParseError
from worker.hints import feed_minimum
from worker.parse.feedparser_adapter import not_a_feed_reason, problem_of, run_feedparser
from worker.parse.jsonfeed import looks_like_json, read_json_feed
from worker.parse.plain import read_plain

__all__ = ["ParsedFeed", "from_feedparser", "parse_feed"]


@dataclass
class ParsedFeed:
    """A feed document as feedparser read it, with what the normalizer needs of its channel."""

    title: str | None
    link: str | None
    """The feed's home page (the channel link)."""
    language: str | None
    version: str
    """feedparser's name for the format, e.g. "rss20", "atom10", "rss10"."""
    entries: list[Any] = field(default_factory=list)
    """feedparser entries (FeedParserDict)."""
    problem: str | None = None
    """What was wrong with a malformed feed that still yielded entries, in a few words."""
    poll_minimum: tuple[float, str] | None = None
    """The shortest poll interval the document asks for (RSS <ttl>, sy:updatePeriod), in
    seconds, with where it says so; see :func:`worker.hints.feed_minimum`."""


def parse_feed(content: bytes, *, url: str, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse a fetched feed body.

    ``url`` is where it was fetched from (relative links resolve against it); ``headers`` are
    the response headers (their charset counts, see :mod:`worker.parse.feedparser_adapter`).
    A valid feed without items gives a ParsedFeed without entries; a malformed feed that still
    yields entries gives them, with ``problem`` set. A body that starts like JSON is read as a
    JSON Feed (:mod:`worker.parse.jsonfeed`), whatever the URL or the Content-Type say; a plain
    RSS 2.0 or Atom 1.0 document is read by :mod:`worker.parse.plain`, which gives what
    feedparser gives, at a fraction of its cost; any other body goes to feedparser, which
    tells RSS, RDF and Atom apart by the root element.

    Raises :class:`ParseError` when the body yields no entries and is no valid feed: "empty
    body", "not a feed: looks like an HTML page", "broken XML: <what> at line N", ...
    """
    if not content.strip():
        raise ParseError("empty body")
    if looks_like_json(content):
        return ParsedFeed(**read_json_feed(content))
    result = read_plain(content, url, headers)
    return from_feedparser(content, run_feedparser(content, url, headers) if result is None
                           else result)


def from_feedparser(content: bytes, result: Any) -> ParsedFeed:
    """The ParsedFeed of feedparser's ``result`` for ``content`` (or of a result shaped like
    it, see :mod:`worker.parse.plain`); raises :class:`ParseError` as :func:`parse_feed`."""
    if not result.entries:
        reason = not_a_feed_reason(content, result)
        if reason is not None:
            raise ParseError(reason)
    channel = result.feed
    return ParsedFeed(
        title=_text(channel.get("title")),
        link=_text(channel.get("link")),
        language=_text(channel.get("language")) or _xml_lang(channel),
        version=result.get("version") or "",
        entries=list(result.entries),
        problem=problem_of(content, result),
        poll_minimum=feed_minimum(channel),
    )


def _xml_lang(channel: Any) -> str | None:
    """The language the document declares with xml:lang, for feeds without <language>."""
    detail = channel.get("title_detail")
    return _text(detail.get("language")) if isinstance(detail, dict) else None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
