"""A feed's HTTP cache validators: what a server said last time, to ask "only if changed".

Shared by the fetch stage, which sends and reads them, and the feed's saved state, which keeps
them between polls; apart from both, so that reading a feed's state (as a beat does) loads no
HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Validators:
    """What the server told us last time, to ask it "only if changed"."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        sent = {}
        if self.etag:
            sent["If-None-Match"] = self.etag
        if self.last_modified:
            sent["If-Modified-Since"] = self.last_modified
        return sent
