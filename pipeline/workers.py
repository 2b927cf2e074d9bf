"""Extraction in worker processes, so CPU-bound parsing runs beside async fetching."""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import gc
import inspect
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from archive import blobs
from archive.models import Content
from archive.normalize import field_hashes

from .errors import ExtractError
from .models import Extracted

try:  # ISA-L writes the same zlib stream as archive.blobs.pack, ~4x faster and smaller
    from isal import isal_zlib as _isal
except ImportError:  # pragma: no cover - isal is a dependency
    _isal = None

_PR_SET_PDEATHSIG = 1
DEFAULT_GRACE = 5.0  # how long the parent waits past the limit for a worker that ignores it


class _Alarm(BaseException):
    # BaseException: library code that catches Exception must not swallow the time limit.
    pass


def _on_alarm(signum, frame):  # pragma: no cover - runs in the worker
    raise _Alarm()


def _init_worker() -> None:
    # The parent handles Ctrl-C and SIGTERM; workers just stop when told.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, _on_alarm)
    _drop_forkserver_pipe()
    die_with_parent()
    from . import extract  # noqa: F401 - import once here, not inside the first page's limit

    # The server's imports stay put: the collector need not walk them again in every worker
    # (and, by not touching them, leaves their pages shared).
    gc.freeze()


def _drop_forkserver_pipe() -> None:
    """Close this worker's copy of the forkserver's "alive" pipe (it is handed to every child
    so that the child could ask for workers of its own; ours never do). The server exits when
    every copy is closed, so while a worker held one, a run killed with -9 left the server
    and therefore its workers (die_with_parent) alive."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if fd is None:
        return
    server._forkserver_alive_fd = None
    try:
        os.close(fd)
    except OSError:  # pragma: no cover - already closed
        pass


def die_with_parent() -> None:
    """Linux: a worker gets SIGKILL when its parent dies, instead of lingering. Its parent is
    the forkserver, which exits as soon as the run does (kill -9 included: it reads EOF)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: workers exit when their queue closes
        pass


def default_extract(html: str, *, url: str, final_url: str, drop: tuple[str, ...] = ()):
    from .extract import extract

    if drop and "drop_selectors" in inspect.signature(extract).parameters:
        return extract(html, url=url, final_url=final_url, drop_selectors=drop)
    return extract(html, url=url, final_url=final_url)


def extract_in_worker(
    fn: Callable[..., Extracted], html: str, url: str, final_url: str, timeout: float,
    drop: tuple[str, ...] = (),
) -> Extracted:
    """Run ``fn`` under a per-page alarm so one pathological page cannot stall a worker."""
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return fn(html, url=url, final_url=final_url, drop=drop)
    except _Alarm:
        raise ExtractError(
            f"extraction took longer than {timeout:g} s", kind="extract_timeout"
        ) from None
    except ExtractError:
        raise
    except Exception as exc:  # the parent gets a typed error, never a library's exception
        raise ExtractError(f"extraction crashed: {type(exc).__name__}: {exc}"[:300]) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


@dataclass(frozen=True)
class Prepared:
    """An extraction plus the store's CPU work on it, done in the worker (in parallel)."""

    extracted: Extracted
    packed: tuple[str, bytes]  # blobs.pack(raw body)
    hashes: dict[str, str]  # field_hashes(content_of(extracted))
    encoding: str | None = None  # the charset the body was decoded with


def content_of(ex: Extracted) -> Content:
    """The versioned fields of an extraction, as the store compares them."""
    return Content(
        title=ex.title, headline=ex.headline, other_titles=ex.other_titles, authors=ex.authors,
        byline=ex.byline,
        published=ex.published, modified=ex.modified,
        description=ex.description, canonical_url=ex.canonical_url, text=ex.text,
    )


def prepare_in_worker(
    fn: Callable[..., Extracted], raw: bytes, url: str, final_url: str, timeout: float,
    drop: tuple[str, ...] = (), encoding: str | None = None,
) -> Prepared:
    """Decode, extract, hash and compress in the worker: bytes pickle as a copy, a str
    is re-encoded, and the main process stays free for fetching and writing.

    ``encoding`` is a hint (the header's charset); the one actually used is returned."""
    from .charset import decode_html

    html, used = decode_html(raw, encoding)
    extracted = extract_in_worker(fn, html, url, final_url, timeout, drop)
    return Prepared(extracted, pack(raw), field_hashes(content_of(extracted)), used)


def pack(raw: bytes) -> tuple[str, bytes]:
    """``blobs.pack``: on the 308 corpus pages zlib level 1 takes 1.9 ms a page for 0.233
    of the raw size, ISA-L level 2 0.43 ms for 0.227. Its output is a plain zlib stream,
    so the store reads it back with zlib as always."""
    if _isal is None or blobs.CODEC != "zlib":
        return blobs.pack(raw)
    return blobs.CODEC, _isal.compress(raw, 2)


class ExtractorPool:
    """A pool of extraction processes with a per-page time limit.

    The alarm inside the worker is the normal limit; if a worker is stuck in C code and
    misses it, the parent gives up after ``grace`` more seconds and replaces the whole pool.
    ``extract_fn`` (a module-level function, so it can be sent to a worker) replaces the
    real extractor, for tests and benchmarks.
    """

    def __init__(self, workers: int, timeout: float, *, grace: float = DEFAULT_GRACE,
                 extract_fn: Callable[..., Extracted] = default_extract) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.timeout = timeout
        self.grace = grace
        self.extract_fn = extract_fn
        # Made on the first page: its queues' locks start multiprocessing's resource tracker,
        # a second interpreter that a run of unchanged pages does not need.
        self._pool: ProcessPoolExecutor | None = None
        self._free: asyncio.Semaphore | None = None  # one page per worker at a time
        self._started = False

    def start(self) -> None:
        """Start the workers now rather than on the first page.

        Otherwise this happens on the first page: a run where every body is unchanged never
        starts the extraction server at all (trafilatura's import, ~0.5 s of CPU)."""
        if self._started:
            return
        self._started = True
        self._pool = self._new_pool()
        for _ in range(self.workers):  # one process per submit while none is idle
            self._pool.submit(_ready)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=_context(), initializer=_init_worker)

    async def _run(self, job, *args):
        self.start()
        if self._free is None:
            self._free = asyncio.Semaphore(self.workers)
        for attempt in range(2):
            # Submit only to an idle worker, so the time limit never counts queueing.
            async with self._free:
                pool = self._pool
                try:
                    return await self._run_on(pool, job, *args)
                except BrokenProcessPool as exc:
                    error = exc
            replaced_by_other = pool is not self._pool
            self._replace(pool)
            if attempt == 0 and replaced_by_other:
                continue  # another page's stuck worker took the pool down; try again
            raise ExtractError(f"extraction worker died: {error}", kind="extract_failed") from error
        raise AssertionError("unreachable")

    async def prepare(
        self, raw: bytes, encoding: str | None, *, url: str, final_url: str,
        drop: tuple[str, ...] = (),
    ) -> Prepared:
        """``extract`` from the raw body, with the store's hashes and packed blob.
        ``encoding`` is the declared charset, a hint: the worker detects the real one."""
        return await self._run(prepare_in_worker, raw, url, final_url, drop, encoding)

    async def extract(
        self, html: str, *, url: str, final_url: str, drop: tuple[str, ...] = ()
    ) -> Extracted:
        return await self._run(extract_in_worker, html, url, final_url, drop)

    async def _run_on(self, pool, job, data, url, final_url, drop, *extra):
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            pool, job, self.extract_fn, data, url, final_url, self.timeout, drop, *extra
        )
        try:
            return await asyncio.wait_for(future, self.timeout + self.grace)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if pool is not self._pool and task is not None and not task.cancelling():
                raise BrokenProcessPool("pool replaced") from None  # not our cancellation
            raise
        except asyncio.TimeoutError:
            self._replace(pool)
            raise ExtractError(
                f"extraction took longer than {self.timeout:g} s", kind="extract_timeout"
            ) from None

    def _replace(self, pool: ProcessPoolExecutor) -> None:
        if pool is not self._pool:
            return
        self._pool = self._new_pool()  # its workers start on its first pages
        # Killing the workers fails every queued future with BrokenProcessPool, which
        # extract() retries on the new pool (cancelling them would lose those pages).
        _kill(pool)
        pool.shutdown(wait=False)

    def close(self, kill: bool = False) -> None:
        """Shut down; ``kill`` ends busy workers at once (a stop was asked for)."""
        if self._pool is None:
            return
        if kill:
            _kill(self._pool)
        self._pool.shutdown(wait=True, cancel_futures=True)


def _ready() -> bool:
    return True


def _context() -> multiprocessing.context.BaseContext:
    """Workers fork from a forkserver: a single-threaded process that imported the
    extractor once. Forking the run itself is unsafe: its writer thread (or any other) may
    hold a lock (SQLite, logging, an allocator) at that instant, and the child would wait on
    it forever; a replacement pool forks long after those threads started. The server's
    modules are shared by every worker it forks, as a fork of the run would share them."""
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Read when the server starts (once per process). Each worker runs the main script again
    # (multiprocessing's prepare; Python 3.11's '__main__' preload never applies), and the
    # `archive` script imports the CLI: imported once in the server, it is shared too.
    preload = ["__main__", "pipeline.extract"]
    if "pipeline.cli" in sys.modules:
        preload.append("pipeline.cli")
    context.set_forkserver_preload(preload)
    global _stop_registered
    if not _stop_registered:
        _stop_registered = True
        atexit.register(_stop_forkserver)
    return context


_stop_registered = False


def _stop_forkserver() -> None:
    """At exit, end the server and reap it: otherwise it outlives the run for a moment, and
    the CPU of every worker it reaped is missing from the run's own accounting (wait4)."""
    from multiprocessing import forkserver

    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        try:
            stop()
        except OSError:  # pragma: no cover - already gone
            pass


def _kill(pool: ProcessPoolExecutor) -> None:
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.kill()
        except (OSError, ValueError):  # already gone
            pass
