"""Hierarchical diffs between two versions: paragraphs first, then words inside them.

Pure functions: nothing here reads the database or prints. Paragraphs (lines of the body)
are aligned with difflib; inside a group of replaced paragraphs the similar ones are paired
and diffed word by word, and paragraphs that share little are shown whole as a replacement,
so a rewrite reads as a rewrite rather than as confetti.

Besides the blocks for people, every diff carries ``ops``: word-level operations over the
whole body that turn the old text into the new one exactly, whitespace and newlines included.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from archive.models import Content, Version
from archive.normalize import changed_fields, field_hashes
from archive.words import WORD, WordOp, apply_ops, coalesce, word_ops

__all__ = [
    "Block",
    "FieldChange",
    "shown_fields",
    "VersionDiff",
    "WordOp",
    "apply_ops",
    "count_words",
    "diff_texts",
    "diff_versions",
]

# Paragraphs whose words overlap less than this (Dice coefficient) are not paired.
PAIR_THRESHOLD = 0.3
# ...unless most words of the shorter one are in the longer (a sentence added or cut).
CONTAIN_THRESHOLD = 0.75
# Beyond this many candidate pairs in one replaced group, show the group whole.
_MAX_PAIRINGS = 40_000


@dataclass(frozen=True)
class FieldChange:
    """A metadata field before and after; ``None`` when absent."""

    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Block:
    """A run of paragraphs. ``changed`` pairs one old and one new paragraph with ``words``."""

    kind: Literal["equal", "insert", "delete", "replace", "changed"]
    old: tuple[str, ...]
    new: tuple[str, ...]
    words: tuple[WordOp, ...] = ()


@dataclass(frozen=True)
class VersionDiff:
    url: str
    from_version: int
    to_version: int
    from_captured_at: str
    to_captured_at: str
    changed: tuple[str, ...]  # versioned fields whose normalised values differ
    fields: tuple[FieldChange, ...]  # the changed metadata fields (every changed field but text)
    blocks: tuple[Block, ...]
    ops: tuple[WordOp, ...]
    title: str | None = None  # the newer version's title (or the older one's), for headings
    to_flags: tuple[str, ...] = ()  # the newer version's flags (minor, revert, identical)
    to_revert_of: int | None = None


def _pair_score(shared: int, size_a: int, size_b: int) -> float:
    """Dice coefficient of two word multisets; a contained short paragraph scores the threshold."""
    if not size_a + size_b:
        return 1.0
    dice = 2 * shared / (size_a + size_b)
    smaller = min(size_a, size_b)
    if dice < PAIR_THRESHOLD and smaller and shared / smaller >= CONTAIN_THRESHOLD:
        return PAIR_THRESHOLD
    return dice


def _similarities(old: list[str], new: list[str]) -> list[list[float]]:
    """Pairing score of the word multisets of every (old, new) paragraph pair."""
    bags_a = [Counter(WORD.findall(p.casefold())) for p in old]
    bags_b = [Counter(WORD.findall(p.casefold())) for p in new]
    sizes_b = [sum(bag.values()) for bag in bags_b]
    postings: dict[str, list[tuple[int, int]]] = {}
    for j, bag in enumerate(bags_b):
        for word, count in bag.items():
            postings.setdefault(word, []).append((j, count))
    rows = []
    for bag in bags_a:
        shared = [0] * len(new)
        for word, count in bag.items():
            for j, other in postings.get(word, ()):
                shared[j] += min(count, other)
        size_a = sum(bag.values())
        rows.append([_pair_score(s, size_a, size_b) for s, size_b in zip(shared, sizes_b)])
    return rows


def _pair(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """Order-preserving pairs (i, j) of similar paragraphs maximising the summed similarity."""
    n, m = len(old), len(new)
    if n * m > _MAX_PAIRINGS:
        return []
    sim = _similarities(old, new)
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best = max(score[i + 1][j], score[i][j + 1])
            if sim[i][j] >= PAIR_THRESHOLD:
                best = max(best, sim[i][j] + score[i + 1][j + 1])
            score[i][j] = best
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        if sim[i][j] >= PAIR_THRESHOLD and score[i][j] == sim[i][j] + score[i + 1][j + 1]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif score[i][j] == score[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def _unpaired_block(old: list[str], new: list[str]) -> list[Block]:
    if old and new:
        return [Block("replace", tuple(old), tuple(new))]
    if old:
        return [Block("delete", tuple(old), ())]
    if new:
        return [Block("insert", (), tuple(new))]
    return []


def _replace_group(old: list[str], new: list[str]) -> list[Block]:
    blocks: list[Block] = []
    i = j = 0
    for pi, pj in _pair(old, new):
        blocks += _unpaired_block(old[i:pi], new[j:pj])
        blocks.append(Block("changed", (old[pi],), (new[pj],), tuple(word_ops(old[pi], new[pj]))))
        i, j = pi + 1, pj + 1
    blocks += _unpaired_block(old[i:], new[j:])
    return blocks


def _paragraphs(text: str) -> list[str]:
    return text.split("\n") if text else []


def _words_in(paras: tuple[str, ...]) -> int:
    return sum(len(WORD.findall(p)) for p in paras)


def _prefer_short_moves(blocks: list[Block]) -> list[Block]:
    """When paragraphs swap places, show the shorter side as the one that moved.

    difflib keeps whichever run it meets first; ``insert X, equal E, delete X`` and
    ``delete E, equal X, insert E`` describe the same swap, and fewer moved words read better.
    """
    out = list(blocks)
    for k in range(len(out) - 2):
        first, middle, last = out[k], out[k + 1], out[k + 2]
        if middle.kind != "equal" or {first.kind, last.kind} != {"insert", "delete"}:
            continue
        moved = first.new or first.old
        if moved != (last.new or last.old) or _words_in(middle.old) >= _words_in(moved):
            continue
        gone, back = Block("delete", middle.old, ()), Block("insert", (), middle.new)
        out[k : k + 3] = [gone, Block("equal", moved, moved), back] if first.kind == "insert" else [
            back,
            Block("equal", moved, moved),
            gone,
        ]
    return out


def _blocks(old_paras: list[str], new_paras: list[str]) -> list[Block]:
    matcher = difflib.SequenceMatcher(None, old_paras, new_paras, autojunk=False)
    blocks: list[Block] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = old_paras[i1:i2], new_paras[j1:j2]
        if tag == "equal":
            blocks.append(Block("equal", tuple(old), tuple(new)))
        elif tag == "replace":
            blocks += _replace_group(old, new)
        else:
            blocks += _unpaired_block(old, new)
    return _prefer_short_moves(blocks)


def _body_ops(blocks: list[Block], n_old: int, n_new: int) -> list[WordOp]:
    """Word ops over the whole body. Paragraph k carries a trailing newline unless it is last."""
    raw: list[tuple[str, str, str]] = []
    oi = nj = 0  # paragraphs consumed on each side

    def nl_old() -> str:
        return "\n" if oi < n_old else ""

    def nl_new() -> str:
        return "\n" if nj < n_new else ""

    for block in blocks:
        if block.kind in ("equal", "changed"):
            for k, (a, b) in enumerate(zip(block.old, block.new)):
                if block.kind == "equal":
                    raw.append(("equal", a, b))
                else:
                    raw += [("equal" if w.op == "equal" else "change", w.old, w.new) for w in block.words]
                oi, nj = oi + 1, nj + 1
                end_a, end_b = nl_old(), nl_new()
                raw.append(("equal", "\n", "\n") if end_a and end_b else ("change", end_a, end_b))
        else:
            for a in block.old:
                oi += 1
                raw.append(("change", a + nl_old(), ""))
            for b in block.new:
                nj += 1
                raw.append(("change", "", b + nl_new()))
    return coalesce(raw)


def diff_texts(old_text: str, new_text: str) -> tuple[tuple[Block, ...], tuple[WordOp, ...]]:
    """Paragraph blocks for display and exact word-level ops for the whole body."""
    old_paras, new_paras = _paragraphs(old_text), _paragraphs(new_text)
    blocks = _blocks(old_paras, new_paras)
    return tuple(blocks), tuple(_body_ops(blocks, len(old_paras), len(new_paras)))


def count_words(old_text: str, new_text: str) -> tuple[int, int]:
    """(words added, words removed) according to the body ops; punctuation is not a word."""
    _blocks_, ops = diff_texts(old_text, new_text)
    added = sum(len(WORD.findall(op.new)) for op in ops if op.op != "equal")
    removed = sum(len(WORD.findall(op.old)) for op in ops if op.op != "equal")
    return added, removed


def _display(content: Content, name: str) -> str | None:
    value = getattr(content, name)
    if name in ("authors", "byline"):
        return ", ".join(value) if value else None
    if name == "other_titles":  # titles may hold commas and bars; this mark they rarely do
        return " \u2016 ".join(value) if value else None
    return value


def shown_fields(diff: VersionDiff) -> tuple[FieldChange, ...]:
    """The changed metadata for a reader: a title and printed headline that changed alike are
    one entry rather than the same before/after twice (JSON keeps both fields)."""
    by_name = {change.field: change for change in diff.fields}
    title, headline = by_name.get("title"), by_name.get("headline")
    if not (title and headline and (title.old, title.new) == (headline.old, headline.new)):
        return diff.fields
    merged = FieldChange("title and headline", title.old, title.new)
    return tuple(merged if c is title else c for c in diff.fields if c is not headline)


def diff_versions(old: Version, new: Version) -> VersionDiff:
    """Compare two versions of one page: changed fields, metadata before/after, body diff."""
    changed = changed_fields(field_hashes(old.content), field_hashes(new.content))
    fields = tuple(
        FieldChange(name, _display(old.content, name), _display(new.content, name))
        for name in changed
        if name != "text"
    )
    blocks, ops = diff_texts(old.content.text, new.content.text)
    return VersionDiff(
        url=new.url,
        from_version=old.number,
        to_version=new.number,
        from_captured_at=old.captured_at,
        to_captured_at=new.captured_at,
        changed=changed,
        fields=fields,
        blocks=blocks,
        ops=ops,
        title=new.content.title or old.content.title,
        to_flags=new.flags,
        to_revert_of=new.revert_of,
    )

