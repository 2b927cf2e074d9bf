"""The `archive` command. The only module that prints or chooses an exit code.

What it prints is built in ``cli_render``; which version a spec names, in ``cli_versions``.
Exit codes: 0 all good; 1 one or more URLs failed (each named on stderr) or the store
failed; 2 usage or configuration error.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys

import click

from archive.article import history_entry, human_time
from archive.errors import NotFound, StoreError
from archive.feeds import FeedStore
from archive.store import Archive

from .cli_render import (
    color_default,
    diff_text,
    error_line,
    feed_lines,
    history_blocks,
    outcome_json,
    outcome_line,
    page_lines,
    page_row,
    progress_for,
    reextract_line,
    show_text,
    summary_line,
    usage_line,
)
from .cli_versions import pick_version, revert_targets
from .config import Config, load_config
from .errors import ConfigError, PalimpsestError, UsageError
from .lock import RunLock
from .run import Engine
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
    engine = Engine(config, progress=progress_for(len(keys)))
    summary = asyncio.run(engine.check_urls(keys))
    # Pages finish in any order; people read the lines against the URLs they typed.
    order = {key: index for index, key in enumerate(keys)}
    outcomes = sorted(summary.outcomes, key=lambda o: order.get(o.url, len(order)))
    reverts = revert_targets(config, outcomes)
    for outcome in outcomes:
        if outcome.outcome == "error":
            _err(error_line(outcome))
        elif not as_json:
            click.echo(outcome_line(outcome, reverts.get(outcome.url)))
    if as_json:
        click.echo(json.dumps([outcome_json(o, reverts.get(o.url)) for o in outcomes], indent=2))
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
        engine = Engine(config, progress=progress_for(None))
        summary = asyncio.run(engine.run(check_all=check_all, limit=limit,
                                         max_runtime=max_runtime, discover=not no_discover))
    finally:
        lock.release()
    for outcome in summary.outcomes:
        if outcome.outcome == "error" and outcome.report:
            _err(error_line(outcome))
    for line in summary.discovery_errors:
        _err(f"feed {line}")
    counts = summary.counts()
    if as_json:
        click.echo(json.dumps(counts, indent=2))
    elif verbose or sys.stderr.isatty():
        _err(summary_line(counts))
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
    rows = [page_row(p) for p in pages]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not pages:
        _err("no pages tracked yet (add one with `archive add URL`)")
    for page in pages:
        click.echo("\n".join(page_lines(page)))


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
    for block in history_blocks(versions, events, hide_minor=hide_minor):
        click.echo(block)


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
        version = pick_version(archive, key, number or "latest")
        latest = archive.page(key).latest_version
    click.echo(show_text(version, fmt, latest=latest), nl=False)


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
        new = pick_version(archive, key, to or "latest")
        if from_ is None:
            if new.number == 1:
                raise _Fail(f"{key}: only one version, nothing to diff", EXIT_FAILED)
            old = archive.version(key, new.number - 1)
        else:
            old = pick_version(archive, key, from_, relative_to=new.number)
    # Colour is chosen for the text diff only; the other formats keep click's default.
    use_color = (color_default() if color is None else color) if fmt == "text" else None
    # click strips ANSI codes when stdout is not a terminal unless told otherwise, which
    # would glue deleted and inserted words together under `--color | less -R`.
    click.echo(diff_text(old, new, fmt, context=context, color=bool(use_color)), nl=False,
               color=use_color)


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
        line = reextract_line(result, every=every, latest=counts.get(result.url),
                              extractor=EXTRACTOR_VERSION)
        if line is None:
            quiet += 1
        else:
            click.echo(line)
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
        click.echo(feed_lines(row))


@feeds.command(name="remove")
@click.argument("url")
@click.pass_context
def feeds_remove(ctx, url) -> None:
    """Stop reading a feed (pages it found stay tracked)."""
    with _open(_config(ctx.parent), write=True) as archive:
        FeedStore(archive).remove(_url_key(url))
    click.echo(f"{_url_key(url)}: removed")


def main(argv: list[str] | None = None) -> int:
    """Entry point: translate every expected error into one line and an exit code."""
    if argv is None:  # the process's own command, not a caller in a longer-lived process
        # The modules loaded so far live until exit: the collector need not walk their
        # objects in every full collection and again at exit (~5% of a quick re-check run).
        gc.freeze()
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
        _err(usage_line(exc))
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


if __name__ == "__main__":
    sys.exit(main())
