"""sqlite3 failures of the file, the disk or another process, as the StoreError tree."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .errors import StoreCorrupt, StoreError, StoreFull, StoreUnavailable

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


def _raised(exc: sqlite3.Error, path: str) -> BaseException:
    """What to raise for ``exc``: a StoreError naming the file, or a statement's own error."""
    return translate(exc, path) if _environmental(exc) else exc


class _Cursor(sqlite3.Cursor):
    """A cursor whose disk and file failures arrive as StoreError naming the file, wherever
    they happen: a damaged page may only be met while iterating rows, deep in a read."""

    def _fail(self, exc: sqlite3.Error) -> BaseException:
        return _raised(exc, self.connection.archive_path)

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


class Connection(sqlite3.Connection):
    """Hands out _Cursor, so every statement and row read translates its failures."""

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
            raise _raised(exc, self.archive_path) from exc
