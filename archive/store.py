"""The versioned store: record every check, write a version only on real change.

Archive gets page tracking from tracking.py, its robots.txt memory from robots_memory.py
and its queries from reading.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import blobs
from .db import connect, iso, parse_iso, transaction
from .models import FetchInfo, Reextraction, SaveResult, Snapshot
from .normalize import (
    changed_fields,
    content_hash,
    field_hashes,
    is_minor_change,
    word_stats,
    word_total,
)
from .reading import ArchiveReader
from .reextraction import rechain as rechain_versions
from .reextraction import replace_fields
from .robots_memory import RobotsMemory
from .rows import PageState, content_of, page_head, require_page, version_row
from .tracking import PageTracking


@dataclass(frozen=True)
class FailureResult:
    url: str
    consecutive_errors: int
    missing_streak: int
    state: str  # the page's state after recording; "gone" once 404/410 repeated



class Archive(PageTracking, RobotsMemory, ArchiveReader):
    """One archive file. Every write is one short BEGIN IMMEDIATE transaction."""

    def __init__(self, path: str | Path, *, write: bool = True, busy_timeout: float = 60.0):
        self.path = Path(path)
        self.db = connect(self.path, write=write, busy_timeout=busy_timeout)
        self.conn = self.db.conn

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- recording checks -----------------------------------------------------------------

    def save(
        self,
        snapshot: Snapshot,
        *,
        next_check_at: datetime | None = None,
        next_check_if_changed: datetime | None = None,
        packed: tuple[str, bytes] | None = None,
        raw_sha256: str | None = None,
        hashes: dict[str, str] | None = None,
        wire_sha256: str | None = None,
    ) -> SaveResult:
        """Record a successful extraction; write a version only if the content changed.

        The schedule depends on the outcome, so the caller gives both candidates.
        A caller that already has them (computed in an extraction worker, off the writer)
        may pass ``packed`` (``blobs.pack(raw_html)``), ``raw_sha256`` (of ``raw_html``)
        and ``hashes`` (``field_hashes(content)``); they are trusted as given.
        ``wire_sha256`` names the compressed bytes the raw body came as (or None).
        """
        hashes = field_hashes(snapshot.content) if hashes is None else hashes
        digest = content_hash(hashes)
        raw_sha = raw_sha256 or blobs.sha256_hex(snapshot.raw_html)
        codec = packed[0] if packed else None
        packed = packed[1] if packed else None
        # Compress outside the lock, but only when a version is likely: a changed body with
        # unchanged content (ads, timestamps) is common on re-checks and stores no blob.
        if packed is None and self._latest_hash(snapshot.url) != digest:
            codec, packed = blobs.pack(snapshot.raw_html)
        captured = iso(snapshot.fetch.started_at)
        with transaction(self.db, self.path) as conn:
            page_id, latest, state = page_head(conn, snapshot.url)
            previous = version_row(conn, page_id, latest) if latest else None
            # Re-hash the previous content rather than trusting its stored hashes, so a
            # change in normalisation between releases never looks like an edit.
            old_hashes = field_hashes(content_of(previous)) if previous else {}
            changed = changed_fields(old_hashes, hashes) if previous else ()
            if previous and not changed:
                fetch_id = self._insert_fetch(conn, page_id, snapshot.fetch, "unchanged", latest)
                self._after_success(conn, page_id, state, snapshot, next_check_at,
                                    wire_sha256=wire_sha256)
                return SaveResult(url=snapshot.url, created=False, version=latest)

            number = latest + 1
            flags: list[str] = []
            revert_of = None
            if previous:
                old_content = content_of(previous)
                if is_minor_change(old_content, snapshot.content):
                    flags.append("minor")
                revert_of = _earlier_same_content(conn, page_id, digest, latest)
                if revert_of is not None:
                    flags.append("revert")
                added, removed = word_stats(old_content.text, snapshot.content.text)
            else:
                changed = ()
                # Same figure as word_stats("", text) (one insert op), without the diff.
                added, removed = word_total(snapshot.content.text), 0
            if packed is None:
                codec, packed = blobs.pack(snapshot.raw_html)
            blobs.put(conn, raw_sha, len(snapshot.raw_html), codec, packed)
            fetch_id = self._insert_fetch(conn, page_id, snapshot.fetch, "new_version", number)
            c = snapshot.content
            conn.execute(
                """INSERT INTO versions (page_id, number, captured_at, title, headline, other_titles, authors, byline,
                   published, modified, description, canonical_url, text, markdown, final_url, sitename,
                   language, section, tags, changed, flags, revert_of, words_added, words_removed,
                   content_hash, field_hashes, extractor, extractor_version, raw_sha256, encoding,
                   fetch_id)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (
                    page_id, number, captured, c.title, c.headline, json.dumps(list(c.other_titles)), json.dumps(list(c.authors)),
                    json.dumps(list(c.byline)), c.published, c.modified, c.description, c.canonical_url, c.text, snapshot.markdown,
                    snapshot.fetch.final_url, snapshot.sitename, snapshot.language,
                    snapshot.section, json.dumps(list(snapshot.tags)), json.dumps(list(changed)),
                    json.dumps(flags), revert_of, added, removed, digest, json.dumps(hashes),
                    snapshot.extractor, snapshot.extractor_version, raw_sha, snapshot.encoding,
                    fetch_id,
                ),
            )
            if changed:
                conn.executemany(
                    "INSERT INTO changes (page_id, version, field) VALUES (?, ?, ?)",
                    [(page_id, number, name) for name in changed],
                )
            self._after_success(
                conn, page_id, state, snapshot, next_check_if_changed or next_check_at,
                wire_sha256=wire_sha256, latest=(number, c.title, c.published, captured),
            )
            return SaveResult(
                url=snapshot.url, created=True, version=number, changed=tuple(changed),
                flags=tuple(flags), revert_of=revert_of,
            )

    def record_unchanged(
        self, url: str, fetch: FetchInfo, *, outcome: str, next_check_at: datetime | None = None,
        wire_sha256: str | None = None,
    ) -> SaveResult:
        """A check that needed no extraction: a 304 (``not_modified``) or an identical body
        (``same_body``). Adds a fetch row and moves the schedule; nothing else.

        ``wire_sha256`` (same_body only): the compressed bytes this body came as, kept so the
        next check with the same bytes need not decode them."""
        if outcome != "same_body":
            wire_sha256 = None
        if outcome not in ("not_modified", "same_body"):
            raise ValueError(f"not an unchanged outcome: {outcome}")
        with transaction(self.db, self.path) as conn:
            page_id = require_page(conn, url)
            latest = conn.execute(
                "SELECT latest_version FROM pages WHERE id = ?", (page_id,)
            ).fetchone()[0]
            self._insert_fetch(conn, page_id, fetch, outcome, latest or None)
            conn.execute(
                "UPDATE pages SET last_checked_at = ?, next_check_at = ?, consecutive_errors = 0,"
                " missing_streak = 0, last_error_kind = NULL,"
                " etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),"
                " wire_sha256 = COALESCE(?, wire_sha256) WHERE id = ?",
                (iso(fetch.started_at), iso(next_check_at), fetch.etag, fetch.last_modified,
                 wire_sha256, page_id),
            )
            return SaveResult(url=url, created=False, version=latest)

    def wire_hashes(self, page_ids: list[int]) -> dict[int, str]:
        """page id -> ``wire_sha256`` for those of ``page_ids`` that have one."""
        found: dict[int, str] = {}
        for start in range(0, len(page_ids), 500):  # under SQLite's bound-parameter limit
            chunk = page_ids[start:start + 500]
            found.update(self.conn.execute(
                f"SELECT id, wire_sha256 FROM pages WHERE wire_sha256 IS NOT NULL"
                f" AND id IN ({','.join('?' * len(chunk))})", chunk,
            ).fetchall())
        return found

    def record_failure(
        self,
        url: str,
        fetch: FetchInfo,
        *,
        kind: str,
        message: str,
        next_check_at: datetime | None = None,
        gone_after: int = 3,
    ) -> FailureResult:
        """Record a failed check. The baseline (last good body, etag) is left untouched."""
        missing = kind in ("not_found", "gone")
        with transaction(self.db, self.path) as conn:
            page_id = require_page(conn, url)
            self._insert_fetch(conn, page_id, fetch, "error", None, kind, message[:2000])
            conn.execute(
                "UPDATE pages SET last_checked_at = ?, next_check_at = ?,"
                " consecutive_errors = consecutive_errors + 1, last_error_kind = ?,"
                " missing_streak = CASE WHEN ? THEN missing_streak + 1 ELSE 0 END"
                " WHERE id = ?",
                (iso(fetch.started_at), iso(next_check_at), kind, missing, page_id),
            )
            errors, streak, state = conn.execute(
                "SELECT consecutive_errors, missing_streak, state FROM pages WHERE id = ?",
                (page_id,),
            ).fetchone()
            if missing and streak >= gone_after and state != "gone":
                state = "gone"
                conn.execute(
                    "UPDATE pages SET state = 'gone', next_check_at = NULL WHERE id = ?", (page_id,)
                )
                self._event(conn, page_id, "gone", f"{kind} {streak} times in a row")
            return FailureResult(url, errors, streak, state)

    def set_next_check(self, url: str, when: datetime | None, *, state: str | None = None) -> None:
        with transaction(self.db, self.path) as conn:
            page_id = require_page(conn, url)
            if state is not None:
                conn.execute("UPDATE pages SET state = ? WHERE id = ?", (state, page_id))
                if state == "retired":
                    self._event(conn, page_id, "retired", None)
            conn.execute("UPDATE pages SET next_check_at = ? WHERE id = ?", (iso(when), page_id))

    def apply_reextraction(
        self, url: str, updates: list[Reextraction], *, rechain: bool
    ) -> tuple[int, int]:
        """Replace versions' extracted fields with a newer extractor's, in one transaction.

        With ``rechain`` every version's changed fields, flags and word counts are
        recomputed against its predecessor under the same extractor, so an extractor
        upgrade never shows up as an edit; a version whose content now equals its
        predecessor's keeps its number and is flagged ``identical``. Without it (the
        baseline refresh a run does) only the fields and hashes of the given versions
        change. Returns (versions updated, versions now identical to their predecessor).
        """
        with transaction(self.db, self.path) as conn:
            page_id = require_page(conn, url)
            for update in updates:
                replace_fields(conn, page_id, update)
            identical = rechain_versions(conn, page_id) if rechain else 0
            latest = conn.execute(
                "SELECT v.title, v.published FROM versions v JOIN pages p ON p.id = v.page_id"
                " AND v.number = p.latest_version WHERE p.id = ?", (page_id,)
            ).fetchone()
            if latest:
                conn.execute(
                    "UPDATE pages SET title = ?, published = ? WHERE id = ?", (*latest, page_id)
                )
            versions = sorted({u.extractor_version for u in updates})
            self._event(conn, page_id, "reextracted",
                        f"{len(updates)} versions with {', '.join(versions)}"
                        + (f"; {identical} now identical to the previous" if identical else ""))
            return len(updates), identical

    # -- private --------------------------------------------------------------------------

    @staticmethod
    def _insert_fetch(conn, page_id, fetch: FetchInfo, outcome, version, kind=None, message=None):
        cursor = conn.execute(
            "INSERT INTO fetches (page_id, started_at, duration, status, final_url, etag,"
            " last_modified, body_sha256, outcome, version, error_kind, error_message)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                page_id, iso(fetch.started_at), round(fetch.duration, 4), fetch.status,
                fetch.final_url, fetch.etag, fetch.last_modified, fetch.body_sha256, outcome,
                version, kind, message,
            ),
        )
        return cursor.lastrowid

    def _after_success(self, conn, page_id, state: str, snapshot: Snapshot, next_check_at, *,
                       wire_sha256: str | None = None, latest: tuple | None = None) -> None:
        """The page's row after a good check; ``latest`` (number, title, published,
        captured_at) of a new version goes in the same UPDATE."""
        if state == "gone":
            conn.execute("UPDATE pages SET state = 'active' WHERE id = ?", (page_id,))
            self._event(conn, page_id, "back", "answered again after being gone")
        sets = ("last_checked_at = ?, next_check_at = ?, consecutive_errors = 0,"
                " missing_streak = 0, last_error_kind = NULL, etag = ?, last_modified = ?,"
                " baseline_sha256 = ?, wire_sha256 = ?")
        values = (
            iso(snapshot.fetch.started_at), iso(next_check_at), snapshot.fetch.etag,
            snapshot.fetch.last_modified, snapshot.fetch.body_sha256,
            wire_sha256 if snapshot.fetch.body_sha256 else None,
        )
        if latest is not None:
            sets = "latest_version = ?, title = ?, published = ?, last_change_at = ?, " + sets
            values = (*latest, *values)
        conn.execute(f"UPDATE pages SET {sets} WHERE id = ?", (*values, page_id))


def _earlier_same_content(conn, page_id: int, digest: str, latest: int) -> int | None:
    row = conn.execute(
        "SELECT max(number) FROM versions WHERE page_id = ? AND content_hash = ? AND number < ?",
        (page_id, digest, latest),
    ).fetchone()
    return row[0] if row and row[0] is not None else None


__all__ = ["Archive", "FailureResult", "PageState", "parse_iso"]
