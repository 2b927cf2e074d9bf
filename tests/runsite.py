"""A small loopback web for engine and CLI tests: several hosts, scripted replies, a request log.

Each host is its own server on 127.0.0.N (all reach the loopback interface on Linux), so the
engine sees distinct hosts. Every request is logged with its start and end time on the server
side, which is what per-host spacing tests compare.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

WORDS = (
    "council members debated the harbour budget late into the evening while residents waited "
    "outside the hall for a decision on the ferry timetable and the new library roof"
).split()


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a slow server)

    def payload(self) -> bytes:
        return self.body.encode() if isinstance(self.body, str) else self.body


@dataclass(frozen=True)
class Hit:
    host: str  # "127.0.0.N:port"
    path: str  # with the query
    start: float  # time.monotonic() when the request arrived
    end: float  # when the reply was written
    headers: dict[str, str]


Route = Reply | Callable[[dict[str, str]], Reply]


def article_html(title: str, paragraphs: int = 6, *, extra: str = "", canonical: str | None = None,
                 published: str | None = None, salt: str = "") -> str:
    """A plain news article page trafilatura extracts reliably (published an hour ago)."""
    if published is None:
        published = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="seconds")
    body = []
    for index in range(paragraphs):
        words = [WORDS[(index * 7 + k) % len(WORDS)] for k in range(28)]
        body.append(f"<p>{title} report part {index + 1}: {' '.join(words)}.</p>")
    if extra:
        body.append(f"<p>{extra}</p>")
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"{link}<meta property='article:published_time' content='{published}'>"
        f"<!-- {salt} --></head><body><header><nav><a href='/'>Home</a></nav></header>"
        f"<article><h1>{title}</h1><p class='byline'>By Ann Writer</p>{''.join(body)}</article>"
        "<footer>Copyright The Test Gazette</footer></body></html>"
    )


class Site:
    """``hosts`` loopback servers; routes keyed by (host index, path)."""

    def __init__(self, hosts: int = 3) -> None:
        self.routes: dict[tuple[int, str], Route] = {}
        self.log: list[Hit] = []
        self.arrived: list[tuple[int, str]] = []  # (host index, path) as requests come in
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.servers: list[ThreadingHTTPServer] = []
        for index in range(hosts):
            server = ThreadingHTTPServer((f"127.0.0.{index + 2}", 0), _handler_for(self, index))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)

    def host(self, index: int) -> str:
        address, port = self.servers[index].server_address[:2]
        return f"{address}:{port}"

    def url(self, index: int, path: str) -> str:
        return f"http://{self.host(index)}{path}"

    def route(self, index: int, path: str, reply: Route) -> None:
        self.routes[(index, path)] = reply

    def hits(self, index: int | None = None, path: str | None = None) -> list[Hit]:
        with self._lock:
            hits = list(self.log)
        return [h for h in hits if (index is None or h.host == self.host(index))
                and (path is None or h.path == path)]

    def wait(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def close(self) -> None:
        self._stop.set()
        for server in self.servers:
            server.shutdown()
            server.server_close()


def _handler_for(site: Site, index: int):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            start = time.monotonic()
            headers = {k.lower(): v for k, v in self.headers.items()}
            with site._lock:
                site.arrived.append((index, self.path))
            route = site.routes.get((index, self.path))
            if route is None and self.path == "/robots.txt":
                route = Reply(404, "no robots here")
            if route is None:
                route = Reply(404, "<html><title>Not found</title></html>",
                              {"Content-Type": "text/html"})
            reply = route(headers) if callable(route) else route
            if reply.delay:
                site.wait(reply.delay)
            payload = reply.payload()
            try:
                self.send_response(reply.status)
                sent = {k.lower() for k in reply.headers}
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if "content-type" not in sent:
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                self.end_headers()
                if reply.status != 304:
                    self.wfile.write(payload)
                self.wfile.flush()
            except OSError:
                pass  # the client gave up (a cancelled request)
            finally:
                self.close_connection = True
                with site._lock:
                    site.log.append(Hit(f"127.0.0.{index + 2}:{self.server.server_address[1]}",
                                        self.path, start, time.monotonic(), headers))

        def log_message(self, *args) -> None:
            pass

    return Handler


try:  # a pytest fixture when pytest is importing this module
    import pytest

    @pytest.fixture
    def site():
        web = Site(4)
        yield web
        web.close()
except ImportError:  # pragma: no cover - used from a plain script
    pass


def write_config(tmp: Path, *, pages=(), feeds=(), fetch: dict | None = None,
                 run: dict | None = None, extract: dict | None = None,
                 schedule: dict | None = None) -> Path:
    """config.toml for a test: loopback allowed, short delays unless a test sets them."""
    fetch = {"allow_private_networks": True, "per_host_delay": 0.0, "timeout": 20.0,
             "retries": 0, **(fetch or {})}
    extract = {"workers": 1, **(extract or {})}
    lines = [f"pages = {_toml(list(pages))}", f"feeds = {_toml(list(feeds))}",
             "[archive]", 'db = "archive.db"']
    for name, table in (("fetch", fetch), ("extract", extract), ("run", run or {}),
                        ("schedule", schedule or {})):
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in table.items())
    path = tmp / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(value)


class Clock:
    """A settable UTC clock for Engine(clock=...); starts at a whole second."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = (start or datetime.now(timezone.utc)).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now
