"""httpcore's network layer for the fetcher: guarded connects on a plain asyncio stream.

``GuardedBackend`` resolves the host itself and connects only to addresses
``netguard.resolve_checked`` let through; ``_AsyncioStream`` is the connection it opens,
a socket read and written without anyio's per-call overhead.
"""

from __future__ import annotations

import asyncio
import ssl

import httpcore

from pipeline.netguard import resolve_checked

__all__ = ["GuardedBackend"]


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
