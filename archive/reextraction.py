"""Rewriting stored versions with a newer extractor's fields, and re-deriving their changes."""

from __future__ import annotations

import json

from .errors import NotFound
from .models import Reextraction
from .normalize import changed_fields, content_hash, field_hashes, is_minor_change, word_stats
from .rows import content_of, version_row


def replace_fields(conn, page_id: int, update: Reextraction) -> None:
    hashes = field_hashes(update.content)
    c = update.content
    cursor = conn.execute(
        "UPDATE versions SET title = ?, headline = ?, other_titles = ?, authors = ?, byline = ?, published = ?, modified = ?,"
        " description = ?, canonical_url = ?, text = ?, markdown = ?, sitename = ?,"
        " language = ?, section = ?, tags = ?, content_hash = ?, field_hashes = ?,"
        " extractor = ?, extractor_version = ? WHERE page_id = ? AND number = ?",
        (
            c.title, c.headline, json.dumps(list(c.other_titles)), json.dumps(list(c.authors)),
            json.dumps(list(c.byline)), c.published, c.modified, c.description,
            c.canonical_url, c.text, update.markdown, update.sitename, update.language,
            update.section, json.dumps(list(update.tags)), content_hash(hashes),
            json.dumps(hashes), update.extractor, update.extractor_version, page_id,
            update.number,
        ),
    )
    if cursor.rowcount != 1:
        raise NotFound(f"page {page_id}: no version {update.number}")


def rechain(conn, page_id: int) -> int:
    """Recompute changed fields, flags and word counts of every version of a page."""
    rows = conn.execute(
        "SELECT number FROM versions WHERE page_id = ? ORDER BY number", (page_id,)
    ).fetchall()
    conn.execute("DELETE FROM changes WHERE page_id = ?", (page_id,))
    previous = None
    seen: dict[str, int] = {}
    identical = 0
    previous_hash, previous_number = None, 0
    for (number,) in rows:
        row = version_row(conn, page_id, number)
        content = content_of(row)
        hashes = json.loads(row["field_hashes"])
        flags: list[str] = []
        revert_of = None
        if previous is None:
            changed: tuple[str, ...] = ()
            added, removed = word_stats("", content.text)
        else:
            prev_content, prev_hashes = previous
            changed = changed_fields(prev_hashes, hashes)
            added, removed = word_stats(prev_content.text, content.text)
            if not changed:
                flags.append("identical")
                identical += 1
            else:
                if is_minor_change(prev_content, content):
                    flags.append("minor")
                earlier = seen.get(row["content_hash"])
                if earlier is not None:
                    flags.append("revert")
                    revert_of = earlier
        conn.execute(
            "UPDATE versions SET changed = ?, flags = ?, revert_of = ?, words_added = ?,"
            " words_removed = ? WHERE page_id = ? AND number = ?",
            (json.dumps(list(changed)), json.dumps(flags), revert_of, added, removed,
             page_id, number),
        )
        conn.executemany(
            "INSERT INTO changes (page_id, version, field) VALUES (?, ?, ?)",
            [(page_id, number, name) for name in changed],
        )
        if previous is not None:
            seen[previous_hash] = previous_number  # versions before the predecessor
        previous, previous_hash, previous_number = (content, hashes), row["content_hash"], number
    return identical
