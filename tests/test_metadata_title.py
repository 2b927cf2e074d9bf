"""Title voices cut short by a length limit lose their rank (pipeline.metadata_title)."""

from __future__ import annotations

import json

from lxml import html as lxml_html

from pipeline.metadata import Fallback, choose
from pipeline.metadata_sources import collect

URL = "https://news.example.org/2024/05/03/story"
FULL = 'Marathon day: a clear winner and "a royal visit"'
DECLARED = "Children's race: parents asked to stay behind the barrier"


def meta_of(og: str | None, *, h1: str | None = FULL, headline: str | None = DECLARED, title: str | None = None):
    head = "" if og is None else f"<meta property='og:title' content='{og}'>"
    if headline is not None:
        head += f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", "headline": headline})}</script>'
    if title is not None:
        head += f"<title>{title}</title>"
    body = f"<h1>{h1}</h1>" if h1 is not None else ""
    return choose(collect(lxml_html.fromstring(f"<html><head>{head}</head><body>{body}</body></html>")), Fallback(), url=URL)


def test_og_title_cut_at_a_space_gives_way_to_the_next_voice_but_stays_versioned():
    m = meta_of("Marathon day: a clear winner and ")
    assert m.title == DECLARED
    assert "Marathon day: a clear winner and" in m.other_titles


def test_og_title_cut_with_an_ellipsis_or_inside_a_word_gives_way():
    assert meta_of("Marathon day: a clear winner and\u2026").title == DECLARED
    assert meta_of("Marathon day: a clear winner and ...").title == DECLARED
    assert meta_of("Marathon day: a clear win").title == DECLARED
    # Without a JSON-LD headline the printed one, which completes the cut, is next in line.
    assert meta_of("Marathon day: a clear winner and ", headline=None).title == FULL


def test_a_deliberately_shorter_og_title_keeps_its_rank():
    # Shorter wording, no mark of a cut: the publisher chose it.
    assert meta_of("Marathon day: a clear winner").title == "Marathon day: a clear winner"
    assert meta_of("Marathon day: a clear winner", headline=None).title == "Marathon day: a clear winner"


def test_trailing_space_alone_or_furniture_after_it_is_not_a_cut():
    # Nobody continues it: a stray space is just a stray space.
    assert meta_of("Harbour budget passes ", h1="Harbour budget passes").title == "Harbour budget passes"
    # The longer voice goes on after a separator: that is a site or section name, not the rest of
    # a cut headline, so the og:title is the clean one.
    got = meta_of("Harbour budget passes ", h1="Harbour budget passes | Politics", headline=None)
    assert got.title == "Harbour budget passes"


def test_a_title_ending_in_an_ellipsis_that_nobody_continues_is_kept():
    assert meta_of("And then the lights went out...", h1=None, headline=None).title == "And then the lights went out..."


def test_hostile_cut_values_do_not_crash_or_win():
    # Only an ellipsis, only spaces, or a huge value: never the title, never an error.
    assert meta_of("\u2026").title == DECLARED
    assert meta_of("...   ").title == DECLARED
    assert meta_of("   ").title == DECLARED
    huge = "Marathon day " * 80_000 + " "
    assert meta_of(huge).title == DECLARED
    # A JSON-LD headline cut short yields to the complete <h1> when there is no og:title.
    assert meta_of(None, headline="Marathon day: a clear winner and ").title == FULL
