"""Which pages the archive follows, and under what key: tracking, aliases, re-keying to a
canonical identity, removal, and the events log those and other page-state changes write."""

from __future__ import annotations

from datetime import datetime

from .db import iso, transaction, utcnow
from .rows import PAGE_COLUMNS, PageState, require_page
from .rows import page_id as page_id_of


class PageTracking:
    """The writer's page bookkeeping; needs ``self.db``, ``self.conn`` and ``self.path``."""

    def track(self, url: str, *, source: str | None = None, now: datetime | None = None) -> bool:
        """Start tracking ``url`` (due at once). Returns False when it, or an alias, is known.

        Tracking a page that was removed by hand brings it back (it was asked for again);
        discovery (a ``feed:`` source) never does.
        """
        moment = iso(now or utcnow())
        with transaction(self.db, self.path) as conn:
            return self._track(conn, url, source, moment) is not None

    def track_many(
        self, urls: list[str], *, source: str | None = None, now: datetime | None = None
    ) -> list[PageState]:
        """``track`` each URL in one transaction; returns each distinct page once, in order.

        Same effect as ``track`` then ``page(resolve(url))`` per URL, without a transaction
        and three writer round-trips per URL (`archive add` of many URLs).
        """
        moment = iso(now or utcnow())
        with transaction(self.db, self.path) as conn:
            ids = [self._track(conn, url, source, moment) or page_id_of(conn, url)
                   for url in urls]
        states = []
        for page_id in dict.fromkeys(ids):
            row = self.conn.execute(f"SELECT {PAGE_COLUMNS} FROM pages WHERE id = ?", (page_id,))
            states.append(PageState(*row.fetchone()))
        return states

    def _track(self, conn, url: str, source: str | None, moment: str) -> int | None:
        """Returns the new page's id, or None when ``url`` (or an alias) was already known."""
        known = page_id_of(conn, url)
        if known is None:
            return conn.execute(
                "INSERT INTO pages (url, added_at, source, next_check_at) VALUES (?, ?, ?, ?)",
                (url, moment, source, moment),
            ).lastrowid
        state = conn.execute("SELECT state FROM pages WHERE id = ?", (known,)).fetchone()[0]
        if state == "removed" and not (source or "").startswith("feed:"):
            conn.execute(
                "UPDATE pages SET state = 'active', next_check_at = ? WHERE id = ?",
                (moment, known),
            )
            self._event(conn, known, "tracked", "tracked again after removal")
        return None

    def resolve(self, url: str) -> str | None:
        """The page key for ``url``: itself when tracked, the page an alias points to, or None."""
        page_id = page_id_of(self.conn, url)
        if page_id is None:
            return None
        return self.conn.execute("SELECT url FROM pages WHERE id = ?", (page_id,)).fetchone()[0]

    def add_alias(self, alias: str, url: str) -> None:
        with transaction(self.db, self.path) as conn:
            page_id = require_page(conn, url)
            conn.execute(
                "INSERT OR IGNORE INTO aliases (url, page_id) VALUES (?, ?)", (alias, page_id)
            )

    def rekey(self, url: str, identity: str) -> str:
        """Give page ``url`` its true identity (canonical URL) and return the key to save under.

        A page with no versions yet that turns out to be another tracked page is folded
        into it; its old URL becomes an alias. A page with history keeps its key and
        gains ``identity`` as an alias, so history is never split or rewritten.
        """
        if identity == url:
            return url
        with transaction(self.db, self.path) as conn:
            page_id = require_page(conn, url)
            other_id = page_id_of(conn, identity)
            if other_id == page_id:
                return self._url_of(conn, page_id)
            latest = conn.execute(
                "SELECT latest_version FROM pages WHERE id = ?", (page_id,)
            ).fetchone()[0]
            if other_id is None:
                if latest == 0:
                    conn.execute("UPDATE pages SET url = ? WHERE id = ?", (identity, page_id))
                    conn.execute(
                        "INSERT OR REPLACE INTO aliases (url, page_id) VALUES (?, ?)",
                        (url, page_id),
                    )
                    return identity
                conn.execute(
                    "INSERT OR IGNORE INTO aliases (url, page_id) VALUES (?, ?)",
                    (identity, page_id),
                )
                return url
            if latest == 0:
                # Fold the empty duplicate into the page that already has the identity.
                conn.execute("UPDATE fetches SET page_id = ? WHERE page_id = ?", (other_id, page_id))
                conn.execute("UPDATE aliases SET page_id = ? WHERE page_id = ?", (other_id, page_id))
                conn.execute("UPDATE events SET page_id = ? WHERE page_id = ?", (other_id, page_id))
                conn.execute("DELETE FROM pages WHERE id = ?", (page_id,))
                conn.execute(
                    "INSERT OR REPLACE INTO aliases (url, page_id) VALUES (?, ?)", (url, other_id)
                )
                return self._url_of(conn, other_id)
            return url

    def remove(self, url: str) -> int:
        """Stop checking a page at all (`run --all` skips it too); its history stays.

        Returns the number of versions kept.
        """
        with transaction(self.db, self.path) as conn:
            page_id = require_page(conn, url)
            conn.execute(
                "UPDATE pages SET state = 'removed', next_check_at = NULL WHERE id = ?", (page_id,)
            )
            self._event(conn, page_id, "removed", "no longer checked")
            return conn.execute(
                "SELECT latest_version FROM pages WHERE id = ?", (page_id,)
            ).fetchone()[0]

    @staticmethod
    def _url_of(conn, page_id: int) -> str:
        return conn.execute("SELECT url FROM pages WHERE id = ?", (page_id,)).fetchone()[0]

    # Archive's recording side writes here too (gone, back, retired, reextracted).
    @staticmethod
    def _event(conn, page_id: int, kind: str, detail: str | None) -> None:
        conn.execute(
            "INSERT INTO events (page_id, at, kind, detail) VALUES (?, ?, ?, ?)",
            (page_id, iso(utcnow()), kind, detail),
        )

