"""The pipeline's error tree. Each error carries a short machine ``kind``.

    PalimpsestError
    ├── ConfigError          config.toml is missing, malformed or has an unknown/mistyped key
    ├── UsageError           a command was given something it cannot use (e.g. a non-http URL)
    ├── FetchError           one URL could not be fetched; ``kind`` says why (timeout, connect, ...)
    │   └── BlockedError     refused before any request (scheme, private address, robots.txt)
    └── ExtractError         the page was fetched but yielded no trustworthy article

Lower-level exceptions (httpx, socket, lxml) are translated into these where they arise,
with ``raise ... from exc``; nothing above the stage that raised them sees the originals.
Store errors live in ``archive.errors`` because the store is a separate library.
"""

from __future__ import annotations


class PalimpsestError(Exception):
    """Base of every error palimpsest raises on purpose."""

    kind = "error"

    def __init__(self, message: str, *, kind: str | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(PalimpsestError):
    """config.toml cannot be used. The message names the file, the key and the problem."""

    kind = "config"


class UsageError(PalimpsestError):
    """A command-line argument cannot be used."""

    kind = "usage"


class FetchError(PalimpsestError):
    """A URL could not be fetched.

    Kinds: timeout, connect, tls, http_status, too_large, content_type, too_many_redirects,
    bad_redirect, protocol, decoding, empty, retry_later (with retry_after), blocked_scheme,
    blocked_address, robots, not_found, gone.
    """

    kind = "fetch"

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        url: str = "",
        status: int | None = None,
        final_url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, kind=kind)
        self.url = url
        self.status = status
        self.final_url = final_url
        # Seconds the server asked us to wait (429/503), already capped; None if not given.
        self.retry_after = retry_after


class BlockedError(FetchError):
    """Refused before any request was sent: scheme, private address or robots.txt."""


class ExtractError(PalimpsestError):
    """The page was fetched but is not a trustworthy article version.

    Kinds: extract_failed, extract_timeout, empty, interstitial, soft_404, shrunk.
    """

    kind = "extract_failed"
