"""The discovery phase of a run: read feeds and sitemaps, and track the new pages they list.

It only inserts pages (due at once); checking them is the ordinary run's job. Feeds are
fetched with the same robots rules, host limits, conditional GETs and guards as articles.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from archive.db import utcnow

from .discover import parse_discovery
from .errors import FetchError, UsageError
from .urls import canonical_url

MAX_DOCUMENTS_PER_FEED = 50  # a sitemap index fans out; bound what one run reads
MAX_DEPTH = 2  # home page -> feed, or index -> sitemap -> (no further)


@dataclass(frozen=True)
class _Doc:
    url: str
    root: str
    depth: int
    etag: str | None = None
    last_modified: str | None = None


async def discover_new_pages(session, *, deadline: float) -> tuple[int, tuple[str, ...]]:
    """Read every registered feed; returns (pages newly tracked, error lines)."""
    feeds = await session.writer.feed_call("all")
    results = await asyncio.gather(
        *(_read_feed(session, feed, deadline) for feed in feeds), return_exceptions=False
    )
    new_pages = sum(count for count, _ in results)
    errors = tuple(error for _, errs in results for error in errs)
    return new_pages, errors


async def _read_feed(session, feed, deadline: float) -> tuple[int, list[str]]:
    queue = [_Doc(feed.url, feed.url, 0, feed.etag, feed.last_modified)]
    seen: set[str] = set()
    new_pages, errors, read = 0, [], 0
    while queue and read < MAX_DOCUMENTS_PER_FEED and time.monotonic() < deadline:
        doc = queue.pop(0)
        if doc.url in seen:
            continue
        seen.add(doc.url)
        read += 1
        checked_at = utcnow()
        try:
            await session.ensure_allowed(doc.url)
            async with session.gate.slot(doc.url):
                result = await session.fetcher.fetch_bytes(
                    doc.url, etag=doc.etag, last_modified=doc.last_modified
                )
        except FetchError as exc:
            errors.append(f"{doc.url}: {exc.kind}: {exc}")
            if doc.depth == 0:
                await session.writer.feed_call(
                    "record", doc.url, checked_at=checked_at, error=f"{exc.kind}: {exc}"
                )
            continue
        found = 0
        if not result.not_modified:
            discovery = parse_discovery(result.body, url=result.final_url,
                                        content_type=result.content_type)
            for link in discovery.links:
                if await _track(session, link.url, doc.root):
                    found += 1
            if doc.depth < MAX_DEPTH:
                queue.extend(_Doc(child, doc.root, doc.depth + 1)
                             for child in (*discovery.sitemaps, *discovery.feeds))
        new_pages += found
        if doc.depth == 0:
            await session.writer.feed_call(
                "record", doc.url, checked_at=checked_at, etag=result.etag,
                last_modified=result.last_modified, links_found=found,
            )
    return new_pages, errors


async def _track(session, url: str, root: str) -> bool:
    try:
        key = canonical_url(url)
    except UsageError:
        return False
    if await session.writer.call("resolve", key) is not None:
        return False
    return await session.writer.call("track", key, source=f"feed:{root}")
