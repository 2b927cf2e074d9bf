"""Which stored version a command means: `--version`, `--from` and `--to` specs, revert targets.

Failures are typed (``UsageError`` for a spec that cannot be read, ``NotFound`` for a
version that does not exist); cli.py turns them into a line and an exit code.
"""

from __future__ import annotations

from datetime import datetime, timezone

from archive.article import human_time
from archive.errors import NotFound
from archive.store import Archive

from .config import Config
from .errors import UsageError


def pick_version(archive: Archive, key: str, spec: str, *, relative_to: int | None = None):
    """The version ``spec`` names: a number (negative counts back), first, latest, prev or a
    date (the latest version captured by then; a bare date means the end of that day)."""
    spec = spec.strip().lower()
    page = archive.page(key)
    latest = page.latest_version
    if latest == 0:
        error = f" (last error: {page.last_error_kind})" if page.last_error_kind else ""
        raise NotFound(f"{key}: no version captured yet{error}")
    if spec == "latest":
        return archive.version(key, latest)
    if spec == "first":
        return archive.version(key, 1)
    if spec == "prev":
        base = relative_to or latest
        return archive.version(key, max(1, base - 1))
    if spec.lstrip("-").isdigit():
        return archive.version(key, int(spec))  # negative counts back: -1 is the latest
    try:
        moment = datetime.fromisoformat(spec.upper().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"version {spec!r}: use a number, first, latest, prev, or a date like 2025-01-20"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
        if len(spec) == 10:  # a bare date means the end of that day
            moment = moment.replace(hour=23, minute=59, second=59)
    try:
        return archive.version_at(key, moment)
    except NotFound as exc:
        first = archive.version(key, 1).captured_at
        raise NotFound(f"{exc} (the first is from {human_time(first, seconds=True)})") from None


def revert_targets(config: Config, outcomes) -> dict[str, int]:
    """The earlier version each new revert returns to, so `add` can name it as history does."""
    wanted = [o for o in outcomes if o.outcome == "new_version" and "revert" in o.flags]
    if not wanted:
        return {}
    with Archive(config.db, write=False) as archive:
        return {o.url: archive.version(o.url, o.version).revert_of for o in wanted}


__all__ = ["pick_version", "revert_targets"]
