"""What a page check hands the archive: the fetch row, the snapshot and its saving.

``store_page`` runs on the store writer's thread; ``drop_lines`` applies a site's
``ignore_lines`` rules to an extraction before it is hashed and compared.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from archive.models import FetchInfo, Snapshot

from .models import Extracted, FetchResult
from .quality import check_extraction, word_count
from .urls import canonical_url, choose_identity
from .workers import content_of


def fetch_info(result: FetchResult, started_at: datetime, duration: float) -> FetchInfo:
    return FetchInfo(
        started_at=started_at, duration=duration, status=result.status,
        final_url=result.final_url, etag=result.etag, last_modified=result.last_modified,
        body_sha256=result.body_sha256,
    )


def store_page(archive, url: str, extracted: Extracted, result: FetchResult, info: FetchInfo, *,
               if_same, if_changed, packed, hashes, encoding=None):
    """The store side of a successful extraction; runs on the writer thread."""
    previous = archive.latest_text(url)
    check_extraction(extracted, requested_url=url,
                     previous_words=word_count(previous) if previous else None)
    key = archive.rekey(url, choose_identity(url, result.final_url, extracted.canonical_url))
    for alias in {*map(_safe_canonical, (url, *result.redirects, result.final_url))} - {key}:
        archive.add_alias(alias, key)
    saved = archive.save(
        _snapshot(key, extracted, result, info, encoding), next_check_at=if_same,
        next_check_if_changed=if_changed, packed=packed, raw_sha256=result.body_sha256,
        hashes=hashes, wire_sha256=result.wire_sha256,
    )
    return key, saved


def _snapshot(key: str, ex: Extracted, result: FetchResult, info: FetchInfo,
              encoding: str | None = None) -> Snapshot:
    return Snapshot(
        url=key, content=content_of(ex), fetch=info, raw_html=result.body, markdown=ex.markdown,
        sitename=ex.sitename, language=ex.language, section=ex.section, tags=ex.tags,
        extractor=ex.extractor, extractor_version=ex.extractor_version,
        encoding=encoding or result.encoding,  # the worker's, or decoded here (no worker)
    )


def drop_lines(extracted: Extracted, patterns: tuple[str, ...]) -> Extracted:
    compiled = [re.compile(p) for p in patterns]

    def keep(line: str) -> bool:
        return not any(p.search(line) for p in compiled)

    text = "\n".join(line for line in extracted.text.split("\n") if keep(line))
    markdown = "\n".join(line for line in extracted.markdown.split("\n") if keep(line))
    return replace(extracted, text=text, markdown=markdown)


def _safe_canonical(url: str) -> str:
    try:
        return canonical_url(url)
    except Exception:  # an odd redirect hop is not worth failing a saved page for
        return url


__all__ = ["drop_lines", "fetch_info", "store_page"]
