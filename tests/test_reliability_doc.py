"""docs/RELIABILITY.md cannot drift from the fault tests.

Every test the document names must exist, and every test in a fault-test file must be named
in it. A name is a pytest node id in backticks: ``tests/f.py::test_x`` covers all of
test_x's parameters, ``tests/f.py::test_x[case]`` one of them.

To list what is missing: ``.venv/bin/python tests/test_reliability_doc.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "RELIABILITY.md"

# Files whose every test is a fault case and must appear in the document. Globs, so a new
# file of fetch faults is covered as soon as it lands.
FAULT_FILES = (
    "tests/test_fetch_faults*.py",
    "tests/test_tls.py",
    "tests/test_netguard.py",
    "tests/test_store.py",
    "tests/test_crash.py",
    "tests/test_concurrency.py",
    "tests/test_diskfull.py",
    "tests/test_signals.py",
)
_REF = re.compile(r"`(tests/[\w/.-]+\.py::[^`]+)`")


def _fault_files() -> list[str]:
    found = set()
    for pattern in FAULT_FILES:
        found.update(str(p.relative_to(ROOT)) for p in ROOT.glob(pattern))
    return sorted(found)


def doc_rows() -> list[tuple[str, list[str]]]:
    """(the table row, the node ids it names) for every table row naming a test."""
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("|"):
            refs = _REF.findall(line)
            if refs:
                rows.append((line, refs))
    return rows


@lru_cache(maxsize=1)
def collected(files: tuple[str, ...]) -> frozenset[str]:
    """Node ids pytest collects from ``files`` (a subprocess, so nothing is imported here)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return frozenset(line.strip() for line in result.stdout.splitlines() if "::" in line)


def _covers(ref: str, node: str) -> bool:
    return node == ref or ("[" not in ref and node.startswith(ref + "["))


def _referenced_files(rows) -> set[str]:
    return {ref.split("::")[0] for _, refs in rows for ref in refs}


def problems() -> tuple[list[str], list[str]]:
    """(names in the document that match no test, fault tests the document does not name)."""
    rows = doc_rows()
    files = tuple(sorted(_referenced_files(rows) | set(_fault_files())))
    missing_files = [f for f in files if not (ROOT / f).is_file()]
    nodes = collected(tuple(f for f in files if f not in missing_files))
    refs = [ref for _, row_refs in rows for ref in row_refs]
    dangling = [ref for ref in refs if not any(_covers(ref, node) for node in nodes)]
    fault_nodes = sorted(n for n in nodes if n.split("::")[0] in set(_fault_files()))
    unnamed = [n for n in fault_nodes if not any(_covers(ref, n) for ref in refs)]
    return dangling, unnamed


def test_the_document_exists_and_has_a_table():
    rows = doc_rows()
    assert len(rows) >= 40, "docs/RELIABILITY.md lists too few cases"
    # Each row: case | limit | test(s) — the limit column must say something.
    for line, _ in rows:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) >= 3 and all(cells), f"incomplete row: {line}"


def test_every_named_test_exists():
    dangling, _ = problems()
    assert not dangling, f"docs/RELIABILITY.md names tests that do not exist: {dangling}"


def test_every_fault_test_is_in_the_document():
    _, unnamed = problems()
    assert not unnamed, (
        "fault tests missing from docs/RELIABILITY.md (add a row naming them): "
        + ", ".join(unnamed)
    )


def test_each_test_is_named_once():
    refs = [ref for _, row_refs in doc_rows() for ref in row_refs]
    twice = sorted({ref for ref in refs if refs.count(ref) > 1})
    assert not twice, f"named in more than one row: {twice}"


if __name__ == "__main__":
    bad, missing = problems()
    for ref in bad:
        print(f"no such test: {ref}")
    for node in missing:
        print(f"| ? | ? | `{node}` |")
    sys.exit(1 if bad or missing else 0)
