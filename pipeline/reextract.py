"""Recompute stored versions from their raw HTML with the current extractor.

Used by `archive reextract` (every version of the chosen pages, change lists recomputed) and
by runs, which refresh a stale baseline before comparing, so that upgrading the extractor
never looks like an edit to the article.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from archive.models import Reextraction, Version

from .charset import decode_html
from .errors import ExtractError
from .extract import EXTRACTOR_VERSION
from .workers import ExtractorPool, content_of


@dataclass(frozen=True)
class ReextractResult:
    url: str
    updated: int  # versions given new fields
    identical: int  # versions that now equal their predecessor
    failed: tuple[str, ...] = ()  # "vN: kind: message" for versions left as they were


def is_stale(version: Version) -> bool:
    return version.extractor_version != EXTRACTOR_VERSION


async def reextract_versions(
    pool: ExtractorPool, archive_call, versions: list[Version]
) -> tuple[list[Reextraction], list[str]]:
    """Re-extract ``versions`` from their raw captures, in the worker pool."""
    async def one(version: Version):
        raw = await archive_call("raw_html", version.raw_sha256) if version.raw_sha256 else None
        if raw is None:
            return None, f"v{version.number}: no raw capture kept"
        text, _ = decode_html(raw, version.encoding)
        try:
            ex = await pool.extract(text, url=version.url, final_url=version.final_url or version.url)
        except ExtractError as exc:
            return None, f"v{version.number}: {exc.kind}: {exc}"
        return Reextraction(
            number=version.number,
            content=content_of(ex),
            markdown=ex.markdown, sitename=ex.sitename, language=ex.language,
            section=ex.section, tags=ex.tags, extractor=ex.extractor,
            extractor_version=ex.extractor_version,
        ), None

    results = await asyncio.gather(*(one(v) for v in versions))
    updates = [update for update, _ in results if update is not None]
    failures = [error for _, error in results if error is not None]
    return updates, failures


async def reextract_page(pool, writer, url: str, *, force: bool) -> ReextractResult:
    """`archive reextract`: every (stale, or all with ``force``) version of one page."""
    history = await writer.call("history", url)
    chosen = [v for v in history if force or is_stale(v)]
    if not chosen:
        return ReextractResult(url, 0, 0)
    updates, failures = await reextract_versions(pool, writer.call, chosen)
    updated, identical = (0, 0)
    if updates:
        updated, identical = await writer.call("apply_reextraction", url, updates, rechain=True)
    return ReextractResult(url, updated, identical, tuple(failures))


async def refresh_baseline(pool, writer, url: str) -> None:
    """Before comparing a new capture, bring the latest version to the current extractor."""
    page = await writer.call("page", url)
    if not page.latest_version:
        return
    latest = await writer.call("version", url, page.latest_version)
    if not is_stale(latest):
        return
    updates, _ = await reextract_versions(pool, writer.call, [latest])
    if updates:
        await writer.call("apply_reextraction", url, updates, rechain=False)


async def reextract_pages(config, urls: list[str] | None, *, force: bool) -> list[ReextractResult]:
    """Re-extract the given pages (all tracked pages when ``urls`` is None)."""
    from .store_writer import StoreWriter

    loop = asyncio.get_running_loop()
    writer = await loop.run_in_executor(None, StoreWriter, config.db)
    pool = ExtractorPool(config.extract.workers, config.extract.timeout)
    try:
        if urls is None:
            urls = [page.url for page in await writer.call("pages")]
        return [await reextract_page(pool, writer, url, force=force) for url in urls]
    finally:
        await loop.run_in_executor(None, pool.close)
        await loop.run_in_executor(None, writer.close)
