"""How a Session fetches: retries with backoff, Retry-After pauses, and robots.txt.

``PoliteFetching`` is mixed into ``pipeline.session.Session``; it uses the session's
``config``, ``engine`` (which caches robots.txt per run), ``gate`` and ``fetcher``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from archive.robots_memory import settles_rules

from . import robots
from .errors import BlockedError, FetchError
from .models import FetchResult, Target
from .politeness import HostGate

# Failures worth another attempt inside the same run; others wait for the schedule.
_TRANSIENT = {"connect", "protocol", "http_status"}
_ROBOTS_MAX_BYTES = robots.MAX_ROBOTS_BYTES


class PoliteFetching:
    """Fetching within the run's manners: per-host slots, retries and robots.txt."""

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
                    if last or wait is None or wait > settings.retry_after_cap:
                        raise  # deferred: the schedule honours retry_after
                    # The whole host asked us to slow down, not just this page.
                    self.gate.pause(target.url, wait)
                elif exc.kind in _TRANSIENT and not last and _worth_retrying(exc):
                    await asyncio.sleep(min(8.0, 2**attempt) * (0.5 + self.engine.rng.random()))
                else:
                    raise
        raise AssertionError("unreachable")

    async def ensure_allowed(self, url: str) -> None:
        """Raise BlockedError(kind="robots") when robots.txt forbids ``url``."""
        if not self.config.fetch.obey_robots:
            return
        rules = await self._robots_for(HostGate.host_of(url))
        if not robots.allowed(rules, url, self.config.fetch.user_agent):
            failure = self.engine._robots_failures.get(HostGate.host_of(url))
            if failure is not None and rules.status is None:
                # The host did not answer at all: say that, with the fetch's own kind.
                raise FetchError(
                    f"robots.txt could not be read ({failure}); not crawling until it can be",
                    kind=failure.kind, url=url,
                )
            if rules.mode == "disallow_all" and rules.status is not None and rules.status >= 500:
                raise BlockedError(
                    f"robots.txt answered {rules.status}; RFC 9309 says not to crawl until it"
                    " can be read", kind="robots", url=url,
                )
            raise BlockedError("disallowed by robots.txt", kind="robots", url=url)

    async def _robots_for(self, host: str) -> robots.RobotsRules:
        cache, locks = self.engine._robots, self.engine._robots_locks
        lock = locks.setdefault(host, asyncio.Lock())
        async with lock:
            if host in cache:
                rules = cache[host]
            elif (stored := (await self._stored_robots()).get(host)) is not None:
                rules = cache[host] = robots.rules_from_response(*stored)
            else:
                url = host + "/robots.txt"
                status, body = None, None
                try:
                    async with self.gate.slot(url):
                        fetched = await self.fetcher.fetch_bytes(
                            url, accept="text/plain,*/*;q=0.1", max_bytes=_ROBOTS_MAX_BYTES
                        )
                    status, body = fetched.status, fetched.body
                except BlockedError:
                    raise  # the host itself is refused (private address): not a robots question
                except FetchError as exc:
                    # too_large still had a 2xx: RFC 9309 says parse what fits; we have none of
                    # it, so treat it like 4xx rather than blocking a whole site.
                    status = 404 if exc.kind in ("too_large", "content_type") else exc.status
                    if status is None:
                        self.engine._robots_failures[host] = exc
                rules = cache[host] = robots.rules_from_response(status, body)
                if settles_rules(status) and self.config.fetch.robots_max_age:
                    # 5xx and unreachable are asked for again next run (RFC 9309: not final).
                    await self.writer.call("remember_robots", host, status, body, self.now())
        delay = robots.crawl_delay(rules, self.config.fetch.user_agent,
                                   cap=self.config.fetch.crawl_delay_cap)
        if delay:
            self.gate.set_delay(host, delay)  # each session has its own gate
        return rules

    async def _stored_robots(self) -> dict:
        """origin -> (status, body) of robots.txt answers the archive holds that are younger
        than ``robots_max_age``, read once per run (older ones are deleted then)."""
        max_age = self.config.fetch.robots_max_age
        if not max_age:
            return {}
        if self.engine._robots_stored is None:
            since = self.now() - timedelta(seconds=max_age)
            self.engine._robots_stored = asyncio.ensure_future(
                self.writer.call("recent_robots", since))
        return await asyncio.shield(self.engine._robots_stored)


def _worth_retrying(exc: FetchError) -> bool:
    if exc.kind == "http_status":
        return exc.status is not None and exc.status >= 500
    return True


__all__ = ["PoliteFetching"]
