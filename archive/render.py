"""Renderers for a VersionDiff: terminal text, unified diff, JSON (and HTML, from render_html).

Renderers return strings or dicts; printing is the CLI's job. Archived text is untrusted:
the text renderers replace control characters so a page cannot drive the terminal, and the
HTML renderer escapes everything.
"""

from __future__ import annotations

import difflib
import re

from archive.article import flags_label, human_time
from archive.diff import Block, VersionDiff, WordOp, shown_fields
from archive.render_html import elide, render_html

__all__ = ["diff_to_json", "render_html", "render_text", "render_unified"]

# C0/C1 controls (bar newline and tab) and the escape character: shown, never executed.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_ANSI = {"del": "\x1b[31;9m", "ins": "\x1b[32m", "bold": "\x1b[1m", "dim": "\x1b[2m", "reset": "\x1b[0m"}


def _safe(text: str) -> str:
    return _CONTROL.sub("\ufffd", text)


class _Marks:
    """How deletions and insertions look: ANSI colours or plain [-old-]{+new+} markers."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def deleted(self, text: str) -> str:
        text = _safe(text)
        return f"{_ANSI['del']}{text}{_ANSI['reset']}" if self.color else f"[-{text}-]"

    def inserted(self, text: str) -> str:
        text = _safe(text)
        return f"{_ANSI['ins']}{text}{_ANSI['reset']}" if self.color else f"{{+{text}+}}"

    def style(self, name: str, text: str) -> str:
        return f"{_ANSI[name]}{text}{_ANSI['reset']}" if self.color else text


def _inline_words(ops: tuple[WordOp, ...], marks: _Marks) -> str:
    parts = []
    for op in ops:
        if op.op == "equal":
            parts.append(_safe(op.old))
        else:
            if op.old:
                parts.append(marks.deleted(op.old))
            if op.new:
                parts.append(marks.inserted(op.new))
    return "".join(parts)


def _block_lines(block: Block, marks: _Marks) -> list[str]:
    if block.kind == "equal":
        return [_safe(p) for p in block.old]
    if block.kind == "changed":
        return [_inline_words(block.words, marks)]
    return [marks.deleted(p) for p in block.old] + [marks.inserted(p) for p in block.new]


def _skipped(count: int) -> str:
    noun = "paragraph" if count == 1 else "paragraphs"
    return f"\u2026 ({count} unchanged {noun})"


def render_text(diff: VersionDiff, *, color: bool, context: int | None = 1) -> str:
    """A word diff for people: header, metadata before/after, then the body with context."""
    marks = _Marks(color)
    flags = flags_label(diff.to_flags, diff.to_revert_of)
    lines = [
        marks.style("bold", _safe(diff.url)),
        f"version {diff.from_version} ({human_time(diff.from_captured_at)}) \u2192 "
        f"version {diff.to_version} ({human_time(diff.to_captured_at)})"
        + (f" [{flags}]" if flags else ""),
    ]
    if not diff.changed and all(op.op == "equal" for op in diff.ops):
        lines.append("No changes.")
        return "\n".join(lines) + "\n"
    lines.append("changed: " + (", ".join(diff.changed) or "nothing after normalisation"))
    for change in shown_fields(diff):
        lines += ["", marks.style("bold", f"{change.field}:")]
        old, new = change.old or "", change.new or ""
        # The labels already say which is which; plain output stays free of markers here.
        before = (marks.deleted(old) if color else _safe(old)) if old else "(none)"
        after = (marks.inserted(new) if color else _safe(new)) if new else "(none)"
        lines += [f"  before: {before}", f"  after:  {after}"]
    body: list[str] = []
    body_changed = any(block.kind != "equal" for block in diff.blocks)
    for item in elide(diff.blocks, context) if body_changed else ():
        if isinstance(item, int):
            body.append(marks.style("dim", _skipped(item)))
        else:
            body += _block_lines(item, marks)
    if body:
        lines += ["", marks.style("bold", "text:")] + "\n\n".join(body).split("\n")
    return "\n".join(lines) + "\n"


def _document(diff: VersionDiff, side: str) -> list[str]:
    """The lines a unified diff compares: changed metadata as `field: value`, then paragraphs."""
    lines = []
    for change in shown_fields(diff):
        value = change.old if side == "old" else change.new
        lines.append(f"{change.field}: {_safe(value) if value is not None else ''}")
    if lines:
        lines.append("")
    for block in diff.blocks:
        lines += [_safe(p) for p in (block.old if side == "old" else block.new)]
    return lines


def render_unified(diff: VersionDiff, *, context: int | None = 3) -> str:
    """A unified diff by paragraph lines; changed metadata fields come first as `field: value`.

    ``context=None`` puts the whole document in one hunk.
    """
    header_old = f"{_safe(diff.url)}\tversion {diff.from_version} {diff.from_captured_at}"
    header_new = f"{_safe(diff.url)}\tversion {diff.to_version} {diff.to_captured_at}"
    old, new = _document(diff, "old"), _document(diff, "new")
    if context is None:
        context = max(len(old), len(new))
    # Both sides list the same metadata fields, so a change of metadata alone still shows.
    lines = difflib.unified_diff(old, new, fromfile=header_old, tofile=header_new, n=context, lineterm="")
    out = "\n".join(lines)
    return out + "\n" if out else ""


def diff_to_json(diff: VersionDiff) -> dict:
    """The diff as plain JSON data; applying ``ops`` to the old body gives the new body."""
    return {
        "url": diff.url,
        "from": diff.from_version,
        "to": diff.to_version,
        "from_captured_at": diff.from_captured_at,
        "to_captured_at": diff.to_captured_at,
        "changed": list(diff.changed),
        "fields": {c.field: {"old": c.old, "new": c.new} for c in diff.fields},
        "ops": [{"op": op.op, "old": op.old, "new": op.new} for op in diff.ops],
    }
