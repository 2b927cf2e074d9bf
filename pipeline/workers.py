"""Extraction in worker processes, so CPU-bound parsing runs beside async fetching."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .errors import ExtractError
from .models import Extracted


class _Alarm(Exception):
    pass


def _on_alarm(signum, frame):  # pragma: no cover - runs in the worker
    raise _Alarm()


def _init_worker() -> None:
    # The parent handles Ctrl-C and SIGTERM; workers just stop when told.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, _on_alarm)


def extract_in_worker(
    html: str, url: str, final_url: str, timeout: float, drop: tuple[str, ...] = ()
) -> Extracted:
    """Run extract() under a per-page alarm so one pathological page cannot stall a worker."""
    from .extract import extract

    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        if drop:
            return extract(html, url=url, final_url=final_url, drop_selectors=drop)
        return extract(html, url=url, final_url=final_url)
    except _Alarm:
        raise ExtractError(f"extraction took longer than {timeout:g} s", kind="extract_timeout") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


class ExtractorPool:
    """A pool of extraction processes with a per-page time limit.

    The alarm inside the worker is the normal limit; if a worker is stuck in C code and
    misses it, the parent gives up after a grace period and replaces the whole pool.
    """

    def __init__(self, workers: int, timeout: float) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.timeout = timeout
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # fork is fastest and the workers only import; forkserver would re-import trafilatura.
        context = multiprocessing.get_context("fork")
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker)

    async def extract(
        self, html: str, *, url: str, final_url: str, drop: tuple[str, ...] = ()
    ) -> Extracted:
        loop = asyncio.get_running_loop()
        pool = self._pool
        future = loop.run_in_executor(
            pool, extract_in_worker, html, url, final_url, self.timeout, drop
        )
        try:
            return await asyncio.wait_for(future, self.timeout + 10)
        except asyncio.TimeoutError:
            self._replace(pool)
            raise ExtractError(
                f"extraction took longer than {self.timeout:g} s", kind="extract_timeout"
            ) from None
        except BrokenProcessPool as exc:
            self._replace(pool)
            raise ExtractError(f"extraction worker died: {exc}", kind="extract_failed") from exc

    def _replace(self, pool: ProcessPoolExecutor) -> None:
        if pool is not self._pool:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def close(self, kill: bool = False) -> None:
        """Shut down; ``kill`` ends busy workers at once (a stop was asked for)."""
        if kill:
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)
