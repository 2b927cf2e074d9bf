"""Read-only queries over an archive: pages, due pages, history, versions, raw captures."""

from __future__ import annotations

from datetime import datetime

from . import blobs
from .db import iso
from .errors import NotFound
from .models import Version
from .rows import PAGE_COLUMNS, PageState, page_row, version_of, version_row
from .rows import page_id as page_id_of


class ArchiveReader:
    """Queries shared by readers and the writer; needs ``self.conn`` and ``self.db``."""

    def page(self, url: str) -> PageState:
        page_id = page_id_of(self.conn, url)
        if page_id is None:
            raise NotFound(f"{url}: not tracked")
        row = self.conn.execute(f"SELECT {PAGE_COLUMNS} FROM pages WHERE id = ?", (page_id,))
        return PageState(*row.fetchone())

    def pages(self, *, limit: int | None = None, offset: int = 0) -> list[PageState]:
        rows = self.conn.execute(
            f"SELECT {PAGE_COLUMNS} FROM pages ORDER BY id LIMIT ? OFFSET ?",
            (-1 if limit is None else limit, offset),
        )
        return [PageState(*row) for row in rows]

    def due(self, now: datetime, *, limit: int | None = None) -> list[PageState]:
        """Active pages whose next check has come, most overdue first (uses pages_due)."""
        rows = self.conn.execute(
            f"SELECT {PAGE_COLUMNS} FROM pages WHERE state = 'active' AND next_check_at <= ?"
            " ORDER BY next_check_at LIMIT ?",
            (iso(now), -1 if limit is None else limit),
        )
        return [PageState(*row) for row in rows]

    def history(self, url: str) -> list[Version]:
        page = self.page(url)
        rows = self.db.query(
            "SELECT * FROM versions WHERE page_id = ? ORDER BY number", [page.id]
        )
        return [version_of(page.url, row) for row in rows]

    def version(self, url: str, number: int | None = None) -> Version:
        page = self.page(url)
        number = page.latest_version if number is None else number
        if number < 0:
            number = page.latest_version + 1 + number
        row = version_row(self.conn, page.id, number)
        if row is None:
            raise NotFound(f"{page.url}: no version {number} (latest is {page.latest_version})")
        return version_of(page.url, row)

    def version_at(self, url: str, moment: datetime) -> Version:
        """The version that was current at ``moment``."""
        page = self.page(url)
        row = self.conn.execute(
            "SELECT number FROM versions WHERE page_id = ? AND captured_at <= ?"
            " ORDER BY number DESC LIMIT 1",
            (page.id, iso(moment)),
        ).fetchone()
        if row is None:
            raise NotFound(f"{page.url}: no version captured by {iso(moment)}")
        return self.version(page.url, row[0])

    def _latest_hash(self, url: str) -> str | None:
        row = self.conn.execute(
            "SELECT v.content_hash FROM pages p JOIN versions v ON v.page_id = p.id"
            " AND v.number = p.latest_version WHERE p.id = ?",
            (page_id_of(self.conn, url),),
        ).fetchone()
        return None if row is None else row[0]

    def latest_text(self, url: str) -> str | None:
        row = page_row(
            self.conn, url,
            "(SELECT v.text FROM versions v WHERE v.page_id = pages.id"
            " AND v.number = pages.latest_version)",
        )
        if row is None:
            raise NotFound(f"{url}: not tracked")
        return row[0]

    def fetches(self, url: str, *, limit: int = 50) -> list[dict]:
        page = self.page(url)
        return list(
            self.db.query(
                "SELECT * FROM fetches WHERE page_id = ? ORDER BY id DESC LIMIT ?", [page.id, limit]
            )
        )

    def events(self, url: str) -> list[dict]:
        page = self.page(url)
        return list(self.db.query("SELECT * FROM events WHERE page_id = ? ORDER BY id", [page.id]))

    def raw_html(self, sha256: str) -> bytes | None:
        return blobs.get(self.conn, sha256)
