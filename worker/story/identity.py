"""A story's id: the same item of the same feed always gets the same one."""

from __future__ import annotations

import hashlib


def story_id(feed_key: str | None, guid: str | None, url: str | None, fallback: str = "") -> str:
    """A stable id for a story: the same item of the same feed always gets the same id.

    An item with a guid is known by it. An item without one is known by its link and
    ``fallback`` (its headline) together, so that items sharing one link, as feeds whose items
    all point to their home page do, still get an id each. Consumers use the id as the
    idempotency key of a story.
    """
    identity = guid or f"{url or ''}\n{fallback}"
    material = f"{feed_key or ''}\n{identity}".encode()
    return hashlib.blake2b(material, digest_size=16).hexdigest()
