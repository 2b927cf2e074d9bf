"""Word-level operations between two texts, exact down to whitespace.

Sentences are aligned first, then words inside changed sentences; joining the ``new`` side
of the ops gives the new text back character for character.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

# Ideographs and kana are one word each, since those scripts put no spaces between words;
# other words are runs of word characters that stop where an ideograph or kana begins.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
# Whitespace runs, words, then single other characters: joining the tokens gives the text back.
_TOKEN = re.compile(rf"\s+|[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")
# Coarser units for alignment: a word or symbol with the whitespace after it. Matching on
# these avoids both slow and spurious matches on the ubiquitous single-space token.
_UNIT = re.compile(rf"(?:[{_CJK}]|[^\W{_CJK}]+|[^\w\s])\s*|\s+")
# A sentence ends at terminal punctuation (and closing quotes) followed by space, or at 。！？.
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u00bb\u201d\u2019)\]]*\s+|[\u3002\uff01\uff1f]+\s*")
# Above this many token pairs, a word diff lets difflib ignore very frequent tokens.
_MAX_WORD_WORK = 25_000_000


@dataclass(frozen=True)
class WordOp:
    """One operation; ``equal`` ops have ``old == new``, ``insert`` has ``old == ""``."""

    op: Literal["equal", "insert", "delete", "replace"]
    old: str
    new: str


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def coalesce(raw: Iterable[tuple[str, str, str]]) -> list[WordOp]:
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
        # Whole paragraphs stay on their own lines: sliding one would split off its first word.
        if text[:1].isspace() or text.endswith("\n"):
            continue
        toks, follow = tokens(text), tokens(after.old)
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
    a, b = tokens(old), tokens(new)
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


def word_ops(old: str, new: str) -> list[WordOp]:
    """Word-level ops turning ``old`` into ``new``: sentences aligned first, then words."""
    a, b = _sentences(old), _sentences(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    pieces: list[tuple[str, str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        left, right = "".join(a[i1:i2]), "".join(b[j1:j2])
        pieces += [("equal", left, right)] if tag == "equal" else _unit_pieces(left, right)
    return coalesce(pieces)


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
