"""The fetch stage: one guarded HTTP exchange per URL, Target -> FetchResult.

httpx is used for HTTP/1.1 framing and TLS; the rest is done on the fetch side because
httpx leaves it open (LESSONS.md §5):

- a total deadline over the whole exchange, redirects and body included;
- redirects followed by hand, each hop re-checked (scheme, SSRF guard, credentials);
- the raw body read as a stream and decoded with a cap (``pipeline.fetch_response``);
- the SSRF guard applied again to the *resolved* address at connect time
  (``pipeline.fetch_transport``), so DNS rebinding cannot reach a private address;
- TLS verification that cannot be turned off.

This module runs the exchange: request headers (conditional GETs included), the deadline
and the redirect hops. Only it and ``pipeline.fetch_transport`` (which loads httpx) use
httpx. Every failure is a ``FetchError`` with a ``kind``; ``BlockedError`` when nothing
was sent.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline import netguard
from pipeline.errors import BlockedError, FetchError
from pipeline.fetch_response import RETRY_AFTER_CEILING, finish, parse_retry_after
from pipeline.fetch_transport import (
    GuardedTransport,
    drain,
    httpx,  # loaded there without its command-line tool
    translate,
    verified_context,
)
from pipeline.models import FetchResult, Target
from pipeline.settings import FetchSettings

__all__ = ["RETRY_AFTER_CEILING", "Fetcher", "parse_retry_after"]

HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
FEED_ACCEPT = (
    "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,"
    "text/plain;q=0.8,*/*;q=0.1"
)
_IDLE_HOSTS = 64  # hosts whose idle connection is kept for their next page
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SECRET_HEADERS = ("authorization", "cookie", "proxy-authorization")


def _host(url: httpx.URL) -> str:
    # raw_host is the ASCII (punycode) form; .host decodes IDNA and can raise on junk.
    return url.raw_host.decode("ascii", "replace")


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    default = 443 if url.scheme == "https" else 80
    return url.scheme, _host(url), url.port or default


@dataclass
class _Exchange:
    """One URL's exchange so far, for error reports."""

    url: str
    current: str
    hops: list[str] = field(default_factory=list)

    def error(self, message: str, kind: str, **extra) -> FetchError:
        return FetchError(message, kind=kind, url=self.url, final_url=self.current, **extra)


class Fetcher:
    """Fetches one URL per call, with every guard on. Use as an async context manager."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._settings = settings
        ctx = verified_context(verify)
        if transport is None:
            transport = GuardedTransport(
                (lambda: ctx) if isinstance(ctx, ssl.SSLContext) else ctx,
                allow_private=settings.allow_private_networks,
                limits=max(1, settings.concurrency),
                idle_hosts=_IDLE_HOSTS,
            )
        # Extra headers (e.g. a consent cookie) go only to the origin of the requested URL.
        self._extra_headers = dict(headers or {})
        self._transport = transport
        # The client only builds requests (default headers, timeouts) and owns the transport;
        # no cookies are kept: every page is fetched as a stateless first visit.
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            trust_env=False,  # an environment proxy would bypass the address guard
            timeout=httpx.Timeout(
                settings.read_timeout,
                connect=settings.connect_timeout,
                read=settings.read_timeout,
                write=settings.read_timeout,
                pool=settings.timeout,
            ),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip"},
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()  # closes the transport and its connections

    async def fetch(self, target: Target) -> FetchResult:
        """One attempt at an HTML page (no retries), following redirects."""
        return await self._run(
            target.url,
            accept=HTML_ACCEPT,
            max_bytes=self._settings.max_bytes,
            etag=target.etag,
            last_modified=target.last_modified,
            html_only=True,
            last_body=(target.last_body_sha256, target.last_wire_sha256),
        )

    async def fetch_bytes(
        self,
        url: str,
        *,
        accept: str = FEED_ACCEPT,
        max_bytes: int | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """Same guards, for robots.txt, feeds and sitemaps: any text-ish type, empty allowed."""
        return await self._run(
            url,
            accept=accept,
            max_bytes=self._settings.max_bytes if max_bytes is None else max_bytes,
            etag=etag,
            last_modified=last_modified,
            html_only=False,
        )

    async def _run(self, url: str, **kwargs) -> FetchResult:
        netguard.check_url(url, allow_private=self._settings.allow_private_networks)
        state = _Exchange(url=url, current=url)
        fetched_at = datetime.now(UTC)
        started = time.monotonic()
        try:
            async with asyncio.timeout(self._settings.timeout):
                return await self._follow(state, fetched_at, started, **kwargs)
        except TimeoutError as exc:
            raise state.error(
                f"no complete answer within the {self._settings.timeout:g}s deadline", "timeout"
            ) from exc

    def _request_headers(self, url: httpx.URL, first: httpx.URL, **kwargs) -> dict[str, str]:
        headers = {"Accept": kwargs["accept"]}
        if kwargs.get("etag"):
            headers["If-None-Match"] = kwargs["etag"]
        if kwargs.get("last_modified"):
            headers["If-Modified-Since"] = kwargs["last_modified"]
        if url.userinfo:
            pair = f"{url.username}:{url.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        same_origin = _origin(url) == _origin(first)
        for name, value in self._extra_headers.items():
            if same_origin or name.lower() not in _SECRET_HEADERS:
                headers[name] = value
        return headers

    async def _follow(self, state: _Exchange, fetched_at, started, **kwargs) -> FetchResult:
        try:
            first = url = httpx.URL(state.url)
            first.host  # noqa: B018 - decodes IDNA, which httpx redoes (and raises) later
        except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
            raise BlockedError(f"not a valid URL: {exc}", kind="blocked_scheme", url=state.url) from exc
        max_redirects = self._settings.max_redirects
        while True:
            netguard.check_host(
                _host(url), allow_private=self._settings.allow_private_networks, url=state.url
            )
            request = self._client.build_request(
                "GET", url, headers=self._request_headers(url, first, **kwargs)
            )
            response = await self._send(state, request)
            try:
                if response.status_code in _REDIRECTS:
                    url = self._next_hop(state, url, first, response)
                    await drain(response)
                    if len(state.hops) > max_redirects:
                        raise state.error(
                            f"more than {max_redirects} redirects", "too_many_redirects"
                        )
                    continue
                return await finish(state, response, fetched_at, started, **kwargs)
            finally:
                await response.aclose()

    def _next_hop(
        self, state: _Exchange, url: httpx.URL, first: httpx.URL, response: httpx.Response
    ) -> httpx.URL:
        location = response.headers.get("location", "").strip()
        status = response.status_code
        if not location:
            raise state.error(f"redirect {status} without a Location", "bad_redirect", status=status)
        try:
            target = url.join(location)
            target.host  # noqa: B018 - as in _follow: reject undecodable IDNA here
        except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
            raise state.error(
                f"redirect to an invalid URL {location[:200]!r}", "bad_redirect", status=status
            ) from exc
        if target.scheme not in ("http", "https") or not target.raw_host:
            raise state.error(
                f"redirect to a non-http(s) URL {location[:200]!r}", "bad_redirect", status=status
            )
        # Userinfo only ever goes back to the origin it was given for.
        target = target.copy_with(userinfo=b"")
        if first.userinfo and _origin(target) == _origin(first):
            target = target.copy_with(userinfo=first.userinfo)
        visited = [*state.hops, state.current]
        state.hops.append(state.current)
        state.current = str(target)
        if any(httpx.URL(v).copy_with(userinfo=b"") == target.copy_with(userinfo=b"") for v in visited):
            raise state.error(f"redirect loop back to {target}", "too_many_redirects", status=status)
        try:
            netguard.check_url(str(target), allow_private=self._settings.allow_private_networks)
        except BlockedError as exc:
            raise BlockedError(
                f"redirect refused: {exc}", kind=exc.kind, url=state.url, final_url=state.current
            ) from exc
        return target

    async def _send(self, state: _Exchange, request: httpx.Request) -> httpx.Response:
        # Straight to the transport: AsyncClient.send would pre-parse every Location
        # (raising on garbage) and apply cookies and auth we manage ourselves.
        try:
            response = await self._transport.handle_async_request(request)
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ssl.SSLError) as exc:
            raise translate(state, exc) from exc
        response.request = request
        return response
