"""Raw captures, compressed and addressed by the sha256 of their uncompressed bytes."""

from __future__ import annotations

import hashlib
import sqlite3
import zlib

CODEC = "zlib"
_LEVEL = 6  # level 9 costs ~2x the CPU for ~1% smaller HTML


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
