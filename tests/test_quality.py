"""Suspicious extractions are refused, real articles pass (pipeline.quality)."""

from __future__ import annotations

import pytest

from pipeline.errors import ExtractError
from pipeline.models import Extracted
from pipeline.quality import check_extraction, word_count

ARTICLE = " ".join(f"word{i}" for i in range(300))


def extracted(text=ARTICLE, title="Harbour budget agreed", final_url="https://x.test/news/a"):
    return Extracted(url="https://x.test/news/a", final_url=final_url, title=title, authors=(),
                     published=None, modified=None, description=None, sitename=None,
                     language="en", canonical_url=None, text=text, markdown=text,
                     extractor="t", extractor_version="1")


def kind(**kwargs) -> str | None:
    previous = kwargs.pop("previous_words", None)
    try:
        check_extraction(extracted(**kwargs), requested_url="https://x.test/news/a",
                         previous_words=previous)
    except ExtractError as exc:
        return exc.kind
    return None


def test_a_real_article_passes():
    assert kind() is None
    assert kind(title="Why the 404 bus route was not found in the budget") is None


@pytest.mark.parametrize("case, expected", [
    ({"final_url": "https://x.test/"}, "soft_404"),
    ({"title": "Page not found", "text": "Sorry, nothing here. " * 5}, "soft_404"),
    ({"title": "Just a moment...", "text": "Checking your browser before accessing. " * 3},
     "interstitial"),
    ({"text": "Please enable JavaScript and cookies to continue reading this page today."},
     "interstitial"),
    ({"text": "Short."}, "empty"),
    ({"text": " ".join(["w"] * 50), "previous_words": 300}, "shrunk"),
])
def test_suspicious_extractions_are_refused(case, expected):
    assert kind(**case) == expected


def test_small_shrinks_and_short_pieces_are_not_judged():
    assert kind(text=" ".join(["w"] * 200), previous_words=300) is None
    assert kind(text=" ".join(["w"] * 20), previous_words=100) is None  # below the floor


def test_a_long_article_mentioning_captcha_is_still_an_article():
    assert kind(text=ARTICLE + " The captcha industry grew.") is None
    assert word_count("one two, three") == 3


def test_binary_noise_decoded_as_text_is_not_an_article():
    noise = "".join(chr(c) for c in range(0x80, 0xA0)) * 10 + " word" * 50 + "\ufffd" * 200
    assert kind(text=noise) == "extract_failed"
    # A few stray replacement characters in a real article are tolerated.
    assert kind(text=ARTICLE + " \ufffd caf\ufffd") is None
