"""Raw captures, compressed and addressed by the sha256 of their uncompressed bytes."""

from __future__ import annotations

import hashlib
import sqlite3
import zlib

CODEC = "zlib"
# Measured on the 308 corpus pages (232 kB of HTML each; bench/throughput.py, docs/BENCHMARKS.md):
#   zlib 1: 0.233 of raw, 2.0 ms/page   zlib 6: 0.196, 5.7 ms   zlib 9: 0.195, 8.5 ms
#   lzma 0: 0.180, 10.7 ms              bz2 9: 0.173, 24 ms
# The capture path packs in the extraction worker with ISA-L when installed (pipeline/workers.py
# pack: the same zlib stream, faster); this level is for the store's own packing.
# Compression competes with extraction for the same cores, so the cheapest level wins: level 6
# would cost ~5% of first-capture throughput for 16% smaller blobs (text and markdown stay
# uncompressed, so the whole database shrinks less). The codec is stored per blob, so blobs
# could be repacked at a higher level later, off the capture path.
_LEVEL = 1


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack(data: bytes) -> tuple[str, bytes]:
    """Compress outside any transaction; returns (codec, packed bytes)."""
    return CODEC, zlib.compress(data, _LEVEL)


def unpack(codec: str, packed: bytes) -> bytes:
    if codec == "zlib":
        return zlib.decompress(packed)
    if codec == "raw":
        return bytes(packed)
    raise ValueError(f"unknown blob codec {codec!r}")


def put(conn: sqlite3.Connection, digest: str, size: int, codec: str, packed: bytes) -> None:
    """Store once; an identical body already present is shared, not duplicated."""
    conn.execute(
        "INSERT OR IGNORE INTO blobs (sha256, size, codec, data) VALUES (?, ?, ?, ?)",
        (digest, size, codec, packed),
    )


def get(conn: sqlite3.Connection, digest: str) -> bytes | None:
    row = conn.execute("SELECT codec, data FROM blobs WHERE sha256 = ?", (digest,)).fetchone()
    return None if row is None else unpack(row[0], row[1])
