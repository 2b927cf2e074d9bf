"""Substantive edits to the article body: a word, a sentence added or removed, a paragraph moved.

Each edit changes text inside one or two body paragraphs (``article_paragraphs``), rewriting
the text and tails of the paragraph's elements so its inline markup stays in place.
"""

from __future__ import annotations

import random
import re
from collections import Counter

from bench.mutation_tree import (
    ALPHA_WORD,
    FALLBACK_WORDS,
    Expect,
    fold,
    is_cjk,
    text_of,
    vocabulary,
    words,
)

__all__ = ["add_sentence", "edit_word", "move_paragraph", "remove_sentence"]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“‘„«(]?[A-ZÀ-ÖØ-Þ])")


# --- text slots inside a paragraph ----------------------------------------------------------------


def _slots(p) -> list[tuple[object, str]]:
    """(element, "text"|"tail") pairs holding the paragraph's visible text, in order."""
    out = []
    for el in p.iter():
        if el is not p and el.tail:
            out.append((el, "tail"))
        if isinstance(el.tag, str) and el.tag not in ("script", "style") and el.text:
            out.append((el, "text"))
    # iter() yields an element before its children, but its tail comes after them.
    order = {id(el): i for i, el in enumerate(p.iter())}

    def position(slot):
        el, which = slot
        if which == "text":
            return (order[id(el)], 0)
        last = el
        for last in el.iter():
            pass
        return (order[id(last)], 1)

    return sorted(out, key=position)


def _get(slot) -> str:
    el, which = slot
    return el.text if which == "text" else el.tail


def _set(slot, value: str) -> None:
    el, which = slot
    if which == "text":
        el.text = value
    else:
        el.tail = value


def _pick_paragraph(paras, rng: random.Random, min_words: int = 8):
    # Skip the first paragraph when possible: lead paragraphs often double as the description.
    pool = [p for p in paras[1:] if len(words(text_of(p))) >= min_words] or [
        p for p in paras if len(words(text_of(p))) >= min_words
    ]
    return rng.choice(pool) if pool else None


# --- the edits ----------------------------------------------------------------------------------

_NEW_SENTENCES = (
    "Officials said further details would be released later this week.",
    "The spokesperson declined to give a reason for the delay.",
    "Several witnesses described the scene as chaotic and confusing.",
    "A second inquiry is expected to report its findings next month.",
)


def edit_word(doc, paras, rng: random.Random) -> Expect | None:
    """Replace one word of one body paragraph by another word of the article."""
    for _attempt in range(6):
        p = _pick_paragraph(paras, rng)
        if p is None:
            return None
        counts = Counter(ALPHA_WORD.findall(text_of(p)))
        choices = [
            (slot, m)
            for slot in _slots(p)
            for m in ALPHA_WORD.finditer(_get(slot))
            if counts[m.group(0)] == 1
        ]
        if not choices:
            continue
        slot, match = rng.choice(choices)
        old = match.group(0)
        present = set(ALPHA_WORD.findall(text_of(p)))
        pool = [w for w in vocabulary(paras) + list(FALLBACK_WORDS)
                if w not in present and w.casefold() != old.casefold() and w[0].isupper() == old[0].isupper()
                and is_cjk(w) == is_cjk(old)]
        new = rng.choice(pool) if pool else ("Nothing" if old[0].isupper() else "nothing")
        text = _get(slot)
        _set(slot, text[: match.start()] + new + text[match.end():])
        return Expect("word", False, "text", (old,), (new,), note=f"{old!r} -> {new!r}")
    return None


def add_sentence(doc, paras, rng: random.Random) -> Expect | None:
    p = _pick_paragraph(paras, rng)
    if p is None:
        return None
    sentence = rng.choice(_NEW_SENTENCES)
    slot = _slots(p)[-1]
    _set(slot, _get(slot).rstrip() + " " + sentence + (" " if _get(slot) != _get(slot).rstrip() else ""))
    return Expect("sentence_add", False, "text", (), tuple(words(sentence)), note=sentence)


def remove_sentence(doc, paras, rng: random.Random) -> Expect | None:
    """Remove one sentence that lies wholly in one text slot of a paragraph with two or more."""
    choices = []
    for p in paras:
        slots = _slots(p)
        for slot in slots:
            text = _get(slot)
            ends = list(_SENTENCE_END.finditer(text))
            last = text.rstrip()
            if ends and slot is slots[-1] and last[-1:] in ".!?" and len(words(last[ends[-1].end():])) >= 4:
                choices.append((slot, ends[-1].start(), len(last)))  # the closing sentence
            bounds = [m.end() for m in ends]
            # Whole sentences only: each piece starts after a sentence end inside this slot and
            # ends at the next one, so no text outside the slot is cut in half.
            for start, end in zip(bounds, bounds[1:]):
                piece = text[start:end]
                if len(words(piece)) >= 4 and piece.strip()[-1:] in ".!?":
                    choices.append((slot, start, end))
    if not choices:
        return None
    slot, start, end = rng.choice(choices)
    text = _get(slot)
    removed = text[start:end]
    _set(slot, text[:start] + text[end:])
    return Expect("sentence_remove", False, "text", tuple(words(removed)), (), note=removed.strip()[:120])


def move_paragraph(doc, paras, rng: random.Random) -> Expect | None:
    """Swap two neighbouring body paragraphs (a move reads either way, so both are right)."""
    pairs = [
        (a, b) for a, b in zip(paras, paras[1:])
        if a.getnext() is b and len(words(text_of(a))) >= 5 and len(words(text_of(b))) >= 5 and fold(text_of(a)) != fold(text_of(b))
    ]
    if not pairs:
        return None
    a, b = rng.choice(pairs)
    tail = a.tail
    a.tail = b.tail
    b.tail = tail
    b.addnext(a)
    wa, wb = tuple(words(text_of(a))), tuple(words(text_of(b)))
    return Expect("paragraph_move", False, "text", wa, wa, alternatives=((wb, wb),),
                  note=f"moved {text_of(a)[:50]!r} below the next paragraph")
