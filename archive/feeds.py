"""Feeds and sitemaps that discovery reads: where new pages come from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .db import iso, transaction, utcnow
from .errors import NotFound


@dataclass(frozen=True)
class FeedState:
    url: str
    added_at: str
    source: str | None
    etag: str | None
    last_modified: str | None
    last_checked_at: str | None
    last_error: str | None
    links_found: int


_COLUMNS = ", ".join(FeedState.__dataclass_fields__)


class FeedStore:
    """Feed bookkeeping on an open Archive's connection."""

    def __init__(self, archive) -> None:
        self._archive = archive

    def add(self, url: str, *, source: str = "cli") -> bool:
        with transaction(self._archive.db, self._archive.path) as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO feeds (url, added_at, source) VALUES (?, ?, ?)",
                (url, iso(utcnow()), source),
            )
            return cursor.rowcount == 1

    def remove(self, url: str) -> None:
        with transaction(self._archive.db, self._archive.path) as conn:
            if conn.execute("DELETE FROM feeds WHERE url = ?", (url,)).rowcount == 0:
                raise NotFound(f"{url}: not a registered feed")

    def all(self) -> list[FeedState]:
        rows = self._archive.conn.execute(f"SELECT {_COLUMNS} FROM feeds ORDER BY id")
        return [FeedState(*row) for row in rows]

    def get(self, url: str) -> FeedState | None:
        row = self._archive.conn.execute(
            f"SELECT {_COLUMNS} FROM feeds WHERE url = ?", (url,)
        ).fetchone()
        return None if row is None else FeedState(*row)

    def record(
        self,
        url: str,
        *,
        checked_at: datetime,
        etag: str | None = None,
        last_modified: str | None = None,
        error: str | None = None,
        links_found: int = 0,
    ) -> None:
        with transaction(self._archive.db, self._archive.path) as conn:
            conn.execute(
                "UPDATE feeds SET last_checked_at = ?, last_error = ?,"
                " etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),"
                " links_found = links_found + ? WHERE url = ?",
                (iso(checked_at), error, etag, last_modified, links_found, url),
            )
