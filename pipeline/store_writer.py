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

    async def call(self, method: str, *args, **kwargs):
        loop = asyncio.get_running_loop()
        target = getattr(self.archive, method)
        return await loop.run_in_executor(self._thread, partial(target, *args, **kwargs))

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
