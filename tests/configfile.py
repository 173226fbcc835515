"""A config file on disk, rewritten as a user edits it, for tests of a running worker."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import yaml

Feeds = list[dict[str, Any]]


class Config:
    """A config file on disk, rewritten as a user edits it."""

    def __init__(self, path: Path, redis_url: str) -> None:
        self.path = path
        self.redis_url = redis_url

    def write(self, feeds: Feeds, **top: Any) -> None:
        before = self.path.stat().st_mtime if self.path.exists() else time.time()
        self.path.write_text(yaml.safe_dump({
            "redis_url": self.redis_url, "stream": "test:stories", "allow_private_networks": True,
            "per_host": {"min_spacing": 0}, "defaults": {"timeout": 1}, "feeds": feeds, **top,
        }), encoding="utf-8")
        os.utime(self.path, (before + 10, before + 10))  # seen as changed within one second
