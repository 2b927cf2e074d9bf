"""The first-capture fast paths give the same results as the plain ones."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timezone

from archive import blobs
from archive.models import Content, FetchInfo, Snapshot
from archive.normalize import field_hashes
from archive.store import Archive
from pipeline.extract import extract
from pipeline.workers import ExtractorPool

T0 = datetime(2025, 1, 20, 9, 0, tzinfo=timezone.utc)


def test_track_many_matches_track_resolve_page(tmp_path):
    urls = ["https://a.example/1", "https://a.example/2", "https://a.example/1", "https://alias.example/x"]
    with Archive(tmp_path / "one.db") as one, Archive(tmp_path / "many.db") as many:
        for store in (one, many):
            store.track("https://a.example/2", now=T0)
            store.add_alias("https://alias.example/x", "https://a.example/2")
            store.remove("https://a.example/2")
        expected = []
        for url in urls:
            one.track(url, source="cli", now=T0)
            expected.append(one.page(one.resolve(url)))
        expected = list({p.url: p for p in expected}.values())
        got = many.track_many(urls, source="cli", now=T0)
    assert [(p.url, p.state, p.next_check_at) for p in got] == [
        (p.url, p.state, p.next_check_at) for p in expected
    ]
    assert [p.url for p in got] == ["https://a.example/1", "https://a.example/2"]
    assert got[1].state == "active"  # re-adding a removed page by hand brings it back


def test_save_with_precomputed_pieces_stores_the_same_version(tmp_path):
    raw = b"<html><p>The council approved the bridge.</p></html>"
    content = Content(title="Bridge", text="The council approved the bridge.")
    snapshot = Snapshot(url="https://a.example/1", content=content,
                        fetch=FetchInfo(started_at=T0, status=200), raw_html=raw)
    rows = []
    for name, extra in (("plain", {}), ("fast", {"packed": blobs.pack(raw),
                                                 "raw_sha256": blobs.sha256_hex(raw),
                                                 "hashes": field_hashes(content)})):
        path = tmp_path / f"{name}.db"
        with Archive(path) as store:
            store.track(snapshot.url, now=T0)
            assert store.save(snapshot, **extra).version == 1
            assert store.raw_html(blobs.sha256_hex(raw)) == raw
        with sqlite3.connect(path) as conn:
            rows.append(conn.execute(
                "SELECT title, text, content_hash, field_hashes, raw_sha256 FROM versions"
            ).fetchall())
    assert rows[0] == rows[1]


def test_prepare_in_the_worker_equals_extract_in_the_parent():
    paragraphs = "".join(
        f"<p>Paragraph {i}: the café owners in Zürich said the naïve plan would fail.</p>"
        for i in range(8)
    )
    html = (f"<html><head><meta charset='windows-1252'><title>Café plan</title></head>"
            f"<body><article><h1>Café plan</h1>{paragraphs}</article></body></html>")
    raw = html.encode("cp1252")
    url = "https://a.example/cafe"
    pool = ExtractorPool(1, 30.0)
    try:
        prepared = asyncio.run(pool.prepare(raw, "windows-1252", url=url, final_url=url))
    finally:
        pool.close()
    direct = extract(html, url=url, final_url=url)
    assert prepared.extracted == direct
    assert "Zürich" in prepared.extracted.text
    assert blobs.unpack(*prepared.packed) == raw
