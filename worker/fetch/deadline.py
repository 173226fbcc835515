"""A fetch's time limit, held by every connect, read and write of its connections.

httpx's timeouts are per operation: a server that sends its headers a byte every few seconds
never trips a 30 s read timeout, and held a poll thread for as long as it liked. Within
:func:`limit`, each network operation of this thread gets at most the time left, and fails
with a timeout once none is. The limit is the thread's, not the connection's: a kept-alive
connection serves each fetch under that fetch's own limit.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
import typing
from collections.abc import Iterator

import httpcore

_held = threading.local()


@contextlib.contextmanager
def limit(until: float) -> Iterator[None]:
    """Hold this thread's network operations to ``until`` (a ``time.monotonic()`` value), or
    to the limit already held, when that is sooner."""
    before: float | None = getattr(_held, "until", None)
    _held.until = until if before is None else min(before, until)
    try:
        yield
    finally:
        _held.until = before


def _left(timeout: float | None, error: type[httpcore.TimeoutException]) -> float | None:
    until: float | None = getattr(_held, "until", None)
    if until is None:
        return timeout
    left = until - time.monotonic()
    if left <= 0:
        raise error("the fetch's time limit ran out")
    return left if timeout is None else min(timeout, left)


class LimitedBackend(httpcore.NetworkBackend):
    """Another network backend's connections, held to the time limit of the thread using them."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, _left(timeout, httpcore.ConnectTimeout), local_address, socket_options)
        return _LimitedStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_unix_socket(
            path, _left(timeout, httpcore.ConnectTimeout), socket_options)
        return _LimitedStream(stream)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _LimitedStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(
            ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout))
        return _LimitedStream(stream)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)
