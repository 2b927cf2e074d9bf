"""The fetch stage: one guarded HTTP exchange per URL, Target -> FetchResult.

This is the only module that imports httpx. httpx is used for HTTP/1.1 framing and TLS; the
rest is done here because httpx leaves it open (LESSONS.md §5):

- a total deadline over the whole exchange, redirects and body included;
- redirects followed by hand, each hop re-checked (scheme, SSRF guard, credentials);
- the raw body read as a stream and decoded with a cap (``pipeline.decompress``);
- the SSRF guard applied again to the *resolved* address at connect time
  (``netguard.GuardedBackend``), so DNS rebinding cannot reach a private address;
- TLS verification that cannot be turned off.

Every failure is a ``FetchError`` with a ``kind``; ``BlockedError`` when nothing was sent.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import ssl
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# httpx imports its command-line tool when click, rich and pygments are installed (they
# are, for our own CLI): ~60 ms of every command's start-up for a module never used here.
# With the entry set to None its import fails and httpx falls back to a stub, as it does
# without those packages.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)
try:
    import httpx
except ImportError:  # pragma: no cover - an httpx that needs the module: load it after all
    if sys.modules.get("httpx._main", False) is None:
        del sys.modules["httpx._main"]
    import httpx

from pipeline import netguard
from pipeline.decompress import BodyReader, media_type, refuse_declared_type
from pipeline.errors import BlockedError, FetchError
from pipeline.models import FetchResult, Target
from pipeline.settings import FetchSettings

__all__ = ["RETRY_AFTER_CEILING", "Fetcher", "parse_retry_after"]

RETRY_AFTER_CEILING = 7 * 24 * 3600.0  # longer "come back later" answers are treated as a week

HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
FEED_ACCEPT = (
    "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,"
    "text/plain;q=0.8,*/*;q=0.1"
)
_IDLE_HOSTS = 64  # hosts whose idle connection is kept for their next page
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SECRET_HEADERS = ("authorization", "cookie", "proxy-authorization")
_DRAIN_MAX = 64 * 1024  # an unread body up to this size is read to keep its connection
_DRAIN_SECONDS = 1.0  # ... if it arrives within this time


def parse_retry_after(value: str | None, *, now: datetime, cap: float) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date), capped.

    None when absent or unparseable; a date in the past gives 0. Never raises.
    """
    try:
        if value is None:
            return None
        text = value.strip()
        if text.isascii() and text.isdigit():
            # Huge digit strings would be slow (or refused) to convert; they are "cap" anyway.
            seconds = float(int(text)) if len(text) <= 12 else float("inf")
            return max(0.0, min(seconds, cap))
        if not text or len(text) > 100:
            return None
        when = parsedate_to_datetime(text)
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return max(0.0, min((when - now).total_seconds(), cap))
    except Exception:  # any malformed header is simply "not given"
        return None


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its pool swapped for ``netguard.HostPools`` (one pool per
    origin) on ``netguard.GuardedBackend``."""

    def __init__(self, ssl_context: Callable[[], ssl.SSLContext], *, allow_private: bool,
                 limits: int) -> None:
        # The base pool is replaced below and never used: give it a bare client context
        # (it verifies, with no CA loaded) rather than load the CA bundle for it.
        super().__init__(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), trust_env=False)
        # Private attribute, but the only seam for a network backend; test_netguard's
        # rebinding test fails loudly if a new httpx stops using it.
        self._pool = netguard.HostPools(
            ssl_context=ssl_context,
            max_connections=limits,
            max_idle_hosts=_IDLE_HOSTS,
            keepalive_expiry=5.0,
            network_backend=netguard.GuardedBackend(allow_private=allow_private),
        )


@functools.cache
def _default_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~0.1 s; a verifying context is safe to share.
    return httpx.create_ssl_context(verify=True, trust_env=False)


def _verified_context(verify: ssl.SSLContext | bool):
    """The given verifying context, or (for True) the function that loads the default one:
    loading the CA bundle takes ~70 ms, and a run over http:// origins never needs it."""
    if verify is True:
        return _default_context
    if (
        isinstance(verify, ssl.SSLContext)
        and verify.verify_mode == ssl.CERT_REQUIRED
        and verify.check_hostname
    ):
        return verify
    raise ValueError("TLS verification cannot be turned off")


def _host(url: httpx.URL) -> str:
    # raw_host is the ASCII (punycode) form; .host decodes IDNA and can raise on junk.
    return url.raw_host.decode("ascii", "replace")


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    default = 443 if url.scheme == "https" else 80
    return url.scheme, _host(url), url.port or default


def _joined(items: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Header name (lower case) -> value, repeats joined with ", " as httpx's Headers.get
    joins them."""
    joined: dict[str, str] = {}
    for name, value in items:
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


async def _drain(response: httpx.Response) -> None:
    """Read what is left of a response nobody reads (a 304, an error page, a redirect)
    when it is small, so its connection can carry the next request: h11 keeps a connection
    only once the whole response was read. Every 304 paid a new TCP connection before."""
    if response.status_code in (204, 304):  # no body by definition: nothing to wait for
        await _read_up_to(response, _DRAIN_MAX)
        return
    length = response.headers.get("content-length", "").strip()
    if not length.isdigit() or int(length) > _DRAIN_MAX:
        return  # unknown or large: closing the connection is cheaper than reading it
    try:
        # A body that trickles must not turn the answer into a timeout.
        async with asyncio.timeout(_DRAIN_SECONDS):
            await _read_up_to(response, _DRAIN_MAX)
    except TimeoutError:
        pass


async def _read_up_to(response: httpx.Response, limit: int) -> None:
    try:
        size = 0
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > limit:
                return
    except (httpx.HTTPError, OSError, ssl.SSLError):
        pass  # the connection is closed instead; the answer is what it was


def _has_ssl_cause(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, ssl.SSLError | ssl.CertificateError):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


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
        ctx = _verified_context(verify)
        if transport is None:
            transport = _GuardedTransport(
                (lambda: ctx) if isinstance(ctx, ssl.SSLContext) else ctx,
                allow_private=settings.allow_private_networks,
                limits=max(1, settings.concurrency),
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
                    await _drain(response)
                    if len(state.hops) > max_redirects:
                        raise state.error(
                            f"more than {max_redirects} redirects", "too_many_redirects"
                        )
                    continue
                return await self._finish(state, response, fetched_at, started, **kwargs)
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
            raise self._translate(state, exc) from exc
        response.request = request
        return response

    def _translate(self, state: _Exchange, exc: BaseException) -> FetchError:
        if isinstance(exc, httpx.TimeoutException):
            return state.error(f"timed out: {type(exc).__name__}", "timeout")
        if _has_ssl_cause(exc):
            return state.error(f"TLS failure: {exc}", "tls")
        if isinstance(exc, httpx.ConnectError):
            return state.error(f"cannot connect: {exc}", "connect")
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return state.error(f"unsupported URL: {exc}", "blocked_scheme")
        if isinstance(exc, OSError) and not isinstance(exc, httpx.HTTPError):
            return state.error(f"network error: {exc}", "connect")
        return state.error(f"protocol error: {exc or type(exc).__name__}", "protocol")

    def _status_error(self, state: _Exchange, response: httpx.Response) -> FetchError:
        status = response.status_code
        reason = f"HTTP {status} {response.reason_phrase}".strip()
        if status == 404:
            return state.error(reason, "not_found", status=status)
        if status == 410:
            return state.error(reason, "gone", status=status)
        if status in (429, 503):
            # The server's own figure (bounded): the run waits only up to retry_after_cap,
            # but a longer request still tells the schedule when to come back.
            wait = parse_retry_after(
                response.headers.get("retry-after"), now=datetime.now(UTC), cap=RETRY_AFTER_CEILING
            )
            return state.error(reason, "retry_later", status=status, retry_after=wait)
        return state.error(reason, "http_status", status=status)

    async def _finish(self, state, response, fetched_at, started, **kwargs) -> FetchResult:
        status = response.status_code
        items = tuple(response.headers.multi_items())
        headers = _joined(items)  # one pass: each httpx Headers.get scans and decodes them all
        common = dict(
            url=state.url,
            final_url=state.current,
            status=status,
            headers=items,
            fetched_at=fetched_at,
            redirects=tuple(state.hops),
        )
        if status == 304:
            await _drain(response)  # no body: this only lets the connection be kept
            return FetchResult(
                **common,
                duration=time.monotonic() - started,
                etag=headers.get("etag") or kwargs.get("etag"),
                last_modified=headers.get("last-modified") or kwargs.get("last_modified"),
                not_modified=True,
            )
        if not 200 <= status < 300:
            error = self._status_error(state, response)
            await _drain(response)
            raise error
        media, charset = media_type(headers.get("content-type"))
        body, wire = await self._read_body(state, response, media, headers, **kwargs)
        body_sha256 = (kwargs["last_body"][0] if body is None  # only when a last body was given
                       else hashlib.sha256(body).hexdigest())
        return FetchResult(
            **common,
            duration=time.monotonic() - started,
            body=body or b"",
            charset=charset,  # decoded on first use of .text: an unchanged page never is
            content_type=media,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            body_sha256=body_sha256,
            wire_sha256=wire,
        )

    async def _read_body(self, state, response, media, headers, *, max_bytes, html_only,
                         last_body=(None, None), **_) -> tuple[bytes | None, str | None]:
        """(body, wire hash); body None when the compressed bytes are the last body's."""
        refusal = refuse_declared_type(media, html_only=html_only)
        if refusal is not None:
            raise state.error(refusal, "content_type", status=response.status_code)
        length = headers.get("content-length", "").strip()
        if length.isdigit() and int(length) > max_bytes:
            raise state.error(
                f"Content-Length {length} exceeds the {max_bytes}-byte cap", "too_large",
                status=response.status_code,
            )
        codings = [
            c.strip().lower()
            for c in headers.get("content-encoding", "").split(",")
            if c.strip()
        ]
        status = response.status_code
        reader = BodyReader(
            codings, max_bytes, media, html_only,
            fail=lambda message, kind: state.error(message, kind, status=status),
        )
        wire = hashlib.sha256("\n".join(codings).encode() + b"\n") if codings else None
        # Held back, not decoded, while they may turn out to be the last body's bytes; past
        # max_bytes they are decoded as they come (the decoder enforces the caps).
        held: list[bytes] | None = [] if wire and all(last_body) else None
        held_size = 0
        try:
            async for chunk in response.aiter_raw():
                if wire is not None:
                    wire.update(chunk)
                if held is not None:
                    held.append(chunk)
                    held_size += len(chunk)
                    if held_size <= max_bytes:
                        continue
                    chunk, held = b"".join(held), None
                reader.feed(chunk)
            digest = wire.hexdigest() if wire is not None else None
            if held is not None:
                if digest == last_body[1]:
                    return None, digest  # the same bytes decode to the same body
                reader.feed(b"".join(held))
            reader.finish()
        except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
            raise self._translate(state, exc) from exc
        if html_only and not reader.body:
            raise state.error("empty body", "empty", status=response.status_code)
        return reader.body, digest
