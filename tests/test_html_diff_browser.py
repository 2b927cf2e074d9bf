"""The HTML diff in a real browser: it renders, and archived markup stays inert text.

Runs Debian's headless Chromium on a local file with networking features off. Skipped only
when Chromium is not installed.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from archive.diff import diff_versions
from archive.models import Content, Version
from archive.render import render_html

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")

SCRIPT = "<script>document.title='pwned'</script>"
IMG = "<img src=x onerror=\"document.title='pwned'\">"


def _version(number: int, title: str, paras: list[str], captured_at: str) -> Version:
    return Version(
        url="https://example.org/news/budget",
        number=number,
        captured_at=captured_at,
        content=Content(title=title, authors=("Jane Doe",), text="\n".join(paras)),
    )


@pytest.fixture()
def page(tmp_path: Path) -> Path:
    steady = [f"Paragraph {i} of the council story stays exactly as it was." for i in range(8)]
    old, new = list(steady), list(steady)
    old[2] = "The council approved the budget on Friday, officials said."
    new[2] = f"The council rejected the budget on Friday {SCRIPT}, officials said."
    new[5] = f"An image tag {IMG} arrived in a rewritten paragraph."
    diff = diff_versions(
        _version(1, "Council approves budget", old, "2025-01-20T10:00:00+00:00"),
        _version(2, f"Council rejects budget {SCRIPT}", new, "2025-01-21T08:30:00+00:00"),
    )
    path = tmp_path / "diff.html"
    path.write_text(render_html(diff), encoding="utf-8")
    return path


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    return subprocess.run(
        [CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=90, check=False
    )


def test_screenshot_renders(page: Path, tmp_path: Path):
    shot = tmp_path / "diff.png"
    result = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,900", page.as_uri())
    assert shot.exists(), result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 900)
    # a blank page compresses to a few kilobytes; text, tables and highlights do not
    assert len(data) > 20_000


def test_archived_markup_is_inert(page: Path, tmp_path: Path):
    result = _chromium(tmp_path, "--dump-dom", "--virtual-time-budget=2000", page.as_uri())
    dom = result.stdout
    assert "<body" in dom, result.stderr[-2000:]
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title is not None and "pwned" != title.group(1).strip()
    assert title.group(1).startswith("Diff v1")
    # no element was created from archived text: no script, no img anywhere in the live DOM
    assert not re.search(r"<script\b", dom, re.I)
    assert not re.search(r"<img\b", dom, re.I)
    # ...and the markup is there, serialised back as escaped text
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "&lt;img src=x onerror=\"document.title='pwned'\"&gt;" in dom


def test_harness_would_see_a_script_run(tmp_path: Path):
    # Control: the same browser set-up does run unescaped markup, so the test above can fail.
    raw = tmp_path / "raw.html"
    raw.write_text(f"<!DOCTYPE html><html><head><title>x</title></head><body>{SCRIPT}</body></html>")
    dom = _chromium(tmp_path, "--dump-dom", "--virtual-time-budget=2000", raw.as_uri()).stdout
    assert "<title>pwned</title>" in dom
