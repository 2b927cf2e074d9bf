"""Crashes: `kill -9` of a writer mid-run loses nothing committed, and hostile HTML never
crashes a run.

The kill test runs the real CLI against a loopback server of 300 article pages whose text
changes on every request (so every check writes a version) and kills the whole process group
at random moments (a random delay, or a random number of versions into the run), at least 25
times. After every kill the file must pass
``PRAGMA integrity_check``, every version row seen after the previous kill must be unchanged
byte for byte, and each page's versions must run 1..n with no gap or duplicate.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from helpers_serve import (
    PageServer,
    archive_cmd,
    check_archive,
    corpus_html,
    run_archive,
    version_rows,
    versions_committed,
    write_config,
)

PAGES = 300
KILLS = 25


def _start(config: Path, *args: str) -> subprocess.Popen:
    # A new session, so the kill reaches the writer and its extraction workers alike.
    return subprocess.Popen(
        archive_cmd("--config", str(config), "run", "--no-discover", *args),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )


def _kill_at_random_moment(proc: subprocess.Popen, db: Path,
                           rng: random.Random) -> tuple[str, bool]:
    """SIGKILL the group: either after a random delay (start-up, schema, tracking) or
    once the run has committed a random number of further versions (mid-writes, however far
    fetching runs ahead of extraction)."""
    if rng.random() < 0.25:
        delay = rng.uniform(0.0, 3.0)
        time.sleep(delay)
        moment = f"after {delay:.2f} s"
    else:
        target = versions_committed(db) + rng.randint(1, 30)
        deadline = time.monotonic() + 60
        while (versions_committed(db) < target and proc.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.05))
        moment = f"at about version {target}"
    landed = proc.poll() is None
    if landed:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    return moment, landed


@pytest.mark.timeout(600)
def test_kill_9_during_runs_loses_no_committed_version(tmp_path):
    seed = int(os.environ.get("PALIMPSEST_TEST_SEED", time.time()))
    rng = random.Random(seed)
    db = tmp_path / "archive.db"
    with PageServer() as server:
        urls = server.add_articles(PAGES)
        config = write_config(tmp_path, pages=urls)
        before: dict = {}
        kills = attempts = 0
        while kills < KILLS:  # count only kills that hit a live run
            attempts += 1
            assert attempts <= 3 * KILLS, f"seed {seed}: runs kept finishing before the kill"
            # Alternate due-only runs (which make progress through all pages) with --all
            # runs (which pile up versions 2..n on the first pages).
            proc = _start(config, *(["--all"] if attempts % 2 else []))
            moment, landed = _kill_at_random_moment(proc, db, rng)
            kills += landed
            context = f"seed {seed}, attempt {attempts} killed {moment}"
            if not db.exists():
                assert not before, context
                continue
            check_archive(db)
            after = version_rows(db)
            lost = {key for key in before if after.get(key) != before[key]}
            assert not lost, f"{context}: committed versions changed or vanished: {sorted(lost)[:5]}"
            before = after

        # The next run without interference completes and checks every page not yet done.
        done = run_archive("--config", str(config), "run", "--no-discover", timeout=300)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        latest = check_archive(db)
        assert sorted(latest) == sorted(urls)
        assert all(n >= 1 for n in latest.values()), f"seed {seed}: a page has no version"
        after = version_rows(db)
        assert all(after[key] == row for key, row in before.items())
        # Each page served a new revision on every request, so a page can have no more
        # versions than requests, and repeated --all runs piled up history on some.
        assert all(latest[url] <= server.hits[urlsplit(url).path] for url in urls)
        assert max(latest.values()) >= 3


def _hostile_pages(rng: random.Random) -> list[bytes]:
    real = corpus_html(limit=12)
    pages = []
    for page in real[:8]:
        pages.append(page[: rng.randint(1, len(page) - 1)])  # cut anywhere, even mid-tag
    pages += [
        rng.randbytes(5000),
        rng.randbytes(200_000),
        b"<html><body>" + rng.randbytes(20_000) + b"</body></html>",
        b"\x00" * 4096,
        b"<" * 50_000,
        b"<div>" * 20_000 + b"deep" + b"</div>" * 100,
        b"<html><head><meta charset=\"x-unknown-42\"></head><body><p>" + b"\xff\xfe" * 2000,
        "<p>ünïcødé \udcff</p>".encode("utf-8", "surrogatepass"),
        b"",
        b"<!DOCTYPE html><html><body><article><p>" + b"word " * 5 + b"</p>",
    ]
    return pages


@pytest.mark.timeout(300)
def test_random_and_truncated_html_never_crashes_a_run(tmp_path):
    seed = int(os.environ.get("PALIMPSEST_TEST_SEED", time.time()))
    rng = random.Random(seed)
    with PageServer() as server:
        urls = []
        for index, body in enumerate(_hostile_pages(rng)):
            urls.append(server.route(f"/h/{index}", lambda hit, body=body: (200, "text/html", body)))
        urls += server.add_articles(2)  # healthy pages in the same run still get saved
        config = write_config(tmp_path)
        result = run_archive("--config", str(config), "add", *urls, timeout=240)
        assert result.returncode in (0, 1), result.stderr
        assert "Traceback" not in result.stderr, f"seed {seed}: {result.stderr}"
        for line in result.stderr.splitlines():
            assert line.startswith("archive: "), f"seed {seed}: {line!r}"
        latest = check_archive(tmp_path / "archive.db")
        assert latest[urls[-1]] == 1 and latest[urls[-2]] == 1
        # Every hostile page ended as a version or a recorded error, never silence.
        import sqlite3

        conn = sqlite3.connect(tmp_path / "archive.db")
        checked = {url for (url,) in conn.execute(
            "SELECT DISTINCT pages.url FROM fetches JOIN pages ON pages.id = fetches.page_id")}
        conn.close()
        assert checked == set(urls), f"seed {seed}: no fetch row for {set(urls) - checked}"
