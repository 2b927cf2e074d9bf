"""Orchestration: fetch -> extract -> store for many pages, politely, with failures isolated.

Every command that fetches (add, run, feed discovery) goes through ``Engine``. One page's
path lives in ``session.py``; this module decides which pages, in what order, and when to
stop (the time budget, SIGTERM, ``Engine.stop()``).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from archive.db import utcnow
from archive.store import PageState

from .config import Config
from .errors import FetchError
from .fetch_shard import ShardedFetcher, split_hosts
from .politeness import HostGate
from .session import PageOutcome, Session, wait_all
from .urls import canonical_url
from .workers import ExtractorPool

DISCOVERY_SHARE = 0.25  # discovery may use at most this share of a run's time budget
# A run checking at least this many pages over two hosts or more fetches a share of the hosts
# in a second process (pipeline.fetch_shard) on a machine with two cores or more.
SHARD_MIN_PAGES = 200


@dataclass(frozen=True)
class RunSummary:
    outcomes: tuple[PageOutcome, ...]
    duration: float
    new_pages: int = 0
    discovery_errors: tuple[str, ...] = ()  # feeds that started failing this run
    stopped_early: bool = False  # the time budget or a signal ended the run
    interrupted: bool = False  # it was stop() (SIGTERM, Ctrl-C), not the time budget
    not_started: int = 0  # due pages left for the next run (they stay due)
    shard_fetches: int = 0  # pages a second fetching process fetched (pipeline.fetch_shard)

    def counts(self) -> dict:
        by = Counter(o.outcome for o in self.outcomes)
        errors = Counter(o.error_kind for o in self.outcomes if o.outcome == "error")
        return {
            "checked": len(self.outcomes),
            "new_pages": self.new_pages,
            "new_versions": by["new_version"],
            "unchanged": by["unchanged"] + by["same_body"],
            "not_modified": by["not_modified"],
            "errors": sum(errors.values()),
            "errors_by_kind": dict(sorted(errors.items())),
            "not_started": self.not_started,
            "stopped_early": self.stopped_early,
            "interrupted": self.interrupted,
            "duration": round(self.duration, 3),
        }


class Progress:
    """Callbacks the CLI implements to show progress; the engine never prints."""

    def start(self, total: int) -> None: ...

    def advance(self, outcome: PageOutcome) -> None: ...


class Engine:
    """Checks pages with every limit on.

    ``clock`` (a function returning an aware UTC datetime) replaces the wall clock for
    scheduling; ``pool_factory(workers, timeout)`` builds the extraction pool (default
    ``ExtractorPool``). ``stop()`` may be called from any thread or a signal handler.
    """

    def __init__(
        self,
        config: Config,
        *,
        progress: Progress | None = None,
        transport=None,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] | None = None,
        pool_factory: Callable[[int, float], ExtractorPool] | None = None,
        shard_min_pages: int = SHARD_MIN_PAGES,
        shard: bool | None = None,
    ) -> None:
        self.config = config
        self.progress = progress or Progress()
        self.rng = rng or random.Random()
        self._clock = clock or utcnow
        self._transport = transport
        self._pool_factory = pool_factory or ExtractorPool
        self._shard_min_pages = shard_min_pages
        # None: a second fetching process when a core is free; True: whenever the run is
        # long enough; False: never.
        self._shard = shard
        self._robots: dict = {}  # host -> RobotsRules, for the life of this engine (one run)
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._robots_failures: dict[str, FetchError] = {}  # host -> why robots.txt was unreachable
        self._robots_stored: asyncio.Future | None = None  # origin -> (status, body) from the archive
        self._stopped = False
        self._session: Session | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def now(self) -> datetime:
        return self._clock()

    def stop(self) -> None:
        """Stop starting pages and cancel those in flight (SIGTERM, Ctrl-C, a caller's timer).

        Cancelled pages keep their schedule, so they stay due; nothing partial is stored
        because every store write is one transaction.
        """
        self._stopped = True
        session, loop = self._session, self._loop
        if session is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(session.stop_event.set)

    def _attach(self, session: Session, loop: asyncio.AbstractEventLoop) -> None:
        self._session, self._loop = session, loop
        if self._stopped:
            session.stop_event.set()

    def _detach(self, session: Session) -> None:
        if self._session is session:
            self._session, self._loop = None, None

    async def check_urls(self, urls: Iterable[str], *, source: str = "cli") -> RunSummary:
        """`archive add`: track these URLs and check them now; every error is reported."""
        async with Session(self) as session:
            # One transaction for all of them, not three writer round-trips per URL.
            tracking = asyncio.ensure_future(
                session.writer.call("track_many", list(urls), source=source, now=self.now())
            )
            await asyncio.sleep(0)  # hand track_many to the writer thread first
            # New pages all need extraction: load the extractor and start the workers now,
            # while the writer tracks the URLs, rather than when the first page arrives.
            if hasattr(session.pool, "start"):
                session.pool.start()
            pages = await tracking
            return await self._check(session, pages, report_all=True, deadline=None)

    async def run(self, *, check_all: bool = False, limit: int | None = None,
                  max_runtime: float | None = None, discover: bool = True) -> RunSummary:
        """`archive run`: config pages, discovery, then the due pages within the budget.

        ``max_runtime`` 0 (or a config value of 0) means no time limit.
        """
        started = time.monotonic()
        max_runtime = self.config.run.max_runtime if max_runtime is None else max_runtime
        deadline = started + max_runtime if max_runtime else None
        limit = limit if limit is not None else (self.config.run.limit or None)
        shard = self._shard is not False and (os.cpu_count() or 1) > 1
        async with Session(self, shard=shard) as session:
            now = self.now()
            for url in self.config.pages:
                await session.writer.call("track", canonical_url(url), source="config", now=now)
            for url in self.config.feeds:
                await session.writer.feed_call("add", canonical_url(url), source="config")
            new_pages, discovery_errors = 0, ()
            if discover and not session.stop_event.is_set():
                from .discovery import discover_new_pages  # feedparser: only when discovering

                share = None if deadline is None else started + max_runtime * DISCOVERY_SHARE
                new_pages, discovery_errors = await discover_new_pages(session, deadline=share)
            if check_all:
                pages = [page for page in await session.writer.call("pages")
                         if page.state != "removed"]  # retired and gone pages too
                pages = pages[:limit] if limit else pages
            else:
                pages = await session.writer.call("due", self.now(), limit=limit)
            summary = await self._check(session, pages, report_all=False, deadline=deadline)
            return replace(summary, new_pages=new_pages, discovery_errors=discovery_errors,
                           duration=time.monotonic() - started)

    async def _check(self, session: Session, pages: list[PageState], *, report_all: bool,
                     deadline: float | None) -> RunSummary:
        """Check ``pages`` concurrently until done, stopped, or past ``deadline``."""
        started = time.monotonic()
        if any(page.baseline_sha256 for page in pages):  # re-checks: one query for all
            session.wire_hashes = await session.writer.call(
                "wire_hashes", [page.id for page in pages if page.baseline_sha256])
        routing: asyncio.Future | None = None
        if isinstance(session.fetcher, ShardedFetcher):
            hosts = split_hosts(page.url for page in pages)
            if len(pages) < self._shard_min_pages or not hosts:
                session.fetcher.release()  # not worth a second process
            elif self._shard:
                session.fetcher.assign(hosts)
            else:  # decided while the run starts here (robots.txt first)
                routing = asyncio.ensure_future(_assign_if_spare(session.fetcher, hosts))
        self.progress.start(len(pages))
        outcomes: list[PageOutcome] = []
        # Pages in progress (fetched bodies waiting for extraction are held in memory).
        room = asyncio.Semaphore(max(4, 2 * self.config.fetch.concurrency))

        async def one(page: PageState) -> None:
            async with room:
                if session.stop_event.is_set():
                    return
                outcome = await session.check_page(page, report_all=report_all)
            outcomes.append(outcome)
            self.progress.advance(outcome)

        tasks = [asyncio.create_task(one(page)) for page in _interleave_hosts(pages)]
        try:
            stopped = not await wait_all(tasks, session.stop_event, deadline)
        finally:
            if routing is not None:
                routing.cancel()
        if stopped:
            session.kill_workers = True
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # a store failure: every later page would fail too
        return RunSummary(
            outcomes=tuple(outcomes),
            duration=time.monotonic() - started,
            stopped_early=stopped,
            interrupted=self._stopped,
            not_started=len(pages) - len(outcomes),
            shard_fetches=getattr(session.fetcher, "remote_fetches", 0),
        )


async def _assign_if_spare(fetcher: ShardedFetcher, hosts: set[str]) -> None:
    """Give ``hosts`` to the second fetching process if a core is free for it. Their pages
    fetched before the answer are fetched in this process, like those of any other host."""
    if await fetcher.spare_core():
        fetcher.assign(hosts)
    else:
        fetcher.release()


def _interleave_hosts(pages: list[PageState]) -> list[PageState]:
    """Round-robin over hosts, keeping each host's order (most overdue first).

    Pages wait for their host's turn while holding a place in progress; interleaving keeps
    one busy host from filling every place while other hosts sit idle.
    """
    queues: dict[str, list[PageState]] = defaultdict(list)
    for page in pages:
        queues[HostGate.host_of(page.url)].append(page)
    ordered: list[PageState] = []
    lists = list(queues.values())
    for index in range(max((len(q) for q in lists), default=0)):
        ordered.extend(q[index] for q in lists if index < len(q))
    return ordered


__all__ = ["Engine", "PageOutcome", "Progress", "RunSummary"]
