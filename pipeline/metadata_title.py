"""Choose the headline among the page's title voices, and clean it by agreement.

Voices in order of trust: og:title, the JSON-LD headline, a <meta name=headline>, the first
<h1>, twitter:title, <title> and trafilatura's guess, each with site-name affixes stripped.
The first voice wins; the others only clean it:
another voice that is a separator-delimited part of the winner, or the winner minus a short
tail naming the site or a section, shows that the rest is furniture ("… | Politics", "…-News|Site").
Two demotions come first. An og:title that only repeats the SEO <title> yields to a JSON-LD
headline that the <h1> prints (the copy is one voice, not two). A voice that another voice
continues past a visible cut (an ellipsis, a trailing space, a broken word) was truncated by a
length limit and goes to the back of the line.
Majority voting was measured too and loses: publishers split between og:title and JSON-LD as
the field that carries their headline (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from os.path import commonprefix

from pipeline.metadata_clean import (
    SEPARATOR_AT_END,
    SEPARATOR_AT_START,
    clean_text,
    fold,
    leading_segment,
    strip_site_affixes,
    title_segments,
)
from pipeline.metadata_sources import Sources

__all__ = ["choose_headline", "choose_title", "other_titles", "title_voices"]

MAX_TITLE = 600
# A tail after the headline that another voice omits, without naming the site: at most this long.
_MAX_TAIL = 30
# An <h1> is the printed headline when it is this close to a declared title (0..1, difflib ratio).
_HEADLINE_LIKENESS = 0.5
_COMPARED = 300  # characters of each string compared, so a hostile 1 MB <h1> costs nothing
_TYPOGRAPHIC = re.compile(r"[\u2018\u2019\u201c\u201d\u201e\u00ab\u00bb]")


def choose_title(voices: list[tuple[str, str]], sites: list[str]) -> str | None:
    """The title among ``voices`` (title_voices), cleaned by the others' agreement."""
    if not voices:
        return None
    best = voices[0][1]
    # og:title and the JSON-LD headline are both the publisher's declared headline: when they
    # agree, that is the headline, even if a shorter <h1> or <title> leaves a clause out.
    declared = [fold(text) for source, text in voices if source in ("og", "jsonld")]
    if len(declared) == 2 and declared[0] == declared[1]:
        # Equal up to quote style: SEO plugins flatten og:title's quotes; the headline field
        # keeps the typography the newsroom wrote.
        jsonld = next(text for source, text in voices if source == "jsonld")
        return jsonld if _typographic(jsonld) > _typographic(best) else best
    return _trim_by_agreement(best, [text for _source, text in voices[1:]], sites)


def title_voices(src: Sources, fallback_title: str | None, sites: list[str]) -> list[tuple[str, str]]:
    """(source, cleaned text) for every title voice, in order of trust."""
    raw: list[tuple[str, object]] = [("og", v) for v in src.meta.get("og:title", ())[:1]]
    for obj in src.jsonld[:3]:
        value = obj.get("headline") or obj.get("name")
        raw.append(("jsonld", value[0] if isinstance(value, list) and value else value))
        break
    # The first <h1> that is not the site's logo.
    raw += [("meta", v) for v in src.meta.get("headline", ())[:1]] + [("h1", v) for v in src.h1[:3]]
    raw += [("twitter", v) for v in src.meta.get("twitter:title", ())[:1]]
    raw += [("title", src.title_tag), ("fallback", fallback_title)]
    site_keys = {fold(s) for s in sites}
    voices: list[tuple[str, str]] = []
    spaced: set[int] = set()  # voices whose raw value ended in whitespace
    seen: set[str] = set()
    first: dict[str, str] = {}  # source -> folded text of its first voice, repeats included
    had_h1 = False
    for source, value in raw:
        text = clean_text(value, limit=MAX_TITLE, keep_soft_hyphens=True)
        if not text or len(text) < 4:
            continue
        text = strip_site_affixes(text, sites)
        if fold(text) in site_keys or (source == "h1" and had_h1):
            continue
        had_h1 = had_h1 or source == "h1"
        first.setdefault(source, fold(text))
        if source in ("og", "jsonld") or text not in seen:
            if value[-1:].isspace():
                spaced.add(len(voices))
            voices.append((source, text))
            seen.add(text)
    if _seo_copy_against_printed(first):
        og = next(i for i, (source, _t) in enumerate(voices) if source == "og")
        jsonld = next(i for i, (source, _t) in enumerate(voices) if source == "jsonld")
        voices.insert(og, voices.pop(jsonld))
    # A voice cut short is the weakest voice: it stays (other_titles versions it), last in line.
    texts = [text for _s, text in voices]
    cut = [i for i, text in enumerate(texts) if _is_cut(text, i in spaced, texts)]
    return [v for i, v in enumerate(voices) if i not in cut] + [voices[i] for i in cut]


def _seo_copy_against_printed(first: dict[str, str]) -> bool:
    """og:title only repeats the SEO <title>, and the <h1> prints the JSON-LD headline instead.

    og:title leads because a newsroom writes it for the article; one equal to the <title> is the
    SEO title copied over (SEO plugins fill it so by default) and is one voice, not two. Against
    it stand two that are written apart: the structured headline and the one printed on the page.
    An og:title that differs from the <title> was written on purpose and keeps its rank.
    """
    og, jsonld = first.get("og"), first.get("jsonld")
    if not (og and jsonld) or _same_headline(og, jsonld) or _wraps(og, jsonld) or _wraps(jsonld, og):
        return False  # one headline (maybe with furniture around it): agreement cleans it
    return _same_headline(first.get("title"), og) and _same_headline(first.get("h1"), jsonld)


def _same_headline(a: str | None, b: str) -> bool:
    """Equal folded, or one word apart: two renderings of one field caught mid-edit still agree,
    so an edit that reached one of them first does not swing the title to the other headline."""
    if a is None:
        return False
    if a == b:
        return True
    x, y = a.split(), b.split()
    if min(len(x), len(y)) < 4 or abs(len(x) - len(y)) > 1:
        return False
    head = len(commonprefix([x, y]))  # works on word lists as on strings
    tail = len(commonprefix([x[head:][::-1], y[head:][::-1]]))
    return max(len(x), len(y)) - head - tail <= 1


# A trailing ellipsis: the mark a length limit leaves when it cuts a title.
_ELLIPSIS = re.compile(r"\s*(?:\u2026|\.{3})$")


def _is_cut(text: str, spaced: bool, others: list[str]) -> bool:
    """``text`` is another voice cut short by a length limit, not a shorter wording of it.

    Another voice must go on where this one stops, without a separator (a separator starts
    furniture, and then this voice is the clean one), and the cut must show: an ellipsis,
    whitespace left at the end of the raw value where the other goes on with a new word, or a
    word broken in two with more words after it. A deliberately shorter headline ("Tony Blair:
    Why there has to be compromise" beside a longer one) shows none of these.
    """
    stem = _ELLIPSIS.sub("", text)
    ellipsis = stem != text
    key = fold(stem)
    if len(key) < 4:
        return False
    for other in others:
        other_key = fold(other)
        if len(other_key) <= len(key) or not other_key.startswith(key):
            continue
        rest = other_key[len(key) :]
        if SEPARATOR_AT_START.match(rest):
            continue
        if ellipsis or (spaced and rest[0] == " "):
            return True
        # Unmarked, only a word broken with more words after it: "recipe" / "recipes" is a plural.
        if key[-1].isalnum() and rest[0].isalnum() and " " in rest.strip():
            return True
    return False


def _trim_by_agreement(best: str, others: list[str], sites: list[str]) -> str:
    """The winner, or the part of it that another voice confirms is the headline proper.

    The part keeps the winner's own characters (its quotes, its dashes): the other voice
    only shows where the furniture starts.
    """
    parts = {fold(p): p for p in reversed(title_segments(best)[1:])}
    best_key = fold(best)
    for other in others:
        key = fold(other)
        if not key or key == best_key:
            continue
        if key in parts and len(other) >= 0.4 * len(best):
            return parts[key]
        low, other_low = best.casefold(), other.casefold()
        if low.startswith(other_low) and _is_furniture_tail(low[len(other_low) :], sites):
            # casefold may change lengths (ß -> ss): slice only when it did not
            return best[: len(other)].rstrip() if len(low) == len(best) and len(other_low) == len(other) else other
    return best


def _is_furniture_tail(tail: str, sites: list[str]) -> bool:
    """What follows the headline in a longer voice: a separator, then a site or section name."""
    if not SEPARATOR_AT_START.match(tail):
        return False
    if len(tail.strip()) <= _MAX_TAIL:
        return True
    return any(len(k) > 2 and tail.rstrip().endswith(k) for k in (fold(s) for s in sites))


def _typographic(text: str) -> int:
    return len(_TYPOGRAPHIC.findall(text))


def choose_headline(src: Sources, title: str | None, sites: list[str] = ()) -> str | None:
    """The headline as printed on the page: the <h1> closest to a declared title, if any is close.

    Kept beside the declared title because an editor may change either one alone. An <h1>
    that is the site's logo or a section name resembles no declared title and is skipped.
    """
    declared = [*src.meta.get("og:title", ())[:1], *src.meta.get("twitter:title", ())[:1], src.title_tag, title]
    declared += [obj.get("headline") for obj in src.jsonld[:3] if isinstance(obj.get("headline"), str)]
    declared = [d for d in declared if isinstance(d, str) and d.strip()]
    # What a declared voice adds around the title ("Title | Site | Section") is furniture,
    # so an <h1> holding the site's name is not the headline.
    title_key = fold(title or "")
    furniture = {fold(s) for s in sites}
    for declared_key in map(fold, declared):
        if not (title_key and title_key in declared_key):
            continue
        rest = declared_key.replace(title_key, " | ")
        if rest.strip(" |"):
            furniture.update(fold(seg).strip(" |") for seg in title_segments(rest))
    # Microdata that marks an <h1> as the headline is the page's own word: a display headline
    # may share nothing with the declared ones and still be the one readers see.
    marked = clean_text(src.marked_h1, limit=MAX_TITLE, keep_soft_hyphens=True) if src.marked_h1 else None
    if marked and fold(marked) not in furniture:
        return marked
    # A voice's leading segment too: when the site is not known, "Headline - Site" stays whole.
    keys = {fold(v)[:_COMPARED] for d in declared for v in (d, leading_segment(d)) if len(v) >= 4}
    best, best_score = None, _HEADLINE_LIKENESS
    for raw in src.h1:
        text = clean_text(raw, limit=MAX_TITLE, keep_soft_hyphens=True)
        if not text:
            continue
        folded = fold(text)
        if folded in furniture:
            continue
        key = folded[:_COMPARED]
        score = max((_likeness(key, other) for other in keys), default=0.0)
        if score > best_score:
            best, best_score = text, score
        if best_score == 1.0:
            break
    return best


def _likeness(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    # The cheap upper bounds first: most pairs are told apart without the full match.
    if matcher.real_quick_ratio() <= _HEADLINE_LIKENESS or matcher.quick_ratio() <= _HEADLINE_LIKENESS:
        return 0.0
    return matcher.ratio()


_DECLARED = ("og", "jsonld", "meta", "twitter", "title")


def other_titles(voices: list[tuple[str, str]], title: str | None, headline: str | None) -> tuple[str, ...]:
    """The declared headlines among ``voices`` (title_voices) that are neither the chosen title
    nor the printed one.

    Versioned so that an edit to any one of them is seen, whichever voice the title took.
    """
    taken = {fold(t) for t in (title, headline) if t}
    out: list[str] = []
    for source, text in voices:
        key = fold(text)
        if source in _DECLARED and key not in taken and not any(_wraps(key, t) for t in taken):
            taken.add(key)
            out.append(text)
    return tuple(out)


def _wraps(key: str, inner: str) -> bool:
    """``key`` is ``inner`` with only separator-delimited furniture around it ("Opinion | X - Site")."""
    at = key.find(inner) if inner else -1
    if at < 0:
        return False
    before, after = key[:at], key[at + len(inner) :]
    head_ok = not before.strip() or bool(SEPARATOR_AT_END.search(before))
    return head_ok and (not after.strip() or bool(SEPARATOR_AT_START.match(after)))
