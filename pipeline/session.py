"""One page through fetch -> extract -> store, inside the resources of one command.

A ``Session`` owns the fetcher, the host gate, the extraction pool and the single store
writer. ``check_page`` never raises for a page's own failure: it records the failure as a
fetch row, schedules the retry and returns a ``PageOutcome``. Store errors (a full disk,
a corrupt file) do raise: every later page would fail the same way. Its fetching
(retries, robots.txt) is in ``session_fetch``; what it hands the store, in ``session_save``.
"""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from urllib.parse import urlsplit

from archive.db import parse_iso
from archive.errors import StoreError
from archive.models import FetchInfo
from archive.store import PageState

from .errors import ExtractError, FetchError, PalimpsestError
from .fetch import Fetcher
from .fetch_shard import ShardedFetcher
from .models import FetchResult, Target
from .politeness import HostGate
from .schedule import error_backoff, next_check_at, should_report
from .session_fetch import PoliteFetching
from .session_save import drop_lines, fetch_info, store_page
from .store_writer import StoreWriter
from .workers import ExtractorPool


@dataclass(frozen=True)
class PageOutcome:
    url: str
    outcome: str  # new_version | unchanged | not_modified | same_body | error
    version: int | None = None
    changed: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    error_kind: str | None = None
    message: str | None = None
    report: bool = False  # an error the user should hear about now
    first_version: bool = False


class Session(PoliteFetching):
    """Resources for one command: the fetcher, the extraction pool and the store writer."""

    def __init__(self, engine, *, shard: bool = False) -> None:
        self.engine = engine
        self._shard = shard  # a second fetching process may take a share of the hosts
        self.config = engine.config
        fetch = self.config.fetch
        self.gate = HostGate(concurrency=fetch.per_host_concurrency, delay=fetch.per_host_delay,
                             total=max(1, fetch.concurrency))
        self.stop_event = asyncio.Event()
        self.kill_workers = False  # set when in-flight work was abandoned
        self.wire_hashes: dict[int, str] = {}  # page id -> Target.last_wire_sha256

    async def __aenter__(self) -> Session:
        loop = asyncio.get_running_loop()
        # The fetcher reports the server's Retry-After up to the schedule's limit; whether to
        # wait inside this run (up to fetch.retry_after_cap) is decided here.
        fetch_settings = replace(
            self.config.fetch,
            retry_after_cap=max(self.config.fetch.retry_after_cap,
                                self.config.schedule.retry_after_max),
        )
        self.fetcher = None
        if self._shard and self.engine._transport is None and fetch_settings.concurrency > 1:
            # Forked before the writer thread starts: a fork copies only the calling thread.
            self.fetcher = await ShardedFetcher.start(fetch_settings)
        if self.fetcher is None:
            self.fetcher = Fetcher(fetch_settings, transport=self.engine._transport)
        try:
            self.writer = await loop.run_in_executor(None, StoreWriter, self.config.db)
        except BaseException:
            await self.fetcher.aclose()
            raise
        self.pool = self.engine._pool_factory(self.config.extract.workers,
                                              self.config.extract.timeout)
        self.engine._attach(self, loop)
        for signum in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(signum, self.engine.stop)
            except (RuntimeError, ValueError):  # not the main thread: the caller handles signals
                pass
        return self

    async def __aexit__(self, *exc_info) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.remove_signal_handler(signum)
            except (RuntimeError, ValueError):
                pass
        self.engine._detach(self)
        try:
            await self.writer.drain()
            await self.fetcher.aclose()
            kill = self.kill_workers or self.stop_event.is_set()
            await loop.run_in_executor(None, self.pool.close, kill)
        finally:
            await loop.run_in_executor(None, self.writer.close)

    def now(self) -> datetime:
        return self.engine.now()

    # -- one page -------------------------------------------------------------------------

    async def check_page(self, page: PageState, *, report_all: bool) -> PageOutcome:
        try:
            return await self._check_page(page, report_all=report_all)
        except (StoreError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug on one odd page must not end the run for the others
            error = PalimpsestError(f"internal error: {type(exc).__name__}: {exc}", kind="internal")
            info = FetchInfo(started_at=self.now(), duration=0.0)
            return await self._record_failure(page, error, info, report_all)

    async def _check_page(self, page: PageState, *, report_all: bool) -> PageOutcome:
        url = page.url
        started_at = self.now()
        clock = time.monotonic()
        result: FetchResult | None = None
        try:
            await self.ensure_allowed(url)
            target = Target(url=url, etag=page.etag, last_modified=page.last_modified,
                            last_body_sha256=page.baseline_sha256,
                            last_wire_sha256=self.wire_hashes.get(page.id))
            result = await self.fetch_with_retries(target)
            info = fetch_info(result, started_at, time.monotonic() - clock)
            if result.not_modified or (
                page.baseline_sha256 is not None and result.body_sha256 == page.baseline_sha256
            ):
                # The cheap path: no extraction at all.
                outcome = "not_modified" if result.not_modified else "same_body"
                when = self._next_check(page, changed=False)
                saved = await self.writer.call_grouped(
                    "record_unchanged", url, info, outcome=outcome, next_check_at=when,
                    wire_sha256=result.wire_sha256,
                )
                await self._retire_if(page, url, when)
                return PageOutcome(url, outcome, version=saved.version or None)
            return await self._extract_and_save(page, result, info)
        except (FetchError, ExtractError) as exc:
            info = (
                fetch_info(result, started_at, time.monotonic() - clock)
                if result is not None
                else FetchInfo(started_at=started_at, duration=time.monotonic() - clock,
                               status=getattr(exc, "status", None),
                               final_url=getattr(exc, "final_url", None))
            )
            return await self._record_failure(page, exc, info, report_all)

    async def _extract_and_save(self, page: PageState, result: FetchResult, info: FetchInfo):
        url = page.url
        rules = self.config.rules_for(_host(result.final_url))
        drop = rules.drop if rules else ()
        prepared = None
        if _prepares(self.pool):
            # The declared charset, not result.encoding: the worker decodes (and detects)
            # so the main process never decodes the body at all.
            prepared = await self.pool.prepare(result.body, result.charset, url=url,
                                               final_url=result.final_url, drop=drop)
            extracted = prepared.extracted
        else:  # a pool that replaces extract() (tests, instrumentation) keeps working
            extracted = await self.pool.extract(
                result.text, url=url, final_url=result.final_url, drop=drop
            )
        hashes = prepared.hashes if prepared else None
        if rules and rules.ignore_lines:
            extracted = drop_lines(extracted, rules.ignore_lines)
            hashes = None  # the worker hashed the lines that are now dropped
        if page.latest_version:
            # Imported here: it brings in trafilatura, which a run of unchanged pages never
            # needs in this process (the workers import it themselves).
            from .reextract import refresh_baseline

            # An older extractor's baseline would make its own differences look like edits.
            await refresh_baseline(self.pool, self.writer, url)
        if_same = self._next_check(page, changed=False, published=extracted.published)
        if_changed = self._next_check(page, changed=True, published=extracted.published)
        # One hop to the writer thread for the whole store side, not one per call.
        key, saved = await self.writer.run(
            store_page, url, extracted, result, info, if_same=if_same, if_changed=if_changed,
            packed=prepared.packed if prepared else None, hashes=hashes,
            encoding=prepared.encoding if prepared else None,
        )
        await self._retire_if(page, key, if_changed if saved.created else if_same)
        if saved.created:
            return PageOutcome(key, "new_version", version=saved.version, changed=saved.changed,
                               flags=saved.flags, first_version=saved.version == 1)
        return PageOutcome(key, "unchanged", version=saved.version)

    async def _record_failure(self, page, exc, info, report_all) -> PageOutcome:
        kind = exc.kind
        when = error_backoff(
            now=self.now(), consecutive_errors=page.consecutive_errors + 1,
            retry_after=getattr(exc, "retry_after", None), settings=self.config.schedule,
            rng=self.engine.rng,
        )
        failure = await self.writer.call(
            "record_failure", page.url, info, kind=kind, message=str(exc), next_check_at=when,
            gone_after=self.config.schedule.gone_after,
        )
        # A page never captured is reported at once: nothing else tells the user it fails.
        never_captured = page.latest_version == 0 and failure.consecutive_errors == 1
        report = (report_all or never_captured
                  or should_report(failure.consecutive_errors, self.config.schedule))
        return PageOutcome(page.url, "error", error_kind=kind, message=str(exc), report=report)

    async def _retire_if(self, page: PageState, url: str, when: datetime | None) -> None:
        if when is None and page.state != "retired":
            # Older than retire_after: checked only on demand (add, run --all) from now on.
            await self.writer.call("set_next_check", url, None, state="retired")

    def _next_check(self, page: PageState, *, changed: bool, published: str | None = None):
        now = self.now()
        last_change = now if changed else (parse_iso(page.last_change_at) or now)
        # A page someone added by hand is watched from then on, however old the article:
        # publication age only retires pages that discovery found.
        by_hand = page.source in ("cli", "config")
        return next_check_at(
            now=now, last_change_at=last_change,
            first_seen_at=parse_iso(page.added_at) or now,
            published_at=None if by_hand else _parse_published(published or page.published),
            settings=self.config.schedule, rng=self.engine.rng,
        )


async def wait_all(tasks: list[asyncio.Task], stop: asyncio.Event,
                   deadline: float | None) -> bool:
    """Wait for ``tasks``; on ``stop``, at ``deadline`` (monotonic) or when one fails, cancel
    the rest. Returns False when work was cut short by the stop or the deadline.

    Completions are counted by callbacks, so waiting costs O(1) per finished task; calling
    asyncio.wait on every pending task after each completion was quadratic in a big run.
    """
    if not tasks:
        return True
    remaining = len(tasks)
    wake = asyncio.Event()
    failures: list[asyncio.Task] = []

    def finished(task: asyncio.Task) -> None:
        nonlocal remaining
        remaining -= 1
        if not task.cancelled() and task.exception() is not None:
            failures.append(task)
        if remaining == 0 or failures:
            wake.set()

    for task in tasks:
        task.add_done_callback(finished)
    waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
    try:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    pending = [task for task in tasks if not task.done()]
    if not pending:
        return True
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return bool(failures)  # the caller re-raises a failure; it is not a stop


def _prepares(pool) -> bool:
    """The worker fast path, unless a subclass replaced ``extract`` (it must see every page)."""
    return isinstance(pool, ExtractorPool) and type(pool).extract is ExtractorPool.extract


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _parse_published(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


__all__ = ["PageOutcome", "Session", "wait_all"]
