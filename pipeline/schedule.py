"""When to look at a page again. Pure functions of times, settings and a seeded RNG.

The rule (NewsDiffs' idea: check often while a story is young or still changing):

    birth   = published_at if known and earlier than first_seen_at, else first_seen_at
    anchor  = last_change_at  if a change was seen after the first capture
              birth           otherwise (the first capture is not evidence of change)
    quiet   = now - anchor    (how long the page has been stable, as far as we know)
    step    = the first rule (max_quiet, interval) with quiet < max_quiet, else final_interval
    next    = now + step * (1 ± jitter)
    retired = now - birth > retire_after  -> None (checked only on demand)

So a story published an hour ago is checked every 15 minutes; a six-month-old story found
today in a sitemap starts at the weekly step, not at 15 minutes; a real edit to any story
resets it to the fastest step. All arithmetic is on ``total_seconds()``: ``timedelta.seconds``
wraps every day (diffengine's bug).

Errors back off separately: base * 2**(n-1), capped, jittered, never shorter than a
Retry-After the server sent (itself bounded by ``retry_after_max``).
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.errors import ConfigError

__all__ = [
    "DEFAULT_RULES",
    "ScheduleSettings",
    "error_backoff",
    "format_duration",
    "is_gone",
    "next_check_at",
    "parse_duration",
    "should_report",
]

MINUTE, HOUR, DAY, WEEK = 60.0, 3600.0, 86400.0, 604800.0

# (page quiet for less than this, check again after this)
DEFAULT_RULES: tuple[tuple[float, float], ...] = (
    (3 * HOUR, 15 * MINUTE),
    (1 * DAY, 1 * HOUR),
    (3 * DAY, 3 * HOUR),
    (2 * WEEK, 1 * DAY),
    (60 * DAY, 1 * WEEK),
)


@dataclass(frozen=True)
class ScheduleSettings:
    """The [schedule] table of config.toml. Durations are seconds."""

    rules: tuple[tuple[float, float], ...] = DEFAULT_RULES
    final_interval: float = 30 * DAY  # quiet longer than the last rule
    retire_after: float = 365 * DAY  # article age after which it is only checked on demand
    jitter: float = 0.1  # +-10 % spread so pages found together fall due apart
    error_backoff_base: float = 15 * MINUTE
    error_backoff_cap: float = 1 * DAY
    retry_after_max: float = 7 * DAY  # a server's Retry-After is honoured up to this
    report_after_errors: int = 3  # report a failing page once, at this many errors in a row
    gone_after: int = 3  # 404/410 this many times in a row: the page is gone

    def __post_init__(self) -> None:
        previous = 0.0
        for index, step in enumerate(self.rules):
            if len(step) != 2:
                raise ConfigError(f"[schedule] intervals[{index}]: expected [max_quiet, interval]")
            quiet, interval = step
            if not _positive(quiet) or not _positive(interval):
                raise ConfigError(f"[schedule] intervals[{index}]: durations must be > 0")
            if quiet <= previous:
                raise ConfigError(
                    f"[schedule] intervals[{index}]: max_quiet must grow from one step to the next"
                )
            previous = quiet
        for name in ("final_interval", "retire_after", "error_backoff_base", "error_backoff_cap",
                     "retry_after_max"):
            if not _positive(getattr(self, name)):
                raise ConfigError(f"[schedule] {name}: must be a duration > 0")
        if not (isinstance(self.jitter, (int, float)) and 0 <= self.jitter < 1):
            raise ConfigError("[schedule] jitter: must be a fraction in [0, 1)")
        for name in ("report_after_errors", "gone_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"[schedule] {name}: must be an integer >= 1")

    def interval_for(self, quiet_seconds: float) -> float:
        """The un-jittered step for a page that has been stable for ``quiet_seconds``."""
        for max_quiet, interval in self.rules:
            if quiet_seconds < max_quiet:
                return interval
        return self.final_interval


def _positive(value) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _jittered(seconds: float, jitter: float, rng: random.Random) -> float:
    return seconds * (1.0 + rng.uniform(-jitter, jitter))


def next_check_at(
    *,
    now: datetime,
    last_change_at: datetime,
    first_seen_at: datetime,
    published_at: datetime | None,
    settings: ScheduleSettings,
    rng: random.Random,
) -> datetime | None:
    """When to check the page next, or None when it is retired (see the module docstring).

    ``last_change_at`` is the capture time of the newest version; for a page with one version
    pass its first capture (== ``first_seen_at``). All datetimes must be timezone-aware.
    """
    birth = first_seen_at
    if published_at is not None and published_at < first_seen_at:
        birth = published_at
    if (now - birth).total_seconds() > settings.retire_after:
        return None
    anchor = last_change_at if last_change_at > first_seen_at else birth
    quiet = max(0.0, (now - anchor).total_seconds())
    interval = _jittered(settings.interval_for(quiet), settings.jitter, rng)
    return now + timedelta(seconds=interval)


def error_backoff(
    *,
    now: datetime,
    consecutive_errors: int,
    retry_after: float | None,
    settings: ScheduleSettings,
    rng: random.Random,
) -> datetime:
    """When to retry a page that just failed for the ``consecutive_errors``-th time in a row.

    base * 2**(n-1), jittered, never above ``error_backoff_cap``; a larger Retry-After wins
    (up to ``retry_after_max``; pass the server's uncapped value).
    """
    exponent = min(max(consecutive_errors, 1) - 1, 62)  # 2**62 * anything is past any cap
    delay = min(settings.error_backoff_cap, settings.error_backoff_base * 2.0**exponent)
    delay = min(settings.error_backoff_cap, _jittered(delay, settings.jitter, rng))
    if retry_after is not None and math.isfinite(retry_after) and retry_after > delay:
        delay = min(retry_after, settings.retry_after_max)
    return now + timedelta(seconds=delay)


def should_report(consecutive_errors: int, settings: ScheduleSettings) -> bool:
    """True exactly once per failure streak: when it reaches ``report_after_errors``."""
    return consecutive_errors == settings.report_after_errors


def is_gone(consecutive_not_found: int, settings: ScheduleSettings) -> bool:
    """True once 404/410 answers in a row reach ``gone_after`` (record the event on the edge)."""
    return consecutive_not_found >= settings.gone_after


# --- durations in config.toml -------------------------------------------------------------------

_UNITS = {"s": 1.0, "m": MINUTE, "h": HOUR, "d": DAY, "w": WEEK}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)


def parse_duration(text: str | int | float) -> float:
    """Seconds from "90s", "15m", "1h30m", "3d", "2w", "1.5h" or a bare number of seconds.

    Raises ConfigError naming the text; the caller adds which key it came from.
    """
    if isinstance(text, bool):
        raise ConfigError(f"bad duration {text!r}: expected e.g. \"15m\", \"3h\", \"2d\"")
    if isinstance(text, (int, float)):
        if not math.isfinite(text) or text < 0:
            raise ConfigError(f"bad duration {text!r}: must be a finite number >= 0")
        return float(text)
    if not isinstance(text, str):
        raise ConfigError(f"bad duration {text!r}: expected a string like \"15m\"")
    compact = text.strip().replace(" ", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", compact):
        return float(compact)
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(compact):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2).lower()]
        pos = match.end()
    if not compact or pos != len(compact):
        raise ConfigError(
            f"bad duration {text!r}: expected a number with a unit s, m, h, d or w (\"1h30m\")"
        )
    return total


def format_duration(seconds: float) -> str:
    """The inverse for display and documentation: 5400 -> "1h30m"."""
    remaining = int(round(seconds))
    if remaining == 0:
        return "0s"
    parts = []
    for unit, size in (("w", WEEK), ("d", DAY), ("h", HOUR), ("m", MINUTE), ("s", 1.0)):
        count, remaining = divmod(remaining, int(size))
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
