"""The discovery phase of a run: read feeds and sitemaps, and track the new pages they list.

It only inserts pages (due at once); checking them is the ordinary run's job. Feeds are
fetched with the same robots rules, host limits, conditional GETs and guards as articles.
A feed's error is reported on the run where it starts failing, not on every run after.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from .discover import parse_discovery
from .errors import FetchError, UsageError
from .session import wait_all
from .urls import amp_variants, canonical_url

MAX_DOCUMENTS_PER_FEED = 50  # a sitemap index fans out; bound what one run reads
MAX_DEPTH = 2  # home page -> feed, or index -> sitemap -> (no further)


@dataclass(frozen=True)
class _Doc:
    url: str
    depth: int
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class _Tally:
    """What one feed gave so far; it survives the feed being cancelled at the deadline."""

    new_pages: int = 0
    errors: list[str] = field(default_factory=list)


async def discover_new_pages(session, *, deadline: float | None) -> tuple[int, tuple[str, ...]]:
    """Read every registered feed; returns (pages newly tracked, error lines to report).

    Stops at ``deadline`` (time.monotonic()) or when the session is stopped; pages tracked
    before then stay tracked.
    """
    feeds = await session.writer.feed_call("all")
    tallies = [_Tally() for _ in feeds]
    tasks = [asyncio.create_task(_read_feed(session, feed, tally))
             for feed, tally in zip(feeds, tallies)]
    await wait_all(tasks, session.stop_event, deadline)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # a store failure
    new_pages = sum(t.new_pages for t in tallies)
    return new_pages, tuple(line for t in tallies for line in t.errors)


async def _read_feed(session, feed, tally: _Tally) -> None:
    queue = [_Doc(feed.url, 0, feed.etag, feed.last_modified)]
    seen: set[str] = set()
    errors: list[str] = []
    root_etag = root_modified = None
    checked_at = session.now()
    while queue and len(seen) < MAX_DOCUMENTS_PER_FEED:
        doc = queue.pop(0)
        if doc.url in seen:
            continue
        seen.add(doc.url)
        try:
            await session.ensure_allowed(doc.url)
            async with session.gate.slot(doc.url):
                result = await session.fetcher.fetch_bytes(
                    doc.url, etag=doc.etag, last_modified=doc.last_modified
                )
        except FetchError as exc:
            errors.append(f"{doc.url}: {exc.kind}: {exc}")
            continue
        if result.not_modified:
            continue
        discovery = parse_discovery(result.body, url=result.final_url,
                                    content_type=result.content_type)
        children = (*discovery.sitemaps, *discovery.feeds)
        if doc.depth == 0 and not children:
            # Only a leaf's validators are kept: a sitemap index answering 304 says nothing
            # about the child sitemaps, which change while the index stays the same.
            root_etag, root_modified = result.etag, result.last_modified
        for link in discovery.links:
            if await _track(session, link.url, feed.url):
                tally.new_pages += 1
        if doc.depth < MAX_DEPTH:
            queue.extend(_Doc(child, doc.depth + 1) for child in children)
    error = errors[0] if errors else None
    if error and not feed.last_error:
        tally.errors.extend(errors)  # newly failing: say so once
    await session.writer.feed_call(
        "record", feed.url, checked_at=checked_at, etag=root_etag, last_modified=root_modified,
        error=error, links_found=tally.new_pages,
    )


async def _track(session, url: str, root: str) -> bool:
    """Track ``url`` unless it, or its non-AMP twin, is already known."""
    try:
        key = canonical_url(url)
    except UsageError:
        return False
    if await session.writer.call("resolve", key) is not None:
        return False
    for variant in amp_variants(key):
        page = await session.writer.call("resolve", variant)
        if page is not None:
            await session.writer.call("add_alias", key, page)
            return False
    return await session.writer.call("track", key, source=f"feed:{root}", now=session.now())
