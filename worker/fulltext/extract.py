"""An article page's main text, byline, date and lead image, with trafilatura.

trafilatura is the field's standard for main-text extraction (the best scores in the
ScrapingHub and Bevendorff et al. benchmarks, maintained, pure Python on lxml). Pure: the page
comes in as bytes, nothing is fetched here.

trafilatura is imported by the first extraction, not with this module: most feeds carry their
whole text, and a worker process whose polls never fetch a page never loads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from worker.normalize.html import clean_text


@dataclass
class Article:
    """What the page says about its story."""

    paragraphs: list[str] = field(default_factory=list)
    byline: str | None = None
    date: str | None = None
    """As the page gives it, usually ``YYYY-MM-DD``."""
    image: str | None = None


def extract_article(page: bytes, url: str) -> Article:
    """The main text and metadata of an HTML page; an empty :class:`Article` when it has none.

    The page's own encoding declaration decides how its bytes are read (trafilatura looks at
    the ``<meta charset>`` and falls back on detection).
    """
    from trafilatura import bare_extraction

    document = bare_extraction(
        page, url=url, with_metadata=True, include_comments=False, include_tables=False,
        include_images=False,
    )
    if document is None:
        return Article()
    text = getattr(document, "text", None) or ""
    paragraphs = [p for p in (clean_text(line) for line in text.split("\n")) if p]
    return Article(
        paragraphs=paragraphs,
        byline=_field(document, "author"),
        date=_field(document, "date"),
        image=_field(document, "image"),
    )


def _field(document: object, name: str) -> str | None:
    value = getattr(document, name, None)
    return value.strip() or None if isinstance(value, str) else None
