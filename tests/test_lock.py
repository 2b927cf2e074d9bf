"""The run lock with real `archive run` processes: a second run exits at once, --wait waits,
and a run killed with SIGKILL (extraction workers included) leaves no stale lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from archive.store import Archive
from pipeline.lock import RunLock
from tests.runsite import Reply, article_html, site, write_config  # noqa: F401

ARCHIVE = Path(sys.executable).with_name("archive")


def start_run(config: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([str(ARCHIVE), "--config", str(config), "run", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_lock_is_exclusive_and_released(tmp_path):
    db = tmp_path / "archive.db"
    first, second = RunLock(db), RunLock(db)
    assert first.acquire(wait=False)
    assert not second.acquire(wait=False)
    assert not second.acquire(wait=True, timeout=0.3)
    assert first.holder() == str(os.getpid())
    first.release()
    assert second.acquire(wait=False)
    second.release()


def test_a_forked_child_does_not_keep_a_killed_holders_lock(tmp_path):
    db = tmp_path / "archive.db"
    read, write = os.pipe()
    holder = os.fork()
    if holder == 0:  # the "run": take the lock, fork a long-lived child, then die by SIGKILL
        RunLock(db).acquire(wait=False)
        grandchild = os.fork()
        if grandchild == 0:
            time.sleep(20)
            os._exit(0)
        os.write(write, str(grandchild).encode())
        os.kill(os.getpid(), signal.SIGKILL)
    os.close(write)
    grandchild = int(os.read(read, 32))
    os.waitpid(holder, 0)
    try:
        assert alive(grandchild)
        other = RunLock(db)
        assert other.acquire(wait=False)  # the orphan does not hold the dead run's lock
        other.release()
    finally:
        os.kill(grandchild, signal.SIGKILL)


def slow_site(site, tmp_path, **config):
    site.route(0, "/fast", Reply(200, article_html("Fast story")))
    site.route(1, "/slow", Reply(200, article_html("Slow story"), delay=4))
    return write_config(tmp_path, pages=[site.url(0, "/fast"), site.url(1, "/slow")], **config)


def test_second_run_exits_at_once_with_one_line(site, tmp_path):
    config = slow_site(site, tmp_path)
    first = start_run(config)
    wait_for(lambda: site.hits(0, "/fast"))  # the first run holds the lock and is fetching
    started = time.monotonic()
    second = subprocess.run([str(ARCHIVE), "--config", str(config), "run"],
                            capture_output=True, text=True, timeout=30)
    assert time.monotonic() - started < 10
    assert second.returncode == 0 and second.stdout == ""
    assert len(second.stderr.strip().splitlines()) == 1
    assert "another run is active" in second.stderr
    assert first.wait(timeout=60) == 0
    assert len(site.hits(1, "/slow")) == 1  # only the first run fetched it


def test_wait_option_waits_for_the_active_run(site, tmp_path):
    config = slow_site(site, tmp_path)
    first = start_run(config)
    wait_for(lambda: site.hits(0, "/fast"))
    second = start_run(config, "--all", "--wait")
    assert first.wait(timeout=60) == 0
    finished_first = time.monotonic()
    assert second.wait(timeout=60) == 0
    assert time.monotonic() >= finished_first
    assert len(site.hits(1, "/slow")) == 2  # the waiting run did its own checks afterwards
    starts = sorted(h.start for h in site.hits(1, "/slow"))
    ends = sorted(h.end for h in site.hits(1, "/slow"))
    assert starts[1] >= ends[0]  # never both at once


def test_lock_wait_from_config(site, tmp_path):
    config = slow_site(site, tmp_path, run={"lock": "wait"})
    first = start_run(config)
    wait_for(lambda: site.hits(0, "/fast"))
    second = start_run(config, "--all")
    assert first.wait(timeout=60) == 0 and second.wait(timeout=60) == 0
    assert len(site.hits(1, "/slow")) == 2


def test_run_killed_with_sigkill_leaves_no_stale_lock(site, tmp_path):
    config = slow_site(site, tmp_path, extract={"workers": 2})
    first = start_run(config)
    db = tmp_path / "archive.db"

    # /fast is answered at once and extracted (so workers exist) while /slow is in flight.
    wait_for(lambda: (1, "/slow") in site.arrived and len(children_of(first.pid)) >= 2)
    workers = children_of(first.pid)
    assert workers, "expected extraction worker processes"
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    wait_for(lambda: not any(alive(pid) for pid in workers), timeout=10)  # no orphans

    second = subprocess.run([str(ARCHIVE), "--config", str(config), "run", "--json"],
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    assert "another run is active" not in second.stderr
    with Archive(db, write=False) as archive:
        slow = archive.page(site.url(1, "/slow"))
        assert slow.latest_version == 1  # checked by the second run, once, whole
        assert archive.page(site.url(0, "/fast")).latest_version == 1
