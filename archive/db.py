"""Opening the SQLite file safely: schema, pragmas, transactions and error translation."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from .errors import StoreCorrupt, StoreError, StoreFull, StoreUnavailable

SCHEMA_VERSION = 2
_SQLITE_MAGIC = b"SQLite format 3\x00"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    added_at TEXT NOT NULL,
    source TEXT,
    state TEXT NOT NULL DEFAULT 'active',      -- active | retired | gone | removed
    next_check_at TEXT,                         -- NULL: checked only on demand
    last_checked_at TEXT,
    last_change_at TEXT,
    published TEXT,
    latest_version INTEGER NOT NULL DEFAULT 0,
    title TEXT,
    etag TEXT,
    last_modified TEXT,
    baseline_sha256 TEXT,                       -- raw body behind the latest good extraction
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    missing_streak INTEGER NOT NULL DEFAULT 0,  -- 404/410 in a row
    last_error_kind TEXT
);
CREATE INDEX IF NOT EXISTS pages_due ON pages (state, next_check_at);
CREATE TABLE IF NOT EXISTS aliases (
    url TEXT PRIMARY KEY,
    page_id INTEGER NOT NULL REFERENCES pages (id)
);
CREATE INDEX IF NOT EXISTS aliases_page ON aliases (page_id);
CREATE TABLE IF NOT EXISTS blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    codec TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS fetches (
    id INTEGER PRIMARY KEY,
    page_id INTEGER NOT NULL REFERENCES pages (id),
    started_at TEXT NOT NULL,
    duration REAL,
    status INTEGER,
    final_url TEXT,
    etag TEXT,
    last_modified TEXT,
    body_sha256 TEXT,
    outcome TEXT NOT NULL,   -- new_version | unchanged | not_modified | same_body | error
    version INTEGER,
    error_kind TEXT,
    error_message TEXT
);
CREATE INDEX IF NOT EXISTS fetches_page ON fetches (page_id, id);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY,
    page_id INTEGER NOT NULL REFERENCES pages (id),
    number INTEGER NOT NULL,
    captured_at TEXT NOT NULL,
    title TEXT,
    headline TEXT,
    other_titles TEXT NOT NULL DEFAULT '[]',
    byline TEXT NOT NULL DEFAULT '[]',
    authors TEXT NOT NULL DEFAULT '[]',
    published TEXT,
    modified TEXT,
    description TEXT,
    canonical_url TEXT,
    text TEXT NOT NULL,
    markdown TEXT NOT NULL,
    final_url TEXT,
    sitename TEXT,
    language TEXT,
    section TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    changed TEXT NOT NULL DEFAULT '[]',
    flags TEXT NOT NULL DEFAULT '[]',
    revert_of INTEGER,
    words_added INTEGER NOT NULL DEFAULT 0,
    words_removed INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT NOT NULL,
    field_hashes TEXT NOT NULL,
    extractor TEXT,
    extractor_version TEXT,
    raw_sha256 TEXT REFERENCES blobs (sha256),
    encoding TEXT,
    fetch_id INTEGER REFERENCES fetches (id),
    UNIQUE (page_id, number)
);
CREATE INDEX IF NOT EXISTS versions_captured ON versions (page_id, captured_at);
CREATE INDEX IF NOT EXISTS versions_hash ON versions (page_id, content_hash);
CREATE TABLE IF NOT EXISTS changes (
    page_id INTEGER NOT NULL REFERENCES pages (id),
    version INTEGER NOT NULL,
    field TEXT NOT NULL,
    PRIMARY KEY (page_id, version, field)
);
CREATE INDEX IF NOT EXISTS changes_field ON changes (field, page_id);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    page_id INTEGER NOT NULL REFERENCES pages (id),
    at TEXT NOT NULL,
    kind TEXT NOT NULL,      -- gone | back | retired | removed | tracked | reextracted
    detail TEXT
);
CREATE INDEX IF NOT EXISTS events_page ON events (page_id, id);
CREATE TABLE IF NOT EXISTS feeds (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    added_at TEXT NOT NULL,
    source TEXT,                 -- cli | config
    etag TEXT,
    last_modified TEXT,
    last_checked_at TEXT,
    last_error TEXT,
    links_found INTEGER NOT NULL DEFAULT 0
);
CREATE VIEW IF NOT EXISTS version_detail AS
    SELECT pages.url, versions.number, versions.captured_at, versions.title,
           versions.changed, versions.flags, versions.words_added, versions.words_removed
    FROM versions JOIN pages ON pages.id = versions.page_id;
"""


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


# Failures of the file, the disk or another process. Errors in a statement itself
# (SQLITE_ERROR, constraint violations) are bugs and surface unchanged.
_ENVIRONMENT_CODES = frozenset({
    sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOTADB,
})


def translate(exc: sqlite3.Error, path: Path | str) -> StoreError:
    """Map an sqlite3 error to the store's tree; the message names the file."""
    text = " ".join(str(exc).split())
    code = getattr(exc, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF  # extended codes keep the primary in the low byte
    lowered = text.lower()
    if primary == sqlite3.SQLITE_FULL or "disk is full" in lowered:
        return StoreFull(f"{path}: disk full ({text}); the transaction was rolled back")
    if primary == sqlite3.SQLITE_IOERR and _nearly_full(path):
        # ENOSPC while growing the -shm or -wal file arrives as a bare "disk I/O error".
        return StoreFull(f"{path}: disk full ({text} with no space left on the device)")
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or any(
        word in lowered for word in ("malformed", "not a database", "corrupt")
    ):
        return StoreCorrupt(f"{path}: database is corrupt ({text}); left untouched")
    if primary == sqlite3.SQLITE_READONLY or "readonly" in lowered or "read-only" in lowered:
        return StoreUnavailable(f"{path}: database is read-only ({text})")
    if primary == sqlite3.SQLITE_CANTOPEN or "unable to open" in lowered:
        return StoreUnavailable(f"{path}: cannot open database ({text})")
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in lowered:
        return StoreUnavailable(f"{path}: database stayed locked by another process ({text})")
    if primary == sqlite3.SQLITE_IOERR:
        return StoreError(f"{path}: disk I/O error ({text})")
    return StoreError(f"{path}: {text}")


def _nearly_full(path: Path | str, *, margin: int = 1 << 20) -> bool:
    try:
        stat = os.statvfs(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < margin


def _environmental(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _ENVIRONMENT_CODES


class _Cursor(sqlite3.Cursor):
    """A cursor whose disk and file failures arrive as StoreError naming the file, wherever
    they happen: a damaged page may only be met while iterating rows, deep in a read."""

    def _fail(self, exc: sqlite3.Error) -> BaseException:
        if _environmental(exc):
            return translate(exc, self.connection.archive_path)
        return exc

    def execute(self, sql, parameters=(), /):
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as exc:
            raise self._fail(exc) from exc

    def executemany(self, sql, seq_of_parameters, /):
        try:
            return super().executemany(sql, seq_of_parameters)
        except sqlite3.Error as exc:
            raise self._fail(exc) from exc

    def fetchone(self):
        try:
            return super().fetchone()
        except sqlite3.Error as exc:
            raise self._fail(exc) from exc

    def fetchmany(self, size=None):
        try:
            return super().fetchmany(self.arraysize if size is None else size)
        except sqlite3.Error as exc:
            raise self._fail(exc) from exc

    def fetchall(self):
        try:
            return super().fetchall()
        except sqlite3.Error as exc:
            raise self._fail(exc) from exc

    def __next__(self):
        try:
            return super().__next__()
        except sqlite3.Error as exc:
            raise self._fail(exc) from exc


class _Connection(sqlite3.Connection):
    archive_path = "archive"

    def cursor(self, factory=_Cursor):
        return super().cursor(factory)

    def execute(self, sql, parameters=(), /):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self.cursor().executemany(sql, seq_of_parameters)

    def executescript(self, script, /):
        try:
            return super().executescript(script)
        except sqlite3.Error as exc:
            raise (translate(exc, self.archive_path) if _environmental(exc) else exc) from exc


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
                str(path), isolation_level=None, timeout=busy_timeout, factory=_Connection
            )
        else:
            conn = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                timeout=busy_timeout, factory=_Connection,
            )
        conn.archive_path = str(path)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        db = sqlite_utils.Database(conn)
        if write:
            _check_integrity(db, path)
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            _migrate(db)
        else:
            _require_schema(db, path)
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


def _require_schema(db: sqlite_utils.Database, path: Path) -> None:
    if "meta" not in db.table_names():
        raise StoreUnavailable(f"{path}: not a palimpsest archive (no schema)")
    _check_version(db, path)


def _check_version(db: sqlite_utils.Database, path: Path) -> int:
    row = db.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise StoreUnavailable(
            f"{path}: schema version {version} is newer than this palimpsest ({SCHEMA_VERSION})"
        )
    return version


def _migrate(db: sqlite_utils.Database) -> None:
    with transaction(db, db.conn.execute("PRAGMA database_list").fetchone()[2]):
        current = _check_version(db, "archive") if "meta" in db.table_names() else 0
        if current < SCHEMA_VERSION or _lacks_added_columns(db):
            for statement in _statements(SCHEMA):
                db.conn.execute(statement)
            # CREATE TABLE IF NOT EXISTS leaves an older table as it was: add what it lacks.
            for table, column, kind in _ADDED_COLUMNS:
                if column not in {row[1] for row in db.conn.execute(f"PRAGMA table_info({table})")}:
                    db.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            db.conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )


def _lacks_added_columns(db: sqlite_utils.Database) -> bool:
    tables = {table for table, _, _ in _ADDED_COLUMNS}
    present = {(t, row[1]) for t in tables for row in db.conn.execute(f"PRAGMA table_info({t})")}
    return any((table, column) not in present for table, column, _ in _ADDED_COLUMNS)


# Columns added after schema 1, for archives created before them.
_ADDED_COLUMNS = (  # schema 2
    ("versions", "headline", "TEXT"),
    ("versions", "other_titles", "TEXT NOT NULL DEFAULT '[]'"),
    # The compressed form of the baseline body as last sent (a re-check with the same
    # bytes skips decoding them). Optional for readers, so no new schema version.
    ("pages", "wire_sha256", "TEXT"),
    # Printed byline names beside structured authors; an older reader ignores the column.
    ("versions", "byline", "TEXT NOT NULL DEFAULT '[]'"),
)


def _statements(script: str) -> Iterator[str]:
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""


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
