"""Extraction workers start clean (nothing the run's threads hold reaches them), and a run
killed with -9 takes its workers and their server with it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from pipeline.errors import ExtractError
from pipeline.workers import ExtractorPool, default_extract

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ("<html><head><title>Harbour ferry timetable agreed</title></head><body><article>"
           "<h1>Harbour ferry timetable agreed</h1>"
           + "".join(f"<p>Paragraph {i}: the council and the operator agreed on a new timetable "
                     f"for the harbour ferry after months of talks with residents.</p>"
                     for i in range(6))
           + "</article></body></html>")

# Held by a thread of the test process while the pool starts its workers. A worker forked
# from this process would inherit it locked, and wait on it for ever.
_HELD = threading.Lock()


def lock_probe(html, *, url, final_url, drop=()):
    if not _HELD.acquire(timeout=5):
        raise ExtractError("a lock held in the parent reached the worker", kind="inherited_lock")
    _HELD.release()
    return default_extract(html, url=url, final_url=final_url, drop=drop)


def test_a_lock_held_by_another_thread_does_not_reach_the_workers():
    release = threading.Event()
    holding = threading.Event()

    def hold():
        with _HELD:
            holding.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    pool = ExtractorPool(1, 30.0, extract_fn=lock_probe)
    try:
        extracted = asyncio.run(pool.extract(ARTICLE, url="http://127.0.0.1/a",
                                             final_url="http://127.0.0.1/a"))
        assert extracted.title == "Harbour ferry timetable agreed"
        assert "new timetable" in extracted.text
    finally:
        release.set()
        holder.join()
        pool.close()


_RUN = f"""
import asyncio, sys
sys.path.insert(0, {str(ROOT)!r})
from multiprocessing import forkserver
from pipeline.workers import ExtractorPool

async def main():
    pool = ExtractorPool(2, 30.0)
    pool.start()
    await asyncio.gather(*(pool.extract(sys.argv[1], url="http://127.0.0.1/a",
                                        final_url="http://127.0.0.1/a") for _ in range(4)))
    pids = [*pool._pool._processes, forkserver._forkserver._forkserver_pid]
    print(" ".join(map(str, pids)), flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_kill_9_of_the_run_ends_its_workers_and_their_server():
    proc = subprocess.Popen([sys.executable, "-c", _RUN, ARTICLE], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 3 and all(_alive(p) for p in pids)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if _alive(p)]


_UNUSED = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import multiprocessing
from multiprocessing import resource_tracker
from pipeline.workers import ExtractorPool

if __name__ == "__main__":
    pool = ExtractorPool(2, 30.0)
    pool.close()
    print(len(multiprocessing.active_children()), resource_tracker._resource_tracker._pid)
"""


def test_a_pool_never_given_a_page_starts_no_process():
    # A run of unchanged pages makes a pool and never uses it: no worker, no forkserver,
    # and no resource tracker (a second interpreter) may be started for it.
    done = subprocess.run([sys.executable, "-c", _UNUSED], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "None"]
