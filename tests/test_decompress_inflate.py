"""gzip/deflate decoding edge cases, whichever inflater (ISA-L or zlib) is installed."""

from __future__ import annotations

import gzip
import zlib

import pytest

from pipeline.decompress import CHUNK, BodyDecoder, DecodeFailed, DecodeLimit

PAGE = b"<html><body>" + b"<p>Rainfall in the valley doubled.</p>" * 4000 + b"</body></html>"


def decode(codings, data: bytes, limit: int = 10 << 20, piece: int = 1000) -> bytes:
    decoder = BodyDecoder(codings, limit)
    out = []
    for start in range(0, len(data), piece):  # fed in network-sized pieces
        out.extend(decoder.feed(data[start:start + piece]))
    out.extend(decoder.finish())
    assert all(len(p) <= CHUNK for p in out)
    return b"".join(out)


def test_two_gzip_members_and_trailing_zeros_decode_to_both():
    data = gzip.compress(PAGE[:5000]) + gzip.compress(PAGE[5000:]) + b"\x00\x00"
    assert decode(["gzip"], data) == PAGE


def test_zlib_wrapped_and_raw_deflate_both_decode():
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert decode(["deflate"], zlib.compress(PAGE)) == PAGE
    assert decode(["deflate"], raw.compress(PAGE) + raw.flush()) == PAGE


def test_truncated_and_corrupt_gzip_fail_as_decoding_errors():
    data = gzip.compress(PAGE)
    with pytest.raises(DecodeFailed):
        decode(["gzip"], data[: len(data) // 2])
    with pytest.raises(DecodeFailed):
        decode(["gzip"], data[:10] + bytes(b ^ 0x5A for b in data[10:200]) + data[200:])


def test_the_cap_holds_for_a_gzip_bomb_fed_in_one_piece():
    bomb = gzip.compress(b"\x00" * (64 << 20), 9)
    with pytest.raises(DecodeLimit):
        decode(["gzip"], bomb, limit=1 << 20, piece=len(bomb))
