"""Storage faults through the real CLI: an unusable or damaged archive is reported in one
line before any fetching, with exit code 1, and a damaged file is never written to."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers_serve import (
    PageServer,
    assert_one_error_line,
    check_archive,
    run_archive,
    write_config,
)

EXIT_FAILED = 1


@pytest.fixture
def server() -> Iterator[PageServer]:
    with PageServer() as serving:
        yield serving


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` (a file or a directory) read-only for the CLI.

    Root ignores file modes, so as root the path is bind-mounted read-only on itself
    (writes then fail with EROFS, as on a read-only volume); otherwise its mode is cleared."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)


def _fingerprint(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_mtime_ns, stat.st_size


def _seed_archive(directory: Path, server: PageServer, pages: int = 4, rounds: int = 1) -> Path:
    """An archive of ``pages`` articles with ``rounds`` versions each."""
    config = write_config(directory)
    urls = server.add_articles(pages, prefix="/seed/")
    for _ in range(rounds):
        result = run_archive("--config", str(config), "add", *urls)
        assert result.returncode == 0, result.stderr
    return directory / "archive.db"


# Commands that fetch must refuse before any request; the others must still say one line.
FETCHING = [("add", "{url}"), ("run", "--all", "--no-discover")]
READING = [("list",), ("history", "{url}"), ("show", "{url}"), ("diff", "{url}")]


def _argv(command: tuple[str, ...], url: str) -> list[str]:
    return [part.format(url=url) for part in command]


@pytest.mark.parametrize("command", FETCHING, ids=lambda c: c[0])
def test_missing_directory_is_refused_before_fetching(tmp_path, server, command):
    url = server.add_articles(1)[0]
    db = tmp_path / "no" / "such" / "dir" / "archive.db"
    config = write_config(tmp_path, pages=[url])
    result = run_archive("--config", str(config), "--db", str(db), *_argv(command, url))
    line = assert_one_error_line(result.stderr)
    assert result.returncode == EXIT_FAILED
    assert str(db) in line and "does not exist" in line
    assert server.total_hits == 0
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("command", FETCHING, ids=lambda c: c[0])
def test_read_only_database_file_is_refused_before_fetching(tmp_path, server, command):
    db = _seed_archive(tmp_path, server)
    before = _fingerprint(db)
    url = server.add_articles(1)[0]
    hits = server.total_hits
    with read_only(db):  # the directory stays writable
        result = run_archive("--config", str(tmp_path / "config.toml"), *_argv(command, url))
    line = assert_one_error_line(result.stderr)
    assert result.returncode == EXIT_FAILED
    assert str(db) in line and "read-only" in line
    assert server.total_hits == hits
    assert _fingerprint(db) == before


@pytest.mark.parametrize("command", FETCHING, ids=lambda c: c[0])
@pytest.mark.parametrize("existing", [True, False], ids=["existing-db", "new-db"])
def test_read_only_directory_is_refused_before_fetching(tmp_path, server, command, existing):
    home = tmp_path / "home"
    home.mkdir()
    db = home / "archive.db"
    config = write_config(tmp_path, db="home/archive.db")
    if existing:
        urls = server.add_articles(2, prefix="/seed/")
        assert run_archive("--config", str(config), "add", *urls).returncode == 0
        before = _fingerprint(db)
    url = server.add_articles(1)[0]
    hits = server.total_hits
    with read_only(home):
        result = run_archive("--config", str(config), *_argv(command, url))
    line = assert_one_error_line(result.stderr)
    assert result.returncode == EXIT_FAILED
    assert str(db) in line
    assert server.total_hits == hits
    assert db.exists() == existing
    if existing:
        assert _fingerprint(db) == before


def test_reading_a_missing_archive_is_one_line(tmp_path):
    config = write_config(tmp_path)
    result = run_archive("--config", str(config), "list")
    line = assert_one_error_line(result.stderr)
    assert result.returncode == EXIT_FAILED
    assert str(tmp_path / "archive.db") in line
    assert not (tmp_path / "archive.db").exists()


# -- corruption ----------------------------------------------------------------------------


def _garbage_header(db: Path, rng: random.Random) -> None:
    data = bytearray(db.read_bytes())
    data[:100] = rng.randbytes(100)
    db.write_bytes(bytes(data))


def _corrupt_middle_page(db: Path, rng: random.Random) -> None:
    """Overwrite one b-tree page of the versions table, keeping the header valid."""
    conn = sqlite3.connect(db)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = [n for (n,) in conn.execute(
        "SELECT pageno FROM dbstat WHERE name = 'versions' AND pagetype = 'leaf'")]
    total = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    assert pages, "the seed archive has no versions leaf page"
    target = pages[len(pages) // 2]
    assert 1 < target < total
    with db.open("r+b") as handle:
        handle.seek((target - 1) * page_size)
        handle.write(rng.randbytes(page_size))


CORRUPTIONS = {"garbage-header": _garbage_header, "corrupt-middle-page": _corrupt_middle_page}


@pytest.mark.parametrize("command", FETCHING, ids=lambda c: c[0])
@pytest.mark.parametrize("damage", sorted(CORRUPTIONS))
def test_corrupt_database_is_refused_before_fetching(tmp_path, server, damage, command):
    """A writer checks the whole file first: it must never spread damage."""
    db = _seed_archive(tmp_path, server, pages=6)
    assert not Path(f"{db}-wal").exists()  # the last writer checkpointed on close
    url = f"{server.url('/seed/')}3"
    CORRUPTIONS[damage](db, random.Random(damage))
    before = _fingerprint(db)
    hits = server.total_hits
    result = run_archive("--config", str(tmp_path / "config.toml"), *_argv(command, url))
    line = assert_one_error_line(result.stderr)
    assert result.returncode == EXIT_FAILED
    assert str(db) in line and "corrupt" in line
    assert server.total_hits == hits
    assert _fingerprint(db) == before
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0


@pytest.mark.parametrize("command", READING, ids=lambda c: c[0])
@pytest.mark.parametrize("damage", sorted(CORRUPTIONS))
def test_corrupt_database_is_reported_by_readers_and_never_written(tmp_path, server, damage,
                                                                   command):
    """Readers do not scan the whole file (that would make `show` cost a full read); they
    answer from intact pages and report the damage in one line when they reach it."""
    db = _seed_archive(tmp_path, server, pages=4, rounds=2)
    urls = [f"{server.url('/seed/')}{n}" for n in range(4)]
    CORRUPTIONS[damage](db, random.Random(damage))
    before = _fingerprint(db)
    calls = [_argv(command, url) for url in urls] if "{url}" in command[-1] else [list(command)]
    if command[0] == "show":  # show reads one version: ask for each
        calls = [call + ["--version", str(n)] for call in calls for n in (1, 2)]
    reported = 0
    for call in calls:
        result = run_archive("--config", str(tmp_path / "config.toml"), *call)
        assert "Traceback" not in result.stderr, result.stderr
        if result.returncode != 0 or result.stderr:
            line = assert_one_error_line(result.stderr)
            assert result.returncode == EXIT_FAILED
            assert str(db) in line and "corrupt" in line
            reported += 1
    if damage == "garbage-header" or command[0] != "list":  # list never reads versions
        assert reported, "no reader noticed the damage"
    assert _fingerprint(db) == before
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0


def test_a_healthy_archive_opens_after_the_checks(tmp_path, server):
    """The guards above must not refuse a good file: seed, re-check, read back."""
    db = _seed_archive(tmp_path, server)
    url = f"{server.url('/seed/')}0"
    again = run_archive("--config", str(tmp_path / "config.toml"), "add", url)
    assert again.returncode == 0, again.stderr
    assert check_archive(db)[url] == 2
    listed = run_archive("--config", str(tmp_path / "config.toml"), "history", url, "--json")
    assert listed.returncode == 0 and '"version": 2' in listed.stdout


# -- one line per failure ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, code, needle",
    [
        (("add", "ftp://example.org/x"), 2, "ftp://example.org/x"),
        (("history", "http://127.0.0.1:9/never-added"), 1, "not tracked"),
        (("show", "{url}", "--version", "99"), 1, "no version 99"),
        (("show", "{url}", "--version", "someday"), 2, "someday"),
        (("diff", "{url}"), 1, "only one version"),
    ],
    ids=["bad-scheme", "not-tracked", "no-such-version", "bad-version-spec", "nothing-to-diff"],
)
def test_cli_failures_are_one_line_with_the_documented_code(tmp_path, server, args, code, needle):
    _seed_archive(tmp_path, server, pages=1)
    url = f"{server.url('/seed/')}0"
    result = run_archive("--config", str(tmp_path / "config.toml"), *_argv(args, url))
    line = assert_one_error_line(result.stderr)
    assert result.returncode == code
    assert needle in line


def test_bad_config_is_one_line_exit_2(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[fetch]\ntimeout = 'soon'\n", encoding="utf-8")
    result = run_archive("--config", str(config), "run")
    line = assert_one_error_line(result.stderr)
    assert result.returncode == 2
    assert str(config) in line and "fetch.timeout" in line


def test_large_archives_are_checked_in_full_once_a_day_or_after_an_unclean_stop(
    tmp_path, monkeypatch
):
    import sqlite3 as sqlite
    import time as clock

    from archive import db as archive_db
    from archive.store import Archive

    monkeypatch.setattr(archive_db, "FULL_CHECK_BELOW", 0)  # treat this file as large
    path = tmp_path / "big.db"
    Archive(path).close()

    def checked_at() -> str:
        with sqlite.connect(path) as conn:
            return conn.execute(
                "SELECT value FROM meta WHERE key = 'integrity_checked_at'"
            ).fetchone()[0]

    first = checked_at()
    clock.sleep(1.1)
    Archive(path).close()
    assert checked_at() == first  # checked less than a day ago: only the pages table
    holder = Archive(path)  # an open writer leaves a -wal file, as a killed one would
    holder.track("https://example.org/a")
    clock.sleep(1.1)
    Archive(path).close()
    holder.close()
    assert checked_at() > first  # the -wal file made the next open check everything
