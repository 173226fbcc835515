"""Which marks identify a story, so that each story is published once.

A story is known by up to two marks: its canonical URL and its (feed, guid). It is new only
when neither mark was seen before; :mod:`worker.publish` checks and sets both on the server in
one atomic step. Marks are stored as 64-bit digests (see :func:`digest`).

A URL only identifies a story when it is specific to it. Feeds whose items all link to the
site's home page, or share one link, would otherwise collapse into one story, so
:func:`shared_urls` finds such links and :func:`marks` leaves them out.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Iterable
from urllib.parse import urlsplit

from worker.story import Story


def digest(mark: str) -> bytes:
    """The 8-byte digest under which a mark is remembered."""
    return hashlib.blake2b(mark.encode(), digest_size=8).digest()


def shared_urls(
    urls: Iterable[str | None], home: str | None = None, elsewhere: Collection[bytes] = (),
) -> set[str]:
    """URLs of one feed document that cannot tell its items apart.

    Those are links used by more than one item, the feed's own home page, and bare site roots.
    ``elsewhere`` holds the :func:`url_digest` of the links of the document's other items, not
    read this time (see :mod:`worker.parse.known_items`): a link among them is used twice too.
    """
    counts = Counter(u for u in urls if u)
    shared = {u for u, n in counts.items()
              if n > 1 or _is_site_root(u) or (elsewhere and url_digest(u) in elsewhere)}
    if home:
        shared.update(u for u in counts if u.rstrip("/") == home.rstrip("/"))
    return shared


URL_DIGEST_BYTES = 4


def url_digest(url: str | None) -> bytes:
    """A short digest of a story's URL, to tell whether two items share their link."""
    return hashlib.blake2b((url or "").encode(), digest_size=URL_DIGEST_BYTES).digest()


def marks(story: Story, shared: Collection[str] = ()) -> list[str]:
    """The marks that identify ``story``: its URL unless shared, its (feed, guid), and for an
    item without guid its id."""
    found = []
    if story.url and story.url not in shared:
        found.append(f"u:{story.url}")
    if story.guid:
        found.append(f"g:{story.feed or ''}\n{story.guid}")
    else:
        # Always, not only when the URL is shared: an item whose link becomes shared later
        # (a second item links to the same page) must still be known by a mark it had.
        found.append(f"i:{story.id}")
    return found


def _is_site_root(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query
