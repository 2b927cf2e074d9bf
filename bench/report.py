"""Write one benchmark's figures into its own section of docs/BENCHMARKS.md."""

from __future__ import annotations

import platform
import re
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS_MD = ROOT / "docs" / "BENCHMARKS.md"
CORPUS = ROOT.parent / "shared" / "corpus"

_HEADER = """# Benchmarks

Every figure here was written by `make bench` (or `python -m bench NAME`), on the machine
named in each section. Ratios compare figures measured in the same run.
"""


def machine_line() -> str:
    import os

    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, {platform.machine()}, "
        f"measured {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}"
    )


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section for ``name``; other sections stay as they are."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else _HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS_MD.parent.mkdir(parents=True, exist_ok=True)
    BENCHMARKS_MD.write_text(text, encoding="utf-8")
