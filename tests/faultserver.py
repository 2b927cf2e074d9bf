"""A loopback HTTP/1.1 server that misbehaves on demand, for fetch and end-to-end tests.

A test registers a handler per path; the handler gets an ``Exchange`` holding the parsed
request and the raw socket, and writes whatever bytes it likes (or nothing, or an RST)::

    def test_x(fault_server):
        fault_server.route("/a", lambda ex: ex.respond(200, b"<html>hi</html>"))
        url = fault_server.url("/a")

The server listens on 127.0.0.1 and, when the system allows it, on 127.0.0.2 with the same
port (both reach the loopback interface on Linux), so cross-host redirects can be tested.
Every connection is served in its own daemon thread and closed after one request.
Handlers that wait should use ``ex.wait(seconds)``, which returns early when the server stops.
"""

from __future__ import annotations

import errno
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pytest

__all__ = ["Exchange", "FaultServer", "fault_server"]

Handler = Callable[["Exchange"], None]

_REASONS = {
    200: "OK", 204: "No Content", 301: "Moved Permanently", 302: "Found", 304: "Not Modified",
    307: "Temporary Redirect", 308: "Permanent Redirect", 404: "Not Found", 410: "Gone",
    429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
}


@dataclass
class Exchange:
    """One request as the handler sees it."""

    server: FaultServer
    sock: socket.socket
    local_host: str
    method: str
    target: str
    path: str
    headers: dict[str, str]  # lower-cased names
    sent: int = 0  # bytes the handler managed to write
    closed_by_peer: bool = False  # a write failed because the client went away
    done: threading.Event = field(default_factory=threading.Event)  # handler returned

    def send(self, data: bytes) -> bool:
        """Write ``data``; False (and ``closed_by_peer``) if the client has gone."""
        try:
            self.sock.sendall(data)
        except OSError:
            self.closed_by_peer = True
            return False
        self.sent += len(data)
        return True

    def respond(
        self,
        status: int = 200,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] | dict[str, str] = (),
        *,
        content_type: str | None = "text/html; charset=utf-8",
        content_length: bool = True,
    ) -> None:
        """A well-formed response with ``Connection: close``."""
        items = list(headers.items() if isinstance(headers, dict) else headers)
        names = {k.lower() for k, _ in items}
        if content_type and "content-type" not in names:
            items.append(("Content-Type", content_type))
        if content_length and "content-length" not in names:
            items.append(("Content-Length", str(len(body))))
        items.append(("Connection", "close"))
        self.send(self.head(status, items) + body)

    @staticmethod
    def head(status: int, headers: Iterable[tuple[str, str]]) -> bytes:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
        lines += [f"{k}: {v}" for k, v in headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def wait(self, seconds: float | None = None) -> bool:
        """Sleep up to ``seconds`` (forever if None); True if the server is stopping."""
        return self.server.stopping.wait(seconds)

    def stream(self, pieces: Iterable[bytes], delay: float = 0.0) -> None:
        """Send pieces until they run out, the client leaves or the server stops."""
        for piece in pieces:
            if not self.send(piece) or (delay and self.wait(delay)) or self.server.stopping.is_set():
                return

    def reset(self) -> None:
        """Abort the connection with a TCP RST instead of a clean close."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


@dataclass
class _Seen:
    host: str
    path: str
    target: str
    headers: dict[str, str]


@dataclass
class FaultServer:
    hosts: tuple[str, ...] = ("127.0.0.1", "127.0.0.2")
    ssl_context: ssl.SSLContext | None = None
    port: int = 0
    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[_Seen] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    connections: int = 0  # TCP connections accepted (TLS handshakes included)

    def __post_init__(self) -> None:
        self.stopping = threading.Event()
        self._listeners: list[tuple[str, socket.socket]] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    # -- set-up -------------------------------------------------------------------------
    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    @property
    def bound_hosts(self) -> list[str]:
        return [h for h, _ in self._listeners]

    def start(self) -> FaultServer:
        for _attempt in range(20):
            if self._bind_all():
                break
        else:
            raise RuntimeError("could not bind the fault server")
        for host, listener in self._listeners:
            listener.settimeout(0.5)  # fallback where shutdown() does not wake accept()
            t = threading.Thread(target=self._accept_loop, args=(host, listener), daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _bind_all(self) -> bool:
        first_host, *others = self.hosts
        main = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        main.bind((first_host, self.port))
        main.listen(64)
        port = main.getsockname()[1]
        listeners = [(first_host, main)]
        for host in others:
            extra = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                extra.bind((host, port))
            except OSError as exc:
                extra.close()
                if self.port or exc.errno != errno.EADDRINUSE:
                    continue  # address not available here: go without this host
                for _, s in listeners:
                    s.close()
                return False
            extra.listen(64)
            listeners.append((host, extra))
        self.port = port
        self._listeners = listeners
        return True

    def stop(self) -> None:
        self.stopping.set()
        for _, listener in self._listeners:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() on Linux
            except OSError:
                pass
            try:
                listener.close()
            except OSError:
                pass
        for t in self._threads:
            t.join(timeout=2)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------
    def _accept_loop(self, host: str, listener: socket.socket) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            t = threading.Thread(target=self._serve, args=(host, conn), daemon=True)
            t.start()

    def _serve(self, host: str, conn: socket.socket) -> None:
        try:
            if self.ssl_context is not None:
                conn.settimeout(5)
                try:
                    conn = self.ssl_context.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # the client refused our certificate: that is the point
            conn.settimeout(None)
            request = self._read_request(conn)
            if request is None:
                return
            method, target, headers = request
            path = target.split("?", 1)[0]
            ex = Exchange(self, conn, host, method, target, path, headers)
            with self._lock:
                self.seen.append(_Seen(host, path, target, headers))
                self.exchanges.append(ex)
            handler = self.routes.get(path)
            try:
                if handler is None:
                    ex.respond(404, b"<html><title>404</title>no route</html>")
                else:
                    handler(ex)
            finally:
                ex.done.set()
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    @staticmethod
    def _read_request(conn: socket.socket) -> tuple[str, str, dict[str, str]] | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk or len(data) > 1 << 20:
                return None
            data += chunk
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        request_line, *lines = head.split("\r\n")
        parts = request_line.split(" ")
        if len(parts) != 3:
            return None
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return parts[0], parts[1], headers


@pytest.fixture
def fault_server():
    """A started FaultServer on 127.0.0.1 (and 127.0.0.2 when available), stopped after."""
    with FaultServer() as server:
        yield server
