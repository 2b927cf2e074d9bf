"""The raw body is packed in the worker in a form the store reads back unchanged."""

from __future__ import annotations

import gzip
from pathlib import Path

from archive import blobs
from pipeline.workers import pack

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "aeb" / "html"


def test_packed_corpus_pages_unpack_to_the_same_bytes_and_are_small():
    pages = [gzip.decompress(p.read_bytes()) for p in sorted(CORPUS.glob("*.html.gz"))[:20]]
    assert pages
    for raw in pages:
        codec, packed = pack(raw)
        assert codec == blobs.CODEC
        assert blobs.unpack(codec, packed) == raw
    total = sum(len(pack(raw)[1]) for raw in pages)
    assert total < 0.3 * sum(map(len, pages))  # HTML packs to about a quarter


def test_empty_and_binary_bodies_round_trip():
    for raw in (b"", bytes(range(256)) * 100):
        assert blobs.unpack(*pack(raw)) == raw
