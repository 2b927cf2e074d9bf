"""SIGTERM mid-run (cron's timeout, systemd stop, a shutdown): the run exits within 10 s,
the transaction in progress is committed or rolled back, and no partial version remains."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time

import pytest

from helpers_serve import (
    PageServer,
    archive_cmd,
    check_archive,
    run_archive,
    version_rows,
    versions_committed,
    write_config,
)

GRACE = 10.0


def _hanging(hit: int):
    time.sleep(120)  # far beyond the grace period: the run must not wait for it
    return 200, "text/html", b"<html><body><p>too late</p></body></html>"


@pytest.mark.timeout(300)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_run_exits_promptly_and_leaves_whole_versions(tmp_path, signum):
    with PageServer() as server:
        urls = server.add_articles(200)
        slow = [server.route(f"/slow/{n}", _hanging) for n in range(3)]
        config = write_config(tmp_path, pages=slow + urls)
        proc = subprocess.Popen(
            archive_cmd("--config", str(config), "run", "--no-discover"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 120
        while (versions_committed(tmp_path / "archive.db") == 0 and proc.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        sent = time.monotonic()
        proc.send_signal(signum)
        try:
            out, err = proc.communicate(timeout=GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"the run was still alive {GRACE:g} s after {signum.name}")
        took = time.monotonic() - sent
        assert took < GRACE
        assert "Traceback" not in err, err
        assert proc.returncode == 1, (proc.returncode, err)
        assert err.strip().splitlines()[-1].startswith("archive: stopped by a signal; ")

        db = tmp_path / "archive.db"
        latest = check_archive(db)
        assert 0 < sum(latest.values()) < len(urls), "the signal did not land mid-run"
        conn = sqlite3.connect(db)
        # Every version is whole: its fetch row says new_version with the same number.
        broken = conn.execute(
            "SELECT count(*) FROM versions v LEFT JOIN fetches f ON f.id = v.fetch_id"
            " WHERE f.id IS NULL OR f.outcome != 'new_version' OR f.version != v.number"
        ).fetchone()[0]
        conn.close()
        assert broken == 0
        stored = version_rows(db)

        # The next run picks up where this one stopped.
        rest = run_archive("--config", str(config), "run", "--no-discover", "--max-runtime", "60",
                           timeout=200)
        assert "Traceback" not in rest.stderr
        after = version_rows(db)
        assert all(after[key] == row for key, row in stored.items())
        latest = check_archive(db)
        assert all(latest[url] >= 1 for url in urls)
