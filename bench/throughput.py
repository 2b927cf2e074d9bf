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
from bench.report import ROOT, write_section
from bench.throughput_report import render

DEFAULT_PAGES = 1232  # four copies of the 308 corpus pages
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
