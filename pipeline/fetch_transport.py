"""The connection side of a fetch, under httpx: the transport, TLS and transport errors.

``GuardedTransport`` is httpx's transport on ``hostpools.HostPools`` and
``netstream.GuardedBackend``, so every connect is checked by the address guard; TLS
verification cannot be turned off; transport exceptions become ``FetchError`` kinds; and a
small unread body is drained so its connection can be kept. This module loads httpx for
the fetch side (``pipeline.fetch`` takes it from here).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import sys
from collections.abc import Callable

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

from pipeline.errors import FetchError
from pipeline.hostpools import HostPools
from pipeline.netstream import GuardedBackend

__all__ = ["STREAM_ERRORS", "GuardedTransport", "drain", "translate", "verified_context"]

_DRAIN_MAX = 64 * 1024  # an unread body up to this size is read to keep its connection
_DRAIN_SECONDS = 1.0  # ... if it arrives within this time
# What reading a response's bytes may raise when the connection fails.
STREAM_ERRORS = (httpx.HTTPError, OSError, ssl.SSLError)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its pool swapped for ``HostPools`` (one pool per origin) on
    ``GuardedBackend``."""

    def __init__(self, ssl_context: Callable[[], ssl.SSLContext], *, allow_private: bool,
                 limits: int, idle_hosts: int) -> None:
        # The base pool is replaced below and never used: give it a bare client context
        # (it verifies, with no CA loaded) rather than load the CA bundle for it.
        super().__init__(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), trust_env=False)
        # Private attribute, but the only seam for a network backend; test_netguard's
        # rebinding test fails loudly if a new httpx stops using it.
        self._pool = HostPools(
            ssl_context=ssl_context,
            max_connections=limits,
            max_idle_hosts=idle_hosts,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(allow_private=allow_private),
        )


@functools.cache
def _default_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~0.1 s; a verifying context is safe to share.
    return httpx.create_ssl_context(verify=True, trust_env=False)


def verified_context(verify: ssl.SSLContext | bool):
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


async def drain(response: httpx.Response) -> None:
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
    except STREAM_ERRORS:
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


def translate(state, exc: BaseException) -> FetchError:
    """The FetchError (kind chosen by cause) for an exception from httpx or the socket;
    ``state`` is the fetch's exchange, whose ``error`` builds it."""
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
