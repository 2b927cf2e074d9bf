"""What the `archive` commands print, built as strings and rows; cli.py prints them.

Nothing here prints or picks an exit code. Renderers that are start-up time for the
commands that never use them (the diff machinery, the progress bar) are imported lazily.
"""

from __future__ import annotations

import json
import os
import sys

from archive.article import (
    flags_label,
    history_line,
    human_time,
    render_markdown,
    render_text,
    version_to_json,
)

# -- pages ---------------------------------------------------------------------------------


def page_row(p) -> dict:
    """One page of `archive list --json`."""
    return {"url": p.url, "state": p.state, "versions": p.latest_version, "title": p.title,
            "last_checked_at": p.last_checked_at, "next_check_at": p.next_check_at,
            "last_error": p.last_error_kind}


def page_lines(page) -> list[str]:
    """Three lines per page in `archive list`: the URL, the latest version, the schedule."""
    tag = {"retired": "  [retired: checked only by `archive add` or `run --all`]",
           "gone": "  [gone: 404/410 repeatedly; checked only on demand]",
           "removed": "  [removed: no longer checked; `archive add` tracks it again]"}.get(page.state, "")
    latest = (f"v{page.latest_version}  {page.title or '(untitled)'}" if page.latest_version
              else "no version yet")
    checked = human_time(page.last_checked_at, seconds=True) or "never"
    when = f"checked {checked}"
    if page.last_error_kind:
        when += f", last error: {page.last_error_kind}"
    if page.state == "active" and page.next_check_at:
        when += f"; next check {human_time(page.next_check_at)}"
    return [page.url + tag, "  " + latest, "  " + when]


HISTORY_EVENTS = {"gone": "page gone", "back": "page back", "reextracted": "re-extracted"}


def history_blocks(versions, events, *, hide_minor: bool) -> list[str]:
    """`archive history` for people: one block per version or notable event, oldest first."""
    # Versions and the page's notable events (gone, back, re-extracted), oldest first.
    rows: list[tuple[str, list[str]]] = []
    previous_title = None
    for version in versions:
        lines = history_line(version, previous_title=previous_title)
        previous_title = version.content.title
        if not (hide_minor and "minor" in version.flags):
            rows.append((version.captured_at, lines))
    for event in events:
        if event["kind"] in HISTORY_EVENTS:
            detail = f": {event['detail']}" if event["detail"] else ""
            rows.append((event["at"], [f"     {human_time(event['at'], seconds=True)}  "
                                       f"{HISTORY_EVENTS[event['kind']]}{detail}"]))
    return ["\n".join(lines) for _, lines in sorted(rows, key=lambda row: row[0])]


def feed_lines(row) -> str:
    """One registered feed in `archive feeds list`: its URL, then its last read."""
    checked = human_time(row.last_checked_at, seconds=True)
    when = f"checked {checked}" if checked else "not read yet (`archive run` reads it)"
    error = f", error: {row.last_error}" if row.last_error else ""
    return f"{row.url}\n  {when}, {row.links_found} pages found{error}"


# -- one version, two versions ---------------------------------------------------------------


def show_text(version, fmt: str, *, latest: int) -> str:
    """`archive show` in ``fmt`` (markdown, text or json), ending as it is printed."""
    if fmt == "json":
        return json.dumps(version_to_json(version), indent=2, ensure_ascii=False) + "\n"
    if fmt == "text":
        return render_text(version, latest=latest)
    return render_markdown(version, latest=latest)


def diff_text(old, new, fmt: str, *, context: int, color: bool) -> str:
    """`archive diff` in ``fmt`` (text, unified, html or json), ending as it is printed."""
    # Imported here: the diff machinery is start-up time every other command would pay.
    from archive.diff import diff_versions
    from archive.render import diff_to_json, render_html, render_unified
    from archive.render import render_text as render_diff_text

    result = diff_versions(old, new)
    if fmt == "json":
        return json.dumps(diff_to_json(result), indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        return render_html(result, context=context)
    if fmt == "unified":
        return render_unified(result, context=context)
    return render_diff_text(result, color=color, context=context)


def color_default() -> bool:
    """Colour on a terminal, unless NO_COLOR is set (no-color.org) or the terminal is dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


# -- checking pages ------------------------------------------------------------------------


HINTS = {"blocked_address": "set [fetch] allow_private_networks = true to allow it"}


def error_line(outcome) -> str:
    hint = f" ({HINTS[outcome.error_kind]})" if outcome.error_kind in HINTS else ""
    return f"{outcome.url}: error {outcome.error_kind}: {outcome.message}{hint}"


def outcome_line(outcome, revert_of: int | None = None) -> str:
    """`archive add`'s line for a page that did not fail (failures are ``error_line``)."""
    if outcome.outcome == "new_version":
        detail = f" ({', '.join(outcome.changed)})" if outcome.changed else ""
        flags = flags_label(outcome.flags, revert_of)
        return (f"{outcome.url}: new version {outcome.version}{detail}"
                + (f" [{flags}]" if flags else ""))
    if outcome.version:
        return f"{outcome.url}: unchanged (version {outcome.version})"
    return f"{outcome.url}: not modified (no version yet)"


def outcome_json(o, revert_of: int | None = None) -> dict:
    return {"url": o.url, "outcome": o.outcome, "version": o.version, "changed": list(o.changed),
            "flags": list(o.flags), "revert_of": revert_of, "error_kind": o.error_kind,
            "message": o.message}


def summary_line(counts: dict) -> str:
    """One line for people: only the counts that are not zero, and why a run did little."""
    checked = counts["checked"]
    parts = [f"{counts[key]} {label}" for key, label in (
        ("new_versions", "new versions"), ("unchanged", "unchanged"),
        ("not_modified", "not modified (304)"), ("errors", "errors")) if counts[key]]
    errors = ", ".join(f"{kind} {n}" for kind, n in counts["errors_by_kind"].items())
    if errors:
        parts[-1] += f" ({errors}; `archive list` shows each page's last error)"
    line = f"checked {checked} {'page' if checked == 1 else 'pages'}"
    if parts:
        line += ": " + ", ".join(parts)
    elif not counts["stopped_early"]:
        line += ": nothing was due (`archive run --all` checks every page now)"
    if counts["new_pages"]:
        line += f"; {counts['new_pages']} new pages found in feeds"
    line += f"; {counts['duration']:.1f} s"
    if counts["stopped_early"]:
        line += (f"; stopped at the time budget, {counts['not_started']} due pages"
                 " left for the next run")
    return line


def progress_for(total: int | None):
    """A progress bar on stderr for people at a terminal; None under cron or a pipe."""
    if not sys.stderr.isatty():
        return None
    from .progress import RichProgress

    return RichProgress()


# -- re-extraction -------------------------------------------------------------------------


def reextract_line(result, *, every: bool, latest: int | None, extractor: str) -> str | None:
    """`archive reextract`'s line for one page; None for a page `--all` passes over quietly."""
    if result.updated or result.failed:
        same = f", {result.identical} now identical to the previous" if result.identical else ""
        noun = "version" if result.updated == 1 else "versions"
        return f"{result.url}: {result.updated} {noun} re-extracted{same}"
    if every:
        return None  # --all over a big archive: only pages where something happened
    if latest:
        return (f"{result.url}: 0 versions re-extracted (all {latest} were "
                f"made by the current extractor, {extractor}; --force redoes them)")
    return f"{result.url}: 0 versions re-extracted (no version captured yet)"


# -- usage errors ------------------------------------------------------------------------


def usage_line(exc) -> str:
    """click's three-line usage error (a ``click.UsageError``) as the house's one line, with
    where to get help."""
    path = exc.ctx.command_path if exc.ctx else "archive"
    message = exc.format_message().rstrip(".")
    message = message[:1].lower() + message[1:]
    command = path.partition(" ")[2]
    return f"{command + ': ' if command else ''}{message} (see `{path} --help`)"


__all__ = [
    "HINTS",
    "HISTORY_EVENTS",
    "color_default",
    "diff_text",
    "error_line",
    "feed_lines",
    "history_blocks",
    "outcome_json",
    "outcome_line",
    "page_lines",
    "page_row",
    "progress_for",
    "reextract_line",
    "show_text",
    "summary_line",
    "usage_line",
]
