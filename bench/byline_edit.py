"""The byline edit: one author's name replaced wherever the page renders it.

The name is one the page prints as *this article's* byline. Not a picture credit in an author
slot ("Image: Getty Images"), a teaser's writer after the article, a CMS account named after
the site ("Ilanga D"), or words of an author's bio: renaming those is no byline edit, so a
miss on them would say nothing about the archive.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata

from bench.mutation_tree import (
    Expect,
    excluded,
    fold,
    ld_scripts,
    meta_key,
    replace_in_text_nodes,
    serialize,
    text_of,
    words,
)

__all__ = ["edit_byline"]


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

    for script in ld_scripts(doc):
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
    metas = [m.get("content") for m in doc.iter("meta") if meta_key(m) in _AUTHOR_META and m.get("content")]
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
        text = text_of(el)
        if len(text) <= _MAX_BYLINE and not _in_comments(el):
            # Names printed one per line ("Jane Doe\nJohn Roe") are pieces of their own.
            bylines += [text, *(" ".join(line.split()) for line in "".join(el.itertext()).split("\n"))]
    groups = (_ld_author_names(doc), metas, bylines)
    return [[" ".join(n.split()) for n in group if n and not _CREDIT.match(n)] for group in groups]


def _publisher_names(doc) -> set[str]:
    names = {m.get("content") or "" for m in doc.iter("meta")
             if meta_key(m) in ("og:site_name", "application-name", "publisher", "twitter:site")}
    for script in ld_scripts(doc):
        names.update(re.findall(r'"publisher"\s*:\s*\{[^{}]*?"name"\s*:\s*"([^"]+)"', script.text))
    return {fold(n) for n in names if n.strip()}


def _site_words(doc, publishers: set[str]) -> set[str]:
    """Words of the publisher's names and labels of the page's host ("ilanga", "ilanganews")."""
    hosts = [el.get("href") or "" for el in doc.iter("link") if "canonical" in (el.get("rel") or "").lower()]
    hosts += [m.get("content") or "" for m in doc.iter("meta") if meta_key(m) == "og:url"]
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
    folded_words = fold(html)  # presence of "Troy L. Smith" whatever the punctuation
    skip = excluded(doc, paras)
    publishers = _publisher_names(doc)
    site_words = _site_words(doc, publishers)
    names: dict[str, set] = {}
    for kind, group in enumerate(_author_candidates(doc, skip, paras)):
        for candidate in group:
            # A byline element's text may be "By Jane Doe | 3 May": try the name-shaped pieces.
            for piece in [candidate, *_NAME_SPLIT.split(candidate)]:
                piece = re.sub(r"^(?:by|von|par|por|door|av)\s+", "", piece.strip(), flags=re.I)
                key = fold(piece)
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

    replace_in_text_nodes([doc], pattern, same_case, skip)
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
