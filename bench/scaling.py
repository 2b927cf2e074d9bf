"""Reading and scheduling cost as the archive grows: 1,000 vs 100,000 tracked pages.

Each archive is built the fast way: a template page is saved through the real store API
(two versions, a few checks), then copied N times with INSERT ... SELECT, so every table
(pages, versions, fetches, changes) grows in proportion and the copies share the template's
blob. One probe page is saved through the API with 500 versions. Then, in both archives:

- selecting due pages (``Archive.due(now, limit=200)``, what a run with a page budget asks);
- ``Archive.pages(limit=20)`` (``archive list --limit 20``), ``history`` and ``diff`` of one page;
- the 500-version page: diff of two neighbouring versions and of the first against the last;
- opening the archive for writing (what every ``archive run`` does first);
- the query plan of every statement those calls ran (EXPLAIN QUERY PLAN): a full ``SCAN`` of
  a large table without an index is reported.

    python -m bench scaling
"""

from __future__ import annotations

import random
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from archive.diff import diff_versions
from archive.models import Content, FetchInfo, Snapshot
from archive.store import Archive
from bench.report import machine_line, write_section

SIZES = (1_000, 100_000)
PROBE_VERSIONS = 500
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
_WORDS = ("the minister said council report would publish new figures on housing water rail "
          "budget after weeks of talks with unions and mayors across the region today").split()


def article(rng: random.Random, paragraphs: int = 14) -> str:
    return "\n".join(
        " ".join(rng.choice(_WORDS) for _ in range(rng.randint(30, 60))).capitalize() + "."
        for _ in range(paragraphs)
    )


def edit(text: str, rng: random.Random) -> str:
    """One small newsroom edit: a word replaced in one paragraph."""
    paras = text.split("\n")
    i = rng.randrange(len(paras))
    words = paras[i].split(" ")
    words[rng.randrange(len(words))] = rng.choice(_WORDS) + str(rng.randint(0, 99))
    paras[i] = " ".join(words)
    return "\n".join(paras)


def snapshot(url: str, text: str, at: datetime, n: int) -> Snapshot:
    html = f"<html><body><article>{text}</article><!-- {n} --></body></html>".encode()
    import hashlib

    return Snapshot(
        url=url,
        content=Content(title=f"Probe headline {n % 3}", authors=("A. Writer",),
                        published="2025-01-01", text=text),
        fetch=FetchInfo(started_at=at, duration=0.05, status=200, final_url=url, etag=f'"{n}"',
                        body_sha256=hashlib.sha256(html).hexdigest()),
        raw_html=html, markdown=text, extractor="bench", extractor_version="0",
    )


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})") if row[1] != "id"]


def build(path: Path, pages: int) -> None:
    rng = random.Random(7)
    with Archive(path) as archive:
        template = "http://template.example/a/0"
        archive.track(template, now=T0)
        text = article(rng)
        for n in range(2):
            archive.save(snapshot(template, text, T0 + timedelta(hours=n), n), next_check_at=T0)
            text = edit(text, rng)
        for n in range(3):
            archive.record_unchanged(
                template, FetchInfo(started_at=T0 + timedelta(hours=3 + n), status=304),
                outcome="not_modified", next_check_at=T0 + timedelta(days=1))
        conn = archive.conn
        tid = conn.execute("SELECT id FROM pages WHERE url = ?", (template,)).fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        cols = _columns(conn, "pages")
        exprs = [
            {"url": "'http://h' || (i % 500) || '.example/2025/' || i",
             # spread over 10 days: about a tenth of the pages are due a day after T0
             "next_check_at": "strftime('%Y-%m-%dT%H:%M:%SZ', '2025-01-01', '+' || (i * 7919 % 864000) || ' seconds')",
             }.get(c, f"t.{c}")
            for c in cols
        ]
        conn.execute(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            f" INSERT INTO pages ({', '.join(cols)}) SELECT {', '.join(exprs)}"
            f" FROM n, pages t WHERE t.id = ?", (pages - 1, tid))
        for table in ("versions", "fetches", "changes"):
            cols = _columns(conn, table)
            sel = ", ".join("p.id" if c == "page_id" else f"x.{c}" for c in cols)
            order = " ORDER BY p.id, x.rowid"
            conn.execute(
                f"INSERT INTO {table} ({', '.join(cols)}) SELECT {sel} FROM pages p"
                f" JOIN {table} x ON x.page_id = ? WHERE p.id != ?{order}", (tid, tid))
        conn.execute("COMMIT")
        probe = "http://probe.example/2025/long-story"
        archive.track(probe, now=T0)
        text = article(rng)
        for n in range(PROBE_VERSIONS):
            archive.save(snapshot(probe, text, T0 + timedelta(minutes=15 * n), n), next_check_at=T0)
            text = edit(text, rng)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("ANALYZE")


def _timed(fn, repeat: int = 7) -> float:
    """Fastest of ``repeat`` calls after a warm-up: the machine is shared, and other jobs only
    ever add time, so the minimum is the least noisy estimate."""
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(path: Path) -> tuple[dict[str, float], dict[str, list[str]]]:
    page = "http://h7.example/2025/7"
    probe = "http://probe.example/2025/long-story"
    now = T0 + timedelta(days=1)
    timings: dict[str, float] = {}
    plans: dict[str, list[str]] = {}
    timings["open for writing"] = _timed(lambda: Archive(path).close(), repeat=3)
    with Archive(path, write=False) as archive:
        ops = {
            "due (limit 200)": lambda: archive.due(now, limit=200),
            "list --limit 20": lambda: archive.pages(limit=20),
            "history (2 versions)": lambda: archive.history(page),
            "diff latest two": lambda: diff_versions(archive.version(page, 1), archive.version(page, 2)),
            "500 versions: history": lambda: archive.history(probe),
            "500 versions: diff v250..v251": lambda: diff_versions(
                archive.version(probe, 250), archive.version(probe, 251)),
            "500 versions: diff v1..v500": lambda: diff_versions(
                archive.version(probe, 1), archive.version(probe, 500)),
        }
        for name, fn in ops.items():
            timings[name] = _timed(fn)
            plans[name] = _plans(archive.conn, fn)
        timings["due (all due)"] = _timed(lambda: archive.due(now), repeat=3)
        timings["pages due"] = len(archive.due(now))
    return timings, plans


def _plans(conn: sqlite3.Connection, fn) -> list[str]:
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        fn()
    finally:
        conn.set_trace_callback(None)
    out = []
    for sql in dict.fromkeys(statements):
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        limited = " LIMIT " in sql.upper()
        for row in conn.execute("EXPLAIN QUERY PLAN " + sql):
            out.append(f"{row[3]}{' (LIMIT)' if limited else ''}  ← {' '.join(sql.split())[:90]}")
    return out


def full_scans(plans: dict[str, list[str]]) -> list[str]:
    """Plan lines that read a whole large table: SCAN without an index or a LIMIT to stop it."""
    bad = []
    for name, lines in plans.items():
        for line in lines:
            detail, _, sql = line.partition("  ← ")
            if detail.startswith("SCAN") and "INDEX" not in detail and "(LIMIT)" not in detail:
                bad.append(f"{name}: {line}")
    return bad


def render(results: dict[int, tuple[dict, dict]], build_seconds: dict[int, float],
           sizes: dict[int, int]) -> str:
    small, large = SIZES
    t_small, _ = results[small]
    t_large, plans = results[large]
    lines = [
        "## Scaling",
        "",
        "`python -m bench scaling`: archives with "
        f"{small:,} and {large:,} tracked pages (each page: 2 versions, 2 new-version checks and "
        "3 304s; built with INSERT … SELECT from one page saved through the store), plus one page "
        f"with {PROBE_VERSIONS} versions saved through `Archive.save`. {machine_line()}.",
        f"Build: {build_seconds[small]:.1f} s / {build_seconds[large]:.1f} s; "
        f"size {sizes[small] / 1e6:.1f} MB / {sizes[large] / 1e6:.1f} MB.",
        "",
        f"| operation (fastest of 7) | {small:,} pages | {large:,} pages | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name in t_small:
        if name == "pages due":
            continue
        a, b = t_small[name], t_large[name]
        lines.append(f"| {name} | {a * 1000:.2f} ms | {b * 1000:.2f} ms | {b / a:.2f} |")
    lines.append(f"| pages due a day after the start | {t_small['pages due']:,} | "
                 f"{t_large['pages due']:,} | |")
    scans = full_scans(plans)
    lines += [
        "",
        f"Query plans at {large:,} pages (EXPLAIN QUERY PLAN of every SELECT the calls ran):",
        "",
        "```",
        *sorted({line for lines_ in plans.values() for line in lines_}),
        "```",
        "",
        ("No statement scans a large table without an index." if not scans
         else "Full scans found:\n\n" + "\n".join(f"- {s}" for s in scans)),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    results, build_seconds, sizes = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        for n in SIZES:
            path = Path(tmp) / f"archive-{n}.db"
            started = time.perf_counter()
            build(path, n)
            build_seconds[n] = time.perf_counter() - started
            sizes[n] = path.stat().st_size
            results[n] = measure(path)
            print(f"scaling: {n:,} pages built in {build_seconds[n]:.1f} s", file=sys.stderr)
    text = render(results, build_seconds, sizes)
    print(text)
    if "--no-write" not in (argv or sys.argv[1:]):
        write_section("scaling", text)


if __name__ == "__main__":
    main(sys.argv[1:])
