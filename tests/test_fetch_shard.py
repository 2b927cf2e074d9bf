"""A long re-check fetches a share of the hosts in a forked second process.

Each run is a real subprocess (a fork is only taken while one thread exists) against a
loopback server in its own process, over a real sqlite file seeded through the store.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from archive import blobs
from archive.models import Content, FetchInfo, Snapshot
from archive.store import Archive
from pipeline.fetch_shard import split_hosts
from tests.helpers_serve import ROOT

T0 = datetime(2025, 1, 20, 9, 0, tzinfo=timezone.utc)
HOSTS = 4
PAGES = 60  # per host

SERVER = textwrap.dedent(r"""
    import asyncio, gzip, os, sys, time
    port, hosts = int(sys.argv[1]), int(sys.argv[2])
    delay = float(os.environ.get("DELAY", "0"))

    def body(path):
        return ("<html><head><title>%s</title></head><body>" % path
                + "<p>The harbour council met again about %s.</p>" % path * 40
                + "</body></html>").encode()

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ")[1].decode()
                if delay:
                    await asyncio.sleep(delay)
                if path.startswith("/missing/") or path == "/robots.txt":
                    status, payload, extra = "404 Not Found", b"no", b""
                else:
                    status = "200 OK"
                    text = body(path)
                    if path.startswith("/edited/"):
                        text = text.replace(b"met again", b"voted at last", 3)
                    payload = gzip.compress(text, mtime=0)
                    extra = b"Content-Encoding: gzip\r\nContent-Type: text/html; charset=utf-8\r\n"
                writer.write(b"HTTP/1.1 " + status.encode() + b"\r\nContent-Length: "
                             + str(len(payload)).encode() + b"\r\n" + extra + b"\r\n" + payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main():
        for n in range(1, hosts + 1):
            await asyncio.start_server(handle, f"127.0.0.{n}", port)
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
""")

RUN = textwrap.dedent(r"""
    import asyncio, json, os, signal, sys
    from pipeline.config import load_config
    from pipeline.run import Engine, Progress

    def main():
        global engine
        config = load_config(sys.argv[1])
        kill_child_after = int(sys.argv[2])
        shard = {"on": True, "off": False}[sys.argv[3]]

        class Report(Progress):
            def __init__(self):
                self.done = 0
            def start(self, total):
                fetcher = engine._session.fetcher
                print(json.dumps({"child": getattr(fetcher, "child_pid", None)}), flush=True)
            def advance(self, outcome):
                self.done += 1
                if self.done == kill_child_after:
                    os.kill(engine._session.fetcher.child_pid, signal.SIGKILL)

        engine = Engine(config, progress=Report(), shard_min_pages=10, shard=shard)
        summary = asyncio.run(engine.run(check_all=True, discover=False))
        print(json.dumps({"counts": summary.counts(), "shard_fetches": summary.shard_fetches,
                          "outcomes": {o.url: [o.outcome, o.error_kind] for o in summary.outcomes}}))

    if __name__ == "__main__":  # the extraction forkserver imports this script again
        main()
""")


def _body(path: str) -> bytes:
    return (f"<html><head><title>{path}</title></head><body>"
            + f"<p>The harbour council met again about {path}.</p>" * 40
            + "</body></html>").encode()


@pytest.fixture
def server(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    script = tmp_path / "server.py"
    script.write_text(SERVER, encoding="utf-8")
    env = {**os.environ, "DELAY": "0.004"}
    proc = subprocess.Popen([sys.executable, str(script), str(port), str(HOSTS)],
                            stdout=subprocess.PIPE, env=env)
    assert proc.stdout.readline().strip() == b"ready"
    yield port
    proc.kill()
    proc.wait()


def _seed(tmp_path: Path, port: int) -> tuple[Path, list[str]]:
    """Pages captured once already (their baseline is the body the server sends)."""
    db = tmp_path / "archive.db"
    urls = []
    with Archive(db) as store:
        for index in range(PAGES * HOSTS):
            host = index % HOSTS + 1
            kind = "edited" if index == 5 else "missing" if index == 6 else "p"
            path = f"/{kind}/{index}.html"
            url = f"http://127.0.0.{host}:{port}{path}"
            raw = _body(path)
            store.track(url, source="cli", now=T0)
            store.save(Snapshot(url=url, content=Content(title=path, text=f"page {index} " * 30),
                                fetch=FetchInfo(started_at=T0, status=200,
                                                         body_sha256=blobs.sha256_hex(raw)),
                                raw_html=raw),
                       raw_sha256=blobs.sha256_hex(raw))
            urls.append(url)
    config = tmp_path / "config.toml"
    config.write_text(
        '[archive]\ndb = "archive.db"\n\n[fetch]\nallow_private_networks = true\n'
        "per_host_delay = 0.0\n\n[extract]\nworkers = 1\n", encoding="utf-8")
    return config, urls


def _run(config: Path, tmp_path: Path, kill_child_after: int = 0, shard: str = "on"):
    script = tmp_path / "run.py"
    script.write_text(RUN, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script), str(config), str(kill_child_after), shard],
                          cwd=tmp_path, capture_output=True, text=True, timeout=240,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    first, last = proc.stdout.strip().splitlines()[0], proc.stdout.strip().splitlines()[-1]
    return json.loads(first)["child"], json.loads(last)


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_split_hosts_takes_about_the_share_and_leaves_the_parent_some():
    urls = ([f"http://a.example/{i}" for i in range(50)] + [f"http://b.example/{i}" for i in range(30)]
            + [f"http://c.example/{i}" for i in range(20)])
    assert split_hosts(urls, 0.6) == {"http://a.example", "http://c.example"}
    assert split_hosts(urls, 0.5) == {"http://a.example"}
    assert split_hosts([f"http://a.example/{i}" for i in range(9)], 0.6) == set()  # one host


def test_a_long_re_check_fetches_some_hosts_in_a_second_process(server, tmp_path):
    config, urls = _seed(tmp_path, server)
    child, report = _run(config, tmp_path)
    assert child is not None
    assert 0 < report["shard_fetches"] < len(urls)
    outcomes = report["outcomes"]
    assert outcomes.pop(urls[5]) == ["new_version", None]  # the full body came back for it
    assert outcomes.pop(urls[6]) == ["error", "not_found"]  # translated like a local one
    assert set(map(tuple, outcomes.values())) == {("same_body", None)}
    assert _gone(child)
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        rows = conn.execute("SELECT outcome, count(*) FROM fetches GROUP BY outcome").fetchall()
    assert dict(rows)["same_body"] == len(urls) - 2


def test_a_killed_fetch_process_leaves_its_pages_to_the_parent(server, tmp_path):
    config, urls = _seed(tmp_path, server)
    child, report = _run(config, tmp_path, kill_child_after=40)
    assert _gone(child)
    counts = report["counts"]
    assert counts["checked"] == len(urls) and counts["not_started"] == 0
    assert counts["unchanged"] == len(urls) - 2 and counts["errors"] == 1
    assert 0 < report["shard_fetches"]


def test_kill_9_of_the_run_takes_the_fetch_process_with_it(server, tmp_path):
    config, urls = _seed(tmp_path, server)
    script = tmp_path / "run.py"
    script.write_text(RUN, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(config), "0", "on"], cwd=tmp_path,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    child = json.loads(proc.stdout.readline())["child"]
    assert child is not None
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert _gone(child)
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        checked = conn.execute("SELECT count(*) FROM fetches WHERE outcome = 'same_body'").fetchone()
    assert checked[0] < len(urls)  # it was killed mid-run, and every stored row is whole


def test_with_the_second_process_off_every_page_is_fetched_here(server, tmp_path):
    config, urls = _seed(tmp_path, server)
    child, report = _run(config, tmp_path, shard="off")
    assert child is None and report["shard_fetches"] == 0
    assert report["counts"]["unchanged"] == len(urls) - 2
