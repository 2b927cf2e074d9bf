"""Reject extractions that are not the article: interstitials, soft-404s, empty or shrunken bodies.

A rejected extraction is recorded as a failed check and never becomes the baseline that
the next check compares against.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .errors import ExtractError
from .models import Extracted

MIN_WORDS = 12
# Interstitials are short; a long article that merely mentions a captcha is still an article.
INTERSTITIAL_MAX_WORDS = 250
SHRINK_FLOOR_WORDS = 150  # below this a shrink is not judged: short pieces vary a lot
SHRINK_RATIO = 0.35

_INTERSTITIAL = re.compile(
    r"access denied|are you a (?:human|robot)|verify (?:that )?you are (?:a )?human|"
    r"captcha|enable (?:javascript|cookies)|just a moment|checking your browser|"
    r"attention required|request unsuccessful|unusual traffic|bot (?:check|detection)|"
    r"(?:subscribe|sign in|log in|register) (?:now )?to (?:continue|read)|"
    r"this content is (?:only )?(?:available|reserved) (?:to|for) subscribers|"
    r"we value your privacy|consent to (?:the use of )?cookies|manage (?:your )?(?:cookie )?consent",
    re.I,
)
_NOT_FOUND_TITLE = re.compile(
    # Only a title that *is* an error page, not a headline that contains "not found".
    r"(?:^|[|·:–—-]\s*)(?:error\s*)?(?:404\b|page (?:not found|introuvable)|not found\s*$|"
    r"seite nicht gefunden|página no encontrada|pagina non trovata)",
    re.I,
)


_UNREADABLE = re.compile(r"[\ufffd\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MAX_UNREADABLE = 0.02  # share of replacement/control characters a real article never reaches


def word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))


def check_extraction(
    extracted: Extracted,
    *,
    requested_url: str,
    previous_words: int | None = None,
) -> None:
    """Raise ExtractError(kind=...) when ``extracted`` should not become a version."""
    words = word_count(extracted.text)
    title = extracted.title or ""
    if _is_soft_404(requested_url, extracted.final_url, title, words):
        raise ExtractError(
            f"soft 404: page answered with {extracted.final_url!r} titled {title[:80]!r}",
            kind="soft_404",
        )
    if words <= INTERSTITIAL_MAX_WORDS:
        match = _INTERSTITIAL.search(title) or _INTERSTITIAL.search(extracted.text[:3000])
        if match:
            raise ExtractError(
                f"interstitial page ({match.group(0)!r}, {words} words), not the article",
                kind="interstitial",
            )
    unreadable = len(_UNREADABLE.findall(extracted.text))
    if extracted.text and unreadable > MAX_UNREADABLE * len(extracted.text):
        raise ExtractError(
            f"body is {unreadable * 100 // len(extracted.text)}% undecodable or control"
            " characters: binary data or a wrong charset, not an article",
            kind="extract_failed",
        )
    if words < MIN_WORDS:
        raise ExtractError(f"body has only {words} words", kind="empty")
    if previous_words and previous_words >= SHRINK_FLOOR_WORDS and words < previous_words * SHRINK_RATIO:
        raise ExtractError(
            f"body shrank from {previous_words} to {words} words; kept the previous version",
            kind="shrunk",
        )


def _is_soft_404(requested: str, final: str, title: str, words: int) -> bool:
    asked, landed = urlsplit(requested), urlsplit(final)
    deep_request = asked.path.strip("/") != ""
    landed_home = landed.path.strip("/") in ("", "index.html", "index.php", "home")
    if deep_request and landed_home and not landed.query:
        return True
    return bool(_NOT_FOUND_TITLE.search(title)) and words < INTERSTITIAL_MAX_WORDS
