"""The headline edit: one word of the headline changed in every place the page declares or prints it."""

from __future__ import annotations

import json
import random
import re
from collections import Counter

from bench.mutation_tree import (
    ALPHA_WORD,
    FALLBACK_WORDS,
    Expect,
    excluded,
    fold,
    is_cjk,
    is_furniture,
    ld_scripts,
    meta_key,
    replace_in_text_nodes,
    text_of,
    vocabulary,
    whole_word,
)

__all__ = ["edit_title"]


_SEPARATOR = re.compile(r"\s[|\u2013\u2014:\u00b7\u2022-]\s|\s*\|\s*")


def _headline(doc) -> str:
    """The on-page headline: the <h1> most like og:title or <title> by shared words, else og:title."""
    declared = [m.get("content") or "" for m in doc.iter("meta") if meta_key(m) in ("og:title", "twitter:title")]
    title = doc.find(".//title")
    declared.append(text_of(title) if title is not None else "")
    keys = [set(fold(d).split()) for d in declared if d.strip()]
    # What follows the first separator of a declared title ("Post | The X Blog") names the site:
    # an <h1> holding only that is the logo.
    site = {fold(m.get("content") or "") for m in doc.iter("meta") if meta_key(m) == "og:site_name"}
    site |= {fold(part) for d in declared for part in _SEPARATOR.split(d)[1:]}
    best, best_score = "", 0.0
    for h1 in doc.iter("h1"):
        if is_furniture(h1) or not text_of(h1) or fold(text_of(h1)) in site:
            continue
        mine = set(fold(text_of(h1)).split())
        score = max((len(mine & k) / len(mine) for k in keys if mine), default=0.0)
        if score > best_score:
            best, best_score = text_of(h1), score
    if best_score >= 0.5:
        return best
    return next((d.strip() for d in declared if d.strip()), "")


def edit_title(doc, paras, rng: random.Random) -> Expect | None:
    """Change one word of the headline in <title>, title metas, JSON-LD and every on-page rendering."""
    headline = _headline(doc)
    counts = Counter(ALPHA_WORD.findall(headline))
    candidates = [w for w, n in counts.items() if n == 1]
    if not candidates:
        return None
    old = rng.choice(candidates)
    pool = [w for w in vocabulary(paras) + list(FALLBACK_WORDS)
            if w not in counts and w[0].isupper() == old[0].isupper() and w.casefold() != old.casefold()
            and is_cjk(w) == is_cjk(old) and w not in headline]
    new = rng.choice(pool) if pool else "Changed"
    pattern, key = whole_word(old), fold(headline)
    skip = excluded(doc, paras)
    # Every element that renders the headline on its own (h1, <title>, breadcrumb, self-teaser).
    roots = []
    for el in doc.iter("h1", "h2", "title", "a", "span", "li"):
        if el in skip:
            continue
        text = fold(text_of(el))
        if text and (text in key or key in text) and len(text) <= 2 * len(key) + 40:
            roots.append(el)
    # <title> may carry the headline in another wording ("SEO title - Site"): edited too, as
    # every declared voice is.
    roots += [el for el in doc.iter("title") if el not in roots]
    replace_in_text_nodes(roots, pattern, new, skip)
    for meta in doc.iter("meta"):
        if ("title" in meta_key(meta) or meta_key(meta) == "headline") and meta.get("content"):
            meta.set("content", pattern.sub(new, meta.get("content")))
    field = re.compile(r'("(?:headline|alternativeHeadline|name)"\s*:\s*")((?:[^"\\]|\\.)*)(")')

    def fix(m: re.Match) -> str:
        value = m.group(2)
        try:  # the JSON string as the page's parser reads it (\uXXXX escapes decoded)
            value = json.loads(f'"{value}"')
        except ValueError:
            pass
        if m.group(1).startswith('"name"') and not (key and (key in fold(value) or fold(value) in key)):
            return m.group(0)
        return m.group(1) + json.dumps(pattern.sub(new, value), ensure_ascii=False)[1:-1] + m.group(3)

    for script in ld_scripts(doc):
        script.text = field.sub(fix, script.text)
    return Expect("title", False, "title", (old,), (new,), note=f"{old!r} -> {new!r} in {headline[:60]!r}")
