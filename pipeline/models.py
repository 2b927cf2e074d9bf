"""Frozen dataclasses exchanged between the stages: Target -> FetchResult -> Extracted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from .charset import decode_html


@dataclass(frozen=True)
class Target:
    """One URL to fetch, with what the store remembers from the previous check."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    # sha256 of the last *captured* raw body; equal bodies skip extraction.
    last_body_sha256: str | None = None
    # sha256 of the compressed bytes that last decoded to that body (see FetchResult).
    last_wire_sha256: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """A successful HTTP exchange (2xx with an HTML body, or a 304).

    ``text`` and ``encoding`` are decoded from ``body`` on first use: an unchanged page
    (same body hash) never needs them, and extraction decodes in its worker process.
    """

    url: str  # as requested
    final_url: str  # after redirects
    status: int
    headers: tuple[tuple[str, str], ...]
    fetched_at: datetime  # timezone-aware UTC, when the request started
    duration: float  # seconds, whole exchange including redirects
    body: bytes = b""  # decompressed body bytes ('' for 304)
    charset: str | None = None  # as the Content-Type header declared it (may be wrong)
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None  # of ``body``; None for 304
    redirects: tuple[str, ...] = ()  # every URL visited before final_url
    not_modified: bool = False  # True for a 304 answer to a conditional GET
    # sha256 of the Content-Encoding and the bytes as sent (compressed bodies only). When it
    # equals Target.last_wire_sha256 the body is the last one: it is not decoded again, and
    # ``body`` is left empty with ``body_sha256`` the last body's.
    wire_sha256: str | None = None

    @property
    def text(self) -> str:
        """``body`` decoded to str ('' for a 304)."""
        return self._decoded[0]

    @property
    def encoding(self) -> str | None:
        """The charset used to decode ``text`` (None for a 304)."""
        return self._decoded[1]

    @cached_property
    def _decoded(self) -> tuple[str, str | None]:
        if self.not_modified:
            return "", None
        return decode_html(self.body, self.charset)


@dataclass(frozen=True)
class Extracted:
    """What the extract stage found in one page. Strings are stripped; missing is None."""

    url: str
    final_url: str
    title: str | None
    authors: tuple[str, ...]
    published: str | None  # ISO 8601, with the page's time zone when given, else a date
    modified: str | None
    description: str | None
    sitename: str | None
    language: str | None
    canonical_url: str | None
    text: str  # body, plain text, one paragraph per line
    markdown: str  # body as Markdown with links and headings
    extractor: str  # e.g. "palimpsest+trafilatura"
    extractor_version: str  # e.g. "1+2.3.1"
    section: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    headline: str | None = None  # the headline printed on the page (<h1>), next to the declared title
    other_titles: tuple[str, ...] = ()  # further declared headlines differing from both
    byline: tuple[str, ...] = ()  # names printed in the byline, when they differ from authors
