"""Frozen dataclasses that go into and come out of the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# The fields whose normalised values decide whether a new version is written.
VERSIONED_FIELDS: tuple[str, ...] = (
    "title",
    "headline",
    "other_titles",
    "authors",
    "byline",
    "published",
    "modified",
    "description",
    "canonical_url",
    "text",
)


@dataclass(frozen=True)
class Content:
    """The versioned part of an article. ``text`` is the body, one paragraph per line.

    ``title`` is the headline the page declares (og:title, JSON-LD); ``headline`` is the one
    printed on the page (its <h1>); ``other_titles`` are the page's further declared headlines
    (og:title, JSON-LD, twitter:title, <title>) that differ from both. They often differ, and
    an editor may change any one alone.

    ``byline`` holds the names printed in the page's byline when they differ from ``authors``
    (which prefer structured data): a CMS account in JSON-LD and a reporter's name on the page
    are both worth versioning.
    """

    title: str | None = None
    headline: str | None = None
    other_titles: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    published: str | None = None
    modified: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    text: str = ""
    byline: tuple[str, ...] = ()


@dataclass(frozen=True)
class FetchInfo:
    """Provenance of one check; never part of the content hash."""

    started_at: datetime  # timezone-aware UTC
    duration: float = 0.0
    status: int | None = None
    final_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """One successful extraction, offered to the store. It becomes a version only if it differs."""

    url: str  # the page's key
    content: Content
    fetch: FetchInfo
    raw_html: bytes  # the body as received (decompressed), kept content-addressed
    markdown: str = ""
    sitename: str | None = None
    language: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    extractor: str = ""
    extractor_version: str = ""
    encoding: str | None = None  # the charset raw_html was decoded with, for re-extraction


@dataclass(frozen=True)
class SaveResult:
    """What saving a snapshot did."""

    url: str
    created: bool  # a new version was written
    version: int  # the new version, or the latest one when unchanged
    changed: tuple[str, ...] = ()  # versioned fields that differ from the previous version
    flags: tuple[str, ...] = ()  # "minor", "revert"
    revert_of: int | None = None


@dataclass(frozen=True)
class Version:
    """One stored version of a page, as read back."""

    url: str
    number: int
    captured_at: str  # ISO 8601 UTC
    content: Content
    markdown: str = ""
    final_url: str | None = None
    sitename: str | None = None
    language: str | None = None
    changed: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    revert_of: int | None = None
    words_added: int = 0
    words_removed: int = 0
    extractor: str = ""
    extractor_version: str = ""
    raw_sha256: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    encoding: str | None = None


@dataclass(frozen=True)
class Reextraction:
    """A stored version's fields recomputed from its raw HTML by a newer extractor."""

    number: int
    content: Content
    markdown: str = ""
    sitename: str | None = None
    language: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    extractor: str = ""
    extractor_version: str = ""
