"""Compressed bytes equal to the last body's are not decoded again; every cap still holds.

Real loopback servers (tests.faultserver) and real sqlite files.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import sqlite3
from dataclasses import replace
from datetime import datetime, timezone

from archive.models import Content, FetchInfo, Snapshot
from archive.store import Archive
from pipeline.fetch import Fetcher
from pipeline.models import Target
from pipeline.settings import FetchSettings
from tests.faultserver import fault_server  # noqa: F401  (pytest fixture)

SETTINGS = FetchSettings(allow_private_networks=True, timeout=3.0, read_timeout=2.0)
HTML = ("<html><head><title>Harbour</title></head><body>"
        + "<p>The council voted on the ferry timetable.</p>" * 300 + "</body></html>").encode()
T0 = datetime(2025, 1, 20, 9, 0, tzinfo=timezone.utc)


def fetch(target: Target, settings: FetchSettings = SETTINGS):
    async def go():
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(target)

    return asyncio.run(go())


def serve(server, path: str, packed: bytes, coding: str = "gzip") -> str:
    server.route(path, lambda ex: ex.respond(200, packed, [("Content-Encoding", coding)]))
    return server.url(path)


def test_same_compressed_bytes_give_the_last_body_without_decoding(fault_server):
    url = serve(fault_server, "/p", gzip.compress(HTML, mtime=0))
    first = fetch(Target(url))
    assert first.body == HTML and first.wire_sha256 is not None
    again = fetch(Target(url, last_body_sha256=first.body_sha256,
                         last_wire_sha256=first.wire_sha256))
    assert again.body == b"" and again.body_sha256 == first.body_sha256
    assert again.wire_sha256 == first.wire_sha256


def test_other_bytes_for_the_same_body_are_decoded_and_hashed(fault_server):
    url = serve(fault_server, "/p", gzip.compress(HTML, compresslevel=1, mtime=0))
    level9 = hashlib.sha256(b"gzip\n" + gzip.compress(HTML, compresslevel=9, mtime=0)).hexdigest()
    result = fetch(Target(url, last_body_sha256=hashlib.sha256(HTML).hexdigest(),
                          last_wire_sha256=level9))
    assert result.body == HTML and result.wire_sha256 != level9


def test_the_wire_hash_names_the_coding_too(fault_server):
    packed = gzip.compress(HTML, mtime=0)
    as_gzip = fetch(Target(serve(fault_server, "/g", packed)))
    as_xgzip = fetch(Target(serve(fault_server, "/x", packed, coding="x-gzip")))
    assert as_gzip.body == as_xgzip.body == HTML
    assert as_gzip.wire_sha256 != as_xgzip.wire_sha256


def test_an_uncompressed_body_has_no_wire_hash_and_is_always_hashed(fault_server):
    fault_server.route("/plain", lambda ex: ex.respond(200, HTML))
    result = fetch(Target(fault_server.url("/plain"), last_body_sha256="0" * 64,
                          last_wire_sha256="0" * 64))
    assert result.body == HTML and result.wire_sha256 is None


def test_caps_hold_when_the_bytes_do_not_match(fault_server):
    bomb = gzip.compress(b"<html>" + b"a" * 4_000_000, mtime=0)  # 4 MB from ~4 kB
    url = serve(fault_server, "/bomb", bomb)
    target = Target(url, last_body_sha256="0" * 64, last_wire_sha256="1" * 64)
    try:
        fetch(target, replace(SETTINGS, max_bytes=1_000_000))
    except Exception as exc:  # noqa: BLE001 - the kind is what matters
        assert getattr(exc, "kind", None) == "too_large"
    else:
        raise AssertionError("a 4 MB body passed a 1 MB cap")


def test_corrupt_bytes_that_do_not_match_still_fail_as_decoding(fault_server):
    url = serve(fault_server, "/bad", b"\x1f\x8b\x08\x00garbage-not-deflate" * 10)
    target = Target(url, last_body_sha256="0" * 64, last_wire_sha256="1" * 64)
    try:
        fetch(target)
    except Exception as exc:  # noqa: BLE001
        assert getattr(exc, "kind", None) == "decoding"
    else:
        raise AssertionError("corrupt gzip was accepted")


def _snapshot(url: str, sha: str) -> Snapshot:
    return Snapshot(url=url, content=Content(title="Harbour", text="The council voted. " * 20),
                    fetch=FetchInfo(started_at=T0, status=200, body_sha256=sha), raw_html=HTML)


def test_the_store_keeps_the_wire_hash_of_the_baseline(tmp_path):
    url, sha = "https://news.example/harbour", hashlib.sha256(HTML).hexdigest()
    with Archive(tmp_path / "a.db") as store:
        store.track(url, now=T0)
        page_id = store.page(url).id
        store.save(_snapshot(url, sha), wire_sha256="w1")
        assert store.wire_hashes([page_id]) == {page_id: "w1"}
        info = FetchInfo(started_at=T0, status=200, body_sha256=sha)
        store.record_unchanged(url, info, outcome="same_body", wire_sha256="w2")
        assert store.wire_hashes([page_id]) == {page_id: "w2"}  # other bytes, same body
        store.record_unchanged(url, info, outcome="same_body", wire_sha256=None)  # plain
        store.record_unchanged(url, FetchInfo(started_at=T0, status=304),
                               outcome="not_modified", wire_sha256="ignored")
        assert store.wire_hashes([page_id]) == {page_id: "w2"}
        store.save(_snapshot(url, sha))  # a new baseline sent uncompressed: no wire form
        assert store.wire_hashes([page_id]) == {}


def test_an_archive_without_the_column_gains_it_and_stays_readable(tmp_path):
    path, url = tmp_path / "old.db", "https://news.example/harbour"
    with Archive(path) as store:
        store.track(url, now=T0)
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE pages DROP COLUMN wire_sha256")
    conn.close()
    with Archive(path, write=False) as reader:  # read-only: no migration needed
        assert reader.page(url).url == url
    with Archive(path) as store:
        assert store.wire_hashes([store.page(url).id]) == {}
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(pages)")}
    conn.close()
    assert "wire_sha256" in columns
