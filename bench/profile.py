"""Where a first capture's CPU goes, by pyinstrument, on the extraction worker's path.

A first capture is bound by its extraction workers (bench/throughput.py: the main process
costs ~5-7 ms a page against ~60 in the workers), so this profiles what a worker runs per
page, ``pipeline.workers.prepare_in_worker`` (decode, extract, compress, hash), over the 308
corpus pages in this one process, after a warm-up that loads every library. It reports ms
per page by stage and the functions with the most time of their own.

    python -m bench profile            # writes its section of docs/BENCHMARKS.md
    python -m bench profile --no-write
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict

from pyinstrument import Profiler

from bench.loopback import corpus_pages
from bench.report import ROOT, write_section
from pipeline.workers import default_extract, prepare_in_worker

INTERVAL = 0.0005  # seconds between samples
# Stages of prepare_in_worker, by the function that starts each (module, function).
STAGES = {
    ("pipeline/charset.py", "decode_html"): "decode the body (charset)",
    ("pipeline/extract.py", "_load_html"): "parse the HTML (lxml)",
    ("pipeline/metadata_sources.py", "collect"): "read the metadata voices (JSON-LD, meta, h1, time)",
    ("pipeline/extract_clean.py", "clean_tree"): "clean the tree (ads, hidden boxes)",
    ("pipeline/extract_split.py", "join_split_body"): "join a split body",
    ("pipeline/extract_split.py", "paragraph_divs"): "paragraph-like divs",
    ("pipeline/extract_split.py", "unwrap_paragraphs"): "unwrap paragraphs",
    ("pipeline/extract.py", "_trafilatura"): "trafilatura: body extraction",
    ("pipeline/extract.py", "_render"): "body to text and Markdown",
    ("pipeline/metadata.py", "choose"): "choose title, authors, dates by agreement",
    ("pipeline/extract.py", "_htmldate"): "htmldate (pages without a declared date)",
    ("pipeline/workers.py", "pack"): "compress the raw body (ISA-L)",
    ("archive/normalize.py", "field_hashes"): "normalise and hash the fields",
}
TOP = 15
_PREFIX = re.compile(r"^.*(?:/site-packages/|/lib/python3\.\d+/|" + re.escape(f"{ROOT}/") + ")")


def _key(frame) -> tuple[str, str]:
    """(path from the package or the project root, function) of a frame."""
    path = (frame.file_path or "").replace("\\", "/")
    path = _PREFIX.sub("", path)
    return path, frame.function or "?"


def _walk(frame, stage: str | None, by_stage: dict, by_function: dict) -> None:
    if frame.is_synthetic:  # a "[self]" leaf: its time is already its parent's own time
        return
    key = _key(frame)
    for (suffix, function), name in STAGES.items():
        if stage is None and key[1] == function and key[0].endswith(suffix):
            stage = name
    by_function[key] += frame.total_self_time
    if stage is not None:
        by_stage[stage] += frame.total_self_time
    for child in frame.children:
        _walk(child, stage, by_stage, by_function)


def profile(rounds: int = 1) -> dict:
    pages = corpus_pages()
    jobs = [(raw, f"https://bench.example/{i}.html") for i, raw in enumerate(pages)]
    # A worker runs for hundreds of pages: one pass first loads every library and fills the
    # caches (dateparser's locale data and patterns, lxml's parser), as in a long run.
    for raw, url in jobs:
        prepare_in_worker(default_extract, raw, url, url, 600.0)
    profiler = Profiler(interval=INTERVAL)
    cpu0 = time.process_time()
    profiler.start()
    for _ in range(rounds):
        for raw, url in jobs:
            prepare_in_worker(default_extract, raw, url, url, 600.0)
    profiler.stop()
    cpu = time.process_time() - cpu0
    n = rounds * len(jobs)
    by_stage: dict[str, float] = defaultdict(float)
    by_function: dict[tuple[str, str], float] = defaultdict(float)
    root = profiler.last_session.root_frame()
    _walk(root, None, by_stage, by_function)
    sampled = sum(by_function.values())
    return {"pages": n, "cpu_ms": cpu / n * 1000, "sampled_ms": sampled / n * 1000,
            "stages": {k: v / n * 1000 for k, v in by_stage.items()},
            "functions": sorted(((v / n * 1000, k) for k, v in by_function.items()),
                                reverse=True)[:TOP]}


def render(figures: dict) -> str:
    n, sampled = figures["pages"], figures["sampled_ms"]
    lines = [
        "## First-capture profile (pyinstrument)",
        "",
        f"`python -m bench profile`: pyinstrument (a sample every {INTERVAL * 1000:g} ms) over "
        f"`pipeline.workers.prepare_in_worker`, what an extraction worker runs per page, for the "
        f"{n} corpus pages in one process, after one unprofiled pass over them. {figures['cpu_ms']:.1f} ms of CPU a "
        f"page while profiled ({sampled:.1f} ms sampled); the profiler's own cost is included, "
        "so compare the shares, not the totals, with the throughput section.",
        "",
        "| stage | ms/page | share |",
        "|---|---:|---:|",
    ]
    staged = 0.0
    for name in STAGES.values():
        value = figures["stages"].get(name, 0.0)
        staged += value
        lines.append(f"| {name} | {value:.1f} | {value / sampled:.0%} |")
    rest = sampled - staged
    lines.append(f"| the rest (byline and headline trimming, the worker's glue) | "
                 f"{rest:.1f} | {rest / sampled:.0%} |")
    lines += ["", f"The {TOP} functions with the most time of their own:", "",
              "| function | file | ms/page | share |", "|---|---|---:|---:|"]
    for value, (path, function) in figures["functions"]:
        lines.append(f"| `{function}` | {path} | {value:.2f} | {value / sampled:.1%} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench profile")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the 308 pages")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/BENCHMARKS.md")
    args = parser.parse_args(argv or [])
    text = render(profile(args.rounds))
    print(text)
    if not args.no_write:
        write_section("profile", text)
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
