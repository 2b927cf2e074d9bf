"""Per-host politeness: at most N requests in flight per host, spaced by a delay.

Requests to one host start at least ``delay`` seconds after the previous one *ended*, so a
slow server gets a real pause. A global limit caps requests in flight across all hosts; it
is taken only around the request itself, so a page waiting for its host's turn never keeps
another host waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit


@functools.lru_cache(maxsize=4096)  # asked three times or more per page: robots, slot, route
def _host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class HostGate:
    """Admits requests per host: ``concurrency`` at once, ``delay`` s apart, ``total`` overall.

    The delay for a host can be raised (robots.txt Crawl-delay) but never lowered below the
    configured one; ``pause`` holds a host back for a while (a Retry-After).
    """

    def __init__(self, *, concurrency: int, delay: float, total: int | None = None) -> None:
        self._concurrency = max(1, concurrency)
        self._default_delay = max(0.0, delay)
        self._delays: dict[str, float] = {}
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}
        self._last_end: dict[str, float] = {}
        self._total = asyncio.Semaphore(total) if total else None

    @staticmethod
    def host_of(url: str) -> str:
        return _host_of(url)

    def delay_for(self, host: str) -> float:
        return self._delays.get(host, self._default_delay)

    def set_delay(self, host: str, delay: float) -> None:
        self._delays[host] = max(delay, self._default_delay)
        if host in self._last_end:  # the request that taught us the delay counts too
            until = self._last_end[host] + self._delays[host]
            self._next_start[host] = max(self._next_start.get(host, until), until)

    def pause(self, url: str, seconds: float) -> None:
        """No request to ``url``'s host starts within ``seconds`` from now."""
        host = self.host_of(url)
        until = time.monotonic() + max(0.0, seconds)
        self._next_start[host] = max(self._next_start.get(host, until), until)

    @contextlib.asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        host = self.host_of(url)
        semaphore = self._semaphores.setdefault(host, asyncio.Semaphore(self._concurrency))
        async with semaphore:
            # Re-read after every sleep: a pause() may have moved the start while we slept.
            while (wait := self._next_start.get(host, 0.0) - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            self._next_start[host] = time.monotonic() + self.delay_for(host)
            try:
                if self._total is None:
                    yield
                else:
                    async with self._total:
                        yield
            finally:
                self._last_end[host] = time.monotonic()
                end = self._last_end[host] + self.delay_for(host)
                self._next_start[host] = max(self._next_start.get(host, end), end)
