"""SSRF guard: which URLs and addresses the fetcher may reach.

Feed and sitemap URLs are third-party input, so by default nothing that points into the
machine or its private networks is fetched. Two checks:

- ``check_url`` before any request (and on every redirect hop): scheme and literal host,
  in every spelling a resolver accepts (``127.1``, ``0x7f000001``, ``2130706433``,
  ``0177.0.0.1``, ``[::ffff:127.0.0.1]``, ...).
- ``resolve_checked`` at connect time: the host is resolved once, every address is checked,
  and the caller connects to a checked address, so DNS rebinding cannot slip through.

``GuardedBackend`` plugs the second check into httpcore (the transport under httpx), and
``HostPools`` keeps its connections: idle HTTP/1.1 connections per origin, on a plain
asyncio stream, so a connection to each recent host survives while the run cycles through
its hosts. This module never
imports httpx itself, ``pipeline.fetch`` does.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections import OrderedDict
from urllib.parse import urlsplit

import httpcore

from pipeline.errors import BlockedError

__all__ = ["GuardedBackend", "HostPools", "check_host", "check_url", "is_forbidden_ip", "parse_host_ip", "resolve_checked"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_ALLOWED_SCHEMES = frozenset({"http", "https"})

# IANA special-purpose blocks that are not reachable (or not safe) on the public internet.
_V4_FORBIDDEN = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
)
_V6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_V6_FORBIDDEN = tuple(
    ipaddress.IPv6Network(n)
    for n in ("2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20")
)
_V6_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_V6_COMPAT = ipaddress.IPv6Network("::/96")
_V6_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_V6_SIXTOFOUR = ipaddress.IPv6Network("2002::/16")
_V6_TEREDO = ipaddress.IPv6Network("2001::/32")

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def _embedded_v4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    found: list[ipaddress.IPv4Address] = []
    if ip in _V6_MAPPED or ip in _V6_COMPAT or ip in _V6_NAT64:
        found.append(low32)
    if ip in _V6_SIXTOFOUR:
        found.append(ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF))
    if ip in _V6_TEREDO and ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def is_forbidden_ip(ip: str | IPAddress) -> bool:
    """True when ``ip`` is not a public unicast address (or embeds one that is not).

    Unparseable input counts as forbidden: the guard fails closed.
    """
    try:
        addr = ipaddress.ip_address(ip.split("%")[0] if isinstance(ip, str) else ip)
    except ValueError:
        return True
    if isinstance(addr, ipaddress.IPv4Address):
        return any(addr in net for net in _V4_FORBIDDEN) or addr == ipaddress.IPv4Address(
            "255.255.255.255"
        )
    embedded = _embedded_v4(addr)
    if embedded:
        # Mapped/compat/NAT64 forms are judged by what they point at; 6to4 and Teredo
        # are transition ranges we refuse outright anyway.
        if any(is_forbidden_ip(v4) for v4 in embedded):
            return True
        return not (addr in _V6_MAPPED or addr in _V6_NAT64)
    if addr not in _V6_GLOBAL_UNICAST:
        return True
    return any(addr in net for net in _V6_FORBIDDEN)


def _parse_v4_part(part: str) -> int | None:
    if not part:
        return None
    try:
        if part[:2].lower() == "0x":
            return int(part[2:], 16) if part[2:] else 0
        if len(part) > 1 and part[0] == "0":
            return int(part[1:], 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:
        return None


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """Parse IPv4 the way BSD inet_aton (and so getaddrinfo) does: 1-4 parts, hex/octal."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = [_parse_v4_part(p) for p in parts]
    if any(v is None for v in values):
        return None
    *head, last = values  # type: ignore[misc]
    if any(v > 255 for v in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    number = 0
    for v in head:
        number = (number << 8) | v
    number = (number << (8 * (4 - len(head)))) | last
    return ipaddress.IPv4Address(number)


def parse_host_ip(host: str) -> IPAddress | None:
    """The IP a literal host denotes in any accepted spelling, or None for a DNS name."""
    h = host.strip().rstrip(".").lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    h = h.split("%")[0]  # IPv6 zone id
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        pass
    if ":" in h:
        return None
    return _inet_aton(h)


def check_host(host: str, *, allow_private: bool, url: str = "") -> None:
    """Refuse a literal forbidden address or a loopback name; DNS names pass to connect time."""
    if allow_private:
        return
    name = host.strip().rstrip(".").lower()
    if not name:
        raise BlockedError("URL has no host", kind="blocked_address", url=url)
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        raise BlockedError(f"refusing local host name {host!r}", kind="blocked_address", url=url)
    ip = parse_host_ip(name)
    if ip is not None and is_forbidden_ip(ip):
        raise BlockedError(
            f"refusing non-public address {ip} (from host {host!r})",
            kind="blocked_address",
            url=url,
        )


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise BlockedError unless ``url`` is http(s) with a host we may reach."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except (ValueError, AttributeError):
        raise BlockedError(f"not a valid URL: {url!r}", kind="blocked_scheme", url=url) from None
    if parts.scheme.lower() not in _ALLOWED_SCHEMES:
        raise BlockedError(
            f"only http and https URLs are fetched, not {parts.scheme or 'no scheme'!r}",
            kind="blocked_scheme",
            url=url,
        )
    if not host:
        raise BlockedError(f"URL has no host: {url!r}", kind="blocked_scheme", url=url)
    check_host(host, allow_private=allow_private, url=url)


async def resolve_checked(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Resolve ``host`` and return its addresses, refusing if any of them is forbidden.

    Every address must pass, not just the first: a rebinding name may mix one public and
    one private answer. Raises BlockedError, or OSError when resolution fails.
    """
    literal = parse_host_ip(host)
    if literal is not None:
        candidates = [str(literal)]
    else:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )
        candidates = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not candidates:
        raise OSError(f"no address for {host!r}")
    if not allow_private:
        for ip in candidates:
            if is_forbidden_ip(ip):
                raise BlockedError(
                    f"{host!r} resolves to non-public address {ip}", kind="blocked_address"
                )
    return candidates


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, checks every address, then connects to a checked IP.

    httpcore still passes the original host name to ``start_tls``, so SNI and certificate
    host-name checks are unchanged.
    """

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        if local_address is not None or socket_options:  # HostPools never asks for them
            raise httpcore.ConnectError("local_address and socket_options are not supported")
        try:
            addresses = await resolve_checked(
                host, port, allow_private=self._allow_private
            )
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc}") from exc
        last: Exception | None = None
        for ip in addresses:
            try:
                return await _AsyncioStream.connect(ip, port, timeout)
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _Receiver(asyncio.Protocol):
    """Buffers what the socket delivers; a reader waits only when nothing is buffered."""

    _HIGH = 1 << 20  # stop reading the socket past this much unread data

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future | None = None  # a read waiting for data
        self.drained: asyncio.Future | None = None  # a write waiting for the buffer to drain
        self.paused = False  # reading paused (buffer full)
        self.blocked = False  # writing paused by the transport

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > self._HIGH and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # close the transport

    def connection_lost(self, exc) -> None:
        self.eof = True
        self.error = exc
        self._wake()
        self.blocked = False
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def pause_writing(self) -> None:
        self.blocked = True

    def resume_writing(self) -> None:
        self.blocked = False
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


async def _wait(future: asyncio.Future, timeout: float | None, kind: type[Exception]) -> None:
    """Wait for ``future``, raising ``kind`` after ``timeout`` seconds (one timer, no scope)."""
    if timeout is None:
        await future
        return
    fired = False

    def expire() -> None:
        nonlocal fired
        fired = True
        future.cancel()

    timer = asyncio.get_running_loop().call_later(timeout, expire)
    try:
        await future
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if not fired or (task is not None and task.cancelling()):
            raise  # cancelled from outside, not by the timer
        raise kind(f"no progress within {timeout:g}s") from None
    finally:
        timer.cancel()


class _AsyncioStream(httpcore.AsyncNetworkStream):
    """httpcore's network stream on a plain asyncio transport.

    anyio's stream opens a cancel scope and yields to the event loop on every read and
    write; for a small page that was a good part of the CPU of the whole exchange. Here a
    read returns buffered data at once and waits (with one timer) only on an empty buffer;
    a write waits only when the transport asks to pause.
    """

    def __init__(self, protocol: _Receiver) -> None:
        self._protocol = protocol

    @classmethod
    async def connect(cls, ip: str, port: int, timeout: float | None) -> _AsyncioStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, protocol = await loop.create_connection(_Receiver, ip, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"connect to {ip}:{port} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return cls(protocol)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        while not protocol.buffer:
            if protocol.eof:
                if protocol.error is not None:
                    raise httpcore.ReadError(str(protocol.error)) from protocol.error
                return b""
            protocol.waiter = asyncio.get_running_loop().create_future()
            try:
                await _wait(protocol.waiter, timeout, httpcore.ReadTimeout)
            finally:
                protocol.waiter = None
        data = bytes(protocol.buffer[:max_bytes])
        del protocol.buffer[:max_bytes]
        if protocol.paused and len(protocol.buffer) <= protocol._HIGH // 4:
            protocol.paused = False
            protocol.transport.resume_reading()
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        transport = protocol.transport
        if transport is None or transport.is_closing():
            raise httpcore.WriteError("connection closed")
        transport.write(buffer)
        while protocol.blocked:
            protocol.drained = asyncio.get_running_loop().create_future()
            try:
                await _wait(protocol.drained, timeout, httpcore.WriteTimeout)
            finally:
                protocol.drained = None
        if protocol.error is not None:
            raise httpcore.WriteError(str(protocol.error)) from protocol.error

    async def aclose(self) -> None:
        transport = self._protocol.transport
        if transport is not None:
            transport.close()

    async def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        loop = asyncio.get_running_loop()
        protocol = self._protocol
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    protocol.transport, protocol, ssl_context,
                    server_hostname=server_hostname,
                )
        except TimeoutError as exc:
            await self.aclose()
            raise httpcore.ConnectTimeout("TLS handshake timed out") from exc
        except (OSError, ssl.SSLError, ConnectionError) as exc:
            await self.aclose()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if transport is None:
            raise httpcore.ConnectError("connection closed during the TLS handshake")
        protocol.transport = transport
        return self

    def get_extra_info(self, info: str):
        transport = self._protocol.transport
        if info == "is_readable":
            # The loop reads the socket whenever it turns readable, so a server's close of
            # an idle connection shows up here as end of file: no poll of the socket needed.
            protocol = self._protocol
            return bool(protocol.buffer) or protocol.eof or transport is None
        if transport is None:
            return None
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        return None


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
