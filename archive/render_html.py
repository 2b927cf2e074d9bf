"""A VersionDiff as one self-contained HTML page: inline and side-by-side views.

Everything archived is untrusted and passes through ``html.escape(quote=True)``. The page
loads nothing, needs no JavaScript (a CSS-only radio toggle switches views) and declares a
Content-Security-Policy that forbids scripts, so even a missed escape could not run code.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from archive.diff import Block, VersionDiff, WordOp, diff_texts, shown_fields

__all__ = ["elide", "render_html"]

CSP = "default-src 'none'; style-src 'unsafe-inline'"
_WORD = re.compile(r"\w+")

_CSS = """
:root { --ink:#1d232b; --muted:#5f6b7a; --line:#d9dee5; --paper:#fbfbf8;
  --del-bg:#fde3e1; --del-ink:#8e1b14; --ins-bg:#d9f3e1; --ins-ink:#0d5a2a; --accent:#34527a; }
* { box-sizing:border-box; }
body { margin:0; background:var(--paper); color:var(--ink);
  font:16px/1.55 -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif; }
.page { max-width:1120px; margin:0 auto; padding:28px 32px 48px; }
.eyebrow { margin:0; color:var(--muted); font-size:13px; letter-spacing:.08em; text-transform:uppercase; }
h1 { margin:6px 0 4px; font:600 27px/1.25 Georgia, "DejaVu Serif", serif; }
h2 { margin:28px 0 10px; font-size:14px; letter-spacing:.06em; text-transform:uppercase; color:var(--muted); }
.url { margin:0 0 14px; font-size:14px; color:var(--muted); overflow-wrap:anywhere; }
.url a { color:var(--accent); }
.versions { display:flex; flex-wrap:wrap; gap:10px 28px; margin:0; font-size:14px; }
.versions div { padding:8px 12px; border:1px solid var(--line); border-radius:6px; background:#fff; }
.versions dt { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.06em; }
.versions dd { margin:0; font-variant-numeric:tabular-nums; }
.summary { margin:14px 0 0; font-size:14px; }
.chip { display:inline-block; margin:0 4px 4px 0; padding:1px 8px; border-radius:10px;
  background:#e8edf4; color:var(--accent); font-size:13px; }
.count-ins { color:var(--ins-ink); font-weight:600; } .count-del { color:var(--del-ink); font-weight:600; }
table.meta { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); }
.meta th, .meta td { padding:8px 12px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top;
  overflow-wrap:anywhere; }
.meta th { width:14%; color:var(--muted); font-weight:600; font-size:14px; }
.meta thead th { background:#f2f4f7; font-size:12px; text-transform:uppercase; letter-spacing:.06em; }
.none { color:var(--muted); font-style:italic; }
del { background:var(--del-bg); color:var(--del-ink); text-decoration:line-through;
  text-decoration-color:rgba(142,27,20,.55); border-radius:2px; }
ins { background:var(--ins-bg); color:var(--ins-ink); text-decoration:none; border-radius:2px; }
del + ins { margin-left:3px; }
.tabs { position:absolute; opacity:0; pointer-events:none; }
.tab { display:inline-block; padding:6px 14px; margin-right:4px; border:1px solid var(--line);
  border-bottom:none; border-radius:6px 6px 0 0; background:#eef1f5; color:var(--muted);
  font-size:14px; cursor:pointer; }
#view-inline:checked ~ .tab[for=view-inline], #view-side:checked ~ .tab[for=view-side] {
  background:#fff; color:var(--ink); font-weight:600; }
#view-inline:focus-visible ~ .tab[for=view-inline], #view-side:focus-visible ~ .tab[for=view-side] {
  outline:2px solid var(--accent); }
.view { border:1px solid var(--line); background:#fff; padding:8px 24px 16px; }
.side { display:none; }
#view-side:checked ~ .inline { display:none; }
#view-side:checked ~ .side { display:block; }
.text p { margin:12px 0; font:17px/1.6 Georgia, "DejaVu Serif", serif; overflow-wrap:anywhere; }
.text p.skip { font:italic 14px/1.4 -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color:var(--muted);
  text-align:center; border-top:1px dashed var(--line); border-bottom:1px dashed var(--line); padding:4px 0; }
.inline .changed, .inline .added, .inline .removed, .inline .replaced { padding-left:12px; }
.inline .changed { border-left:3px solid #c9a227; }
.inline .added { border-left:3px solid #2f9e5b; }
.inline .removed { border-left:3px solid #c4453c; }
.inline .replaced { border-left:3px solid #7a5ab8; }
.text p.tag { font:600 11px/1 -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; letter-spacing:.06em;
  text-transform:uppercase; color:var(--muted); margin:14px 0 -6px; }
.grid { display:grid; grid-template-columns:1fr 1fr; column-gap:24px; }
.grid > .col-head { font-size:12px; text-transform:uppercase; letter-spacing:.06em; color:var(--muted);
  padding:10px 0 4px; border-bottom:1px solid var(--line); }
.grid > .cell { border-bottom:1px solid #eef0f3; min-width:0; }
.grid > .cell.empty { background:repeating-linear-gradient(135deg,#fafafa 0 6px,#f2f2f2 6px 12px); }
.grid > .skip { grid-column:1 / 3; }
.empty-body { color:var(--muted); font-style:italic; }
footer { margin-top:24px; font-size:12px; color:var(--muted); }
"""


def elide(blocks: Iterable[Block], context: int | None) -> list[Block | int]:
    """Blocks to show, keeping ``context`` unchanged paragraphs either side of each change.

    Runs of unchanged paragraphs further away are replaced by their count (an int).
    ``context=None`` keeps everything.
    """
    blocks = list(blocks)
    if context is None:
        return list(blocks)
    shown: list[Block | int] = []
    for k, block in enumerate(blocks):
        if block.kind != "equal":
            shown.append(block)
            continue
        paras = block.old
        head = context if k > 0 else 0  # neighbours of an equal block are always changes
        tail = context if k + 1 < len(blocks) else 0
        if head + tail >= len(paras):
            shown.append(block)
            continue
        if head:
            shown.append(Block("equal", paras[:head], block.new[:head]))
        shown.append(len(paras) - head - tail)
        if tail:
            shown.append(Block("equal", paras[-tail:], block.new[-tail:]))
    return shown


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _words(ops: tuple[WordOp, ...], side: str | None) -> str:
    """Word ops as HTML; side "old"/"new" keeps only that side's changes, None shows both."""
    parts = []
    for op in ops:
        if op.op == "equal":
            parts.append(_e(op.old))
            continue
        if op.old and side != "new":
            parts.append(f"<del>{_e(op.old)}</del>")
        if op.new and side != "old":
            parts.append(f"<ins>{_e(op.new)}</ins>")
    return "".join(parts)


def _paras(paras: tuple[str, ...], cls: str = "", wrap: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    if wrap:
        return "".join(f"<p{attr}><{wrap}>{_e(p)}</{wrap}></p>" for p in paras)
    return "".join(f"<p{attr}>{_e(p)}</p>" for p in paras)


def _skip(count: int) -> str:
    noun = "paragraph" if count == 1 else "paragraphs"
    return f'<p class="skip">\u2026 {count} unchanged {noun}</p>'


def _inline(items: list[Block | int]) -> str:
    out = []
    for item in items:
        if isinstance(item, int):
            out.append(_skip(item))
        elif item.kind == "equal":
            out.append(_paras(item.old))
        elif item.kind == "changed":
            out.append(f'<p class="changed">{_words(item.words, None)}</p>')
        elif item.kind == "insert":
            out.append(_paras(item.new, "added", "ins"))
        elif item.kind == "delete":
            out.append(_paras(item.old, "removed", "del"))
        else:
            out.append('<p class="tag">replaced</p>')
            out.append(_paras(item.old, "replaced", "del") + _paras(item.new, "replaced", "ins"))
    return "".join(out)


def _cell(content: str) -> str:
    return f'<div class="cell">{content}</div>' if content else '<div class="cell empty"></div>'


def _side(items: list[Block | int], diff: VersionDiff) -> str:
    out = [
        f'<div class="col-head">Version {diff.from_version} \u00b7 {_e(diff.from_captured_at)}</div>',
        f'<div class="col-head">Version {diff.to_version} \u00b7 {_e(diff.to_captured_at)}</div>',
    ]
    for item in items:
        if isinstance(item, int):
            out.append(_skip(item))
        elif item.kind == "equal":
            out += [_cell(_paras((p,))) + _cell(_paras((p,))) for p in item.old]
        elif item.kind == "changed":
            out.append(_cell(f"<p>{_words(item.words, 'old')}</p>") + _cell(f"<p>{_words(item.words, 'new')}</p>"))
        else:
            out.append(_cell(_paras(item.old, wrap="del")) + _cell(_paras(item.new, wrap="ins")))
    return '<div class="grid">' + "".join(out) + "</div>"


def _metadata(diff: VersionDiff) -> str:
    if not diff.fields:
        return ""
    rows = []
    for change in shown_fields(diff):
        old, new = change.old, change.new
        if old and new:
            _blocks, ops = diff_texts(old, new)
            before, after = _words(ops, "old"), _words(ops, "new")
        else:
            before = f"<del>{_e(old)}</del>" if old else '<span class="none">none</span>'
            after = f"<ins>{_e(new)}</ins>" if new else '<span class="none">none</span>'
        rows.append(f"<tr><th>{_e(change.field)}</th><td>{before}</td><td>{after}</td></tr>")
    return (
        "<h2>Metadata</h2>"
        '<table class="meta"><thead><tr><th>Field</th><th>Before</th><th>After</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _url(url: str) -> str:
    if url.lower().startswith(("http://", "https://")):
        return f'<a href="{_e(url)}" rel="noopener noreferrer nofollow">{_e(url)}</a>'
    return _e(url)


def _summary(diff: VersionDiff) -> str:
    added = sum(len(_WORD.findall(op.new)) for op in diff.ops if op.op != "equal")
    removed = sum(len(_WORD.findall(op.old)) for op in diff.ops if op.op != "equal")
    chips = "".join(f'<span class="chip">{_e(name)}</span>' for name in diff.changed) or "nothing"
    return (
        f'<p class="summary">Changed: {chips} &nbsp; body: '
        f'<span class="count-ins">+{added}</span> / <span class="count-del">\u2212{removed}</span> words</p>'
    )


def render_html(diff: VersionDiff, *, context: int | None = 1) -> str:
    """One standalone, script-free HTML page showing the diff inline and side by side."""
    heading = _e(diff.title) if diff.title else "Changes to an archived page"
    items = elide(diff.blocks, context)
    body_changed = any(op.op != "equal" for op in diff.ops)
    if not diff.blocks:
        inline = side = '<p class="empty-body">The body is empty in both versions.</p>'
    else:
        inline, side = _inline(items), _side(items, diff)
        if not body_changed:
            inline = '<p class="empty-body">The body text did not change.</p>' + inline
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Diff v{diff.from_version} \u2192 v{diff.to_version}: {_e(diff.url)}</title>
<style>{_CSS}</style>
</head>
<body>
<div class="page">
<header>
<p class="eyebrow">palimpsest \u00b7 changes between versions</p>
<h1>{heading}</h1>
<p class="url">{_url(diff.url)}</p>
<dl class="versions">
<div><dt>From</dt><dd>version {diff.from_version} \u00b7 {_e(diff.from_captured_at)}</dd></div>
<div><dt>To</dt><dd>version {diff.to_version} \u00b7 {_e(diff.to_captured_at)}</dd></div>
</dl>
{_summary(diff)}
</header>
{_metadata(diff)}
<h2>Text</h2>
<section class="body">
<input class="tabs" type="radio" name="view" id="view-inline" checked>
<input class="tabs" type="radio" name="view" id="view-side">
<label class="tab" for="view-inline">Inline</label><label class="tab" for="view-side">Side by side</label>
<div class="view text inline">{inline}</div>
<div class="view text side">{side}</div>
</section>
<footer>Archived text is shown as text: nothing from the page is loaded or run.</footer>
</div>
</body>
</html>
"""
