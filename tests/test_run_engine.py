"""The engine end to end on loopback: cheap paths, schedule decay, back-off, Retry-After,
extraction limits. Real servers, real SQLite files, real extraction in worker processes."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import timedelta

import pytest

from archive.store import Archive
from pipeline.config import load_config
from pipeline.run import Engine
from pipeline.workers import ExtractorPool, default_extract
from tests.runsite import Clock, Reply, article_html, site, write_config  # noqa: F401

MIN = 60.0
HOUR = 3600.0


class CountingPool(ExtractorPool):
    """A real extraction pool that records every page it is asked to extract."""

    calls: list[str]

    def __init__(self, workers, timeout, *, calls: list[str], **kwargs):
        super().__init__(workers, timeout, **kwargs)
        self.calls = calls

    async def extract(self, html, *, url, final_url, drop=()):
        self.calls.append(url)
        return await super().extract(html, url=url, final_url=final_url, drop=drop)


def engine_for(config_path, *, calls=None, clock=None, **pool_kwargs) -> Engine:
    calls = [] if calls is None else calls
    return Engine(
        load_config(config_path), clock=clock,
        pool_factory=lambda w, t: CountingPool(w, t, calls=calls, **pool_kwargs),
    )


def run(config_path, **kwargs):
    run_kwargs = {k: kwargs.pop(k) for k in ("check_all", "limit", "max_runtime") if k in kwargs}
    return asyncio.run(engine_for(config_path, **kwargs).run(**run_kwargs))


def outcomes(summary) -> dict[str, str]:
    return {o.url: o.outcome for o in summary.outcomes}


def test_not_modified_and_same_body_do_no_extraction(site, tmp_path):
    etagged = article_html("Ferry timetable agreed")

    def conditional(headers):
        if headers.get("if-none-match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(200, etagged, {"ETag": '"v1"'})

    body = {"text": article_html("Library roof repaired")}
    site.route(0, "/etag", conditional)
    site.route(1, "/same", lambda h: Reply(200, body["text"]))
    a, b = site.url(0, "/etag"), site.url(1, "/same")
    config = write_config(tmp_path, pages=[a, b])
    calls: list[str] = []

    first = run(config, calls=calls, check_all=True)
    assert outcomes(first) == {a: "new_version", b: "new_version"}
    assert sorted(calls) == sorted([a, b])

    calls.clear()
    second = run(config, calls=calls, check_all=True)
    assert outcomes(second) == {a: "not_modified", b: "same_body"}
    assert calls == []  # neither page reached the extraction pool
    assert site.hits(0, "/etag")[-1].headers.get("if-none-match") == '"v1"'
    with Archive(tmp_path / "archive.db") as archive:
        assert [f["outcome"] for f in archive.fetches(a)] == ["not_modified", "new_version"]
        assert [f["outcome"] for f in archive.fetches(b)] == ["same_body", "new_version"]
        assert archive.page(a).latest_version == archive.page(b).latest_version == 1

    body["text"] = article_html("Library roof repaired", extra="The council added a new clause.")
    third = run(config, calls=calls, check_all=True)
    assert outcomes(third) == {a: "not_modified", b: "new_version"}
    assert calls == [b]


def test_intervals_decay_while_quiet_and_reset_on_change(site, tmp_path):
    clock = Clock()
    published = (clock.now - timedelta(hours=1)).isoformat()
    page = {"html": article_html("Harbour budget", published=published)}
    site.route(0, "/story", lambda h: Reply(200, page["html"]))
    url = site.url(0, "/story")
    config = write_config(tmp_path, pages=[url], schedule={"jitter": 0.0})

    def check_at(**delta):
        clock.advance(**delta)
        summary = run(config, clock=clock)
        with Archive(tmp_path / "archive.db") as archive:
            state = archive.page(url)
        interval = _parse(state.next_check_at) - _parse(state.last_checked_at)
        return outcomes(summary).get(url), interval.total_seconds()

    assert check_at() == ("new_version", 15 * MIN)  # an hour old: every 15 minutes
    assert check_at(minutes=10) == (None, 15 * MIN)  # not due yet: not fetched at all
    assert len(site.hits(0, "/story")) == 1
    assert check_at(minutes=10) == ("same_body", 15 * MIN)
    assert check_at(hours=5) == ("same_body", 1 * HOUR)  # quiet for hours: hourly
    assert check_at(days=2) == ("same_body", 3 * HOUR)
    assert check_at(days=8) == ("same_body", 1 * 86400)
    page["html"] = article_html("Harbour budget", published=published,
                               extra="Update: the vote was postponed to Friday.")
    assert check_at(days=1) == ("new_version", 15 * MIN)  # a real change resets the step
    assert check_at(minutes=16) == ("same_body", 15 * MIN)


def test_old_article_found_by_discovery_is_retired_and_checked_only_on_demand(site, tmp_path):
    clock = Clock()
    old = (clock.now - timedelta(days=400)).isoformat()
    site.route(0, "/old", Reply(200, article_html("An old story", published=old)))
    url = site.url(0, "/old")
    site.route(0, "/rss.xml", Reply(200, f"""<?xml version="1.0"?><rss version="2.0"><channel>
<title>Archive feed</title><item><title>An old story</title><link>{url}</link></item>
</channel></rss>""", {"Content-Type": "application/rss+xml"}))
    config = write_config(tmp_path, feeds=[site.url(0, "/rss.xml")])
    assert outcomes(run(config, clock=clock)) == {url: "new_version"}
    with Archive(tmp_path / "archive.db") as archive:
        assert archive.page(url).state == "retired"
        assert [e["kind"] for e in archive.events(url)] == ["retired"]
    clock.advance(days=60)
    assert outcomes(run(config, clock=clock)) == {}
    assert outcomes(run(config, clock=clock, check_all=True)) == {url: "same_body"}
    with Archive(tmp_path / "archive.db") as archive:
        assert [e["kind"] for e in archive.events(url)] == ["retired"]  # not repeated


def test_an_old_article_added_by_hand_is_watched_from_then_on(site, tmp_path):
    clock = Clock()
    old = (clock.now - timedelta(days=400)).isoformat()
    site.route(0, "/old", Reply(200, article_html("An old story", published=old)))
    url = site.url(0, "/old")
    config = write_config(tmp_path, pages=[url], schedule={"jitter": 0.0})
    assert outcomes(run(config, clock=clock)) == {url: "new_version"}
    with Archive(tmp_path / "archive.db") as archive:
        page = archive.page(url)
    assert page.state == "active"
    assert (_parse(page.next_check_at) - clock.now).total_seconds() == 15 * MIN


def test_errors_back_off_and_are_reported_once(site, tmp_path):
    clock = Clock()
    site.route(0, "/broken", Reply(500, "oops"))
    url = site.url(0, "/broken")
    config = write_config(tmp_path, pages=[url], schedule={
        "jitter": 0.0, "error_backoff_base": "1m", "error_backoff_cap": "10m",
        "report_after_errors": 3})
    reports, waits = [], []
    for _ in range(6):
        summary = run(config, clock=clock)
        (outcome,) = summary.outcomes
        assert (outcome.outcome, outcome.error_kind) == ("error", "http_status")
        reports.append(outcome.report)
        with Archive(tmp_path / "archive.db") as archive:
            due = _parse(archive.page(url).next_check_at)
        waits.append((due - clock.now).total_seconds())
        assert run(config, clock=clock).outcomes == ()  # backing off: not due yet
        clock.now = due
    # Reported on the first failure (never captured, so nothing else would tell) and once
    # more when the streak reaches report_after_errors; never again after that.
    assert reports == [True, False, True, False, False, False]
    assert waits == [60, 120, 240, 480, 600, 600]


def test_repeated_404_marks_the_page_gone_with_an_event(site, tmp_path):
    site.route(0, "/ok", Reply(200, article_html("Soon deleted")))
    url = site.url(0, "/ok")
    config = write_config(tmp_path, pages=[url], schedule={"gone_after": 2})
    assert outcomes(run(config)) == {url: "new_version"}
    site.route(0, "/ok", Reply(404, "gone"))
    for _ in range(2):
        run(config, check_all=True)
    with Archive(tmp_path / "archive.db") as archive:
        state = archive.page(url)
        assert state.state == "gone" and state.next_check_at is None
        assert [e["kind"] for e in archive.events(url)] == ["gone"]
        assert state.latest_version == 1  # the last good version stays the baseline
    assert outcomes(run(config)) == {}  # a gone page is no longer due
    run(config, check_all=True)  # on demand it is still checked; no second event
    with Archive(tmp_path / "archive.db") as archive:
        assert [e["kind"] for e in archive.events(url)] == ["gone"]


def test_retry_after_is_waited_for_up_to_the_cap_else_deferred(site, tmp_path):
    answers = iter([Reply(429, "slow down", {"Retry-After": "1"})])
    site.route(0, "/busy", lambda h: next(answers, Reply(200, article_html("Busy desk"))))
    site.route(1, "/down", Reply(503, "maintenance", {"Retry-After": "3600"}))
    site.route(1, "/fine", Reply(200, article_html("Fine desk")))
    busy, down, fine = site.url(0, "/busy"), site.url(1, "/down"), site.url(1, "/fine")
    config = write_config(tmp_path, pages=[busy, down, fine],
                          fetch={"retries": 1, "retry_after_cap": 5.0})
    started = time.monotonic()
    summary = run(config)
    assert outcomes(summary) == {busy: "new_version", down: "error", fine: "new_version"}
    assert time.monotonic() - started < 60  # nobody waited an hour
    first, second = site.hits(0, "/busy")
    assert second.start - first.end >= 0.9  # Retry-After: 1 honoured
    assert len(site.hits(1, "/down")) == 1  # deferred, not retried in this run
    with Archive(tmp_path / "archive.db") as archive:
        state = archive.page(down)
        fetch = archive.fetches(down)[0]
    assert fetch["error_kind"] == "retry_later" and fetch["status"] == 503
    wait = (_parse(state.next_check_at) - _parse(state.last_checked_at)).total_seconds()
    assert wait >= 3600 - 2  # the schedule honours the server's hour


def slow_extract(html, *, url, final_url, drop=()):
    """Module-level so worker processes can run it: two kinds of pathological page."""
    if "PATHOLOGICAL" in html:
        time.sleep(120)  # pure Python: the in-worker alarm interrupts it
    if "STUCK" in html:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})  # like a stuck C call
        time.sleep(120)
    return default_extract(html, url=url, final_url=final_url, drop=drop)


@pytest.mark.parametrize("marker", ["PATHOLOGICAL", "STUCK"])
def test_extraction_time_limit_cannot_stall_the_run(site, tmp_path, marker):
    site.route(0, "/bad", Reply(200, article_html("Trap page", extra=marker)))
    for index in range(3):
        site.route(1, f"/good{index}", Reply(200, article_html(f"Good page {index}")))
    bad = site.url(0, "/bad")
    goods = [site.url(1, f"/good{index}") for index in range(3)]
    config = write_config(tmp_path, pages=[bad, *goods], extract={"workers": 1, "timeout": 1.0})
    started = time.monotonic()
    summary = run(config, grace=1.0, extract_fn=slow_extract)
    assert time.monotonic() - started < 30
    by_url = {o.url: o for o in summary.outcomes}
    assert by_url[bad].error_kind == "extract_timeout"
    assert [by_url[g].outcome for g in goods] == ["new_version"] * 3


def test_max_runtime_cancels_in_flight_pages_which_stay_due(site, tmp_path):
    for index in range(3):
        site.route(0, f"/slow{index}", Reply(200, article_html(f"Slow {index}"), delay=60))
    site.route(1, "/quick", Reply(200, article_html("Quick")))
    slow = [site.url(0, f"/slow{index}") for index in range(3)]
    quick = site.url(1, "/quick")
    config = write_config(tmp_path, pages=[*slow, quick])
    started = time.monotonic()
    summary = run(config, max_runtime=2.0)
    elapsed = time.monotonic() - started
    assert 2.0 <= elapsed < 2.0 + 8.0
    assert outcomes(summary) == {quick: "new_version"}
    assert summary.stopped_early and summary.not_started == 3
    with Archive(tmp_path / "archive.db") as archive:
        due = {p.url for p in archive.due(Clock().now + timedelta(seconds=1))}
        assert set(slow) <= due
        for url in slow:
            assert archive.page(url).latest_version == 0
            assert archive.fetches(url) == []  # nothing half-recorded


def test_engine_stop_from_another_thread_ends_the_run(site, tmp_path):
    site.route(0, "/slow", Reply(200, article_html("Slow"), delay=60))
    config = write_config(tmp_path, pages=[site.url(0, "/slow")])
    engine = engine_for(config)

    async def main():
        loop = asyncio.get_running_loop()
        loop.call_later(1.0, lambda: __import__("threading").Thread(target=engine.stop).start())
        return await engine.run(max_runtime=0)

    started = time.monotonic()
    summary = asyncio.run(main())
    assert time.monotonic() - started < 10
    assert summary.stopped_early and summary.outcomes == ()


def _parse(text):
    from archive.db import parse_iso

    return parse_iso(text)
