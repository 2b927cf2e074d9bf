"""The archive's tables, its schema version, and bringing an older file up to date."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from .errors import StoreUnavailable

SCHEMA_VERSION = 2

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
CREATE TABLE IF NOT EXISTS robots (
    origin TEXT PRIMARY KEY,     -- scheme://host[:port]
    fetched_at TEXT NOT NULL,
    status INTEGER NOT NULL,     -- 2xx or 4xx: answers that settle the rules
    body BLOB
);
CREATE VIEW IF NOT EXISTS version_detail AS
    SELECT pages.url, versions.number, versions.captured_at, versions.title,
           versions.changed, versions.flags, versions.words_added, versions.words_removed
    FROM versions JOIN pages ON pages.id = versions.page_id;
"""


def require_schema(db: sqlite_utils.Database, path: Path) -> None:
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


def migrate(db: sqlite_utils.Database) -> None:
    """Create the tables, or add what an older file lacks. The caller holds the write
    transaction (``db.connect`` opens one for it), so a half-done migration never commits."""
    current = _check_version(db, "archive") if "meta" in db.table_names() else 0
    if current < SCHEMA_VERSION or _lacks_added_columns(db) or _lacks_added_tables(db):
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


def _lacks_added_tables(db: sqlite_utils.Database) -> bool:
    return not set(_ADDED_TABLES) <= set(db.table_names())


# Tables added within schema 2; an older reader never looks at them.
_ADDED_TABLES = ("robots",)  # robots.txt answers kept between runs

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
