"""``HostPools``: idle HTTP/1.1 connections kept per origin, under httpx's transport.

A connection to each recent host survives while a run cycles through its hosts; the
connections themselves come from the network backend it is given
(``netstream.GuardedBackend`` in the fetcher).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import OrderedDict

import httpcore

__all__ = ["HostPools"]


class HostPools:
    """HTTP/1.1 connections kept per origin, with a cap on requests in flight over all.

    A single httpcore pool rescans every connection it holds (quadratically) whenever a
    request starts or ends, so it cannot keep an idle connection per host for a run over
    many hosts; one no larger than the requests in flight closed each host's connection
    before the host came round again, and every page paid a new TCP (and TLS) handshake.
    Here each origin keeps its own idle ``httpcore.AsyncHTTP11Connection``s, handed out
    directly: an httpcore pool per origin cost more CPU per request (its request queue,
    locks and cancel shields) than the exchange itself on a small page. At most
    ``max_connections`` requests are in flight over all origins (a request waits for a place
    up to its pool timeout, as in httpcore); origins left idle past ``keepalive_expiry``, and
    the least recently used beyond ``max_idle_hosts``, are closed.
    """

    def __init__(self, *, max_connections: int, max_idle_hosts: int, keepalive_expiry: float,
                 network_backend: httpcore.AsyncNetworkBackend, ssl_context=None) -> None:
        self._max = max(1, max_connections)
        self._max_idle = max(0, max_idle_hosts)
        self._expiry = keepalive_expiry
        self._backend = network_backend
        # ssl_context may be a function returning it: called for the first https origin.
        self._ssl = ssl_context
        self._slots = asyncio.Semaphore(self._max)
        # origin -> its idle connections, most recently used last; origins in LRU order.
        self._pools: OrderedDict[tuple, list[httpcore.AsyncHTTP11Connection]] = OrderedDict()
        self._open: set[httpcore.AsyncHTTP11Connection] = set()  # idle or busy, all origins
        self._busy: dict[tuple, int] = {}
        self._last_used: dict[tuple, float] = {}
        self._next_sweep = 0.0

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        url = request.url
        key = (url.scheme, url.host, url.port)
        timeout = (request.extensions.get("timeout") or {}).get("pool")
        if self._slots.locked():  # a timer only when there is a wait (one a request cost CPU)
            try:
                async with asyncio.timeout(timeout):
                    await self._slots.acquire()
            except TimeoutError:
                raise httpcore.PoolTimeout("no free connection within the pool timeout") from None
        else:
            await self._slots.acquire()
        idle = self._pools.get(key)
        if idle is None:
            idle = self._pools[key] = []
        self._pools.move_to_end(key)
        self._busy[key] = self._busy.get(key, 0) + 1
        connection = None
        try:
            await self._sweep()  # never this origin: it is busy now
            connection = await self._connection(key, idle, request)
            response = await connection.handle_async_request(request)
        except BaseException:
            if connection is not None and connection.is_closed():
                self._open.discard(connection)
            self._release(key)
            raise
        return httpcore.Response(
            status=response.status, headers=response.headers,
            content=_ReleasingStream(response.stream, lambda: self._done(key, connection)),
            extensions=response.extensions,
        )

    async def _connection(self, key: tuple, idle: list, request: httpcore.Request):
        """An idle connection to this origin still fit for a request, or a new one."""
        while idle:
            connection = idle.pop()
            if connection.is_idle() and not connection.has_expired():
                return connection
            self._open.discard(connection)
            await _close_quietly(connection)
        timeouts = request.extensions.get("timeout") or {}
        origin = request.url.origin
        stream = await self._backend.connect_tcp(
            origin.host.decode("ascii"), origin.port, timeout=timeouts.get("connect")
        )
        if origin.scheme == b"https":
            try:
                context = self._context()
                context.set_alpn_protocols(["http/1.1"])
                stream = await stream.start_tls(
                    context,
                    server_hostname=request.extensions.get("sni_hostname")
                    or origin.host.decode("ascii"),
                    timeout=timeouts.get("connect"),
                )
            except BaseException:
                await stream.aclose()
                raise
        connection = httpcore.AsyncHTTP11Connection(
            origin=origin, stream=stream, keepalive_expiry=self._expiry
        )
        self._open.add(connection)
        return connection

    def _context(self):
        if callable(self._ssl):
            self._ssl = self._ssl()
        if self._ssl is None:
            self._ssl = ssl.create_default_context()  # verifying; the fetcher passes its own
        return self._ssl

    def _done(self, key: tuple, connection) -> None:
        """The response was closed: keep its connection if it can carry another request."""
        if connection.is_idle() and key in self._pools:
            self._pools[key].append(connection)
        else:  # not reusable (e.g. a half-read body), or its origin was closed meanwhile
            self._open.discard(connection)
            if not connection.is_closed():
                asyncio.ensure_future(_close_quietly(connection))
        self._release(key)

    def _release(self, key: tuple) -> None:
        self._busy[key] -= 1
        self._last_used[key] = time.monotonic()
        self._slots.release()

    async def _sweep(self) -> None:
        """Close idle origins: expired ones, and the oldest beyond the idle cap.

        Expiry is looked for at most every tenth of the keep-alive time, not per request."""
        now = time.monotonic()
        if len(self._pools) <= self._max_idle and now < self._next_sweep:
            return
        self._next_sweep = now + self._expiry / 10
        stale = now - self._expiry
        idle = [k for k in self._pools if not self._busy.get(k)]  # oldest first
        excess = len(idle) - self._max_idle
        for key in idle:
            if excess <= 0 and self._last_used.get(key, 0.0) > stale:
                break
            excess -= 1
            await self._close(key)

    async def _close(self, key: tuple) -> None:
        connections = self._pools.pop(key)
        self._busy.pop(key, None)
        self._last_used.pop(key, None)
        for connection in connections:
            self._open.discard(connection)
            await _close_quietly(connection)

    async def aclose(self) -> None:
        self._pools.clear()
        self._busy.clear()
        self._last_used.clear()
        connections, self._open = self._open, set()
        for connection in connections:
            await _close_quietly(connection)

    async def __aenter__(self) -> HostPools:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()


async def _close_quietly(connection) -> None:
    try:
        await connection.aclose()
    except Exception:  # a connection that fails to close cleanly is gone either way
        pass


class _ReleasingStream:
    """A response body that gives its place back once, when closed (or read to the end)."""

    def __init__(self, stream, release) -> None:
        self._stream = stream
        self._release = release

    async def __aiter__(self):
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        release, self._release = self._release, None
        try:
            if hasattr(self._stream, "aclose"):
                await self._stream.aclose()
        finally:
            if release is not None:
                release()
