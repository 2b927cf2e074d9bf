"""`archive run` as cron sees it: a real process with no terminal. Silent on success, one
summary line with --verbose, a JSON summary with --json, errors on stderr once, SIGTERM."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from archive.store import Archive
from tests.runsite import Reply, article_html, site, write_config  # noqa: F401

ARCHIVE = Path(sys.executable).with_name("archive")
SUMMARY_KEYS = {"checked", "new_pages", "new_versions", "unchanged", "not_modified",
                "errors_by_kind", "duration"}


def archive(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(ARCHIVE), "--config", str(config), *args],
                          capture_output=True, text=True, timeout=timeout)


def test_silent_on_success_verbose_and_json(site, tmp_path):
    site.route(0, "/a", Reply(200, article_html("Quiet success")))
    config = write_config(tmp_path, pages=[site.url(0, "/a")])
    quiet = archive(config, "run")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")

    verbose = archive(config, "run", "--all", "--verbose")
    assert verbose.returncode == 0 and verbose.stdout == ""
    assert len(verbose.stderr.splitlines()) == 1 and "checked 1" in verbose.stderr

    as_json = archive(config, "run", "--all", "--json")
    assert as_json.returncode == 0 and as_json.stderr == ""
    summary = json.loads(as_json.stdout)
    assert SUMMARY_KEYS <= set(summary)
    assert summary["checked"] == 1 and summary["unchanged"] == 1
    assert summary["errors_by_kind"] == {}


def test_failing_page_reported_on_stderr_once_at_the_threshold(site, tmp_path):
    site.route(0, "/ok", Reply(200, article_html("Fine page")))
    site.route(1, "/broken", Reply(200, article_html("Was fine once")))
    broken = site.url(1, "/broken")
    config = write_config(tmp_path, pages=[site.url(0, "/ok"), broken],
                          schedule={"report_after_errors": 3})
    assert archive(config, "run", "--all").returncode == 0  # both captured
    site.route(1, "/broken", Reply(500, "oops"))
    results = [archive(config, "run", "--all", "--json") for _ in range(5)]
    assert [r.returncode for r in results] == [0, 0, 1, 0, 0]
    for index, result in enumerate(results):
        summary = json.loads(result.stdout)
        assert summary["errors_by_kind"] == {"http_status": 1}
        lines = result.stderr.splitlines()
        if index == 2:
            assert len(lines) == 1 and broken in lines[0] and "http_status" in lines[0]
        else:
            assert lines == []


def test_a_page_never_captured_is_reported_on_its_first_failure(site, tmp_path):
    site.route(1, "/never", Reply(500, "oops"))
    never = site.url(1, "/never")
    config = write_config(tmp_path, pages=[never], schedule={"report_after_errors": 3})
    results = [archive(config, "run", "--all") for _ in range(4)]
    assert [r.returncode for r in results] == [1, 0, 1, 0]
    assert never in results[0].stderr and "http_status" in results[0].stderr
    assert results[1].stderr == "" and results[3].stderr == ""


def _stored(db, url: str) -> bool:
    """Whether ``url`` has a version yet, read without a lock (WAL readers never block)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.Error:  # not created yet
        return False
    try:
        row = conn.execute("SELECT latest_version FROM pages WHERE url = ?", (url,)).fetchone()
    except sqlite3.Error:  # tables not made yet
        return False
    finally:
        conn.close()
    return bool(row and row[0])


def test_sigterm_ends_the_run_quickly_with_nothing_partial(site, tmp_path):
    site.route(0, "/fast", Reply(200, article_html("Fast one")))
    for index in range(3):
        site.route(1, f"/slow{index}", Reply(200, article_html(f"Slow {index}"), delay=60))
    slow = [site.url(1, f"/slow{index}") for index in range(3)]
    config = write_config(tmp_path, pages=[site.url(0, "/fast"), *slow])
    process = subprocess.Popen([str(ARCHIVE), "--config", str(config), "run", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    # Stop once the fast page is stored and the slow ones are in flight.
    while (1, "/slow0") not in site.arrived or not _stored(tmp_path / "archive.db", site.url(0, "/fast")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert time.monotonic() - sent < 10
    assert process.returncode == 1
    assert err.strip().splitlines() == [
        "archive: stopped by a signal; 3 due page(s) left for the next run"
    ]
    summary = json.loads(out)
    assert summary["stopped_early"] is True and summary["interrupted"] is True
    with Archive(tmp_path / "archive.db") as store:
        for url in slow:
            assert store.page(url).latest_version == 0 and store.fetches(url) == []
    check = sqlite3.connect(tmp_path / "archive.db")
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()


def test_max_runtime_option_ends_the_process_in_time(site, tmp_path):
    for index in range(3):
        site.route(0, f"/slow{index}", Reply(200, article_html(f"Slow {index}"), delay=60))
    config = write_config(tmp_path, pages=[site.url(0, f"/slow{i}") for i in range(3)])
    started = time.monotonic()
    result = archive(config, "run", "--max-runtime", "2", "--json")
    assert time.monotonic() - started < 2 + 10
    assert result.returncode == 0
    summary = json.loads(result.stdout)
    assert summary["stopped_early"] and summary["checked"] == 0 and summary["not_started"] == 3
