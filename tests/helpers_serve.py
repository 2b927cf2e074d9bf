"""A small threaded loopback HTTP server serving article pages at many URLs.

Built for tests that need hundreds of distinct, fast-to-extract pages (crash, concurrency and
disk-full tests), plus a few hostile answers (truncated or random bytes as text/html)::

    with PageServer() as server:
        urls = server.add_articles(300)          # /a/0 .. /a/299, new text on every request
        server.route("/odd", lambda hit: (200, "text/html", b"\\x00\\xff"))
        ...
        assert server.hits["/a/3"] == 1

Articles are built from the ground-truth text of ../shared/corpus (title + paragraphs), so
trafilatura extracts them in a few milliseconds; ``corpus_html`` gives the real captured pages.
"""

from __future__ import annotations

import gzip
import html
import json
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"

# A handler gets the request count for its path (1 for the first hit) and answers
# (status, content type, body).
Answer = tuple[int, str, bytes]
Handler = Callable[[int], Answer]

__all__ = [
    "PageServer",
    "archive_cmd",
    "article_html",
    "assert_one_error_line",
    "check_archive",
    "corpus_articles",
    "corpus_html",
    "run_archive",
    "version_rows",
    "write_config",
]


@lru_cache(maxsize=1)
def corpus_articles() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(title, paragraphs) for every corpus article with enough text, in a stable order."""
    articles = []
    for name in ("fundus-dev", "aeb"):
        truth = json.loads((CORPUS / name / "ground-truth.json").read_text(encoding="utf-8"))
        for key in sorted(truth):
            entry = truth[key]
            body = entry.get("articleBody") or ""
            paragraphs = tuple(p.strip() for p in body.split("\n") if len(p.split()) >= 8)
            if sum(len(p.split()) for p in paragraphs) < 80:
                continue
            title = entry.get("title") or paragraphs[0][:70]
            articles.append((title.strip(), paragraphs[:12]))
    return tuple(articles)


def corpus_html(limit: int | None = None) -> list[bytes]:
    """The raw captured corpus pages (decompressed), for tests that want real-world markup."""
    files = sorted((CORPUS / "fundus-dev" / "html").glob("*.html.gz"))
    files += sorted((CORPUS / "aeb" / "html").glob("*.html.gz"))
    return [gzip.decompress(path.read_bytes()) for path in files[:limit]]


def article_html(title: str, paragraphs: tuple[str, ...], *, revision: int | None = None) -> bytes:
    """A plain news-article page; ``revision`` adds a closing paragraph that changes the body."""
    body = list(paragraphs)
    if revision is not None:
        body.append(f"Correction number {revision}: this article was updated after publication.")
    paras = "\n".join(f"<p>{html.escape(p)}</p>" for p in body)
    page = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title></head><body>"
        "<header><nav><a href=\"/\">Home</a></nav></header>"
        f"<main><article><h1>{html.escape(title)}</h1>{paras}</article></main>"
        "<footer>Test newsroom</footer></body></html>"
    )
    return page.encode("utf-8")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # clients killed mid-request (crash tests) reset connections; that is expected


class PageServer:
    """ThreadingHTTPServer on 127.0.0.1 with a route table and a per-path hit counter."""

    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- set-up ---------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def route(self, path: str, handler: Handler) -> str:
        self._routes[path] = handler
        return self.url(path)

    def add_articles(self, count: int, *, prefix: str = "/a/", changing: bool = True) -> list[str]:
        """``count`` distinct articles. ``changing``: every request serves a new revision,
        so every successful check makes a new version."""
        articles = corpus_articles()
        urls = []
        for index in range(count):
            title, paragraphs = articles[index % len(articles)]
            if index >= len(articles):
                title = f"{title} (edition {index // len(articles) + 1})"

            def handler(hit: int, title=title, paragraphs=paragraphs) -> Answer:
                page = article_html(title, paragraphs, revision=hit if changing else None)
                return 200, "text/html; charset=utf-8", page

            urls.append(self.route(f"{prefix}{index}", handler))
        return urls

    @property
    def total_hits(self) -> int:
        with self._lock:
            return sum(self.hits.values())

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, path: str) -> Answer:
        with self._lock:
            self.hits[path] += 1
            count = self.hits[path]
        handler = self._routes.get(path)
        if handler is None:
            return 404, "text/plain", b"not found"
        return handler(count)

    def _handler_class(self):
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One buffered write per answer and no Nagle: otherwise delayed ACKs add ~40 ms.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                status, ctype, body = server._answer(self.path.split("?")[0])
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client was killed mid-answer: expected in crash tests
                    self.close_connection = True

            def log_message(self, *args) -> None:
                pass

        return _Handler


def write_config(directory: Path, *, db: str = "archive.db", pages: list[str] = (),
                 extra: str = "") -> Path:
    """A config.toml for loopback tests: private networks allowed, no robots, no delays."""
    lines = [f"pages = {json.dumps(list(pages))}", "", "[archive]", f"db = {json.dumps(db)}", "",
             "[fetch]", "allow_private_networks = true", "obey_robots = false",
             "per_host_delay = 0.0", "per_host_concurrency = 16", "retries = 0", "timeout = 20.0",
             "", "[extract]", "workers = 2", "", "[run]", "max_runtime = 600.0", "", extra]
    path = directory / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# -- running the real CLI and reading the archive back -------------------------------------

def archive_cmd(*args: str) -> list[str]:
    """The `archive` command as a subprocess argv (the venv's interpreter, no shell)."""
    return [sys.executable, "-m", "pipeline.cli", *args]


def run_archive(*args: str, timeout: float = 120.0, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(archive_cmd(*args), capture_output=True, text=True, timeout=timeout,
                          **kwargs)


def versions_committed(db: Path) -> int:
    """Versions committed so far, read beside a running writer (as WAL allows); 0 before the
    file or its schema exists. For tests that act once a run has begun writing."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return 0
    try:
        return conn.execute("SELECT count(*) FROM versions").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0
    finally:
        conn.close()


def version_rows(db: Path) -> dict[tuple[str, int], tuple]:
    """Every version row, byte for byte, keyed by (page url, number)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        cursor = conn.execute(
            "SELECT pages.url, versions.* FROM versions JOIN pages ON pages.id = versions.page_id"
        )
        return {(row[0], row[3]): tuple(row[1:]) for row in cursor}
    finally:
        conn.close()


def check_archive(db: Path) -> dict[str, int]:
    """Assert the file is healthy and every page's versions run 1..n; return n per page."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        latest = {}
        for url, page_id, stored_latest in conn.execute("SELECT url, id, latest_version FROM pages"):
            numbers = [n for (n,) in conn.execute(
                "SELECT number FROM versions WHERE page_id = ? ORDER BY number", (page_id,))]
            assert numbers == list(range(1, len(numbers) + 1)), (url, numbers)
            assert stored_latest == len(numbers), (url, stored_latest, numbers)
            latest[url] = len(numbers)
        orphans = conn.execute(
            "SELECT count(*) FROM versions v LEFT JOIN blobs b ON b.sha256 = v.raw_sha256"
            " WHERE b.sha256 IS NULL").fetchone()[0]
        assert orphans == 0, f"{orphans} versions point at a missing raw capture"
        return latest
    finally:
        conn.close()


def assert_one_error_line(stderr: str) -> str:
    """Every failure is one `archive: ...` line and never a traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("archive: "), stderr
    return lines[0]
