"""Per-host politeness: at most N requests in flight per host, spaced by a delay."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit


class HostGate:
    """Admits requests per host: ``concurrency`` at once, starts at least ``delay`` s apart.

    The delay for a host can be raised (robots.txt Crawl-delay) but never lowered.
    """

    def __init__(self, *, concurrency: int, delay: float) -> None:
        self._concurrency = max(1, concurrency)
        self._default_delay = delay
        self._delays: dict[str, float] = {}
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @staticmethod
    def host_of(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.lower()}"

    def set_delay(self, host: str, delay: float) -> None:
        self._delays[host] = max(delay, self._default_delay)

    @contextlib.asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        host = self.host_of(url)
        semaphore = self._semaphores.setdefault(host, asyncio.Semaphore(self._concurrency))
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with semaphore:
            async with lock:  # serialise the spacing decision, not the request
                delay = self._delays.get(host, self._default_delay)
                now = time.monotonic()
                start = max(now, self._next_start.get(host, now))
                self._next_start[host] = start + delay
            if start > now:
                await asyncio.sleep(start - now)
            try:
                yield
            finally:
                # Space from the end of a request too: a slow server gets a real pause.
                end = time.monotonic() + self._delays.get(host, self._default_delay)
                self._next_start[host] = max(self._next_start.get(host, end), end)
