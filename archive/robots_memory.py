"""robots.txt answers kept between runs.

RFC 9309 §2.4 lets a crawler cache robots.txt for up to 24 hours. A cron job that runs every
15 minutes would otherwise ask every host for it 96 times a day, and each run would start
with that round of requests before its first page. Only answers that settle the rules are
kept (2xx and 4xx); an unreachable file or a 5xx is asked for again on the next run.
"""

from __future__ import annotations

from datetime import datetime

from .db import iso, transaction

__all__ = ["RobotsMemory", "settles_rules"]


def settles_rules(status: int | None) -> bool:
    """Whether a robots.txt answer with this final status is worth keeping (2xx, 4xx)."""
    return status is not None and (200 <= status < 300 or 400 <= status < 500)


class RobotsMemory:
    """The writer's robots.txt memory; needs ``self.db``, ``self.conn`` and ``self.path``."""

    def remember_robots(self, origin: str, status: int, body: bytes | None,
                        fetched_at: datetime) -> None:
        """Keep ``origin``'s robots.txt answer (``scheme://host[:port]``), replacing the last."""
        if not settles_rules(status):
            raise ValueError(f"only 2xx and 4xx robots.txt answers are kept, not {status}")
        with transaction(self.db, self.path) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO robots (origin, fetched_at, status, body)"
                " VALUES (?, ?, ?, ?)",
                (origin, iso(fetched_at), status, body),
            )

    def recent_robots(self, since: datetime) -> dict[str, tuple[int, bytes | None]]:
        """origin -> (status, body) for every answer fetched at or after ``since``.

        Older answers can serve no run that asks with this cut-off: they are deleted in the
        same transaction (once per run, not per answer kept), so the table holds only the
        hosts recent runs asked."""
        with transaction(self.db, self.path) as conn:
            conn.execute("DELETE FROM robots WHERE fetched_at < ?", (iso(since),))
            rows = conn.execute("SELECT origin, status, body FROM robots").fetchall()
        return {origin: (status, body) for origin, status, body in rows}
