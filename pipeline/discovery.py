"""The discovery phase of a run: read feeds and sitemaps, and track the new pages they list.

It only inserts pages (due at once); checking them is the ordinary run's job. Feeds are
fetched with the same robots rules, host limits, conditional GETs and guards as articles.
A feed's error is reported on the run where it starts failing, not on every run after.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from .discover import parse_discovery
from .errors import FetchError, UsageError
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
    """What one feed gave so far; survives the feed being cancelled at the deadline."""

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
    if tasks:
        stop = asyncio.ensure_future(session.stop_event.wait())
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            _, late = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.ALL_COMPLETED) \
                if stop.done() is False and timeout is None else (None, None)
        finally:
            pass
        stop.cancel()
    new_pages = sum(t.new_pages for t in tallies)
    errors = tuple(line for t in tallies for line in t.errors)
    return new_pages, errors
