"""StoreWriter: calls run on one thread in order; grouped calls share a hop, not a fate."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime

import pytest

from archive.errors import NotFound
from archive.models import FetchInfo
from pipeline.store_writer import StoreWriter

URLS = [f"https://news.example/{i}" for i in range(40)]


def info() -> FetchInfo:
    return FetchInfo(started_at=datetime.now(UTC), duration=0.01, status=200, body_sha256="ab" * 32)


def fetch_rows(db) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT pages.url, fetches.outcome FROM fetches JOIN pages ON pages.id = page_id"
            " ORDER BY fetches.id"
        ).fetchall()


def test_grouped_calls_are_each_committed_and_failures_stay_with_their_caller(tmp_path):
    db = tmp_path / "a.db"

    async def go():
        writer = StoreWriter(db)
        try:
            await writer.call("track_many", URLS)
            calls = [writer.call_grouped("record_unchanged", url, info(), outcome="same_body")
                     for url in URLS]
            calls.insert(7, writer.call_grouped("record_unchanged", "https://news.example/none",
                                                info(), outcome="same_body"))
            return await asyncio.gather(*calls, return_exceptions=True)
        finally:
            writer.close()

    results = asyncio.run(go())
    assert isinstance(results.pop(7), NotFound)
    assert [r.url for r in results] == URLS
    assert fetch_rows(db) == [(url, "same_body") for url in URLS]  # in the order asked


def test_drain_waits_for_grouped_calls_whose_callers_went_away(tmp_path):
    db = tmp_path / "a.db"

    async def go():
        writer = StoreWriter(db)
        try:
            await writer.call("track_many", URLS[:5])
            tasks = [asyncio.ensure_future(
                writer.call_grouped("record_unchanged", url, info(), outcome="not_modified"))
                for url in URLS[:5]]
            await asyncio.sleep(0)
            for task in tasks:
                task.cancel()  # a stopped run: the rows already handed over are still written
            await writer.drain()
            return tasks
        finally:
            writer.close()

    tasks = asyncio.run(go())
    assert all(t.cancelled() for t in tasks)
    assert fetch_rows(db) == [(url, "not_modified") for url in URLS[:5]]


def test_a_bad_call_raises_through_call_grouped(tmp_path):
    async def go():
        writer = StoreWriter(tmp_path / "a.db")
        try:
            await writer.call_grouped("record_unchanged", URLS[0], info(), outcome="bogus")
        finally:
            writer.close()

    with pytest.raises(ValueError):
        asyncio.run(go())
