"""Choose the headline among the page's title voices, and clean it by agreement.

Voices in order of trust: og:title, the JSON-LD headline, a <meta name=headline>, the first
<h1>, twitter:title, <title> and trafilatura's guess, each with site-name affixes stripped.
The first voice wins; the others only clean it:
another voice that is a separator-delimited part of the winner, or the winner minus a short
tail naming the site or a section, shows that the rest is furniture ("… | Politics", "…-News|Site").
Majority voting was measured too and loses: publishers split between og:title and JSON-LD as
the field that carries their headline (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import re

from pipeline.metadata_clean import clean_text, fold, strip_site_affixes, title_segments
from pipeline.metadata_sources import Sources

__all__ = ["choose_title", "title_voices"]

MAX_TITLE = 600
# A tail after the headline that another voice omits, without naming the site: at most this long.
_MAX_TAIL = 30
_TAIL_START = re.compile(r"^\s*[-|\u2013\u2014:\u00b7\u2022/\u3163\uff5c~*\u00bb]")


def choose_title(src: Sources, fallback_title: str | None, sites: list[str]) -> str | None:
    voices = title_voices(src, fallback_title, sites)
    if not voices:
        return None
    return _trim_by_agreement(voices[0], voices[1:], sites)


def title_voices(src: Sources, fallback_title: str | None, sites: list[str]) -> list[str]:
    raw: list[object] = list(src.meta.get("og:title", ())[:1])
    for obj in src.jsonld[:3]:
        value = obj.get("headline") or obj.get("name")
        raw.append(value[0] if isinstance(value, list) and value else value)
        break
    raw += list(src.meta.get("headline", ())[:1]) + src.h1[:1]
    raw += list(src.meta.get("twitter:title", ())[:1]) + [src.title_tag, fallback_title]
    site_keys = {fold(s) for s in sites}
    voices: list[str] = []
    for value in raw:
        text = clean_text(value, limit=MAX_TITLE, keep_soft_hyphens=True)
        if not text or len(text) < 4:
            continue
        text = strip_site_affixes(text, sites)
        if fold(text) not in site_keys and text not in voices:
            voices.append(text)
    return voices


def _trim_by_agreement(best: str, others: list[str], sites: list[str]) -> str:
    parts = {fold(p) for p in title_segments(best)[1:]}
    best_key = fold(best)
    for other in others:
        key = fold(other)
        if not key or key == best_key:
            continue
        if key in parts and len(other) >= 0.4 * len(best):
            return other
        low, other_low = best.casefold(), other.casefold()
        if low.startswith(other_low) and _is_furniture_tail(low[len(other_low) :], sites):
            return other
    return best


def _is_furniture_tail(tail: str, sites: list[str]) -> bool:
    """What follows the headline in a longer voice: a separator, then a site or section name."""
    if not _TAIL_START.match(tail):
        return False
    if len(tail.strip()) <= _MAX_TAIL:
        return True
    return any(len(k) > 2 and tail.rstrip().endswith(k) for k in (fold(s) for s in sites))
