"""Rows of the archive's tables turned into frozen dataclasses, and the lookups they need."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .errors import NotFound
from .models import Content, Version


@dataclass(frozen=True)
class PageState:
    """A tracked page as the scheduler and the listings see it."""

    id: int
    url: str
    state: str
    added_at: str
    source: str | None
    next_check_at: str | None
    last_checked_at: str | None
    last_change_at: str | None
    published: str | None
    latest_version: int
    title: str | None
    etag: str | None
    last_modified: str | None
    baseline_sha256: str | None
    consecutive_errors: int
    missing_streak: int
    last_error_kind: str | None


PAGE_COLUMNS = ", ".join(PageState.__dataclass_fields__)


def page_row(conn, url: str, columns: str) -> tuple | None:
    """``columns`` of the page a URL names: its own row, or the page it is an alias of.
    The columns may refer to the row as ``pages``."""
    row = conn.execute(f"SELECT {columns} FROM pages WHERE url = ?", (url,)).fetchone()
    if row is None:
        row = conn.execute(
            f"SELECT {columns} FROM pages WHERE id = (SELECT page_id FROM aliases WHERE url = ?)",
            (url,),
        ).fetchone()
    return row


def page_id(conn, url: str) -> int | None:
    """The page a URL names: its own row, or the page it is an alias of."""
    row = page_row(conn, url, "id")
    return None if row is None else row[0]


def page_head(conn, url: str) -> tuple[int, int, str]:
    """(id, latest_version, state) of the page a URL names; NotFound as ``require_page``."""
    row = page_row(conn, url, "id, latest_version, state")
    if row is None:
        raise NotFound(f"{url}: not tracked")
    return row


def require_page(conn, url: str) -> int:
    found = page_id(conn, url)
    if found is None:
        raise NotFound(f"{url}: not tracked")
    return found


def version_row(conn, page: int, number: int) -> dict | None:
    cursor = conn.execute("SELECT * FROM versions WHERE page_id = ? AND number = ?", (page, number))
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cursor.description], row))


def content_of(row: dict) -> Content:
    return Content(
        title=row["title"],
        headline=row.get("headline"),  # absent from archives older than schema 2 opened read-only
        other_titles=tuple(json.loads(row.get("other_titles") or "[]")),
        byline=tuple(json.loads(row.get("byline") or "[]")),
        authors=tuple(json.loads(row["authors"])),
        published=row["published"],
        modified=row["modified"],
        description=row["description"],
        canonical_url=row["canonical_url"],
        text=row["text"],
    )


def version_of(url: str, row: dict) -> Version:
    return Version(
        url=url,
        number=row["number"],
        captured_at=row["captured_at"],
        content=content_of(row),
        markdown=row["markdown"],
        final_url=row["final_url"],
        sitename=row["sitename"],
        language=row["language"],
        changed=tuple(json.loads(row["changed"])),
        flags=tuple(json.loads(row["flags"])),
        revert_of=row["revert_of"],
        words_added=row["words_added"],
        words_removed=row["words_removed"],
        extractor=row["extractor"] or "",
        extractor_version=row["extractor_version"] or "",
        raw_sha256=row["raw_sha256"],
        section=row["section"],
        tags=tuple(json.loads(row["tags"])),
        encoding=row.get("encoding"),
    )
