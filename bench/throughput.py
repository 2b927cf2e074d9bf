"""First captures and unchanged re-checks against the machine's limit and trafilatura's CLI.

One run, side by side, over a loopback site (bench/loopback.py: 50 hosts, N distinct URLs):

1. limit: bare ``trafilatura.extract(html, url=..., with_metadata=True)`` of the served HTML
   from memory in a process pool as wide as the machine, before and after 2 (this machine's
   speed drifts over minutes; the ratio uses the mean of the two);
2. palimpsest ``archive add`` over every URL into an empty database (a real subprocess: wall
   time, CPU of the whole process tree from wait4, peak RSS summed over the tree from /proc);
3. ``trafilatura -i urls.txt --parallel 16 --with-metadata`` with SLEEP_TIME = 0;
4. ``archive run --all`` twice more: identical bodies without ETag (hash skip), then 304s;
5. database bytes per stored version and per unchanged check against the raw HTML.

    python -m bench throughput                  # default size (~1,200 URLs)
    python -m bench.throughput --pages 10000    # the RSS figure at 10,000 pages
    BENCH_PAGES=10000 python -m bench throughput
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from bench.loopback import LoopbackSite, body_for
from bench.report import ROOT, machine_line, write_section

DEFAULT_PAGES = 1232  # four copies of the 308 corpus pages
TARGETS = {"limit_ratio": 0.85, "cli_ratio": 1.5, "recheck_ratio": 20.0, "rss_mb": 600.0,
           "db_ratio": 0.35, "bytes_per_check": 300.0}
_BIN = Path(sys.executable).parent
_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    seconds: float
    cpu: float  # user+sys of the process tree
    peak_rss: int  # bytes, summed over the tree at its largest sample
    max_rss_one: int  # bytes, the largest single process (wait4 ru_maxrss)
    stdout: str
    returncode: int
    other_cpu: float = 0.0  # CPU the rest of the machine used meanwhile (server included)


# --- measuring a command ---------------------------------------------------------------------


def _tree_rss(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            rss[int(entry)] = int(fields[21]) * _PAGE
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return total


def run_measured(argv: list[str], *, cwd: Path, env: dict | None = None) -> Measured:
    """Run a command; CPU comes from wait4 (the child plus every descendant it reaped)."""
    out = tempfile.TemporaryFile()
    sys0 = system_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL, env=env)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    whole = system_cpu() - sys0
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(seconds, cpu, peak[0], usage.ru_maxrss * 1024,
                    out.read().decode("utf-8", "replace"), proc.returncode, whole - cpu)


def system_cpu() -> float:
    """CPU seconds used by the whole machine so far (all cores, /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = handle.readline().split()[1:]
    busy = sum(int(v) for v in fields[:8]) - int(fields[3]) - int(fields[4])  # minus idle, iowait
    return busy / _TICK


def _proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as handle:
        fields = handle.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


# --- 1. the limit ----------------------------------------------------------------------------

_POOL_PAGES: list[bytes] = []


def _bare_extract(job: tuple[int, int, int, str]) -> bool:
    import trafilatura

    page, copy, index, url = job
    html = body_for(_POOL_PAGES[page], copy, index).decode("utf-8")
    return trafilatura.extract(html, url=url, with_metadata=True) is not None


def measure_limit(site: LoopbackSite, n: int, workers: int) -> tuple[float, float, int]:
    """(seconds, CPU seconds, pages extracted) for bare trafilatura on ``workers`` processes."""
    global _POOL_PAGES
    _POOL_PAGES = site.pages  # inherited by the forked workers: HTML comes from memory
    jobs = [(*site.page_of(i), i, site.urls[i]) for i in range(n)]
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        list(pool.map(_bare_extract, jobs[: workers * 2]))  # import trafilatura in each worker
        pids = list(pool._processes)
        cpu0, sys0 = sum(_proc_cpu(p) for p in pids), system_cpu()
        started = time.perf_counter()
        ok = sum(pool.map(_bare_extract, jobs, chunksize=4))
        seconds = time.perf_counter() - started
        cpu = sum(_proc_cpu(p) for p in pids) - cpu0
        foreign = system_cpu() - sys0 - cpu
    return seconds, cpu, ok, foreign


def limit_figures(site: LoopbackSite, n: int, workers: int) -> dict:
    seconds, cpu, ok, foreign = measure_limit(site, n, workers)
    print(f"limit: {n / seconds:.1f} pages/s", file=sys.stderr)
    return {"seconds": seconds, "rate": n / seconds, "cpu_per_page": cpu / n, "extracted": ok,
            "other_load": foreign / seconds}


def bracketed(before: dict, after: dict, n: int) -> dict:
    """The two limit runs as one: mean wall time and mean CPU per page."""
    seconds = (before["seconds"] + after["seconds"]) / 2
    return {"seconds": seconds, "rate": n / seconds,
            "cpu_per_page": (before["cpu_per_page"] + after["cpu_per_page"]) / 2,
            "extracted": min(before["extracted"], after["extracted"]),
            "other_load": (before["other_load"] + after["other_load"]) / 2}


# --- 2-4. palimpsest and trafilatura's CLI ----------------------------------------------------


def write_config(workdir: Path) -> Path:
    config = workdir / "config.toml"
    config.write_text(
        '[archive]\ndb = "archive.db"\n\n'
        "[fetch]\nallow_private_networks = true\nper_host_delay = 0.0\n\n"
        "[run]\nmax_runtime = 7200.0\n",
        encoding="utf-8",
    )
    return config


def archive_cmd(config: Path, *args: str) -> list[str]:
    return [str(_BIN / "archive"), "--config", str(config), *args]


def outcome_counts(stdout: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in json.loads(stdout or "[]"):
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    return counts


def trafilatura_config(workdir: Path) -> Path:
    import trafilatura

    text = (Path(trafilatura.__file__).parent / "settings.cfg").read_text(encoding="utf-8")
    text = text.replace("SLEEP_TIME = 5.0", "SLEEP_TIME = 0")
    text = text.replace("SSRF_PROTECTION = on", "SSRF_PROTECTION = off")  # loopback URLs
    path = workdir / "trafilatura.cfg"
    path.write_text(text, encoding="utf-8")
    return path


def db_bytes(path: Path) -> tuple[int, dict[str, int]]:
    """Bytes in use after a checkpoint (file pages minus free pages), and per table/index."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages, free, size = (conn.execute(f"PRAGMA {p}").fetchone()[0]
                             for p in ("page_count", "freelist_count", "page_size"))
        parts = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        return (pages - free) * size, parts
    finally:
        conn.close()


def db_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("pages", "versions", "fetches", "blobs")}
    finally:
        conn.close()


# --- the run ---------------------------------------------------------------------------------


def compile_bytecode() -> None:
    """Write palimpsest's bytecode as a wheel install would. An editable install run with
    PYTHONDONTWRITEBYTECODE (set on these machines) otherwise compiles every module of
    pipeline/ and archive/ again in each command, ~0.1 s of each command's start-up."""
    import compileall

    for package in ("pipeline", "archive"):
        compileall.compile_dir(ROOT / package, quiet=1)


PHASES = ("limit", "first", "cli", "recheck")


def run(n: int, *, parallel: int = 16, keep: Path | None = None,
        phases: tuple[str, ...] = PHASES) -> dict:
    workers = os.cpu_count() or 1
    compile_bytecode()
    workdir = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    figures: dict = {"pages": n, "workers": workers}
    try:
        with LoopbackSite(n) as site:
            raw_total = sum(len(b) for b in site.bodies())
            figures["raw_bytes"] = raw_total
            server_cpu0 = _proc_cpu(site.pid)

            if "limit" in phases:
                figures["limit_before"] = limit_figures(site, n, workers)

            config = write_config(workdir)
            m = run_measured(archive_cmd(config, "add", "--json", *site.urls), cwd=workdir)
            counts = outcome_counts(m.stdout)
            figures["first"] = _figures(m, n, counts, _proc_cpu(site.pid) - server_cpu0)
            if "limit" in phases:
                # This machine's speed drifts by tens of percent over minutes: the limit is
                # measured on both sides of the first captures and compared as their mean.
                figures["limit_after"] = limit_figures(site, n, workers)
                figures["limit"] = bracketed(figures["limit_before"], figures["limit_after"], n)
            size, parts = db_bytes(workdir / "archive.db")
            figures["db_first"] = {"bytes": size, "parts": parts, **db_counts(workdir / "archive.db")}
            print(f"first captures: {n / m.seconds:.1f} pages/s {counts}", file=sys.stderr)

            if "cli" in phases:
                figures["cli"] = measure_cli(site, workdir, parallel)
            if "recheck" in phases:
                measure_rechecks(site, config, workdir, figures)
    finally:
        if keep:
            shutil.copytree(workdir, keep, dirs_exist_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return figures


def measure_cli(site: LoopbackSite, workdir: Path, parallel: int) -> dict:
    n = len(site.urls)
    url_file = workdir / "urls.txt"
    url_file.write_text("\n".join(site.urls) + "\n", encoding="utf-8")
    server_cpu0 = _proc_cpu(site.pid)
    # JSON to stdout, one document per line: with -o, files are named by a hash of their
    # words, so copies of one page overwrite each other and cannot be counted.
    t = run_measured(
        [str(_BIN / "trafilatura"), "-i", str(url_file), "--parallel", str(parallel),
         "--with-metadata", "--json", "--config-file", str(trafilatura_config(workdir))],
        cwd=workdir,
    )
    written = sum(1 for line in t.stdout.splitlines() if line.startswith("{"))
    print(f"trafilatura CLI: {n / t.seconds:.1f} pages/s, {written} documents", file=sys.stderr)
    return _figures(t, n, {"written": written}, _proc_cpu(site.pid) - server_cpu0)


def measure_rechecks(site: LoopbackSite, config: Path, workdir: Path, figures: dict) -> None:
    n = len(site.urls)
    for name, etags in (("same_body", False), ("not_modified", True)):
        site.set_etags(etags)
        server_cpu0 = _proc_cpu(site.pid)
        before, _ = db_bytes(workdir / "archive.db")
        r = run_measured(archive_cmd(config, "run", "--all", "--no-discover", "--json"),
                         cwd=workdir)
        counts = json.loads(r.stdout or "{}")
        after, _ = db_bytes(workdir / "archive.db")
        figures[name] = _figures(r, n, counts, _proc_cpu(site.pid) - server_cpu0)
        figures[name]["bytes_per_check"] = (after - before) / n
        print(f"re-check {name}: {n / r.seconds:.1f} pages/s", file=sys.stderr)


def _figures(m: Measured, n: int, counts: dict, server_cpu: float) -> dict:
    return {"seconds": m.seconds, "rate": n / m.seconds, "cpu_per_page": m.cpu / n,
            "peak_rss": m.peak_rss, "max_rss_one": m.max_rss_one, "counts": counts,
            "returncode": m.returncode, "server_cpu_per_page": server_cpu / n,
            "other_load": max(0.0, m.other_cpu - server_cpu) / m.seconds}


# --- report ----------------------------------------------------------------------------------


def ratios(f: dict) -> dict:
    first = f["first"]["rate"]
    versions = f["db_first"]["versions"] or 1
    stored_raw = f["raw_bytes"] * versions / f["pages"]
    out = {
        "db_ratio": f["db_first"]["bytes"] / stored_raw,
        "bytes_per_version": f["db_first"]["bytes"] / versions,
        "rss_mb": f["first"]["peak_rss"] / 1e6,
    }
    if "limit" in f:
        out["limit_ratio"] = first / f["limit"]["rate"]
        # Load-independent view: CPU per page of the limit against the whole palimpsest tree.
        out["limit_cpu_ratio"] = f["limit"]["cpu_per_page"] / f["first"]["cpu_per_page"]
    if "cli" in f:
        out["cli_ratio"] = first / f["cli"]["rate"]
    for name in ("same_body", "not_modified"):
        if name in f:
            out[f"{name}_ratio"] = f[name]["rate"] / first
    return out


def render(f: dict) -> str:
    r = ratios(f)
    n, mb = f["pages"], 1e6

    def ok(good: bool) -> str:
        return "met" if good else "**missed**"

    def row(label, m, extra=""):
        rss = f"{m['peak_rss'] / mb:.0f}" if m.get("peak_rss") else ""
        return (f"| {label} | {m['rate']:.1f} | {m['cpu_per_page'] * 1000:.1f} | {rss} |"
                f" {m.get('other_load', 0):.2f} | {extra} |")

    full = all(key in f for key in ("limit", "cli", "same_body"))
    command = "python -m bench throughput" + ("" if full else f" --pages {n} --phases first")
    lines = [
        "## Throughput" if full else f"## Throughput at {n:,} pages (first captures only)",
        "",
        f"`{command}`: {n:,} distinct URLs (the 308 corpus pages, each copy with",
        "its own marker so no two bodies are equal) on a loopback server spread over 50 hosts",
        "(127.0.0.1-50, per-host delay 0, in its own process), "
        f"{f['raw_bytes'] / mb:.0f} MB of raw HTML. {machine_line()}.",
        "",
        "| measured in this run | pages/s | CPU ms/page (tree) | peak RSS MB (tree) |"
        " other load (cores) | notes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    if "limit" in f:
        for key, when in (("limit_before", "before"), ("limit_after", "after")):
            lim = f[key]
            lines.append(row(f"1. limit: `trafilatura.extract(with_metadata=True)` from memory,"
                             f" {f['workers']} processes, {when} row 2", lim,
                             f"{lim['extracted']} extracted"))
    lines.append(row("2. palimpsest `archive add` (first captures, empty db)", f["first"],
                     _counts(f["first"]["counts"])))
    if "cli" in f:
        lines.append(row("3. `trafilatura -i urls.txt --parallel 16 --with-metadata --json`,"
                         " SLEEP_TIME 0", f["cli"], f"{f['cli']['counts']['written']} documents"))
    if "same_body" in f:
        lines.append(row("4a. `archive run --all`, identical bodies (hash skip)", f["same_body"],
                         _run_counts(f["same_body"]["counts"])))
        lines.append(row("4b. `archive run --all`, 304 Not Modified", f["not_modified"],
                         _run_counts(f["not_modified"]["counts"])))
    lines += [
        "",
        "Wall time is the whole command, start-up included. CPU is user+system of the command's",
        "process tree (wait4). *Other load* is CPU the rest of the machine used meanwhile, in cores",
        "(the loopback server excluded; other jobs on this shared machine); with 2 cores, anything",
        "above 0 slows every row. The server itself used "
        f"{f['first']['server_cpu_per_page'] * 1000:.1f} ms of CPU per first capture.",
        "",
        "| target | measured | |",
        "|---|---:|---|",
    ]
    if "limit_ratio" in r:
        each = sorted(f["first"]["rate"] / f[key]["rate"] for key in ("limit_before", "limit_after"))
        lines.append(f"| first captures ≥ 0.85 × limit (pages/s; mean of the two limit runs) |"
                     f" {r['limit_ratio']:.2f} ({each[0]:.2f} and {each[1]:.2f} against each) |"
                     f" {ok(r['limit_ratio'] >= 0.85)} |")
        lines.append(f"| same, by CPU per page (limit CPU / palimpsest tree CPU) |"
                     f" {r['limit_cpu_ratio']:.2f} | {ok(r['limit_cpu_ratio'] >= 0.85)} |")
    if "cli_ratio" in r:
        lines.append(f"| first captures ≥ 1.5 × trafilatura CLI | {r['cli_ratio']:.2f} |"
                     f" {ok(r['cli_ratio'] >= 1.5)} |")
    for name, label in (("same_body", "hash-skip"), ("not_modified", "304")):
        if f"{name}_ratio" in r:
            value = r[f"{name}_ratio"]
            lines.append(f"| {label} re-check ≥ 20 × first captures | {value:.1f} |"
                         f" {ok(value >= 20)} |")
    lines.append(f"| peak RSS < 600 MB (this run: {n:,} pages) | {r['rss_mb']:.0f} MB |"
                 f" {ok(r['rss_mb'] < 600)} |")
    lines.append(f"| database ≤ 0.35 × raw HTML (first captures) | {r['db_ratio']:.3f} |"
                 f" {ok(r['db_ratio'] <= 0.35)} |")
    if "same_body" in f:
        worst = max(f["same_body"]["bytes_per_check"], f["not_modified"]["bytes_per_check"])
        lines.append(f"| < 300 bytes per unchanged check (hash skip / 304) |"
                     f" {f['same_body']['bytes_per_check']:.0f} /"
                     f" {f['not_modified']['bytes_per_check']:.0f} | {ok(worst < 300)} |")
    lines += [
        "",
        f"Storage after first captures: {f['db_first']['bytes'] / mb:.1f} MB for"
        f" {f['db_first']['versions']:,} versions ({r['bytes_per_version'] / 1000:.1f} kB each;"
        f" raw HTML {f['raw_bytes'] / n / 1000:.0f} kB per page). By table and index:",
        "",
        "| object | MB | share |",
        "|---|---:|---:|",
    ]
    total = sum(f["db_first"]["parts"].values()) or 1
    for name, size in sorted(f["db_first"]["parts"].items(), key=lambda kv: -kv[1])[:6]:
        lines.append(f"| {name} | {size / mb:.2f} | {size / total:.0%} |")
    # The profile notes describe the full run; a first-captures-only run is for its memory figure.
    return "\n".join(lines) + "\n" + (PROFILE if full else "")


PROFILE = """
### Where the time goes and what was done

First captures: cProfile on a CPU clock around `archive add`, `getrusage` of the main process
against its workers, and each step timed alone on the corpus pages. Unchanged re-checks: the
fetcher alone in a loop over the 1,232 loopback URLs, `archive run --all` (hash skip) with the
second fetching process on, off and automatic in turns (CPU of each process from `getrusage`),
cProfile of the parent, and `archive run --all --limit 1` for the fixed cost. Other jobs kept
this 2-core machine busy (a load of 2-7) through all of it, so absolute figures are high; the
comparisons were made side by side. CPU per page:

| step | where | CPU ms/page | done |
|---|---|---:|---|
| extraction: `pipeline.extract.extract` (trafilatura + metadata + cleaning) | worker | 39 → ~32 | bare `trafilatura.extract(with_metadata=True)` is 43 on the same pages, timed alone. Before the comparison skip (next row), ours cost 0.97 of bare trafilatura interleaved page by page in two pool workers, and 0.95 and 1.13 of it in the two workers of a real `archive add` (a bare `trafilatura.extract` timed beside each page). Both grow by a third or more when the machine is busy |
| trafilatura's readability/justext comparison, run only where it can change the body | worker | -19% of extraction | trafilatura compares its own body with readability's (and justext's) on every page, about a quarter of its pass. Readability can only replace a body that is under half its length, has no paragraph text or is mostly tables; justext only a short body or one still holding furniture (`<svg>`, `<figure>`, ...). On the 308 corpus pages readability won 10 times, always against an own body of at most 894 characters. `pipeline.extract` now runs trafilatura with `fast=True` and keeps that body when it is at least 2,000 characters, clean paragraphs, and at least half the paragraph text of the page; any other page gets the full pass, and a page with under 2,000 characters of paragraph text goes to it directly (42 of the 69 passes that needed it). Interleaved page by page on the 308 pages: 47.1 against 60.8 ms a page (0.78), and `extract()` returned an identical `Extracted` on every page |
| parsing: lxml.html's element class lookup | worker | -6% of extraction | lxml.html's parser calls a Python method (`HtmlElementClassLookup.lookup`) for every element proxy it creates, ~4,600 a page. `pipeline.extract` parses with the same options on a parser whose lookup is C-level (`ElementDefaultClassLookup` with the `HtmlElement` classes; only form elements lose their form helpers, which nothing uses): 64.5 against 68.6 ms a page interleaved in two workers (0.94), identical output on all 308 pages |
| htmldate's first use of dateparser | worker | ~0.4 s per worker, once | `find_date(extensive_search=True)` reaches dateparser on 1-2 of the 33 pages without a declared date; the first call loads its locale data (~0.32 s) and htmldate's month-name set (~0.11 s). `extensive_search=False` loses two of those dates (aeb), so it stays; at 1,232 pages over two workers this is ~0.7 ms a page |
| starting the extraction workers | forkserver | +0.5 s CPU, +0.7 s wall per command | workers fork from a forkserver (`set_forkserver_preload`: `pipeline.extract`, and `pipeline.cli` when the run is the CLI, since multiprocessing runs the main script again in each worker) instead of from the run, which has a writer thread (and in tests a server thread) that may hold a lock at the instant of a fork: a worker forked then waited for ever (the `extract_timeout` on a tiny first page). `archive add` of 4 URLs, fork against forkserver alternated 4 times: 1.05 against 1.54 s of CPU, 1.11 against 1.79 s of wall (a second interpreter on the critical path, multiprocessing's resource tracker); without the CLI preload it was 2.6 s of CPU. Per page nothing changes: ~0.4 ms a page at 1,232 pages |
| fetch of one unchanged page whose compressed bytes are the same as last time | main or fetch process | 1.4-1.5 | was 2.5-2.6 in the same conditions (1.4-1.7 on a quiet machine). `pages.wire_sha256` keeps the sha256 of the Content-Encoding and the bytes as sent for the baseline body; the fetcher hashes the bytes as they arrive, holds them undecoded (up to the body cap, past which it decodes as before), and when the hash matches it neither inflates nor hashes 232 kB again: same bytes, same decoder, same body. Every other answer is decoded with the same caps as before. A 304 gains nothing from it |
| gzip inflate of a body that did change (232 kB) | main or fetch process | 0.4 | was 0.8 (zlib): ISA-L (`isal`), same caps (`max_length` per piece) |
| charset decode of the body | main | 0 | was 0.45 on every fetch: `FetchResult.text` is decoded on first use, and nothing in the main process uses it (the worker decodes, and reports the charset) |
| the HTTP exchange itself (httpx/httpcore/h11 framing, anyio locks and timers) | main or fetch process | ~1.2 | spread thin over many small calls; not rewritten. A second process runs it for ~60% of the pages (below) |
| a second fetching process (`pipeline.fetch_shard`) | both | +0.3 | `archive run` forks a child before any thread starts; for 200 pages or more over two hosts or more, and only if a core sat idle between the fork and the page list (/proc/stat), the child runs an ordinary `Fetcher` for the hosts holding ~60% of the pages and sends back each result (the body only when it did not hash as the baseline). Robots, the host gate (a host's slot is held in the parent for the whole remote fetch), retries and every write stay in the parent; a kill -9 of either loses nothing stored, the child dies with the parent, and a dead or silent child's pages are fetched in the parent. With one core taken by another job, the 1,232-page hash-skip run took 2.05-2.15 s in one process (2.0 s CPU, 574-601 pages/s) and 2.46-2.50 s split (parent 1.5 s CPU of which ~0.6 start-up, child 0.9 s; 493-501 pages/s): the split costs ~0.3 ms a page (pickling, the socket, a second event loop) and loses without a free core, hence the idle check (it chose one process in those runs). In the quiet run at the top the check chose the split: the command's tree used 3.4 s of CPU in 2.7 s. The hash-skip rate went from 295 to 456 pages/s and the 304 rate from 303 to 401, still short of 20× |
| where an unchanged re-check's wall time goes (final code) | all | | `archive run --all` over the 1,232 unchanged pages, timestamps inside the command: Python up at 30-40 ms, imports done at 300-360 ms, pages checked from ~350 ms to 1.7-2.1 s, then ~0.1 s of exit. The fetcher alone, in a loop over the same URLs, costs 1.18 ms of CPU a page, spread over httpx, httpcore and h11 (request and header objects, URL parsing, state machines) with no single hot spot; the loopback server adds ~0.25 ms a page on the same two cores. The second fetching process's share (0.65-0.95 of the pages) made no measurable difference. Opening the database no longer loads sqlite-utils plugins, whose discovery scanned every installed package (~25 ms a command) |
| IPC bookkeeping in the parent | main | small | one watchdog timer for all remote requests instead of an `asyncio.timeout` each; the connection pool takes no timer when a slot is free; `HostGate.host_of` (asked 3+ times a page) is cached |
| everything else for an unchanged page: session, robots, politeness, schedule, asyncio | main | 0.3 | measured with the fetch stubbed out |
| unchanged-check row (`record_unchanged`, one transaction) | writer thread | 0.17 | kept: one transaction per row, so a kill -9 loses nothing stored. Rows that arrive while the writer is busy share one thread hop (`StoreWriter.call_grouped`) |
| command start-up (fixed, per command) | main | 0.5 s CPU | was 0.9 s: no trafilatura, feedparser or httpx CLI import in a run of unchanged pages, and the CA bundle (~70 ms) is loaded only for the first https origin. Then: the extraction pool is made on the first page that needs it (its queue locks started multiprocessing's resource tracker, a second interpreter, in runs that extract nothing), and pipeline/ and archive/ are byte-compiled at install and before this bench (an editable install under `PYTHONDONTWRITEBYTECODE`, as on these machines, compiled ~60 modules again in every command: importing `pipeline.cli` took 0.55 s without bytecode, 0.45 s with it). `archive run --all --no-discover --limit 1`: 0.58-0.60 s of wall time. The rest is imports of httpx (~0.2 s alone), sqlite-utils (~0.1 s, with its plugin scan), asyncio and click |
| raw-body compression for the blob | worker | 0.4-0.6 | was 1.9-2.2 (zlib level 1, 0.233 of the raw size): ISA-L level 2 writes the same zlib stream at 0.227 |
| field normalisation and hashes (`archive.normalize.field_hashes`) | worker | 0.7-1.4 | kept |
| store side of a new version (`latest_text`, `rekey`, aliases, `save`) | writer thread | ~1-2 | kept: one `BEGIN IMMEDIATE` per page, one writer-thread hop for all of it |
| words added for a first version (`Archive.save`) | writer thread | 0.2 | was 1.2: a word diff against the empty string; now a word count |
| `pipeline.session.wait_all` | main | O(1) per page | was ~6 ms a page at 10,000 pages: a done-callback counter replaces `asyncio.wait` on every pending task |

The main process of a first capture costs about 5-7 ms a page in all (fetch, the writer thread,
the process pool's feeder and result threads), against the worker's decode, extraction,
packing and hashes. The workers' CPU reaches the command's wait4 because the run
reaps the forkserver (which reaped them) at exit. `archive add` does not use the second fetching process: its pages
all need extraction, which already keeps both cores busy. The loopback server shares the two
cores with the fetching processes (0.2-0.3 ms of CPU per re-check). Not done: batching unchanged rows into one transaction (would weaken what a
kill -9 keeps), and an HTTP/1.1 client of our own.
Memory: at 10,000 pages the tree peaked with the main process near 155 MB and each extraction
worker near 190 MB (workers grow with the pages they have parsed; recycling them every few
hundred pages would bound it).
"""


def _counts(counts: dict) -> str:
    return ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))


def _run_counts(counts: dict) -> str:
    keys = ("new_versions", "unchanged", "not_modified", "errors")
    return ", ".join(f"{counts.get(k, 0)} {k}" for k in keys)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput")
    parser.add_argument("--pages", type=int, default=int(os.environ.get("BENCH_PAGES", DEFAULT_PAGES)))
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--keep", type=Path, help="copy the work directory (database) here")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help="comma-separated subset of " + ",".join(PHASES) + " (first always runs)")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/BENCHMARKS.md")
    args = parser.parse_args(argv or [])
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    figures = run(args.pages, keep=args.keep, phases=phases)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    text = render(figures)
    print(text)
    if not args.no_write:
        # The 10,000-page RSS run is its own section, so it never overwrites the full table.
        write_section("throughput" if set(PHASES) <= set(phases) else "throughput-rss", text)


if __name__ == "__main__":
    os.chdir(ROOT)
    main(sys.argv[1:])
