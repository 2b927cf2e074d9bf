"""Orchestration: fetch -> extract -> store for many pages, politely, with failures isolated.

Every command that fetches (add, run, feed discovery) goes through ``Engine``.
"""

from __future__ import annotations

import asyncio
import random
import re
import signal
import time
from urllib.parse import urlsplit
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from archive.db import parse_iso, utcnow
from archive.models import Content, FetchInfo, Snapshot
from archive.store import PageState

from . import robots
from .config import Config
from .discovery import discover_new_pages
from .errors import BlockedError, ExtractError, FetchError
from .fetch import Fetcher
from .models import Extracted, FetchResult, Target
from .politeness import HostGate
from .quality import check_extraction, word_count
from .schedule import error_backoff, next_check_at, should_report
from .store_writer import StoreWriter
from .urls import canonical_url, choose_identity
from .workers import ExtractorPool

# Failures worth another attempt inside the same run; others wait for the schedule.
_TRANSIENT = {"connect", "protocol", "http_status"}


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


@dataclass(frozen=True)
class RunSummary:
    outcomes: tuple[PageOutcome, ...]
    duration: float
    new_pages: int = 0
    discovery_errors: tuple[str, ...] = ()
    stopped_early: bool = False  # the time budget or a signal ended the run
    not_started: int = 0

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
            "duration": round(self.duration, 3),
        }


class Progress:
    """Callbacks the CLI implements to show progress; the engine never prints."""

    def start(self, total: int) -> None: ...

    def advance(self, outcome: PageOutcome) -> None: ...


class Engine:
    def __init__(
        self,
        config: Config,
        *,
        progress: Progress | None = None,
        transport=None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.progress = progress or Progress()
        self.rng = rng or random.Random()
        self._transport = transport
        self._stop = asyncio.Event()
        self._robots: dict[str, robots.RobotsRules] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    def stop(self) -> None:
        """Stop starting pages and cancel those in flight (SIGTERM, time budget)."""
        self._stop.set()

    async def check_urls(self, urls: Iterable[str], *, source: str = "cli") -> RunSummary:
        """`archive add`: track these URLs and check them now; every error is reported."""
        async with _Session(self) as session:
            keys = []
            for url in urls:
                await session.writer.call("track", url, source=source)
                keys.append(await session.writer.call("resolve", url))
            pages = [await session.writer.call("page", key) for key in dict.fromkeys(keys)]
            return await session.check(pages, report_all=True)

    async def run(self, *, check_all: bool = False, limit: int | None = None,
                  max_runtime: float | None = None, discover: bool = True) -> RunSummary:
        """`archive run`: config pages, discovery, then the due pages within the budget."""
        started = time.monotonic()
        max_runtime = self.config.run.max_runtime if max_runtime is None else max_runtime
        limit = limit if limit is not None else (self.config.run.limit or None)
        async with _Session(self) as session:
            for url in self.config.pages:
                await session.writer.call("track", canonical_url(url), source="config")
            for url in self.config.feeds:
                await session.writer.feed_call("add", canonical_url(url), source="config")
            new_pages, discovery_errors = 0, ()
            if discover and max_runtime > 0:
                new_pages, discovery_errors = await discover_new_pages(
                    session, deadline=started + max_runtime * 0.25
                )
            if check_all:
                pages = [p for p in await session.writer.call("pages") if p.state == "active"]
                pages = pages[:limit] if limit else pages
            else:
                pages = await session.writer.call("due", utcnow(), limit=limit)
            remaining = max(0.0, max_runtime - (time.monotonic() - started))
            summary = await session.check(pages, report_all=False, budget=remaining)
            return replace(summary, new_pages=new_pages, discovery_errors=discovery_errors,
                           duration=time.monotonic() - started)


class _Session:
    """Resources for one command: the fetcher, the extraction pool and the store writer."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.config = engine.config
        fetch = self.config.fetch
        self.gate = HostGate(concurrency=fetch.per_host_concurrency, delay=fetch.per_host_delay)
        self.slots = asyncio.Semaphore(max(1, fetch.concurrency))

    async def __aenter__(self) -> _Session:
        loop = asyncio.get_running_loop()
        self.writer = await loop.run_in_executor(None, StoreWriter, self.config.db)
        self.fetcher = Fetcher(self.config.fetch, transport=self.engine._transport)
        self.pool = ExtractorPool(self.config.extract.workers, self.config.extract.timeout)
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
        await self.fetcher.aclose()
        await loop.run_in_executor(None, self.pool.close, self.engine._stop.is_set())
        await loop.run_in_executor(None, self.writer.close)

    # -- many pages -----------------------------------------------------------------------

    async def check(self, pages: list[PageState], *, report_all: bool,
                    budget: float | None = None) -> RunSummary:
        started = time.monotonic()
        self.engine.progress.start(len(pages))
        outcomes: list[PageOutcome] = []
        tasks = [asyncio.create_task(self._guarded(page, report_all, outcomes)) for page in pages]
        stop_waiter = asyncio.create_task(self.engine._stop.wait())
        stopped = False
        pending = set(tasks)
        deadline = None if budget is None else started + budget
        while pending:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, pending = await asyncio.wait(
                pending | {stop_waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            pending.discard(stop_waiter)
            if stop_waiter in done or (deadline is not None and time.monotonic() >= deadline):
                stopped = bool(pending)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                break
        stop_waiter.cancel()
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()
        return RunSummary(
            outcomes=tuple(outcomes),
            duration=time.monotonic() - started,
            stopped_early=stopped,
            not_started=len(pages) - len(outcomes),
        )

    async def _guarded(self, page: PageState, report_all: bool, sink: list[PageOutcome]) -> None:
        async with self.slots:
            if self.engine._stop.is_set():
                return
            outcome = await self.check_page(page, report_all=report_all)
        sink.append(outcome)
        self.engine.progress.advance(outcome)

    # -- one page -------------------------------------------------------------------------

    async def check_page(self, page: PageState, *, report_all: bool) -> PageOutcome:
        url = page.url
        started_at = utcnow()
        clock = time.monotonic()
        result: FetchResult | None = None
        try:
            await self.ensure_allowed(url)
            target = Target(url=url, etag=page.etag, last_modified=page.last_modified,
                            last_body_sha256=page.baseline_sha256)
            result = await self.fetch_with_retries(target)
            info = _fetch_info(result, started_at, time.monotonic() - clock)
            if result.not_modified or result.body_sha256 == page.baseline_sha256:
                outcome = "not_modified" if result.not_modified else "same_body"
                saved = await self.writer.call(
                    "record_unchanged", url, info, outcome=outcome,
                    next_check_at=self._next_check(page, changed=False),
                )
                return PageOutcome(url, outcome, version=saved.version or None)
            return await self._extract_and_save(page, result, info)
        except (FetchError, ExtractError) as exc:
            info = (
                _fetch_info(result, started_at, time.monotonic() - clock)
                if result is not None
                else FetchInfo(started_at=started_at, duration=time.monotonic() - clock,
                               status=getattr(exc, "status", None),
                               final_url=getattr(exc, "final_url", None))
            )
            return await self._record_failure(page, exc, info, report_all)

    async def _extract_and_save(self, page: PageState, result: FetchResult, info: FetchInfo):
        url = page.url
        rules = self.config.rules_for(_host(result.final_url))
        extracted = await self.pool.extract(
            result.text, url=url, final_url=result.final_url, drop=rules.drop if rules else ()
        )
        if rules and rules.ignore_lines:
            extracted = _drop_lines(extracted, rules.ignore_lines)
        previous = await self.writer.call("latest_text", url)
        check_extraction(extracted, requested_url=url,
                         previous_words=word_count(previous) if previous else None)
        key = await self.writer.call(
            "rekey", url, choose_identity(url, result.final_url, extracted.canonical_url)
        )
        for alias in {*result.redirects, canonical_url(result.final_url)} - {key}:
            await self.writer.call("add_alias", _safe_canonical(alias), key)
        snapshot = _snapshot(key, extracted, result, info)
        saved = await self.writer.call(
            "save", snapshot,
            next_check_at=self._next_check(page, changed=False, published=extracted.published),
            next_check_if_changed=self._next_check(page, changed=True,
                                                   published=extracted.published),
        )
        if saved.created:
            return PageOutcome(key, "new_version", version=saved.version, changed=saved.changed,
                               flags=saved.flags, first_version=saved.version == 1)
        return PageOutcome(key, "unchanged", version=saved.version)

    async def _record_failure(self, page, exc, info, report_all) -> PageOutcome:
        kind = exc.kind
        retry_after = getattr(exc, "retry_after", None)
        when = error_backoff(
            now=utcnow(), consecutive_errors=page.consecutive_errors + 1,
            retry_after=retry_after, settings=self.config.schedule, rng=self.engine.rng,
        )
        failure = await self.writer.call(
            "record_failure", page.url, info, kind=kind, message=str(exc), next_check_at=when,
            gone_after=self.config.schedule.gone_after,
        )
        report = report_all or should_report(failure.consecutive_errors, self.config.schedule)
        return PageOutcome(page.url, "error", error_kind=kind, message=str(exc), report=report)

    def _next_check(self, page: PageState, *, changed: bool, published: str | None = None):
        now = utcnow()
        last_change = now if changed else (parse_iso(page.last_change_at) or now)
        return next_check_at(
            now=now, last_change_at=last_change,
            first_seen_at=parse_iso(page.added_at) or now,
            published_at=_parse_published(published or page.published),
            settings=self.config.schedule, rng=self.engine.rng,
        )

    # -- fetching -------------------------------------------------------------------------

    async def fetch_with_retries(self, target: Target) -> FetchResult:
        settings = self.config.fetch
        for attempt in range(settings.retries + 1):
            try:
                async with self.gate.slot(target.url):
                    return await self.fetcher.fetch(target)
            except FetchError as exc:
                last = attempt >= settings.retries
                if exc.kind == "retry_later":
                    wait = exc.retry_after
                    if last or wait is None or wait >= settings.retry_after_cap:
                        raise  # deferred: the schedule honours retry_after
                    await asyncio.sleep(wait)
                elif exc.kind in _TRANSIENT and not last and _worth_retrying(exc):
                    await asyncio.sleep(min(8.0, 2**attempt) * (0.5 + self.engine.rng.random()))
                else:
                    raise
        raise AssertionError("unreachable")

    async def ensure_allowed(self, url: str) -> None:
        if not self.config.fetch.obey_robots:
            return
        host = HostGate.host_of(url)
        rules = await self._robots_for(host)
        agent = self.config.fetch.user_agent
        if not robots.allowed(rules, url, agent):
            raise BlockedError(f"{url}: disallowed by robots.txt", kind="robots", url=url)

    async def _robots_for(self, host: str) -> robots.RobotsRules:
        lock = self.engine._robots_locks.setdefault(host, asyncio.Lock())
        async with lock:
            if host in self.engine._robots:
                return self.engine._robots[host]
            url = robots.robots_url(host + "/")
            status, body = None, None
            try:
                async with self.gate.slot(url):
                    fetched = await self.fetcher.fetch_bytes(url, max_bytes=512 * 1024)
                status, body = fetched.status, fetched.body
            except BlockedError:
                raise
            except FetchError as exc:
                status = exc.status
            rules = robots.rules_from_response(status, body)
            delay = robots.crawl_delay(rules, self.config.fetch.user_agent,
                                       cap=self.config.fetch.crawl_delay_cap)
            if delay:
                self.gate.set_delay(host, delay)
            self.engine._robots[host] = rules
            return rules


def _worth_retrying(exc: FetchError) -> bool:
    if exc.kind == "http_status":
        return exc.status is not None and exc.status >= 500
    return True


def _fetch_info(result: FetchResult, started_at: datetime, duration: float) -> FetchInfo:
    return FetchInfo(
        started_at=started_at, duration=duration, status=result.status,
        final_url=result.final_url, etag=result.etag, last_modified=result.last_modified,
        body_sha256=result.body_sha256,
    )


def _snapshot(key: str, ex: Extracted, result: FetchResult, info: FetchInfo) -> Snapshot:
    content = Content(
        title=ex.title, authors=ex.authors, published=ex.published, modified=ex.modified,
        description=ex.description, canonical_url=ex.canonical_url, text=ex.text,
    )
    return Snapshot(
        url=key, content=content, fetch=info, raw_html=result.body, markdown=ex.markdown,
        sitename=ex.sitename, language=ex.language, section=ex.section, tags=ex.tags,
        extractor=ex.extractor, extractor_version=ex.extractor_version,
    )


def _drop_lines(extracted: Extracted, patterns: tuple[str, ...]) -> Extracted:
    compiled = [re.compile(p) for p in patterns]

    def keep(line: str) -> bool:
        return not any(p.search(line) for p in compiled)

    text = "\n".join(line for line in extracted.text.split("\n") if keep(line))
    markdown = "\n".join(line for line in extracted.markdown.split("\n") if keep(line))
    return replace(extracted, text=text, markdown=markdown)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _safe_canonical(url: str) -> str:
    try:
        return canonical_url(url)
    except Exception:  # an odd redirect hop is not worth failing a saved page for
        return url


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


__all__ = ["Engine", "PageOutcome", "Progress", "RunSummary"]
