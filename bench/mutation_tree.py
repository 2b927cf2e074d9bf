"""What every page mutation works with: its Expect, the page's words, its article and its fields.

- ``Expect`` is what a mutation tells the change bench the archive should record.
- ``words`` splits text as the archive's diff does; ``fold`` is the comparison key built on it.
- ``article_paragraphs`` finds the body <p>s a body edit may touch.
- ``excluded``, ``replace_in_text_nodes`` and the meta / JSON-LD readers let a metadata edit
  rewrite a field everywhere a CMS renders it, and nowhere in the body or the furniture.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import lxml.html

__all__ = [
    "ALPHA_WORD",
    "Expect",
    "FALLBACK_WORDS",
    "article_paragraphs",
    "excluded",
    "fold",
    "is_cjk",
    "is_furniture",
    "ld_scripts",
    "meta_key",
    "parse",
    "replace_in_text_nodes",
    "serialize",
    "text_of",
    "vocabulary",
    "whole_word",
    "words",
]

# Words as the diff counts them: ideographs and kana one by one, other \w runs whole.
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A word to edit: four letters or more between non-letters, or one ideograph (the diff's unit
# for scripts written without spaces).
ALPHA_WORD = re.compile(rf"(?<![^\W\d_])[^\W\d_{_CJK}]{{4,}}(?![^\W\d_])|[\u3400-\u4dbf\u4e00-\u9fff]")


def is_cjk(word: str) -> bool:
    return bool(re.match(f"[{_CJK}]", word))


_SKIP_ANCESTORS = {
    "header", "nav", "footer", "aside", "form", "figure", "figcaption", "noscript", "button",
    "label", "select", "template", "table", "blockquote", "li",
}


def words(text: str) -> list[str]:
    return _WORD.findall(text or "")


def fold(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


@dataclass(frozen=True)
class Expect:
    """What one mutation should do to the archive."""

    kind: str
    cosmetic: bool
    field: str = ""  # the versioned field that must change ("text", "title", "authors", "published")
    deleted: tuple[str, ...] = ()  # words the diff must show as removed
    inserted: tuple[str, ...] = ()  # ... and as added
    # other (deleted, inserted) word lists that are equally right (a swap can read either way)
    alternatives: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()
    shift_days: int = 0  # date edits: the expected change of the published day
    note: str = ""


def parse(html: str) -> lxml.html.HtmlElement:
    # lxml refuses str input that still carries an XML encoding declaration.
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    return lxml.html.document_fromstring(html)


def serialize(doc: lxml.html.HtmlElement) -> str:
    return lxml.html.tostring(doc, encoding="unicode", method="html", doctype="<!DOCTYPE html>")


# --- finding the article ------------------------------------------------------------------------


def text_of(el) -> str:
    return " ".join("".join(el.itertext()).split())


def _in_skipped(el) -> bool:
    return any(isinstance(a.tag, str) and a.tag in _SKIP_ANCESTORS for a in el.iterancestors())


def article_paragraphs(doc, truth_body: str = "") -> list:
    """Body <p>s of the article in document order (injected furniture excluded).

    Candidates are <p>s of eight words or more outside page furniture; with a ground-truth
    body, only those whose text is in it. The parent holding most candidates is the article
    container; when paragraphs are wrapped one by one, all candidates are used.
    """
    truth = f" {fold(truth_body)} " if truth_body else ""
    found = []
    for p in doc.iter("p"):
        if is_furniture(p) or _in_skipped(p):
            continue
        text = text_of(p)
        if len(words(text)) < 8:
            continue
        if truth and f" {fold(text)} " not in truth:
            continue
        found.append(p)
    if not found:
        return []
    parent, count = Counter(p.getparent() for p in found).most_common(1)[0]
    if count >= 3:
        return [p for p in found if p.getparent() is parent]
    return found


# --- words to put in place of edited ones ------------------------------------------------------

FALLBACK_WORDS = ("Harbour", "quietly", "northern", "several", "margin", "council")


def vocabulary(paras) -> list[str]:
    seen: dict[str, None] = {}
    for p in paras:
        for w in ALPHA_WORD.findall(text_of(p)):
            seen.setdefault(w, None)
    return list(seen)


# --- reading and rewriting the fields a CMS renders --------------------------------------------


def is_furniture(el) -> bool:
    return el.get("data-furniture") is not None or any(
        a.get("data-furniture") is not None for a in el.iterancestors()
    )


def excluded(doc, paras) -> set:
    """Elements whose text a metadata edit leaves alone: body paragraphs, furniture, code."""
    out: set = set()
    roots = list(paras) + [
        el for el in doc.iter()
        if isinstance(el.tag, str) and (el.get("data-furniture") is not None or el.tag in ("script", "style"))
    ]
    for root in roots:
        out.update(root.iter())
    return out


def meta_key(el) -> str:
    return (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()


def ld_scripts(doc) -> list:
    return [s for s in doc.iter("script") if "ld+json" in (s.get("type") or "").lower() and s.text]


def replace_in_text_nodes(roots, pattern: re.Pattern, repl, skip: set) -> int:
    """Replace in the text and tails of every element under ``roots`` that is not in ``skip``."""
    hits = 0
    seen: set = set()
    for root in roots:
        for el in root.iter():
            if el in seen or not isinstance(el.tag, str):
                continue
            seen.add(el)
            if el not in skip and el.text and pattern.search(el.text):
                el.text = pattern.sub(repl, el.text)
                hits += 1
            parent = el.getparent()
            if el.tail and parent is not None and parent not in skip and pattern.search(el.tail):
                el.tail = pattern.sub(repl, el.tail)
                hits += 1
    return hits


def whole_word(word: str) -> re.Pattern:
    if is_cjk(word):
        return re.compile(re.escape(word))
    return re.compile(rf"(?<!\w){re.escape(word)}(?!\w)")

