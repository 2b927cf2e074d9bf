"""Change detection through the real pipeline: loopback HTTP -> fetch -> extract -> store -> diff.

For every sampled corpus page and every mutation kind there is one URL on an in-process
loopback server. Round 1 serves the furnished page and captures version 1; round 2 serves
the same bytes again (must be "same_body"); round 3 serves the page with one mutation and
re-checks. Cosmetic churn must leave the page unchanged; a substantive edit must make a
version whose changed fields include the edited one and whose JSON diff shows exactly the
edited words (a headline edit may show in the declared title, the printed <h1> headline
or the other declared headlines; every one that changed must show exactly the edited words). Pages: 30 from corpus/aeb and 30 from corpus/fundus-dev by default; all of them
with `python -m bench.changes --full` or BENCH_FULL=1 (BENCH_PAGES=N picks N per corpus).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from archive.diff import diff_versions
from archive.render import diff_to_json
from archive.store import Archive
from bench.furniture import FURNITURE_KINDS, strip_marks
from bench.mutation_tree import Expect, article_paragraphs, serialize, words
from bench.mutations import COSMETIC, MUTATIONS, SUBSTANTIVE, Page, build, prepare
from bench.report import CORPUS, machine_line, write_section
from pipeline.config import Config
from pipeline.run import Engine
from pipeline.settings import ExtractSettings, FetchSettings

KINDS = COSMETIC + SUBSTANTIVE
TARGETS = {"substantive": 1.0, "cosmetic": 0.99}
_UNCHANGED = ("unchanged", "same_body", "not_modified")


# --- pages and the server -----------------------------------------------------------------------


def load_pages(per_corpus: int | None, seed: int = 5) -> list[Page]:
    pages = []
    for corpus in ("aeb", "fundus-dev"):
        truth = json.loads((CORPUS / corpus / "ground-truth.json").read_text(encoding="utf-8"))
        keys = sorted(truth)
        if per_corpus is not None and per_corpus < len(keys):
            keys = sorted(random.Random(seed).sample(keys, per_corpus))
        for key in keys:
            item = truth[key]
            path = CORPUS / corpus / "html" / (key if key.endswith(".gz") else f"{key}.html.gz")
            html = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
            name = f"{corpus}/{key.removesuffix('.html.gz')[:40]}"
            pages.append(prepare(name, item.get("url") or "https://example.com/", html,
                                 item.get("articleBody") or ""))
    return pages


class _Site:
    """A threaded loopback HTTP server whose pages can be swapped between rounds."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = site.pages.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Site:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _served(doc) -> bytes:
    strip_marks(doc)
    return serialize(doc).encode("utf-8")


def mutate(page: Page, kind: str, seed: int = 1) -> tuple[bytes | None, Expect | None]:
    """The page's HTML after one mutation of ``kind``, and what it should do; (None, None) if n/a."""
    if kind in FURNITURE_KINDS:
        return _served(build(page, {kind: seed})), Expect(kind, True)
    doc = build(page)
    paras = article_paragraphs(doc, page.truth_body)
    rng = random.Random(f"{page.name}:{kind}:{seed}")
    expect = MUTATIONS[kind](doc, paras, rng)
    return (_served(doc), expect) if expect else (None, None)


# --- driving the engine ---------------------------------------------------------------------------


def _check(config: Config, urls: list[str]) -> dict[str, object]:
    """Check ``urls`` with the real engine; returns requested URL -> PageOutcome."""
    summary = asyncio.run(Engine(config).check_urls(urls, source="bench"))
    by_key = {o.url: o for o in summary.outcomes}
    with Archive(config.db, write=False) as archive:
        return {url: by_key.get(archive.resolve(url) or url) for url in urls}


def _diff(config: Config, url: str) -> dict | None:
    with Archive(config.db, write=False) as archive:
        key = archive.resolve(url)
        latest = archive.page(key).latest_version
        if latest < 2:
            return None
        return diff_to_json(diff_versions(archive.version(key, latest - 1), archive.version(key, latest)))


# --- scoring -------------------------------------------------------------------------------------------


@dataclass
class Result:
    page: str
    kind: str
    cosmetic: bool
    ok: bool  # cosmetic: no version; substantive: a version changing the edited field
    exact: bool | None = None  # substantive and detected: the diff shows exactly the edited words
    what: str = ""


def _changed_words(old: str, new: str) -> tuple[Counter, Counter]:
    a, b = Counter(words(old)), Counter(words(new))
    return a - b, b - a


def _folded(counts: Counter) -> Counter:
    out: Counter = Counter()
    for word, n in counts.items():
        out[word.casefold()] += n
    return out


def _body_words(diff: dict) -> tuple[Counter, Counter]:
    deleted, inserted = Counter(), Counter()
    for op in diff["ops"]:
        if op["op"] != "equal":
            deleted.update(words(op["old"]))
            inserted.update(words(op["new"]))
    return deleted, inserted


def _short(counter: Counter, limit: int = 12) -> str:
    items = list(counter.elements())
    text = " ".join(items[:limit]) + (" …" if len(items) > limit else "")
    return f"[{text}]"


def _clip(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ops_text(diff: dict, limit: int = 3) -> str:
    """The body's changes as `[-old-]{+new+}` pieces, for the list of misses."""
    changes = [op for op in diff["ops"] if op["op"] != "equal"]
    if not changes:
        return "body unchanged"
    shown = " ".join(f"[-{_clip(op['old'])}-]{{+{_clip(op['new'])}+}}".replace("[--]", "").replace("{++}", "")
                     for op in changes[:limit])
    return shown + (f" (+{len(changes) - limit} more)" if len(changes) > limit else "")


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError:
        return None


# A headline edit may show in the declared title, the printed <h1> headline, the other declared
# headlines, or several of them; a byline edit in the authors, the printed byline, or both.
_SAME_EDIT = {"title": ("title", "headline", "other_titles"), "authors": ("authors", "byline")}


def _fields_for(expect: Expect, changed) -> list[str]:
    return [f for f in _SAME_EDIT.get(expect.field, (expect.field,)) if f in changed]


def _exact(expect: Expect, diff: dict, field: str | None = None) -> tuple[bool, str]:
    field = field or expect.field
    body_del, body_ins = _body_words(diff)
    wanted = [(Counter(expect.deleted), Counter(expect.inserted))]
    wanted += [(Counter(d), Counter(i)) for d, i in expect.alternatives]
    if expect.field == "text":
        ok = any(body_del == d and body_ins == i for d, i in wanted)
        return ok, f"diff {_ops_text(diff)}"
    change = diff["fields"].get(field, {})
    if field == "published":
        old, new = _day(change.get("old")), _day(change.get("new"))
        field_ok = old is not None and new is not None and (new - old).days == expect.shift_days
        shown = f"published {change.get('old')} -> {change.get('new')}"
    else:
        got_del, got_ins = _changed_words(change.get("old") or "", change.get("new") or "")
        want_del, want_ins = wanted[0]
        if field in ("authors", "byline"):  # the byline edit keeps the page's case ("DER SPIEGEL" -> "KEIKO TANABE")
            got_del, got_ins, want_del, want_ins = map(_folded, (got_del, got_ins, want_del, want_ins))
        field_ok = got_del == want_del and got_ins == want_ins
        shown = f"{field} -{_short(got_del)} +{_short(got_ins)}"
    # The body may repeat the field (a headline or byline in the text, maybe twice), nothing else.
    body_ok = set(body_del) <= set(wanted[0][0]) and set(body_ins) <= set(wanted[0][1])
    if not body_ok:
        shown += f"; body {_ops_text(diff)}"
    return field_ok and body_ok, shown


def score(config: Config, url: str, page: str, expect: Expect, outcome) -> Result:
    if outcome is None:
        return Result(page, expect.kind, expect.cosmetic, False, what="not checked")
    if outcome.outcome == "error":
        return Result(page, expect.kind, expect.cosmetic, False,
                      what=f"error {outcome.error_kind}: {(outcome.message or '')[:100]}")
    if expect.cosmetic:
        if outcome.outcome in _UNCHANGED:
            return Result(page, expect.kind, True, True)
        diff = _diff(config, url) or {"ops": [], "fields": {}}
        fields = "; ".join(f"{k} {v['old']!r} -> {v['new']!r}"[:160] for k, v in diff["fields"].items())
        return Result(page, expect.kind, True, False,
                      what=f"new version, changed {', '.join(outcome.changed)}: "
                           f"{_ops_text(diff)}{'; ' + fields if fields else ''}")
    if outcome.outcome != "new_version":
        return Result(page, expect.kind, False, False, what=f"{outcome.outcome} ({expect.note[:80]})")
    diff = _diff(config, url)
    fields = _fields_for(expect, outcome.changed)
    if not fields:
        return Result(page, expect.kind, False, False,
                      what=f"changed {', '.join(outcome.changed)}, not {expect.field} ({expect.note[:80]})")
    checks = [_exact(expect, diff, field) for field in fields]
    exact, shown = all(ok for ok, _ in checks), "; ".join(text for ok, text in checks if not ok)
    return Result(page, expect.kind, False, True, exact, what="" if exact else f"{shown}; wanted {expect.note[:80]}")


# --- the run -----------------------------------------------------------------------------------------


def run(pages: list[Page], workdir: Path) -> tuple[list[Result], dict]:
    config = Config(
        path=None,
        db=workdir / "archive.db",
        fetch=FetchSettings(allow_private_networks=True, obey_robots=False, per_host_delay=0.0,
                            per_host_concurrency=8, concurrency=8, retries=0),
        extract=ExtractSettings(workers=os.cpu_count() or 1, timeout=60.0),
    )
    stats: dict = {"pages": len(pages), "na": Counter(), "v1_failed": Counter(), "baseline": Counter(),
             "mutation_errors": []}
    clock = time.monotonic()
    with _Site() as site:
        cases: dict[str, tuple[Page, str]] = {}
        for index, page in enumerate(pages):
            base = _served(build(page))
            for kind in KINDS:
                path = f"/{index}/{kind}"
                site.pages[path] = base
                cases[site.base + path] = (page, kind)
        first = _check(config, list(cases))
        good = [u for u, o in first.items() if o is not None and o.outcome == "new_version"]
        for url, outcome in first.items():
            if url not in good:
                stats["v1_failed"][cases[url][0].name] = getattr(outcome, "error_kind", None) or "not checked"
        again = _check(config, good)
        stats["baseline"] = Counter(o.outcome if o else "not checked" for o in again.values())
        stats["baseline_misses"] = sorted(
            {cases[u][0].name for u, o in again.items() if o is None or o.outcome not in _UNCHANGED}
        )
        expects: dict[str, Expect] = {}
        for url in good:
            page, kind = cases[url]
            try:
                body, expect = mutate(page, kind)
            except Exception as exc:  # a bench bug on one page must not lose the whole run
                stats["mutation_errors"].append(f"{page.name} {kind}: {type(exc).__name__}: {exc}")
                continue
            if expect is None:
                stats["na"][kind] += 1
                continue
            site.pages[url.removeprefix(site.base)] = body
            expects[url] = expect
        third = _check(config, list(expects))
        results = [score(config, url, cases[url][0].name, expects[url], third.get(url)) for url in expects]
    stats["seconds"] = time.monotonic() - clock
    stats["checks"] = len(first) + len(again) + len(third)
    return results, stats


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "n/a"


def render(results: list[Result], stats: dict, *, command: str) -> str:
    by_kind: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_kind[r.kind].append(r)
    cos = [r for r in results if r.cosmetic]
    sub = [r for r in results if not r.cosmetic]
    found = [r for r in sub if r.ok]
    lines = [
        "## changes: change detection through the real pipeline",
        "",
        f"`{command}` — {machine_line()}.",
        f"{stats['pages']} pages, {stats['checks']} checks in {stats['seconds']:.0f} s. Each page is served on"
        " loopback with furniture (header nav and ad, in-article meta bar with an \"updated N minutes ago\""
        " widget and counts, an ad slot and a related box between paragraphs, a most-read rail, a footer"
        " form with a CSRF token, scripts, styles), captured, re-checked unchanged, then re-checked after"
        " one mutation. Markup variants of each widget are picked per page.",
        "",
        "| total | result | target |",
        "|---|---|---|",
        f"| substantive edits detected | {_pct(len(found), len(sub))} ({len(found)}/{len(sub)}) | 100% |",
        f"| detected edits whose JSON diff shows exactly the edited words | {_pct(sum(1 for r in found if r.exact), len(found))}"
        f" ({sum(1 for r in found if r.exact)}/{len(found)}) | 100% |",
        f"| cosmetic churn ignored | {_pct(sum(r.ok for r in cos), len(cos))} ({sum(r.ok for r in cos)}/{len(cos)}) | ≥ 99% |",
        f"| unmutated re-check is same_body | {_pct(sum(v for k, v in stats['baseline'].items() if k in _UNCHANGED), sum(stats['baseline'].values()))}"
        f" ({dict(stats['baseline'])}) | 100% |",
        "",
        "| mutation | kind | pages | passed | rate | exact diff |",
        "|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        rs = by_kind.get(kind, [])
        ok = sum(r.ok for r in rs)
        cosmetic = kind in COSMETIC
        exact = "" if cosmetic else f"{sum(1 for r in rs if r.exact)}/{ok}"
        na = stats["na"].get(kind, 0)
        lines.append(f"| {kind} | {'cosmetic' if cosmetic else 'substantive'} | {len(rs)}"
                     f"{f' (+{na} n/a)' if na else ''} | {ok} | {_pct(ok, len(rs))} | {exact} |")
    if stats["v1_failed"]:
        lines += ["", "First capture failed (page left out): " + ", ".join(
            f"{name} ({kind})" for name, kind in sorted(stats["v1_failed"].items()))]
    if stats["mutation_errors"]:
        lines += ["", "Mutation crashed (bench bug, case left out): " + "; ".join(stats["mutation_errors"])]
    if stats.get("baseline_misses"):
        lines += ["", "Unmutated re-check not unchanged: " + ", ".join(stats["baseline_misses"])]
    misses = [r for r in results if not r.ok or r.exact is False]
    lines += ["", f"### Misses ({len(misses)})", ""]
    if not misses:
        lines.append("None.")
    lines += [f"- `{r.page}` **{r.kind}**: {'inexact diff: ' if r.ok else ''}{r.what}".replace("\n", " ")
              for r in sorted(misses, key=lambda r: (KINDS.index(r.kind), r.page))]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    flags = sys.argv[1:] if argv is None else argv
    full = "--full" in flags or os.environ.get("BENCH_FULL", "") not in ("", "0")
    per_corpus = None if full else int(os.environ.get("BENCH_PAGES", "30"))
    pages = load_pages(per_corpus)
    with tempfile.TemporaryDirectory(prefix="bench-changes-") as tmp:
        results, stats = run(pages, Path(tmp))
    command = "python -m bench.changes --full" if full else "python -m bench changes"
    markdown = render(results, stats, command=command)
    if full:  # every corpus page: its own section, beside the default sample's
        markdown = markdown.replace("## changes:", "## changes, every corpus page:", 1)
    write_section("changes-full" if full else "changes", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
