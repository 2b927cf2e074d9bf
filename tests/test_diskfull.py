"""A full disk: the archive lives on a 2 MiB tmpfs that a filler file then fills up.

The run must stop with one clear line naming the database, exit 1, lose nothing already
stored, and the next run must succeed once space is back.
"""

from __future__ import annotations

import errno
import os
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
    version_rows,
    write_config,
)


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip()}); needs root")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def _fill(directory: Path, leave: int = 0) -> Path:
    """Write a filler file until the filesystem refuses another byte, then give back
    ``leave`` bytes."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as handle:
        for chunk in (1 << 16, 1 << 12, 512, 1):
            while True:
                try:
                    handle.write(b"\0" * chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
        if leave:
            handle.truncate(max(0, handle.tell() - leave))
    return filler


def _free_bytes(directory: Path) -> int:
    stat = os.statvfs(directory)
    return stat.f_bavail * stat.f_frsize


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "leave", [0, 40 * 1024],
    # 0: not even the -shm file fits, so the archive cannot be opened; 40 KiB: the -shm
    # file fits and the first write transaction runs out of space in the -wal file.
    ids=["no-room-to-open", "full-mid-transaction"],
)
def test_disk_full_is_one_line_loses_nothing_and_recovers(tmp_path, small_disk, leave):
    db = small_disk / "archive.db"
    with PageServer() as server:
        urls = server.add_articles(4)
        config = write_config(tmp_path, db="disk/archive.db")
        seeded = run_archive("--config", str(config), "add", *urls)
        assert seeded.returncode == 0, seeded.stderr
        stored = version_rows(db)
        assert len(stored) == 4

        for args in (("run", "--all", "--no-discover"), ("add", urls[0])):
            filler = _fill(small_disk, leave)
            assert _free_bytes(small_disk) < leave + 4096
            full = run_archive("--config", str(config), *args)
            line = assert_one_error_line(full.stderr)
            assert full.returncode == 1, full.stderr
            assert str(db) in line and "disk full" in line, line
            # A WAL archive cannot even be read without room for its -shm file, so the
            # file is inspected once the filler is gone.
            filler.unlink()
            check_archive(db)
            assert version_rows(db) == stored

        again = run_archive("--config", str(config), "run", "--all", "--no-discover")
        assert again.returncode == 0, again.stderr
        assert "Traceback" not in again.stderr
        latest = check_archive(db)
        assert latest == {url: 2 for url in urls}
        after = version_rows(db)
        assert all(after[key] == row for key, row in stored.items())


@pytest.mark.timeout(300)
def test_disk_full_while_another_process_holds_the_archive_open(tmp_path, small_disk):
    """With a reader holding the archive open its -shm file already exists, so the run gets
    past opening the database and meets the full disk later (the run lock, the first write)."""
    db = small_disk / "archive.db"
    with PageServer() as server:
        urls = server.add_articles(3)
        config = write_config(tmp_path, db="disk/archive.db")
        assert run_archive("--config", str(config), "add", *urls).returncode == 0
        stored = version_rows(db)
        holder = sqlite3.connect(db)
        try:
            holder.execute("SELECT count(*) FROM pages").fetchall()
            filler = _fill(small_disk)
            full = run_archive("--config", str(config), "run", "--all", "--no-discover")
        finally:
            holder.close()
        line = assert_one_error_line(full.stderr)
        assert full.returncode == 1
        assert str(db) in line, line
        filler.unlink()
        check_archive(db)
        assert version_rows(db) == stored
        again = run_archive("--config", str(config), "run", "--all", "--no-discover")
        assert again.returncode == 0, again.stderr
        assert check_archive(db) == {url: 2 for url in urls}
