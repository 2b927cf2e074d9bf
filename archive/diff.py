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
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from archive.models import Content, Version
from archive.normalize import changed_fields, field_hashes

__all__ = [
    "Block",
    "FieldChange",
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

# Whitespace runs, words, then single other characters: joining the tokens gives the text
# back. Ideographs and kana are one token each, since those scripts put no spaces between words.
_TOKEN = re.compile(r"\s+|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\w+|[^\w\s]")
_WORD = re.compile(r"\w+")
# Coarser units for alignment: a word or symbol with the whitespace after it. Matching on
# these avoids both slow and spurious matches on the ubiquitous single-space token.
_UNIT = re.compile(r"(?:[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\w+|[^\w\s])\s*|\s+")
# A sentence ends at terminal punctuation (and closing quotes) followed by space, or at 。！？.
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u00bb\u201d\u2019)\]]*\s+|[\u3002\uff01\uff1f]+\s*")
# Above this many token pairs, a word diff lets difflib ignore very frequent tokens.
_MAX_WORD_WORK = 25_000_000


@dataclass(frozen=True)
class FieldChange:
    """A metadata field before and after; ``None`` when absent."""

    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class WordOp:
    """One operation; ``equal`` ops have ``old == new``, ``insert`` has ``old == ""``."""

    op: Literal["equal", "insert", "delete", "replace"]
    old: str
    new: str


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


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _coalesce(raw: Iterable[tuple[str, str, str]]) -> list[WordOp]:
    """Merge (op, old, new) pieces: equal runs join; each run of changes becomes one op."""
    out: list[WordOp] = []
    pending_old: list[str] = []
    pending_new: list[str] = []
    equal: list[str] = []

    def flush_change() -> None:
        old, new = "".join(pending_old), "".join(pending_new)
        pending_old.clear()
        pending_new.clear()
        if old and new:
            out.append(WordOp("replace", old, new))
        elif old:
            out.append(WordOp("delete", old, ""))
        elif new:
            out.append(WordOp("insert", "", new))

    def flush_equal() -> None:
        if equal:
            text = "".join(equal)
            equal.clear()
            out.append(WordOp("equal", text, text))

    for op, old, new in raw:
        if op == "equal":
            if old:
                flush_change()
                equal.append(old)
        elif old or new:
            flush_equal()
            pending_old.append(old)
            pending_new.append(new)
    flush_change()
    flush_equal()
    return _slide(_absorb_gaps(out))


def _absorb_gaps(ops: list[WordOp]) -> list[WordOp]:
    """Fold a lone space between two changes into them: "quick brown" -> "slow red" is one op."""
    out: list[WordOp] = []
    i = 0
    while i < len(ops):
        op = ops[i]
        if (
            op.op == "equal"
            and out
            and out[-1].op != "equal"
            and i + 1 < len(ops)
            and ops[i + 1].op != "equal"
            and op.old.isspace()
            and "\n" not in op.old
        ):
            before, after = out.pop(), ops[i + 1]
            old = before.old + op.old + after.old
            new = before.new + op.new + after.new
            out.append(WordOp("replace", old, new))
            i += 2
            continue
        out.append(op)
        i += 1
    return out


def _slide(ops: list[WordOp]) -> list[WordOp]:
    """Shift a pure insertion or deletion right onto a word boundary where that is equivalent.

    "James[. Sentence added]." reads better as "James.[ Sentence added.]"; both apply alike.
    """
    out = list(ops)
    for k in range(1, len(out) - 1):
        before, op, after = out[k - 1], out[k], out[k + 1]
        if op.op not in ("insert", "delete") or before.op != "equal" or after.op != "equal":
            continue
        text = op.new or op.old
        if text[:1].isspace():
            continue
        toks, follow = _tokens(text), _tokens(after.old)
        for shift in range(1, min(len(toks), len(follow) + 1)):
            if toks[shift - 1] != follow[shift - 1] or "\n" in toks[shift - 1]:
                break
            if toks[shift].isspace() and "\n" not in toks[shift]:
                moved, rest = "".join(toks[:shift]), "".join(follow[shift:])
                rotated = "".join(toks[shift:]) + moved
                out[k - 1] = WordOp("equal", before.old + moved, before.old + moved)
                out[k] = WordOp(op.op, rotated if op.op == "delete" else "", rotated if op.op == "insert" else "")
                out[k + 1] = WordOp("equal", rest, rest)
                break
    return [op for op in out if op.old or op.new]


def _trimmed(old: str, new: str) -> list[tuple[str, str, str]]:
    """A changed piece with the fine tokens both sides share at its edges split off as equal."""
    a, b = _tokens(old), _tokens(new)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    head, tail = "".join(a[:start]), "".join(a[len(a) - end :])
    middle_a, middle_b = "".join(a[start : len(a) - end]), "".join(b[start : len(b) - end])
    return [("equal", head, head), ("change", middle_a, middle_b), ("equal", tail, tail)]


def _unit_pieces(old: str, new: str) -> list[tuple[str, str, str]]:
    """Diff two stretches of text by words (each carrying its trailing whitespace)."""
    a, b = _UNIT.findall(old), _UNIT.findall(new)
    # difflib's popularity heuristic loses precision, so it is kept for pathological sizes.
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=len(a) * len(b) > _MAX_WORD_WORK)
    pieces: list[tuple[str, str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        left, right = "".join(a[i1:i2]), "".join(b[j1:j2])
        pieces += [("equal", left, right)] if tag == "equal" else _trimmed(left, right)
    return pieces


def _sentences(text: str) -> list[str]:
    cuts = [m.end() for m in _SENTENCE_END.finditer(text)]
    return [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)]) if j > i]


def _word_ops(old: str, new: str) -> list[WordOp]:
    """Word-level ops turning ``old`` into ``new``: sentences aligned first, then words."""
    a, b = _sentences(old), _sentences(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    pieces: list[tuple[str, str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        left, right = "".join(a[i1:i2]), "".join(b[j1:j2])
        pieces += [("equal", left, right)] if tag == "equal" else _unit_pieces(left, right)
    return _coalesce(pieces)


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
    bags_a = [Counter(_WORD.findall(p.casefold())) for p in old]
    bags_b = [Counter(_WORD.findall(p.casefold())) for p in new]
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
        blocks.append(Block("changed", (old[pi],), (new[pj],), tuple(_word_ops(old[pi], new[pj]))))
        i, j = pi + 1, pj + 1
    blocks += _unpaired_block(old[i:], new[j:])
    return blocks


def _paragraphs(text: str) -> list[str]:
    return text.split("\n") if text else []


def _words_in(paras: tuple[str, ...]) -> int:
    return sum(len(_WORD.findall(p)) for p in paras)


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
    return _coalesce(raw)


def diff_texts(old_text: str, new_text: str) -> tuple[tuple[Block, ...], tuple[WordOp, ...]]:
    """Paragraph blocks for display and exact word-level ops for the whole body."""
    old_paras, new_paras = _paragraphs(old_text), _paragraphs(new_text)
    blocks = _blocks(old_paras, new_paras)
    return tuple(blocks), tuple(_body_ops(blocks, len(old_paras), len(new_paras)))


def count_words(old_text: str, new_text: str) -> tuple[int, int]:
    """(words added, words removed) according to the body ops; punctuation is not a word."""
    _blocks_, ops = diff_texts(old_text, new_text)
    added = sum(len(_WORD.findall(op.new)) for op in ops if op.op != "equal")
    removed = sum(len(_WORD.findall(op.old)) for op in ops if op.op != "equal")
    return added, removed


def apply_ops(old_text: str, ops: Iterable[WordOp | Mapping[str, str]]) -> str:
    """Rebuild the new text from ``old_text`` and ops (WordOp or their JSON dicts).

    Raises ValueError when the ops do not fit ``old_text``.
    """
    out: list[str] = []
    pos = 0
    for item in ops:
        op, old, new = (
            (item["op"], item["old"], item["new"]) if isinstance(item, Mapping) else (item.op, item.old, item.new)
        )
        if not old_text.startswith(old, pos):
            raise ValueError(f"op {op!r} expects {old[:40]!r} at offset {pos}")
        pos += len(old)
        out.append(new)
    if pos != len(old_text):
        raise ValueError(f"ops cover {pos} of {len(old_text)} characters")
    return "".join(out)


def _display(content: Content, name: str) -> str | None:
    value = getattr(content, name)
    if name == "authors":
        return ", ".join(value) if value else None
    return value


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
    )

