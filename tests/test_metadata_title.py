"""Title voices cut short by a length limit lose their rank (pipeline.metadata_title)."""

from __future__ import annotations

import json
from html import escape

from lxml import html as lxml_html

from pipeline.metadata import Fallback, choose
from pipeline.metadata_sources import collect

URL = "https://news.example.org/2024/05/03/story"
FULL = 'Marathon day: a clear winner and "a royal visit"'
DECLARED = "Children's race: parents asked to stay behind the barrier"


def ld(headline: object, kind: str = "NewsArticle") -> str:
    return f'<script type="application/ld+json">{json.dumps({"@type": kind, "headline": headline})}</script>'


def meta_of(og: str | None, *, h1: str | None = FULL, headline: str | None = DECLARED, title: str | None = None):
    head = "" if og is None else f"<meta property='og:title' content='{escape(og)}'>"
    if headline is not None:
        head += ld(headline)
    if title is not None:
        head += f"<title>{escape(title)}</title>"
    body = f"<h1>{h1}</h1>" if h1 is not None else ""
    document = f"<html><head>{head}</head><body>{body}</body></html>"
    return choose(collect(lxml_html.fromstring(document)), Fallback(), url=URL)


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


def test_a_singular_beside_a_plural_is_not_a_broken_word():
    assert meta_of("Marathon day: a clear winner", h1="Marathon day: a clear winners").title == (
        "Marathon day: a clear winner"
    )
    assert meta_of("Marathon day: a clear winner ", h1="Marathon day: a clear winners").title == (
        "Marathon day: a clear winner"
    )


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


# --- og:title that only repeats the SEO <title> ----------------------------------------------------

SEO = "Spiced pear jam recipe"
POST = "Homemade spiced honey pear jam for the holidays"


def seo_page(*, og: str | None = SEO, title: str | None = f"{SEO} | The Test Kitchen", h1: str | None = POST,
             headline: object = POST) -> str:
    head = "<meta property='og:site_name' content='The Test Kitchen'>"
    if og is not None:
        head += f"<meta property='og:title' content='{escape(og)}'>"
    if title is not None:
        head += f"<title>{escape(title)}</title>"
    if headline is not None:
        head += ld(headline, "BlogPosting")
    body = f"<article><h1>{h1}</h1><p>Text.</p></article>" if h1 is not None else ""
    return f"<html><head>{head}</head><body>{body}</body></html>"


def seo_meta(**kwargs):
    return choose(collect(lxml_html.fromstring(seo_page(**kwargs))), Fallback(), url=URL)


def test_og_title_copied_from_the_seo_title_yields_to_the_printed_structured_headline():
    m = seo_meta()
    assert m.title == POST
    assert m.other_titles == (SEO,)  # still versioned


def test_og_title_written_apart_from_the_seo_title_keeps_its_rank():
    # A social headline of its own: the newsroom chose it for the article.
    assert seo_meta(title="Pear jam, three ways | The Test Kitchen").title == SEO
    # Without a <title> nothing shows og:title is a copy.
    assert seo_meta(title=None).title == SEO


def test_without_the_printed_h1_repeating_the_jsonld_headline_og_title_stays_first():
    assert seo_meta(h1=SEO).title == SEO  # the page prints the og:title
    assert seo_meta(h1=None).title == SEO
    assert seo_meta(h1="Something else entirely on the page").title == SEO
    assert seo_meta(headline=None).title == SEO


def test_one_headline_with_furniture_around_it_is_not_two_headlines():
    # og:title and <title> carry the headline plus a byline tail; agreement trims it, keeping
    # og:title's own straight apostrophe rather than the JSON-LD headline's curly one.
    furnished = "Roommate talks to Kohberger's lawyers | The Test Kitchen | by Jane Doe"
    m = seo_meta(og=furnished, title=furnished, h1="Roommate talks to Kohberger\u2019s lawyers",
                 headline="Roommate talks to Kohberger\u2019s lawyers")
    assert m.title == "Roommate talks to Kohberger's lawyers"


def test_hostile_jsonld_headlines_leave_og_title_first():
    for bad in (["not", "a", "string"], {"@value": POST}, 12, "<b></b>", "x" * 100_000):
        assert seo_meta(headline=bad).title == SEO, bad
    # Markup inside the headline is dropped before comparing, so it still matches the <h1>.
    assert seo_meta(headline=f"<i>{POST}</i>").title == POST


def test_an_edit_that_reached_one_rendering_first_does_not_swing_the_title():
    # The <h1> already shows a one-word edit the JSON-LD headline has not caught up with: the title
    # stays with the structured headline instead of jumping to the SEO one.
    edited = POST.replace("holidays", "winter")
    assert seo_meta(h1=edited).title == POST
    # og:title edited one word ahead of the <title>: still the SEO copy.
    assert seo_meta(og="Spiced pear jelly recipe").title == POST
    # og:title and the JSON-LD headline one word apart are one headline, not two: og:title leads.
    near = "Spiced pear jam recipes"
    assert seo_meta(headline=near, h1=near).title == SEO
