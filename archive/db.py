"""Opening the SQLite file safely (file checks, pragmas, integrity, schema), one
BEGIN IMMEDIATE transaction, and the one timestamp format the store keeps."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from .errors import StoreCorrupt, StoreError, StoreUnavailable
from .schema import SCHEMA, SCHEMA_VERSION, migrate, require_schema
from .sqlerrors import Connection, translate

_SQLITE_MAGIC = b"SQLite format 3\x00"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC text with a Z, the only timestamp format stored."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _check_file(path: Path, *, write: bool) -> None:
    if not path.parent.is_dir():
        raise StoreUnavailable(f"{path}: directory {path.parent} does not exist")
    if path.exists():
        if path.is_dir():
            raise StoreUnavailable(f"{path}: is a directory, not a database file")
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
        if head and head != _SQLITE_MAGIC:
            raise StoreCorrupt(f"{path}: not an SQLite database (bad header); left untouched")
        if write and not _writable(path):
            raise StoreUnavailable(f"{path}: database file is read-only")
    elif write and not _writable(path.parent):
        raise StoreUnavailable(f"{path}: directory {path.parent} is not writable")
    elif not write:
        raise StoreUnavailable(f"{path}: no such archive (nothing has been added yet)")


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def connect(path: Path, *, write: bool, busy_timeout: float = 60.0) -> sqlite_utils.Database:
    """Open the archive, creating or migrating its schema when writing.

    Raises StoreUnavailable or StoreCorrupt before anything is written.
    """
    _check_file(path, write=write)
    conn = None
    try:
        if write:
            conn = sqlite3.connect(
                str(path), isolation_level=None, timeout=busy_timeout, factory=Connection
            )
        else:
            conn = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                timeout=busy_timeout, factory=Connection,
            )
        conn.archive_path = str(path)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        # No sqlite-utils plugins: one installed for another tool must not change the archive's
        # connection, and finding them scans every installed package (~25 ms a command).
        db = sqlite_utils.Database(conn, execute_plugins=False)
        if write:
            _check_integrity(db, path)
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            _migrate(db)
        else:
            require_schema(db, path)
        return db
    except BaseException as exc:
        if conn is not None:
            with contextlib.suppress(sqlite3.Error, StoreError):
                conn.close()
        if isinstance(exc, sqlite3.Error):
            raise translate(exc, path) from exc
        raise


# Archives up to this size are checked in full on every open for writing (well under a
# second); larger ones after an unclean stop, and otherwise at most once a day.
FULL_CHECK_BELOW = 64 * 1024 * 1024
FULL_CHECK_EVERY = 24 * 3600.0


def _check_integrity(db: sqlite_utils.Database, path: Path) -> None:
    """Refuse to write to a damaged file rather than spread the damage."""
    if _full_check_due(db, path):
        _quick_check(db, path, "PRAGMA quick_check(1)")
        db.conn.execute(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        db.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('integrity_checked_at', ?)",
            (iso(utcnow()),),
        )
    elif "pages" in db.table_names():
        _quick_check(db, path, "PRAGMA quick_check(pages)")  # the table every run reads


def _quick_check(db: sqlite_utils.Database, path: Path, pragma: str) -> None:
    row = db.conn.execute(pragma).fetchone()
    if row is None or row[0] != "ok":
        detail = " ".join((row[0] if row else "no answer").split())  # one line for the CLI
        raise StoreCorrupt(f"{path}: database is corrupt ({detail}); left untouched")


def _full_check_due(db: sqlite_utils.Database, path: Path) -> bool:
    try:
        size = path.stat().st_size
    except OSError:
        return True
    wal = path.with_name(path.name + "-wal")
    unclean = wal.exists() and wal.stat().st_size > 0  # a writer died, or another is open
    if size < FULL_CHECK_BELOW or unclean or "meta" not in db.table_names():
        return True
    row = db.conn.execute(
        "SELECT value FROM meta WHERE key = 'integrity_checked_at'"
    ).fetchone()
    last = parse_iso(row[0]) if row else None
    return last is None or (utcnow() - last).total_seconds() > FULL_CHECK_EVERY


def _migrate(db: sqlite_utils.Database) -> None:
    with transaction(db, db.conn.execute("PRAGMA database_list").fetchone()[2]):
        migrate(db)


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database, path: Path | str) -> Iterator[sqlite3.Connection]:
    """One BEGIN IMMEDIATE transaction: the write lock is taken up front, so two writers
    queue on the busy timeout instead of failing mid-transaction with "database is locked"."""
    conn = db.conn
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc
    try:
        yield conn
    except sqlite3.Error as exc:
        _rollback(conn)
        raise translate(exc, path) from exc
    except BaseException:
        _rollback(conn)
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        _rollback(conn)
        raise translate(exc, path) from exc


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


__all__ = [
    "FULL_CHECK_BELOW", "FULL_CHECK_EVERY", "SCHEMA", "SCHEMA_VERSION", "connect", "iso",
    "parse_iso", "transaction", "translate", "utcnow",
]
