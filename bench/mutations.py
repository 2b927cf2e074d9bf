"""Page mutations for bench/changes: cosmetic churn that must not make a version, real edits that must.

Everything works on the DOM (lxml.html), never on strings of a particular page:
- ``prepare`` parses a page, makes a relative rel=canonical absolute (the page is served from
  another host) and finds the article paragraphs (the parent holding most body-text <p>s).
- ``furnish`` adds the furniture real news pages carry, rendered from a seed: a header with nav
  and a leaderboard ad, and *inside the article* a meta bar ("Updated N minutes ago", view and
  share counts), an ad slot between paragraphs, a related-articles box, an embed script; a
  most-read rail, a footer form with a CSRF token, head scripts, styles and a csrf meta.
  The markup variant is picked per page; a cosmetic round re-renders one kind with a new seed.
- ``MUTATIONS`` maps each kind to a function that edits the tree and returns an ``Expect``
  (what the archive should record), or None when the page has nothing to mutate.
- The byline edit renames a name the page prints as *this article's* byline. Not a picture
  credit in an author slot ("Image: Getty Images"), a teaser's writer after the article, a CMS
  account named after the site ("Ilanga D"), or words of an author's bio: renaming those is no
  byline edit, so a miss on them would say nothing about the archive.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import lxml.html

from bench.furniture import CHURN, FURNITURE_KINDS, furnish

__all__ = [
    "COSMETIC",
    "FURNITURE_KINDS",
    "MUTATIONS",
    "SUBSTANTIVE",
    "Expect",
    "Page",
    "article_paragraphs",
    "build",
    "prepare",
    "serialize",
    "words",
]

# Words as the diff counts them: ideographs and kana one by one, other \w runs whole.
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A word to edit: four letters or more between non-letters, or one ideograph (the diff's unit
# for scripts written without spaces).
_ALPHA_WORD = re.compile(rf"(?<![^\W\d_])[^\W\d_{_CJK}]{{4,}}(?![^\W\d_])|[\u3400-\u4dbf\u4e00-\u9fff]")


def _is_cjk(word: str) -> bool:
    return bool(re.match(f"[{_CJK}]", word))
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“‘„«(]?[A-ZÀ-ÖØ-Þ])")
_SKIP_ANCESTORS = {
    "header", "nav", "footer", "aside", "form", "figure", "figcaption", "noscript", "button",
    "label", "select", "template", "table", "blockquote", "li",
}


def words(text: str) -> list[str]:
    return _WORD.findall(text or "")


def _fold(text: str) -> str:
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


@dataclass(frozen=True)
class Page:
    """One corpus page ready to mutate: its HTML with an absolute canonical, and its truth."""

    name: str
    url: str  # where the page was originally published
    html: str
    truth_body: str = ""


def _parse(html: str) -> lxml.html.HtmlElement:
    # lxml refuses str input that still carries an XML encoding declaration.
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    return lxml.html.document_fromstring(html)


def serialize(doc: lxml.html.HtmlElement) -> str:
    return lxml.html.tostring(doc, encoding="unicode", method="html", doctype="<!DOCTYPE html>")


def prepare(name: str, url: str, html: str, truth_body: str = "") -> Page:
    """Round-trip the page through lxml once, so every served variant differs only by its mutation."""
    doc = _parse(html)
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            # Served from loopback, a relative canonical would point at the bench server.
            from urllib.parse import urljoin

            link.set("href", urljoin(url, link.get("href").strip()))
    return Page(name=name, url=url, html=serialize(doc), truth_body=truth_body)


def build(page: Page, seeds: dict[str, int] | None = None) -> lxml.html.HtmlElement:
    """The page's tree with furniture rendered from ``seeds`` (0 for every kind not named)."""
    doc = _parse(page.html)
    paras = article_paragraphs(doc, page.truth_body)
    furnish(doc, paras, page_seed=page.name, seeds=seeds or {})
    return doc


# --- finding the article ------------------------------------------------------------------------


def _text(el) -> str:
    return " ".join("".join(el.itertext()).split())


def _in_skipped(el) -> bool:
    return any(isinstance(a.tag, str) and a.tag in _SKIP_ANCESTORS for a in el.iterancestors())


def article_paragraphs(doc, truth_body: str = "") -> list:
    """Body <p>s of the article in document order (injected furniture excluded).

    Candidates are <p>s of eight words or more outside page furniture; with a ground-truth
    body, only those whose text is in it. The parent holding most candidates is the article
    container; when paragraphs are wrapped one by one, all candidates are used.
    """
    truth = f" {_fold(truth_body)} " if truth_body else ""
    found = []
    for p in doc.iter("p"):
        if p.get("data-furniture") is not None or any(
            a.get("data-furniture") is not None for a in p.iterancestors()
        ):
            continue
        if _in_skipped(p):
            continue
        text = _text(p)
        if len(words(text)) < 8:
            continue
        if truth and f" {_fold(text)} " not in truth:
            continue
        found.append(p)
    if not found:
        return []
    parent, count = Counter(p.getparent() for p in found).most_common(1)[0]
    if count >= 3:
        return [p for p in found if p.getparent() is parent]
    return found


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


def _vocabulary(paras) -> list[str]:
    seen: dict[str, None] = {}
    for p in paras:
        for w in _ALPHA_WORD.findall(_text(p)):
            seen.setdefault(w, None)
    return list(seen)


def _pick_paragraph(paras, rng: random.Random, min_words: int = 8):
    # Skip the first paragraph when possible: lead paragraphs often double as the description.
    pool = [p for p in paras[1:] if len(words(_text(p))) >= min_words] or [
        p for p in paras if len(words(_text(p))) >= min_words
    ]
    return rng.choice(pool) if pool else None


# --- substantive edits ------------------------------------------------------------------------------

_NEW_SENTENCES = (
    "Officials said further details would be released later this week.",
    "The spokesperson declined to give a reason for the delay.",
    "Several witnesses described the scene as chaotic and confusing.",
    "A second inquiry is expected to report its findings next month.",
)
_FALLBACK_WORDS = ("Harbour", "quietly", "northern", "several", "margin", "council")


def edit_word(doc, paras, rng: random.Random) -> Expect | None:
    """Replace one word of one body paragraph by another word of the article."""
    for _attempt in range(6):
        p = _pick_paragraph(paras, rng)
        if p is None:
            return None
        counts = Counter(_ALPHA_WORD.findall(_text(p)))
        choices = [
            (slot, m)
            for slot in _slots(p)
            for m in _ALPHA_WORD.finditer(_get(slot))
            if counts[m.group(0)] == 1
        ]
        if not choices:
            continue
        slot, match = rng.choice(choices)
        old = match.group(0)
        present = set(_ALPHA_WORD.findall(_text(p)))
        pool = [w for w in _vocabulary(paras) + list(_FALLBACK_WORDS)
                if w not in present and w.casefold() != old.casefold() and w[0].isupper() == old[0].isupper()
                and _is_cjk(w) == _is_cjk(old)]
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
        if a.getnext() is b and len(words(_text(a))) >= 5 and len(words(_text(b))) >= 5 and _fold(_text(a)) != _fold(_text(b))
    ]
    if not pairs:
        return None
    a, b = rng.choice(pairs)
    tail = a.tail
    a.tail = b.tail
    b.tail = tail
    b.addnext(a)
    wa, wb = tuple(words(_text(a))), tuple(words(_text(b)))
    return Expect("paragraph_move", False, "text", wa, wa, alternatives=((wb, wb),),
                  note=f"moved {_text(a)[:50]!r} below the next paragraph")



# --- metadata edits, applied everywhere a CMS would render the field -----------------------------


def _furniture(el) -> bool:
    return el.get("data-furniture") is not None or any(
        a.get("data-furniture") is not None for a in el.iterancestors()
    )


def _excluded(doc, paras) -> set:
    """Elements whose text a metadata edit leaves alone: body paragraphs, furniture, code."""
    out: set = set()
    roots = list(paras) + [
        el for el in doc.iter()
        if isinstance(el.tag, str) and (el.get("data-furniture") is not None or el.tag in ("script", "style"))
    ]
    for root in roots:
        out.update(root.iter())
    return out


def _meta_key(el) -> str:
    return (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()


def _ld_scripts(doc) -> list:
    return [s for s in doc.iter("script") if "ld+json" in (s.get("type") or "").lower() and s.text]


def _replace_in_text_nodes(roots, pattern: re.Pattern, repl, skip: set) -> int:
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


def _whole(word: str) -> re.Pattern:
    if _is_cjk(word):
        return re.compile(re.escape(word))
    return re.compile(rf"(?<!\w){re.escape(word)}(?!\w)")


_SEPARATOR = re.compile(r"\s[|\u2013\u2014:\u00b7\u2022-]\s|\s*\|\s*")


def _headline(doc) -> str:
    """The on-page headline: the <h1> most like og:title or <title> by shared words, else og:title."""
    declared = [m.get("content") or "" for m in doc.iter("meta") if _meta_key(m) in ("og:title", "twitter:title")]
    title = doc.find(".//title")
    declared.append(_text(title) if title is not None else "")
    keys = [set(_fold(d).split()) for d in declared if d.strip()]
    # What follows the first separator of a declared title ("Post | The X Blog") names the site:
    # an <h1> holding only that is the logo.
    site = {_fold(m.get("content") or "") for m in doc.iter("meta") if _meta_key(m) == "og:site_name"}
    site |= {_fold(part) for d in declared for part in _SEPARATOR.split(d)[1:]}
    best, best_score = "", 0.0
    for h1 in doc.iter("h1"):
        if _furniture(h1) or not _text(h1) or _fold(_text(h1)) in site:
            continue
        mine = set(_fold(_text(h1)).split())
        score = max((len(mine & k) / len(mine) for k in keys if mine), default=0.0)
        if score > best_score:
            best, best_score = _text(h1), score
    if best_score >= 0.5:
        return best
    return next((d.strip() for d in declared if d.strip()), "")


def edit_title(doc, paras, rng: random.Random) -> Expect | None:
    """Change one word of the headline in <title>, title metas, JSON-LD and every on-page rendering."""
    headline = _headline(doc)
    counts = Counter(_ALPHA_WORD.findall(headline))
    candidates = [w for w, n in counts.items() if n == 1]
    if not candidates:
        return None
    old = rng.choice(candidates)
    pool = [w for w in _vocabulary(paras) + list(_FALLBACK_WORDS)
            if w not in counts and w[0].isupper() == old[0].isupper() and w.casefold() != old.casefold()
            and _is_cjk(w) == _is_cjk(old) and w not in headline]
    new = rng.choice(pool) if pool else "Changed"
    pattern, key = _whole(old), _fold(headline)
    skip = _excluded(doc, paras)
    # Every element that renders the headline on its own (h1, <title>, breadcrumb, self-teaser).
    roots = []
    for el in doc.iter("h1", "h2", "title", "a", "span", "li"):
        if el in skip:
            continue
        text = _fold(_text(el))
        if text and (text in key or key in text) and len(text) <= 2 * len(key) + 40:
            roots.append(el)
    # <title> may carry the headline in another wording ("SEO title - Site"): edited too, as
    # every declared voice is.
    roots += [el for el in doc.iter("title") if el not in roots]
    _replace_in_text_nodes(roots, pattern, new, skip)
    for meta in doc.iter("meta"):
        if ("title" in _meta_key(meta) or _meta_key(meta) == "headline") and meta.get("content"):
            meta.set("content", pattern.sub(new, meta.get("content")))
    field = re.compile(r'("(?:headline|alternativeHeadline|name)"\s*:\s*")((?:[^"\\]|\\.)*)(")')

    def fix(m: re.Match) -> str:
        value = m.group(2)
        try:  # the JSON string as the page's parser reads it (\uXXXX escapes decoded)
            value = json.loads(f'"{value}"')
        except ValueError:
            pass
        if m.group(1).startswith('"name"') and not (key and (key in _fold(value) or _fold(value) in key)):
            return m.group(0)
        return m.group(1) + json.dumps(pattern.sub(new, value), ensure_ascii=False)[1:-1] + m.group(3)

    for script in _ld_scripts(doc):
        script.text = field.sub(fix, script.text)
    return Expect("title", False, "title", (old,), (new,), note=f"{old!r} -> {new!r} in {headline[:60]!r}")


_AUTHOR_META = ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author", "byl")
_NEW_NAMES = ("Maria Lindqvist", "Tomasz Nowakowski", "Aisha Okafor", "Daniel Moreau", "Keiko Tanabe")
_NAME_SPLIT = re.compile(r"\s*(?:[,|·•/:;]|\b(?:and|und|et|y|e|by|von|par|por|door|av)\b|&)\s*", re.I)
_NAME = re.compile(r"^[^\W\d_][^\W\d_'.-]*(?:[ '.-]+[^\W\d_][^\W\d_'.-]*){1,3}$")
# A picture credit in an author slot: "(Image: Getty Images/iStockphoto)", "Foto: dpa".
_CREDIT = re.compile(r"^\W*(?:images?|photos?|fotos?|bild(?:er)?|pictures?|credits?|quelle|source)\s*:", re.I)


# JSON-LD keys whose objects are other works (a fact-check's reviewed claim, citations):
# their authors are not the article's.
_NOT_THE_ARTICLE = frozenset({"itemReviewed", "review", "citation", "mentions", "about", "isBasedOn"})
_MAX_BYLINE = 120  # characters: a longer "author" element is a bio box, not a byline


def _ld_author_names(doc) -> list[str]:
    names: list[str] = []

    def walk(node, in_author: bool, depth: int = 0) -> None:
        if depth > 8:
            return
        if isinstance(node, list):
            for item in node:
                walk(item, in_author, depth + 1)
        elif isinstance(node, dict):
            if in_author and isinstance(node.get("name"), str):
                names.append(node["name"])
            elif in_author and isinstance(node.get("familyName"), str):
                names.append(f"{node.get('givenName') or ''} {node['familyName']}".strip())
            for k, v in node.items():
                # Under an author only its name counts: a bio ("description") names
                # foundations and employers, a "url" or "@type" is no name at all.
                if k in _NOT_THE_ARTICLE or (in_author and k not in ("author", "creator", "@graph")):
                    continue
                walk(v, in_author or k in ("author", "creator"), depth + 1)
        elif isinstance(node, str) and in_author:
            names.append(node)

    for script in _ld_scripts(doc):
        try:
            walk(json.loads(script.text, strict=False), False)
        except ValueError:
            continue
    return names


def _in_comments(el) -> bool:
    """Inside a comment thread or a recent-comments list: its "author" is a reader."""
    return any("comment" in f"{a.get('class') or ''} {a.get('id') or ''}".lower() for a in (el, *el.iterancestors()))


def _author_candidates(doc, skip: set, paras) -> list[list[str]]:
    """Author strings from each kind of source: JSON-LD, author metas, byline elements.

    A byline element after the article's last paragraph is a teaser's or a rail's (another
    article's writer), and one labelled as a credit ("Image: Getty Images") names a picture
    agency: neither is this article's byline.
    """
    metas = [m.get("content") for m in doc.iter("meta") if _meta_key(m) in _AUTHOR_META and m.get("content")]
    end = paras[-1] if paras else None
    bylines = []
    for el in doc.iter():
        if el is end:
            break
        if not isinstance(el.tag, str) or el in skip:
            continue
        cls = f"{el.get('class') or ''} {el.get('rel') or ''} {el.get('itemprop') or ''}".lower()
        if not re.search(r"author|byline", cls):
            continue
        text = _text(el)
        if len(text) <= _MAX_BYLINE and not _in_comments(el):
            # Names printed one per line ("Jane Doe\nJohn Roe") are pieces of their own.
            bylines += [text, *(" ".join(line.split()) for line in "".join(el.itertext()).split("\n"))]
    groups = (_ld_author_names(doc), metas, bylines)
    return [[" ".join(n.split()) for n in group if n and not _CREDIT.match(n)] for group in groups]


def _publisher_names(doc) -> set[str]:
    names = {m.get("content") or "" for m in doc.iter("meta")
             if _meta_key(m) in ("og:site_name", "application-name", "publisher", "twitter:site")}
    for script in _ld_scripts(doc):
        names.update(re.findall(r'"publisher"\s*:\s*\{[^{}]*?"name"\s*:\s*"([^"]+)"', script.text))
    return {_fold(n) for n in names if n.strip()}


def _site_words(doc, publishers: set[str]) -> set[str]:
    """Words of the publisher's names and labels of the page's host ("ilanga", "ilanganews")."""
    hosts = [el.get("href") or "" for el in doc.iter("link") if "canonical" in (el.get("rel") or "").lower()]
    hosts += [m.get("content") or "" for m in doc.iter("meta") if _meta_key(m) == "og:url"]
    labels = {part for h in hosts for part in re.sub(r"^\w+://", "", h).split("/")[0].casefold().split(".")}
    return {w for w in (*labels, *(w for p in publishers for w in p.split())) if len(w) >= 3}


def _site_account(key: str, site_words: set[str]) -> bool:
    """A CMS account named after the site ("Ilanga D" by "Ilanga News"): the publisher, no byline."""
    words = key.split()
    return any(w in site_words for w in words) and all(w in site_words or len(w) <= 2 for w in words)


def _name_pattern(name: str) -> re.Pattern:
    """The name as composed, decomposed or \\u-escaped (JSON-LD often escapes non-ASCII letters)."""
    forms = {name, unicodedata.normalize("NFC", name), unicodedata.normalize("NFD", name)}
    forms |= {json.dumps(f)[1:-1] for f in list(forms)}
    alts = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)", re.I)


def edit_byline(doc, paras, rng: random.Random) -> Expect | None:
    """Replace one author's name wherever the page renders it (byline, metas, JSON-LD).

    The name is one the page prints as its byline: credits, commenters, teasers after the
    article and accounts named after the site are left out (see _author_candidates).
    """
    html = serialize(doc)
    folded_html = html.casefold()
    folded_words = _fold(html)  # presence of "Troy L. Smith" whatever the punctuation
    skip = _excluded(doc, paras)
    publishers = _publisher_names(doc)
    site_words = _site_words(doc, publishers)
    names: dict[str, set] = {}
    for kind, group in enumerate(_author_candidates(doc, skip, paras)):
        for candidate in group:
            # A byline element's text may be "By Jane Doe | 3 May": try the name-shaped pieces.
            for piece in [candidate, *_NAME_SPLIT.split(candidate)]:
                piece = re.sub(r"^(?:by|von|par|por|door|av)\s+", "", piece.strip(), flags=re.I)
                key = _fold(piece)
                if (_NAME.match(piece) and len(piece) <= 40 and all(t[0].isupper() for t in piece.split())
                        # "Fotolia.com" is a domain; "Jane Doe. Example Wire" runs into an affiliation
                        and not re.search(r"\.[a-z]{2,}\b|[^\W\d_]{3}\.\s", piece)
                        and key in folded_words and not any(key in p or p in key for p in publishers)
                        and not _site_account(key, site_words)):
                    names.setdefault(piece.title() if piece.isupper() else piece, set()).add(kind)
    if not names:
        return None
    # The name most kinds of source agree on (JSON-LD, metas, byline) is the article's author.
    order = list(names)
    name = max(order, key=lambda n: (len(names[n]), -order.index(n)))
    new = next(n for n in rng.sample(_NEW_NAMES, len(_NEW_NAMES)) if n.casefold() not in folded_html)
    pattern = _name_pattern(name)

    def same_case(m: re.Match) -> str:
        return new.upper() if m.group(0).isupper() else new

    _replace_in_text_nodes([doc], pattern, same_case, skip)
    for el in doc.iter():
        if not isinstance(el.tag, str) or el in skip:
            continue
        for attr in ("content", "title", "alt", "aria-label"):
            if el.get(attr) and pattern.search(el.get(attr)):
                el.set(attr, pattern.sub(same_case, el.get(attr)))
    given, _, family = name.rpartition(" ")
    new_given, _, new_family = new.rpartition(" ")
    for script in doc.iter("script"):  # JSON-LD and analytics configs alike
        if script.text:
            script.text = pattern.sub(same_case, script.text)
            # A JSON-LD Person may spell the name as "givenName" and "familyName".
            for key, old_part, new_part in (("givenName", given, new_given), ("familyName", family, new_family)):
                script.text = re.sub(rf'("{key}"\s*:\s*"){re.escape(old_part)}"', rf'\g<1>{new_part}"', script.text)
    return Expect("byline", False, "authors", tuple(words(name)), tuple(words(new)),
                  note=f"{name!r} -> {new!r}")


_PUBLISHED_KEYS = ("article:published_time", "datepublished", "og:published_time", "publishdate",
                   "pubdate", "publish-date", "date", "dc.date", "dcterms.created", "parsely-pub-date")
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")
_MONTHS_DE = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
              "Oktober", "November", "Dezember")


def _published_day(doc):
    from datetime import date

    values = []
    for script in _ld_scripts(doc):
        values += _own_published(script.text)
    values += [m.get("content") for m in doc.iter("meta") if _meta_key(m) in _PUBLISHED_KEYS and m.get("content")]
    values += [t.get("datetime") for t in doc.iter("time") if t.get("datetime")]
    for value in values:
        m = _ISO_DAY.search(value or "")
        if m:
            try:
                day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
            if day.year >= 1900:  # placeholders like 0001-01-01 are not a publication day
                return day
    return None


def _own_published(text: str) -> list[str]:
    """``datePublished`` of the JSON-LD's own objects (top level or @graph), not of nested ones:
    a fact check's reviewed claim (itemReviewed) carries the claim's date, not the article's."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return re.findall(r'"datePublished"\s*:\s*"([^"]+)"', text)
    objects = data if isinstance(data, list) else [data]
    objects = [o for obj in objects if isinstance(obj, dict) for o in [obj, *(obj.get("@graph") or [])]]
    return [o["datePublished"] for o in objects if isinstance(o, dict) and isinstance(o.get("datePublished"), str)]


def _day_forms(day) -> list[str]:
    """The ways pages print a day, most specific first (so "3. Mai 2024" wins over "Mai 2024")."""
    d, m, y = day.day, day.month, day.year
    en, de = _MONTHS_EN[m - 1], _MONTHS_DE[m - 1]
    return [
        f"{d:02d}.{m:02d}.{y}", f"{d}.{m}.{y}", f"{d}. {de} {y}", f"{d:02d}. {de} {y}",
        f"{en} {d}, {y}", f"{en[:3]}. {d}, {y}", f"{en[:3]} {d}, {y}", f"{d} {en} {y}",
        f"{d:02d} {en} {y}", f"{d} {en[:3]} {y}", f"{d:02d}/{m:02d}/{y}", f"{m:02d}/{d:02d}/{y}",
    ]


def edit_date(doc, paras, rng: random.Random) -> Expect | None:
    """Move the publication day back by one, in every machine-readable and printed form."""
    from datetime import timedelta

    day = _published_day(doc)
    if day is None:
        return None
    new_day = day - timedelta(days=1)
    iso_old, iso_new = day.isoformat(), new_day.isoformat()
    skip = _excluded(doc, paras)
    for el in doc.iter():
        if not isinstance(el.tag, str) or el in skip:
            continue
        for attr in ("content", "datetime"):
            if el.get(attr) and iso_old in el.get(attr):
                el.set(attr, el.get(attr).replace(iso_old, iso_new))
    for script in _ld_scripts(doc):
        script.text = script.text.replace(iso_old, iso_new)
    old_words: list[str] = []
    new_words: list[str] = []
    for old_form, new_form in zip(_day_forms(day), _day_forms(new_day)):
        if _replace_in_text_nodes([doc], _whole(old_form), new_form, skip):
            old_words += words(old_form)
            new_words += words(new_form)
    return Expect("date", False, "published", tuple(old_words), tuple(new_words), shift_days=-1,
                  note=f"{iso_old} -> {iso_new}")


def _apply_churn(kind: str):
    def run(doc, paras, rng: random.Random) -> Expect | None:
        return Expect(kind, True) if CHURN[kind](doc, rng) else None

    run.__name__ = f"churn_{kind}"
    return run


SUBSTANTIVE = ("word", "sentence_add", "sentence_remove", "paragraph_move", "title", "byline", "date")
COSMETIC = FURNITURE_KINDS + tuple(CHURN)

MUTATIONS = {
    **{kind: _apply_churn(kind) for kind in CHURN},
    "word": edit_word,
    "sentence_add": add_sentence,
    "sentence_remove": remove_sentence,
    "paragraph_move": move_paragraph,
    "title": edit_title,
    "byline": edit_byline,
    "date": edit_date,
}
