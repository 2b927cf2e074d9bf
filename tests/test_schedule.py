"""Adaptive re-check intervals, retirement, jitter, error backoff and one-time reporting."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import ConfigError
from pipeline.schedule import (
    DAY,
    HOUR,
    MINUTE,
    WEEK,
    ScheduleSettings,
    error_backoff,
    format_duration,
    is_gone,
    next_check_at,
    parse_duration,
    should_report,
)

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
EXACT = ScheduleSettings(jitter=0.0)  # no jitter: intervals can be compared exactly


def interval(now, *, last_change=T0, first_seen=T0, published=None, s=EXACT, seed=0):
    when = next_check_at(
        now=now,
        last_change_at=last_change,
        first_seen_at=first_seen,
        published_at=published,
        settings=s,
        rng=random.Random(seed),
    )
    return None if when is None else (when - now).total_seconds()


@pytest.mark.parametrize(
    ("quiet", "expected"),
    [
        (timedelta(0), 15 * MINUTE),
        (timedelta(hours=2, minutes=59), 15 * MINUTE),
        (timedelta(hours=3), 1 * HOUR),
        (timedelta(hours=23), 1 * HOUR),
        (timedelta(days=2), 3 * HOUR),
        (timedelta(days=10), 1 * DAY),
        (timedelta(days=30), 1 * WEEK),
        (timedelta(days=90), 30 * DAY),
    ],
)
def test_interval_decays_with_time_since_change(quiet, expected):
    assert interval(T0 + quiet) == expected


def test_interval_never_shrinks_as_a_page_stays_quiet():
    steps = [interval(T0 + timedelta(hours=h)) for h in range(0, 24 * 200, 7)]
    assert steps == sorted(steps)


def test_a_change_resets_to_the_fastest_step():
    first_seen = T0
    now = T0 + timedelta(days=20)
    assert interval(now, first_seen=first_seen, last_change=first_seen) == 1 * WEEK
    changed = now - timedelta(minutes=5)
    assert interval(now, first_seen=first_seen, last_change=changed) == 15 * MINUTE


def test_multi_day_spans_use_total_seconds():
    # timedelta(days=2, seconds=60).seconds == 60: the wrap diffengine fell into.
    now = T0 + timedelta(days=2, seconds=60)
    assert interval(now) == 3 * HOUR


def test_old_article_found_late_starts_slow():
    published = T0 - timedelta(days=180)
    assert interval(T0, published=published) == 30 * DAY
    assert interval(T0, published=T0 - timedelta(hours=1)) == 15 * MINUTE


def test_change_after_discovery_beats_old_publication_date():
    published = T0 - timedelta(days=100)
    now = T0 + timedelta(days=5)
    assert interval(now, published=published, last_change=now - timedelta(hours=1)) == 15 * MINUTE


def test_future_publication_date_is_ignored():
    assert interval(T0, published=T0 + timedelta(days=400)) == 15 * MINUTE


def test_retired_after_configured_age():
    assert interval(T0 + timedelta(days=364)) is not None
    assert interval(T0 + timedelta(days=366)) is None
    assert interval(T0, published=T0 - timedelta(days=400)) is None
    young = ScheduleSettings(jitter=0.0, retire_after=7 * DAY)
    assert interval(T0 + timedelta(days=8), s=young) is None
    # retirement follows age, not quiet time: a recent change does not revive a retired page
    assert interval(T0 + timedelta(days=8), last_change=T0 + timedelta(days=8), s=young) is None


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), hours=st.integers(0, 24 * 300))
def test_jitter_is_bounded(seed, hours):
    jittery = ScheduleSettings(jitter=0.1)
    now = T0 + timedelta(hours=hours)
    base = interval(now)
    got = interval(now, s=jittery, seed=seed)
    assert base * 0.9 <= got <= base * 1.1


def test_jitter_spreads_pages_found_together():
    jittery = ScheduleSettings(jitter=0.1)
    rng = random.Random(42)
    times = {
        next_check_at(now=T0, last_change_at=T0, first_seen_at=T0, published_at=None,
                      settings=jittery, rng=rng)
        for _ in range(50)
    }
    assert len(times) == 50
    spread = (max(times) - min(times)).total_seconds()
    assert spread > 0.1 * 15 * MINUTE  # more than half the +-10 % window is used


def test_custom_rules():
    s = ScheduleSettings(rules=((HOUR, 5 * MINUTE),), final_interval=2 * HOUR, jitter=0.0)
    assert interval(T0 + timedelta(minutes=30), s=s) == 5 * MINUTE
    assert interval(T0 + timedelta(hours=5), s=s) == 2 * HOUR


# --- errors -------------------------------------------------------------------------------------


def backoff(n, retry_after=None, s=EXACT, seed=0):
    when = error_backoff(now=T0, consecutive_errors=n, retry_after=retry_after, settings=s,
                         rng=random.Random(seed))
    return (when - T0).total_seconds()


def test_backoff_is_exponential_then_capped():
    assert [backoff(n) for n in range(1, 9)] == [
        15 * MINUTE, 30 * MINUTE, 1 * HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 16 * HOUR, 1 * DAY,
    ]
    assert backoff(10_000) == 1 * DAY  # no overflow on long streaks


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 2**32))
def test_backoff_jitter_bounded_and_cap_is_hard(n, seed):
    jittery = ScheduleSettings()
    exact = backoff(n)
    got = backoff(n, s=jittery, seed=seed)
    assert exact * 0.9 <= got <= min(exact * 1.1, jittery.error_backoff_cap)


def test_larger_retry_after_is_honoured():
    assert backoff(1, retry_after=2 * HOUR) == 2 * HOUR
    assert backoff(1, retry_after=60) == 15 * MINUTE  # smaller: our backoff stands
    assert backoff(8, retry_after=3 * DAY) == 3 * DAY  # above our cap: still honoured
    assert backoff(1, retry_after=10**9) == 7 * DAY  # but bounded by retry_after_max


def test_should_report_exactly_once_per_streak():
    s = ScheduleSettings(report_after_errors=3)
    assert [n for n in range(0, 20) if should_report(n, s)] == [3]


def test_is_gone_after_k_not_found():
    s = ScheduleSettings(gone_after=3)
    assert [is_gone(n, s) for n in range(5)] == [False, False, False, True, True]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rules": ((HOUR, 0),)},
        {"rules": ((DAY, HOUR), (HOUR, MINUTE))},  # max_quiet must grow
        {"rules": ((HOUR,),)},
        {"jitter": 1.0},
        {"jitter": -0.1},
        {"retire_after": 0},
        {"error_backoff_cap": float("inf")},
        {"report_after_errors": 0},
        {"gone_after": True},
    ],
)
def test_bad_settings_raise_config_error(kwargs):
    with pytest.raises(ConfigError) as info:
        ScheduleSettings(**kwargs)
    assert info.value.message.startswith("[schedule]")


# --- durations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90), ("15m", 900), ("1h", 3600), ("3d", 3 * 86400), ("2w", 14 * 86400),
        ("1h30m", 5400), ("1.5h", 5400), (" 1d 12h ", 1.5 * 86400), ("3H", 10800),
        ("600", 600), (600, 600), (0.5, 0.5),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "-5m", "5x", "1h-", "m15", None, True, float("nan"), -1])
def test_parse_duration_rejects(text):
    with pytest.raises(ConfigError) as info:
        parse_duration(text)
    assert "bad duration" in info.value.message


@pytest.mark.parametrize("seconds", [1, 59, 60, 900, 5400, 86400, 90061, 14 * 86400 + 1])
def test_format_duration_round_trips(seconds):
    assert parse_duration(format_duration(seconds)) == seconds
