"""The single SQLite writer: one thread owns the connection; the event loop never blocks on it."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from archive.feeds import FeedStore
from archive.store import Archive


class StoreWriter:
    """Runs Archive methods on one dedicated thread, in the order they are asked for."""

    def __init__(self, db_path: Path, *, busy_timeout: float = 60.0) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="palimpsest-writer")
        try:
            self.archive: Archive = self._thread.submit(
                Archive, db_path, busy_timeout=busy_timeout
            ).result()
        except BaseException:
            self._thread.shutdown(wait=False)
            raise
        self.feeds = FeedStore(self.archive)
        self._queued: list[tuple[str, tuple, dict, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None

    async def call(self, method: str, *args, **kwargs):
        loop = asyncio.get_running_loop()
        target = getattr(self.archive, method)
        return await loop.run_in_executor(self._thread, partial(target, *args, **kwargs))

    async def call_grouped(self, method: str, *args, **kwargs):
        """``call``, but calls that arrive while the writer thread is busy go over together.

        Each call is still its own transaction and its caller resumes only once it is
        committed (or gets its own exception); what is shared is the thread hop. A hop per
        call cost the event loop more than the write itself on a run of unchanged pages
        (the future, the self-pipe wake-up, the two threads trading the GIL).
        """
        future = asyncio.get_running_loop().create_future()
        self._queued.append((method, args, kwargs, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush())
        return await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queued:
            batch, self._queued = self._queued, []
            calls = [(method, args, kwargs) for method, args, kwargs, _ in batch]
            try:
                results = await loop.run_in_executor(self._thread, self._run_each, calls)
            except asyncio.CancelledError:  # the loop is going away: so are the callers
                for *_, future in batch + self._queued:
                    future.cancel()
                self._queued = []
                raise
            except Exception as exc:  # the hop itself failed: every caller hears it
                results = [(False, exc)] * len(batch)
            for (_, _, _, future), (ok, value) in zip(batch, results):
                if future.done():  # the caller was cancelled; the write happened anyway
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    def _run_each(self, calls) -> list[tuple[bool, object]]:
        results: list[tuple[bool, object]] = []
        for method, args, kwargs in calls:
            try:
                results.append((True, getattr(self.archive, method)(*args, **kwargs)))
            except Exception as exc:  # one page's failure is that page's, as with call()
                results.append((False, exc))
        return results

    async def drain(self) -> None:
        """Wait until every grouped call has been written."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

    async def run(self, fn, *args, **kwargs):
        """``fn(archive, *args, **kwargs)`` on the writer thread: several store calls for
        the price of one thread hop (each hop costs the event loop a future and a wake-up)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._thread, partial(fn, self.archive, *args, **kwargs)
        )

    async def feed_call(self, method: str, *args, **kwargs):
        loop = asyncio.get_running_loop()
        target = getattr(self.feeds, method)
        return await loop.run_in_executor(self._thread, partial(target, *args, **kwargs))

    def close(self) -> None:
        self._thread.submit(self.archive.close).result()
        self._thread.shutdown(wait=True)
