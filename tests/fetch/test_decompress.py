"""Content-Encoding undone in bounded steps (worker/fetch/decompress.py): what comes out is the body
the server compressed, whatever the network's chunks, and no step gives more than a piece."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.exceptions import BrokenEncoding
from worker.fetch import decompress

ZEROS_64MIB_BR = Path(__file__).parent.parent / "data" / "zeros-64MiB.br"
"""106 bytes of brotli that decode to 64 MiB of zero bytes."""


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


ENCODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "identity": lambda data: data,
}


def _decode(coding: str, chunks: list[bytes]) -> list[bytes]:
    decoder = decompress.for_encoding(coding)
    pieces = [piece for chunk in chunks for piece in decoder.decode(chunk)]
    return pieces + list(decoder.flush())


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    at = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *at], [*at, len(data)], strict=True)]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(ENCODERS)), st.binary(max_size=3000),
       st.lists(st.integers(0, 4000), max_size=6))
def test_any_body_in_any_chunks_decodes_to_what_was_compressed(
        coding: str, body: bytes, cuts: list[int]) -> None:
    encoded = ENCODERS[coding](body)
    assert b"".join(_decode(coding, _split(encoded, cuts))) == body


@pytest.mark.parametrize("coding, encoded", [
    pytest.param("gzip", gzip.compress(b"\0" * (8 << 20)), id="gzip"),
    pytest.param("deflate", zlib.compress(b"\0" * (8 << 20)), id="deflate"),
    pytest.param("br", ZEROS_64MIB_BR.read_bytes(), id="br"),
])
def test_a_bomb_comes_out_a_piece_at_a_time(coding: str, encoded: bytes) -> None:
    pieces = _decode(coding, [encoded])
    assert sum(map(len, pieces)) >= 8 << 20
    assert max(map(len, pieces)) <= 2 * decompress.PIECE


def test_raw_deflate_as_some_servers_send_it_is_read_too() -> None:
    body = b"<rss>" + b"raw deflate, no zlib header " * 100 + b"</rss>"
    assert b"".join(_decode("deflate", [_raw_deflate(body)])) == body


def test_several_codings_are_undone_last_first_and_unknown_ones_passed_over() -> None:
    body = b"<feed>" + b"twice compressed " * 200 + b"</feed>"
    assert b"".join(_decode("gzip, br", [brotli.compress(gzip.compress(body))])) == body
    assert b"".join(_decode("x-unknown", [body])) == body
    assert b"".join(_decode("", [body])) == body


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_a_broken_encoding_is_a_clear_error(coding: str) -> None:
    with pytest.raises(BrokenEncoding, match=f"the body's {coding} encoding is broken"):
        _decode(coding, [b"\x1f\x8b\x08 this is not compressed at all" * 3])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=800), min_size=2, max_size=4),
       st.lists(st.integers(0, 4000), max_size=6))
def test_a_gzip_body_of_several_members_decodes_whole(
        members: list[bytes], cuts: list[int]) -> None:
    """RFC 1952 lets a gzip file hold several members, one after the other: all are read."""
    encoded = b"".join(gzip.compress(member) for member in members)
    assert b"".join(_decode("gzip", _split(encoded, cuts))) == b"".join(members)


@pytest.mark.parametrize("trailer", [0, 4], ids=["no trailer", "half a trailer"])
def test_a_gzip_body_without_its_checksum_trailer_is_read_whole(trailer: int) -> None:
    """Some servers leave out the 8 bytes after the data (CRC and size); the body is whole."""
    body = b"<rss>" + b"a story served by a careless server " * 40 + b"</rss>"
    encoded = gzip.compress(body)[:-8 + trailer]
    assert b"".join(_decode("gzip", [encoded])) == body


def test_bytes_after_a_gzip_stream_that_only_look_like_a_member_are_passed_over() -> None:
    body = b"<rss>then junk</rss>"
    assert b"".join(_decode("gzip", [gzip.compress(body) + b"\x1f\x8b junk"])) == body


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_an_empty_body_is_empty_whatever_its_coding_says(coding: str) -> None:
    assert _decode(coding, []) == []


def test_bytes_after_a_gzip_stream_are_passed_over() -> None:
    body = b"<rss>then some padding</rss>"
    assert b"".join(_decode("gzip", [gzip.compress(body) + b"\0\0\0\0"])) == body
