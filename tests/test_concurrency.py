"""Two processes writing one archive at once: `archive run` beside `archive add` on
overlapping pages. Neither may fail with "database is locked", and every page's versions
stay unique and gap-free.

Each page serves new text on every request, so every check writes a version: the number
of versions of a page must equal the number of times it was served.
"""

from __future__ import annotations

import subprocess
from urllib.parse import urlsplit

import pytest

from helpers_serve import PageServer, archive_cmd, check_archive, run_archive, write_config

PAGES = 40
ROUNDS = 3


@pytest.mark.timeout(400)
def test_run_beside_add_on_overlapping_pages(tmp_path):
    with PageServer() as server:
        urls = server.add_articles(PAGES)
        config = write_config(tmp_path)
        seeded = run_archive("--config", str(config), "add", *urls[: PAGES // 2])
        assert seeded.returncode == 0, seeded.stderr
        for _ in range(ROUNDS):
            # run --all checks every tracked page; add re-checks half of them and tracks
            # the other half, which run may or may not see, depending on who commits first.
            runner = subprocess.Popen(
                archive_cmd("--config", str(config), "run", "--all", "--no-discover"),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            adder = subprocess.Popen(
                archive_cmd("--config", str(config), "add", *urls[PAGES // 4:]),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for proc in (runner, adder):
                out, err = proc.communicate(timeout=300)
                assert proc.returncode == 0, err
                assert "locked" not in err.lower() and "Traceback" not in err, err
        latest = check_archive(tmp_path / "archive.db")
        assert sorted(latest) == sorted(urls)
        for url in urls:
            assert latest[url] == server.hits[urlsplit(url).path], url
        # The overlap really was written by both: those pages were checked 2 * ROUNDS + 1 times.
        overlap = urls[PAGES // 4: PAGES // 2]
        assert all(latest[url] == 2 * ROUNDS + 1 for url in overlap)


@pytest.mark.timeout(300)
def test_many_adders_at_once_never_lock_each_other_out(tmp_path):
    """Six `archive add` processes on the same pages, started together."""
    with PageServer() as server:
        urls = server.add_articles(8)
        config = write_config(tmp_path)
        procs = [
            subprocess.Popen(archive_cmd("--config", str(config), "add", *urls),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(6)
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=240)
            assert proc.returncode == 0, err
            assert "locked" not in err.lower() and "Traceback" not in err, err
        latest = check_archive(tmp_path / "archive.db")
        assert latest == {url: 6 for url in urls}
