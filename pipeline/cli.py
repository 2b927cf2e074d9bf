"""The `archive` command. The only module that prints or chooses an exit code.

Exit codes: 0 all good; 1 one or more URLs failed (each named on stderr) or the store
failed; 2 usage or configuration error.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime, timezone

import click

from archive.article import (
    flags_label,
    history_entry,
    history_line,
    human_time,
    render_markdown,
    render_text,
    version_to_json,
)
from archive.errors import NotFound, StoreError
from archive.feeds import FeedStore
from archive.store import Archive

from .config import Config, load_config
from .errors import ConfigError, PalimpsestError, UsageError
from .lock import RunLock
from .run import Engine, PageOutcome
from .urls import canonical_url

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Fail(Exception):
    """Carries one line and an exit code to the top, where it is printed."""

    def __init__(self, line: str, code: int) -> None:
        super().__init__(line)
        self.code = code


def _err(line: str) -> None:
    click.echo(f"archive: {line}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config file (default: ./config.toml when present).")
@click.option("--db", "db_path", type=click.Path(dir_okay=False),
              help="Archive database (default: the config's [archive] db, else ./archive.db).")
@click.version_option(package_name="palimpsest")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_path: str | None) -> None:
    """Palimpsest: versioned snapshots of news articles."""
    ctx.obj = {"config_path": config_path, "db_path": db_path}


def _config(ctx: click.Context) -> Config:
    return load_config(ctx.obj["config_path"], db_override=ctx.obj["db_path"])


def _open(config: Config, *, write: bool = False) -> Archive:
    return Archive(config.db, write=write)


def _url_key(url: str) -> str:
    try:
        return canonical_url(url)
    except UsageError as exc:
        # urls.py says "bad URL 'x': problem"; the house line is "x: problem".
        message, shown = str(exc), url if len(url) <= 200 else url[:200] + "..."
        prefix = f"bad URL {shown!r}: "
        if message.startswith(prefix):
            message = f"{shown}: {message[len(prefix):]}"
        raise _Fail(message, EXIT_USAGE) from None


def _resolve(archive: Archive, url: str) -> str:
    key = archive.resolve(_url_key(url)) or archive.resolve(url)
    if key is None:
        raise _Fail(f"{url}: not tracked (add it with `archive add URL`)", EXIT_FAILED)
    return key


# -- fetching commands ---------------------------------------------------------------------


@cli.command()
@click.argument("urls", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the outcomes as JSON.")
@click.pass_context
def add(ctx: click.Context, urls: tuple[str, ...], as_json: bool) -> None:
    """Track URLS and check them now (also when already tracked)."""
    keys = [_url_key(url) for url in urls]  # refuse a bad URL before any request
    config = _config(ctx)
    engine = Engine(config, progress=_progress_for(len(keys)))
    summary = asyncio.run(engine.check_urls(keys))
    # Pages finish in any order; people read the lines against the URLs they typed.
    order = {key: index for index, key in enumerate(keys)}
    outcomes = sorted(summary.outcomes, key=lambda o: order.get(o.url, len(order)))
    reverts = _revert_targets(config, outcomes)
    for outcome in outcomes:
        if not as_json:
            _print_outcome(outcome, reverts.get(outcome.url))
        elif outcome.outcome == "error":
            _err(_error_line(outcome))
    if as_json:
        click.echo(json.dumps([_outcome_json(o, reverts.get(o.url)) for o in outcomes], indent=2))
    if summary.stopped_early:
        _err(f"stopped early; {summary.not_started} URL(s) not checked")
    failed = any(o.outcome == "error" for o in summary.outcomes) or summary.stopped_early
    ctx.exit(EXIT_FAILED if failed else EXIT_OK)


@cli.command()
@click.option("--all", "check_all", is_flag=True, help="Check every tracked page now.")
@click.option("--limit", type=click.IntRange(min=1), help="Check at most N pages.")
@click.option("--max-runtime", type=click.FloatRange(min=0), help="Stop after SECONDS.")
@click.option("--no-discover", is_flag=True, help="Skip reading feeds this run.")
@click.option("--wait", is_flag=True, help="Wait for a run already active instead of exiting.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Print a summary line even under cron.")
@click.pass_context
def run(ctx, check_all, limit, max_runtime, no_discover, wait, as_json, verbose) -> None:
    """Check the pages that are due (cron calls this), after reading feeds."""
    config = _config(ctx)
    _open(config, write=True).close()  # fail on an unusable store before any fetching
    lock = RunLock(config.db)
    if not lock.acquire(wait=wait or config.run.lock == "wait"):  # PalimpsestError(kind=lock)
        click.echo(f"archive: another run is active (pid {lock.holder() or '?'}); exiting", err=True)
        ctx.exit(EXIT_OK)
    try:
        engine = Engine(config, progress=_progress_for(None))
        summary = asyncio.run(engine.run(check_all=check_all, limit=limit,
                                         max_runtime=max_runtime, discover=not no_discover))
    finally:
        lock.release()
    for outcome in summary.outcomes:
        if outcome.outcome == "error" and outcome.report:
            _err(_error_line(outcome))
    for line in summary.discovery_errors:
        _err(f"feed {line}")
    counts = summary.counts()
    if as_json:
        click.echo(json.dumps(counts, indent=2))
    elif verbose or sys.stderr.isatty():
        _err(_summary_line(counts))
    if summary.interrupted:
        # Stopped by SIGTERM or Ctrl-C: say so, so a stopped run is never mistaken for a clean one.
        _err(f"stopped by a signal; {summary.not_started} due page(s) left for the next run")
    reported = any(o.outcome == "error" and o.report for o in summary.outcomes)
    ctx.exit(EXIT_FAILED if reported or summary.interrupted else EXIT_OK)


# -- reading commands ----------------------------------------------------------------------


@cli.command()
@click.argument("urls", nargs=-1, required=True)
@click.pass_context
def remove(ctx, urls) -> None:
    """Stop checking pages (also in `run --all`); their history stays in the archive."""
    with _open(_config(ctx), write=True) as archive:
        keys = [_resolve(archive, url) for url in urls]
        for key in keys:
            kept = archive.remove(key)
            kept_text = "1 version stays" if kept == 1 else f"{kept} versions stay"
            click.echo(f"{key}: no longer checked; its {kept_text} in the archive")


@cli.command(name="list")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most N pages.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_pages(ctx, limit, as_json) -> None:
    """Tracked pages with their latest version, title and last check."""
    with _open(_config(ctx)) as archive:
        pages = archive.pages(limit=limit)
    rows = [
        {"url": p.url, "state": p.state, "versions": p.latest_version, "title": p.title,
         "last_checked_at": p.last_checked_at, "next_check_at": p.next_check_at,
         "last_error": p.last_error_kind}
        for p in pages
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not pages:
        _err("no pages tracked yet (add one with `archive add URL`)")
    for page in pages:
        click.echo("\n".join(_page_lines(page)))


def _page_lines(page) -> list[str]:
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


@cli.command()
@click.argument("url")
@click.option("--json", "as_json", is_flag=True)
@click.option("--hide-minor", is_flag=True, help="Hide versions flagged minor.")
@click.pass_context
def history(ctx, url, as_json, hide_minor) -> None:
    """The versions of a page: when, what changed, how much."""
    with _open(_config(ctx)) as archive:
        key = _resolve(archive, url)
        page = archive.page(key)
        versions = archive.history(key)
        events = [] if as_json else archive.events(key)
    if as_json:
        shown = [v for v in versions if not (hide_minor and "minor" in v.flags)]
        click.echo(json.dumps([history_entry(v) for v in shown], indent=2))
        return
    if not versions:
        error = f"; last error: {page.last_error_kind}" if page.last_error_kind else ""
        raise _Fail(f"{key}: no version captured yet (checked "
                    f"{human_time(page.last_checked_at, seconds=True) or 'never'}{error})",
                    EXIT_FAILED)
    # Versions and the page's notable events (gone, back, re-extracted), oldest first.
    rows: list[tuple[str, list[str]]] = []
    previous_title = None
    for version in versions:
        lines = history_line(version, previous_title=previous_title)
        previous_title = version.content.title
        if not (hide_minor and "minor" in version.flags):
            rows.append((version.captured_at, lines))
    for event in events:
        if event["kind"] in _HISTORY_EVENTS:
            detail = f": {event['detail']}" if event["detail"] else ""
            rows.append((event["at"], [f"     {human_time(event['at'], seconds=True)}  "
                                       f"{_HISTORY_EVENTS[event['kind']]}{detail}"]))
    for _, lines in sorted(rows, key=lambda row: row[0]):
        click.echo("\n".join(lines))


_HISTORY_EVENTS = {"gone": "page gone", "back": "page back", "reextracted": "re-extracted"}


@cli.command()
@click.argument("url")
@click.option("--version", "number", help="Version number, first, latest, prev, or a date.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "text", "json"]),
              default="markdown", show_default=True)
@click.pass_context
def show(ctx, url, number, fmt) -> None:
    """Print one version of a page (the latest by default)."""
    with _open(_config(ctx)) as archive:
        key = _resolve(archive, url)
        version = _pick_version(archive, key, number or "latest")
        latest = archive.page(key).latest_version
    if fmt == "json":
        click.echo(json.dumps(version_to_json(version), indent=2, ensure_ascii=False))
    elif fmt == "text":
        click.echo(render_text(version, latest=latest), nl=False)
    else:
        click.echo(render_markdown(version, latest=latest), nl=False)


@cli.command()
@click.argument("url")
@click.option("--from", "from_", help="Version: number, first, latest, prev, or a date.")
@click.option("--to", help="Version: number, first, latest, prev, or a date (default latest).")
@click.option("--format", "fmt", type=click.Choice(["text", "unified", "html", "json"]),
              default="text", show_default=True)
@click.option("--context", type=click.IntRange(min=0), default=1, show_default=True,
              help="Unchanged paragraphs shown around each change.")
@click.option("--color/--no-color", default=None, help="Colour the text diff (default: on a terminal).")
@click.pass_context
def diff(ctx, url, from_, to, fmt, context, color) -> None:
    """Show what changed between two versions (by default the latest two)."""
    with _open(_config(ctx)) as archive:
        key = _resolve(archive, url)
        new = _pick_version(archive, key, to or "latest")
        if from_ is None:
            if new.number == 1:
                raise _Fail(f"{key}: only one version, nothing to diff", EXIT_FAILED)
            old = archive.version(key, new.number - 1)
        else:
            old = _pick_version(archive, key, from_, relative_to=new.number)
    # Imported here: the diff machinery is start-up time every other command would pay.
    from archive.diff import diff_versions
    from archive.render import diff_to_json, render_html, render_unified
    from archive.render import render_text as render_diff_text

    result = diff_versions(old, new)
    if fmt == "json":
        click.echo(json.dumps(diff_to_json(result), indent=2, ensure_ascii=False))
    elif fmt == "html":
        click.echo(render_html(result, context=context), nl=False)
    elif fmt == "unified":
        click.echo(render_unified(result, context=context), nl=False)
    else:
        use_color = _color_default() if color is None else color
        # click strips ANSI codes when stdout is not a terminal unless told otherwise, which
        # would glue deleted and inserted words together under `--color | less -R`.
        click.echo(render_diff_text(result, color=use_color, context=context), nl=False,
                   color=use_color)


def _color_default() -> bool:
    """Colour on a terminal, unless NO_COLOR is set (no-color.org) or the terminal is dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


def _pick_version(archive: Archive, key: str, spec: str, *, relative_to: int | None = None):
    spec = spec.strip().lower()
    page = archive.page(key)
    latest = page.latest_version
    if latest == 0:
        error = f" (last error: {page.last_error_kind})" if page.last_error_kind else ""
        raise _Fail(f"{key}: no version captured yet{error}", EXIT_FAILED)
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
        raise _Fail(
            f"version {spec!r}: use a number, first, latest, prev, or a date like 2025-01-20",
            EXIT_USAGE,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
        if len(spec) == 10:  # a bare date means the end of that day
            moment = moment.replace(hour=23, minute=59, second=59)
    try:
        return archive.version_at(key, moment)
    except NotFound as exc:
        first = archive.version(key, 1).captured_at
        raise _Fail(f"{exc} (the first is from {human_time(first, seconds=True)})",
                    EXIT_FAILED) from None


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every tracked page.")
@click.option("--force", is_flag=True, help="Also versions already made by this extractor.")
@click.pass_context
def reextract(ctx, urls, every, force) -> None:
    """Recompute stored versions from their raw HTML with the current extractor."""
    from .extract import EXTRACTOR_VERSION
    from .reextract import reextract_pages

    if urls and every:
        raise _Fail("reextract: give URLs or --all, not both", EXIT_USAGE)
    if not urls and not every:
        raise _Fail("reextract: give URLs or --all", EXIT_USAGE)
    config = _config(ctx)
    with _open(config) as archive:
        keys = [_resolve(archive, url) for url in urls] if urls else None
        counts = {p.url: p.latest_version for p in
                  ([archive.page(key) for key in keys] if keys else archive.pages())}
    results = asyncio.run(reextract_pages(config, keys, force=force))
    quiet = 0
    for result in results:
        if result.updated or result.failed:
            same = f", {result.identical} now identical to the previous" if result.identical else ""
            click.echo(f"{result.url}: {result.updated} versions re-extracted{same}")
        elif every:
            quiet += 1  # --all over a big archive: only pages where something happened
        elif counts.get(result.url):
            click.echo(f"{result.url}: 0 versions re-extracted (all {counts[result.url]} were "
                       f"made by the current extractor, {EXTRACTOR_VERSION}; --force redoes them)")
        else:
            click.echo(f"{result.url}: 0 versions re-extracted (no version captured yet)")
        for failure in result.failed:
            _err(f"{result.url}: {failure}")
    if every and quiet:
        click.echo(f"{quiet} pages already up to date (extractor {EXTRACTOR_VERSION};"
                   " --force redoes them)")
    ctx.exit(EXIT_FAILED if any(r.failed for r in results) else EXIT_OK)


# -- feeds ---------------------------------------------------------------------------------


@cli.group()
def feeds() -> None:
    """Feeds and sitemaps that `archive run` reads to discover new articles."""


@feeds.command(name="add")
@click.argument("urls", nargs=-1, required=True)
@click.pass_context
def feeds_add(ctx, urls) -> None:
    """Register feeds, sitemaps or home pages (their feeds are found)."""
    keys = [_url_key(url) for url in urls]
    with _open(_config(ctx.parent), write=True) as archive:
        store = FeedStore(archive)
        for key in keys:
            click.echo(f"{key}: {'added' if store.add(key) else 'already registered'}")


@feeds.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def feeds_list(ctx, as_json) -> None:
    """Registered feeds with their last check."""
    config = _config(ctx.parent)
    rows = []
    if config.db.exists():  # listing never creates an archive
        with _open(config) as archive:
            rows = FeedStore(archive).all()
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in rows], indent=2))
        return
    if not rows:
        _err("no feeds registered (add one with `archive feeds add URL`)")
    for row in rows:
        checked = human_time(row.last_checked_at, seconds=True)
        when = f"checked {checked}" if checked else "not read yet (`archive run` reads it)"
        error = f", error: {row.last_error}" if row.last_error else ""
        click.echo(f"{row.url}\n  {when}, {row.links_found} pages found{error}")


@feeds.command(name="remove")
@click.argument("url")
@click.pass_context
def feeds_remove(ctx, url) -> None:
    """Stop reading a feed (pages it found stay tracked)."""
    with _open(_config(ctx.parent), write=True) as archive:
        FeedStore(archive).remove(_url_key(url))
    click.echo(f"{_url_key(url)}: removed")


# -- output helpers ------------------------------------------------------------------------


_HINTS = {"blocked_address": "set [fetch] allow_private_networks = true to allow it"}


def _error_line(outcome: PageOutcome) -> str:
    hint = f" ({_HINTS[outcome.error_kind]})" if outcome.error_kind in _HINTS else ""
    return f"{outcome.url}: error {outcome.error_kind}: {outcome.message}{hint}"


def _revert_targets(config: Config, outcomes) -> dict[str, int]:
    """The earlier version each new revert returns to, so `add` can name it as history does."""
    wanted = [o for o in outcomes if o.outcome == "new_version" and "revert" in o.flags]
    if not wanted:
        return {}
    with _open(config) as archive:
        return {o.url: archive.version(o.url, o.version).revert_of for o in wanted}


def _print_outcome(outcome: PageOutcome, revert_of: int | None = None) -> None:
    if outcome.outcome == "error":
        _err(_error_line(outcome))
    elif outcome.outcome == "new_version":
        detail = f" ({', '.join(outcome.changed)})" if outcome.changed else ""
        flags = flags_label(outcome.flags, revert_of)
        click.echo(f"{outcome.url}: new version {outcome.version}{detail}"
                   + (f" [{flags}]" if flags else ""))
    elif outcome.version:
        click.echo(f"{outcome.url}: unchanged (version {outcome.version})")
    else:
        click.echo(f"{outcome.url}: not modified (no version yet)")


def _outcome_json(o: PageOutcome, revert_of: int | None = None) -> dict:
    return {"url": o.url, "outcome": o.outcome, "version": o.version, "changed": list(o.changed),
            "flags": list(o.flags), "revert_of": revert_of, "error_kind": o.error_kind,
            "message": o.message}


def _summary_line(counts: dict) -> str:
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


def _progress_for(total: int | None):
    if not sys.stderr.isatty():
        return None
    from .progress import RichProgress

    return RichProgress()


def main(argv: list[str] | None = None) -> int:
    """Entry point: translate every expected error into one line and an exit code."""
    try:
        # Without standalone mode click returns ctx.exit()'s code instead of exiting.
        code = cli.main(args=argv, prog_name="archive", standalone_mode=False)
        return code if isinstance(code, int) else EXIT_OK
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # bare `archive`: the help is the answer
        return EXIT_USAGE
    except click.UsageError as exc:
        _err(_usage_line(exc))
        return EXIT_USAGE
    except click.ClickException as exc:
        _err(exc.format_message())
        return EXIT_USAGE
    except click.exceptions.Abort:
        _err("aborted")
        return EXIT_FAILED
    except _Fail as exc:
        _err(str(exc))
        return exc.code
    except (ConfigError, UsageError) as exc:
        _err(str(exc))
        return EXIT_USAGE
    except NotFound as exc:
        _err(str(exc))
        return EXIT_FAILED
    except (PalimpsestError, StoreError) as exc:
        _err(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


def _usage_line(exc: click.UsageError) -> str:
    """click's three-line usage error as the house's one line, with where to get help."""
    path = exc.ctx.command_path if exc.ctx else "archive"
    message = exc.format_message().rstrip(".")
    message = message[:1].lower() + message[1:]
    command = path.partition(" ")[2]
    return f"{command + ': ' if command else ''}{message} (see `{path} --help`)"


if __name__ == "__main__":
    sys.exit(main())
