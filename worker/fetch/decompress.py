"""A body's Content-Encoding undone in bounded steps, so that a compression bomb stops at the cap.

httpx decodes each network read whole: one read of 64 KiB of brotli can hold gigabytes (a
102-byte body became 64 MiB), all of it in memory before a size check could see it. The
decoders here give at most about :data:`PIECE` bytes a step, and :func:`worker.fetch.fetch`
checks the body cap between steps.

The codings are httpx's: gzip, deflate (zlib-wrapped, or raw as some servers send it) and br;
a list of codings is undone last first, and a coding nobody knows is passed over, as httpx
does. A gzip body of several members (RFC 1952) is read whole, where httpx read the first. A
stream that stops before its end gives what it holds, as httpx did: some servers leave out
gzip's checksum trailer from bodies otherwise whole, and a feed cut short is caught when it is
parsed (:mod:`worker.parse.partial` holds back an item cut in two).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Protocol

import brotli

from worker.exceptions import BrokenEncoding

PIECE = 64 * 1024
"""The most a decoder gives in one step (brotli may go a little past it)."""
GZIP_MAGIC = b"\x1f\x8b"


class Decoder(Protocol):
    def decode(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of ``data``, in pieces of at most about :data:`PIECE`."""
        ...

    def flush(self) -> Iterator[bytes]:
        """What is left once the body has ended."""
        ...


def for_encoding(content_encoding: str) -> Decoder:
    """The decoder for a Content-Encoding header's value ("" for none)."""
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    decoders = [_DECODERS[c]() for c in codings if c in _DECODERS]
    if not decoders:
        return _Identity()
    return decoders[0] if len(decoders) == 1 else _Chain(list(reversed(decoders)))


class _Identity:
    def decode(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    def __init__(self, wbits: int, name: str) -> None:
        self._wbits = wbits
        self._inflate = zlib.decompressobj(wbits)
        self._name = name
        self._members = 1

    def decode(self, data: bytes) -> Iterator[bytes]:
        pending = data
        try:
            while True:
                if self._inflate.eof:
                    rest = self._inflate.unused_data + pending
                    if not (self._wbits & 16 and rest.startswith(GZIP_MAGIC)):
                        return  # bytes after the stream are passed over, as httpx does
                    self._inflate = zlib.decompressobj(self._wbits)  # another gzip member
                    self._members += 1
                    pending = rest
                out = self._inflate.decompress(pending, PIECE)
                pending = self._inflate.unconsumed_tail
                if out:
                    yield out
                if not self._inflate.eof and not pending and len(out) < PIECE:
                    return  # (a full piece may leave output behind)
        except zlib.error as exc:
            if self._members > 1:
                return  # not a member after all: bytes after the stream, passed over
            raise BrokenEncoding(f"the body's {self._name} encoding is broken: {exc}") from exc

    def flush(self) -> Iterator[bytes]:
        left = self._inflate.flush()
        if left:
            yield left


class _Gzip(_Zlib):
    """gzip, of one member or several (RFC 1952 lets a file hold several, read one after the
    other: httpx read the first only)."""

    def __init__(self) -> None:
        super().__init__(zlib.MAX_WBITS | 16, "gzip")


class _Deflate:
    """zlib-wrapped deflate, as the standard says, or raw deflate, as some servers send it:
    told apart by the first two bytes."""

    def __init__(self) -> None:
        self._decoder: _Zlib | None = None
        self._head = b""

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._decoder is not None:
            return self._decoder.decode(data)
        self._head += data
        if len(self._head) < 2:
            return iter(())
        return self._start().decode(self._head)

    def flush(self) -> Iterator[bytes]:
        if self._decoder is None:
            return self._start().decode(self._head) if self._head else iter(())
        return self._decoder.flush()

    def _start(self) -> _Zlib:
        wbits = zlib.MAX_WBITS if _zlib_header(self._head) else -zlib.MAX_WBITS
        self._decoder = _Zlib(wbits, "deflate")
        return self._decoder


def _zlib_header(data: bytes) -> bool:
    """Whether a deflate body starts with a zlib header (RFC 1950: method 8, checksum)."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


class _Brotli:
    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def decode(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._decompressor.process(data, output_buffer_limit=PIECE)
            while out:  # brotli holds back what did not fit: ask until it gives nothing
                yield out
                out = self._decompressor.process(b"", output_buffer_limit=PIECE)
        except brotli.error as exc:
            raise BrokenEncoding(f"the body's br encoding is broken: {exc}") from exc

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Chain:
    """Several codings: each decoder's pieces go through the next one."""

    def __init__(self, decoders: list[Decoder]) -> None:
        self._decoders = decoders

    def decode(self, data: bytes) -> Iterator[bytes]:
        pieces: Iterator[bytes] = iter([data])
        for decoder in self._decoders:
            pieces = _through(decoder, pieces, flush=False)
        return pieces

    def flush(self) -> Iterator[bytes]:
        pieces: Iterator[bytes] = iter(())
        for decoder in self._decoders:
            pieces = _through(decoder, pieces, flush=True)
        return pieces


def _through(decoder: Decoder, pieces: Iterator[bytes], *, flush: bool) -> Iterator[bytes]:
    """``pieces`` decoded, then, with ``flush``, what ``decoder`` still holds."""
    for piece in pieces:
        yield from decoder.decode(piece)
    if flush:
        yield from decoder.flush()


_DECODERS: dict[str, type[Decoder]] = {
    "gzip": _Gzip, "x-gzip": _Gzip, "deflate": _Deflate, "br": _Brotli}
