"""The store's error tree.

    StoreError
    ├── StoreUnavailable   the database cannot be opened: missing directory, read-only, locked
    ├── StoreCorrupt       the file is not a healthy SQLite database; it is never written to
    ├── StoreFull          the disk (or the page limit) is full; the transaction was rolled back
    └── NotFound           the page or version asked for does not exist

sqlite3 exceptions are translated at the boundary (archive/sqlerrors.py), so callers see only these.
"""

from __future__ import annotations


class StoreError(Exception):
    kind = "store"


class StoreUnavailable(StoreError):
    kind = "store_unavailable"


class StoreCorrupt(StoreError):
    kind = "store_corrupt"


class StoreFull(StoreError):
    kind = "disk_full"


class NotFound(StoreError):
    kind = "not_found"
