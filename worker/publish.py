"""Publishing stories to the output stream, each exactly once.

Checking the seen-marks and appending to the stream happen in one Lua script on the server
(``publish.lua``), so there is no moment at which a story is marked seen but not published,
or published but not marked: a crash, a re-poll, the same story in two feeds or two workers
racing all end with exactly one stream entry per story.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Sequence
from importlib import resources
from typing import Any

import redis

from worker import dedupe
from worker.types import Story

SEEN_PREFIX = "feedwatch:seen:"
_SCRIPT = resources.files("worker").joinpath("publish.lua").read_text(encoding="utf-8")


def seen_key(mark_digest: bytes) -> str:
    """The hash that holds a mark: 4,096 shards by the digest's first 12 bits."""
    return f"{SEEN_PREFIX}{mark_digest.hex()[:3]}"


def story_json(story: Story) -> str:
    return json.dumps(story.to_dict(), ensure_ascii=False, separators=(",", ":"))


class Publisher:
    """Publishes batches of stories to one stream."""

    def __init__(self, client: redis.Redis, stream: str, max_length: int) -> None:
        self._client = client
        self._stream = stream
        self._max_length = max_length
        self._script = client.register_script(_SCRIPT)

    def publish(self, stories: Sequence[Story], shared_urls: Collection[str] = ()) -> list[Story]:
        """Publish the stories not seen before; return those, in order."""
        if not stories:
            return []
        keys: list[str] = [self._stream]
        args: list[Any] = [self._max_length, int(time.time() // 86400), len(stories)]
        for story in stories:
            digests = [dedupe.digest(m) for m in dedupe.marks(story, shared_urls)]
            keys.extend(seen_key(d) for d in digests)
            args.append(len(digests))
            args.extend(digests)
            args.extend([story.id, story.feed or "", story_json(story)])
        results = self._script(keys=keys, args=args)
        return [story for story, entry in zip(stories, results, strict=True) if entry]
