"""The items of a feed's last document that were published (or found seen), so that the next
changed document is read without them (see :mod:`worker.parse.split`).

An item is known by the digest of its bytes: the same bytes under the same settings give the
same story, and that story went through the publish step already, so reading it again could
only find it seen. An item that changed has new bytes and is read again, and an update is
found as before. Items that failed, were empty or were dropped as near-duplicates are not
known, and are read again like new ones.

Kept in the feed's state hash (field :data:`worker.state.KNOWN_ITEMS_FIELD`): an 8-byte
fingerprint of the settings that shape the feed's stories, then 12 bytes per item: its digest
and the 4-byte digest of its story's URL. The URL digests let a new item that shares its link
with a known item be told apart as it would be if both were read (see
:func:`worker.dedupe.shared_urls`). A change of those settings changes the fingerprint, and
every item is read again once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from worker.config import FeedConfig, Settings
from worker.dedupe import URL_DIGEST_BYTES
from worker.parse.split import DIGEST_BYTES

FORMAT = b"known-items-1"
ITEM_BYTES, URL_BYTES = DIGEST_BYTES, URL_DIGEST_BYTES


def fingerprint(feed: FeedConfig, settings: Settings) -> bytes:
    """The digest of what, besides an item's bytes, decides its story and how it is published."""
    shaping = (feed.key, feed.url, feed.source, feed.tags, feed.timezone, feed.full_text,
               feed.updates, settings.near_duplicates(feed))
    return hashlib.blake2b(FORMAT + repr(shaping).encode(), digest_size=8).digest()


def pack(feed_fingerprint: bytes, items: Mapping[bytes, bytes]) -> bytes:
    """The stored form of known items (item digest → URL digest)."""
    return feed_fingerprint + b"".join(item + url for item, url in items.items())


def unpack(stored: bytes, feed_fingerprint: bytes) -> dict[bytes, bytes]:
    """The known items (item digest → URL digest), or none when they were known under other
    settings (or the record is damaged)."""
    record = ITEM_BYTES + URL_BYTES
    body = stored[len(feed_fingerprint):]
    if not stored.startswith(feed_fingerprint) or len(body) % record:
        return {}
    return {body[at:at + ITEM_BYTES]: body[at + ITEM_BYTES:at + record]
            for at in range(0, len(body), record)}
