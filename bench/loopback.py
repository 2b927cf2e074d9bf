"""A loopback news site for benchmarks: corpus pages at many URLs over 50 hosts (127.0.0.x).

The server runs in its own process so its CPU never counts against the process being
measured. Every URL serves a distinct body (a corpus page plus a marker comment naming the
copy), so content-addressed storage cannot share blobs between copies. Bodies are gzipped
once at start-up; a strong ETag is sent and If-None-Match answered with 304 while the
shared ``etags`` switch is on. /robots.txt is a 404 (everything allowed).

    with LoopbackSite(n_urls=1232) as site:
        site.urls          # ["http://127.0.0.7:PORT/2025/c0/p6.html", ...]
        site.bodies()      # the exact HTML bytes each URL serves, in the same order
        site.set_etags(False)
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import multiprocessing
import socket
import zlib
from pathlib import Path

from bench.report import CORPUS

HOSTS = 50
_HEAD_END = b"\r\n\r\n"


def corpus_pages(names: tuple[str, ...] = ("aeb", "fundus-dev")) -> list[bytes]:
    """Every corpus page as UTF-8 bytes, in a stable order."""
    pages = []
    for name in names:
        for path in sorted((CORPUS / name / "html").glob("*.html.gz")):
            text = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
            pages.append(text.encode("utf-8"))
    return pages


def layout(n_urls: int, n_pages: int, port: int, hosts: int = HOSTS) -> list[tuple[str, str, int, int]]:
    """(host, path, page index, copy) per URL. Copies of one page land on different hosts,
    so a relative rel=canonical can never fold two copies into one tracked page."""
    rows = []
    for i in range(n_urls):
        page, copy = i % n_pages, i // n_pages
        host = f"127.0.0.{(page + copy) % hosts + 1}"
        rows.append((host, f"/2025/c{copy}/p{page}.html", page, copy))
    return rows


def body_for(page: bytes, copy: int, index: int) -> bytes:
    return page + f"\n<!-- bench copy {copy} url {index} -->\n".encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler(asyncio.Protocol):
    def __init__(self, routes: dict, etags) -> None:
        self.routes = routes
        self.etags = etags
        self.buffer = b""

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.host = transport.get_extra_info("sockname")[0]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while _HEAD_END in self.buffer:
            head, self.buffer = self.buffer.split(_HEAD_END, 1)
            if not self._answer(head):
                self.transport.close()
                return

    def _answer(self, head: bytes) -> bool:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3:
            return False
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        keep = headers.get(b"connection", b"").lower() != b"close"
        route = self.routes.get((self.host, parts[1].split(b"?")[0].decode("latin-1")))
        if route is None:
            self._send(b"404 Not Found", [], b"not found")
            return keep
        raw, packed, etag = route
        extra = []
        if self.etags.value:
            extra.append(b"ETag: " + etag)
            if headers.get(b"if-none-match") == etag:
                self._send(b"304 Not Modified", extra, b"", empty=True)
                return keep
        body = raw
        if b"gzip" in headers.get(b"accept-encoding", b""):
            body = packed
            extra.append(b"Content-Encoding: gzip")
        extra.append(b"Content-Type: text/html; charset=utf-8")
        self._send(b"200 OK", extra, body if parts[0] != b"HEAD" else b"", length=len(body))
        return keep

    def _send(self, status, headers, body, *, empty=False, length=None) -> None:
        lines = [b"HTTP/1.1 " + status, b"Server: bench-loopback"]
        if not empty:
            lines.append(b"Content-Length: " + str(len(body) if length is None else length).encode())
        self.transport.write(b"\r\n".join(lines + headers) + _HEAD_END + body)


def _serve(port: int, n_urls: int, etags, ready) -> None:  # runs in the server process
    pages = corpus_pages()
    # Each page is deflated once; a copy of the compressor state finishes each URL's stream,
    # so start-up stays fast at 10,000 URLs and every gzip body is still a valid single member.
    prefixes = []
    for page in pages:
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
        prefixes.append((compressor.compress(page), compressor))
    routes = {}
    for index, (host, path, page, copy) in enumerate(layout(n_urls, len(pages), port)):
        raw = body_for(pages[page], copy, index)
        head, compressor = prefixes[page]
        tail = compressor.copy()
        packed = head + tail.compress(raw[len(pages[page]):]) + tail.flush()
        etag = b'"' + hashlib.sha256(raw).hexdigest()[:20].encode() + b'"'
        routes[(host, path)] = (raw, packed, etag)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        servers = [
            await loop.create_server(lambda: _Handler(routes, etags), f"127.0.0.{n}", port,
                                     backlog=256, reuse_address=True)
            for n in range(1, HOSTS + 1)
        ]
        ready.set()
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(main())


class LoopbackSite:
    """Start with ``with``; the server process ends when the block does."""

    def __init__(self, n_urls: int, *, port: int | None = None) -> None:
        self.n_urls = n_urls
        self.port = port or free_port()
        self._pages = corpus_pages()
        self._rows = layout(n_urls, len(self._pages), self.port)
        self.urls = [f"http://{host}:{self.port}{path}" for host, path, _, _ in self._rows]
        context = multiprocessing.get_context("spawn")  # a clean process: no inherited state
        self._etags = context.Value("b", 1, lock=False)
        self._ready = context.Event()
        self._process = context.Process(
            target=_serve, args=(self.port, n_urls, self._etags, self._ready), daemon=True
        )

    def bodies(self):
        """The served HTML bytes, URL by URL (a generator: 10,000 bodies are ~2 GB)."""
        for index, (_, _, page, copy) in enumerate(self._rows):
            yield body_for(self._pages[page], copy, index)

    def page_of(self, index: int) -> tuple[int, int]:
        return self._rows[index][2], self._rows[index][3]

    @property
    def pages(self) -> list[bytes]:
        return self._pages

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def set_etags(self, on: bool) -> None:
        self._etags.value = 1 if on else 0

    def __enter__(self) -> LoopbackSite:
        self._process.start()
        if not self._ready.wait(300):
            self._process.kill()
            raise RuntimeError("loopback server did not start")
        return self

    def __exit__(self, *exc_info) -> None:
        self._process.kill()
        self._process.join(10)


def write_url_list(urls: list[str], path: Path) -> Path:
    path.write_text("\n".join(urls) + "\n", encoding="utf-8")
    return path
