"""The metadata layer: each source, each cleaner, and the choice between conflicting voices."""

from __future__ import annotations

import json

import pytest
from lxml import html as lxml_html

from pipeline.metadata import Fallback, choose
from pipeline.metadata_clean import (
    clean_text,
    format_date,
    parse_date,
    split_authors,
    strip_site_affixes,
)
from pipeline.metadata_sources import collect

URL = "https://news.example.org/2024/05/03/story"


def page(head: str = "", body: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


def jsonld(obj: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


def meta_of(document: str):
    return choose(collect(lxml_html.fromstring(document)), Fallback(), url=URL)


# --- a page with nothing -----------------------------------------------------------------------


def test_page_without_any_metadata_gives_empty_fields():
    m = meta_of(page(body="<p>Just a paragraph.</p>"))
    assert (m.title, m.authors, m.published, m.modified) == (None, (), None, None)
    assert (m.description, m.canonical_url, m.section, m.tags) == (None, None, None, ())


# --- title ----------------------------------------------------------------------------------


def test_title_tag_loses_its_site_suffix_when_the_site_is_named():
    head = '<title>Rain floods the valley | Example News</title><meta property="og:site_name" content="Example News">'
    assert meta_of(page(head)).title == "Rain floods the valley"


def test_og_title_is_preferred_and_cleaned_by_agreement_with_h1():
    head = '<meta property="og:title" content="Rain floods the valley – Region – 03.05.2024"><title>x</title>'
    m = meta_of(page(head, "<h1>Rain floods the valley</h1>"))
    assert m.title == "Rain floods the valley"


def test_conflicting_titles_pick_og_then_jsonld_then_h1():
    art = {"@type": "NewsArticle", "headline": "JSON-LD headline"}
    both = page('<meta property="og:title" content="Social headline">' + jsonld(art), "<h1>Page headline</h1>")
    assert meta_of(both).title == "Social headline"
    no_og = page(jsonld(art), "<h1>Page headline</h1>")
    assert meta_of(no_og).title == "JSON-LD headline"
    assert meta_of(page(body="<h1>Page headline</h1>")).title == "Page headline"


def test_title_keeps_the_publishers_soft_hyphens_but_drops_zero_width_and_markup():
    head = '<meta property="og:title" content="Heli\u00adkopter\u200b <b>landeplatz</b> &amp; more">'
    assert meta_of(page(head)).title == "Heli\u00adkopter landeplatz & more"
    # Kept when another voice spells the word without it, yet the two still agree.
    head = '<meta property="og:title" content="Heli\u00adkopter lands | Example">'
    assert meta_of(page(head, "<h1>Helikopter lands</h1>")).title == "Heli\u00adkopter lands"


def test_a_voice_equal_to_the_winner_minus_a_site_tail_trims_it():
    # No spaces around the separator, so the affix stripper cannot see it; agreement can.
    head = (
        '<meta property="og:title" content="Council votes \'no\' twice: &quot;again&quot;-Politics\u3163Example Daily">'
        '<meta property="og:site_name" content="Example Daily">'
    )
    art = {"@type": "NewsArticle", "headline": "Council votes 'no' twice: \"again\""}
    assert meta_of(page(head + jsonld(art))).title == "Council votes 'no' twice: \"again\""
    # A long tail that does not name the site is part of the headline: the winner stays.
    head = '<meta property="og:title" content="Council votes no - and the mayor says the budget will be redrawn by May">'
    assert meta_of(page(head, "<h1>Council votes no</h1>")).title.endswith("redrawn by May")


def test_site_name_inside_a_long_title_segment_is_not_an_affix():
    sites = ["Example Daily"]
    assert strip_site_affixes("Rates rise | Markets - Example Daily", sites) == "Rates rise | Markets"
    assert strip_site_affixes("Rates rise | Die neue Example Daily", sites) == "Rates rise"
    long_clause = "Rates rise | why the board of Example Daily readers disagrees"
    assert strip_site_affixes(long_clause, sites) == long_clause


def test_meta_name_headline_is_a_title_voice():
    head = '<meta name="headline" content="Declared headline"><title>Declared headline - Politics-Example</title>'
    assert meta_of(page(head)).title == "Declared headline"


def test_one_megabyte_title_is_refused_not_stored():
    huge = "A" * 1_000_000
    m = meta_of(page(f"<title>{huge}</title>", "<h1>Real headline</h1>"))
    assert m.title == "Real headline"


# --- JSON-LD ---------------------------------------------------------------------------------


def test_jsonld_graph_array_and_person_authors():
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Example News"},
            {
                "@type": ["NewsArticle"],
                "headline": "Graph headline",
                "author": [
                    {"@type": "Person", "name": "Ada Lovelace"},
                    {"@type": "Organization", "name": "Wire Agency"},
                    {"@type": "Person", "givenName": "Grace", "familyName": "Hopper"},
                ],
                "datePublished": "2024-05-03T15:47:42+02:00",
                "dateModified": "2024-05-04T08:00:00Z",
                "articleSection": "Science",
                "keywords": "space, rockets",
            },
        ],
    }
    m = meta_of(page(jsonld(graph)))
    assert m.title == "Graph headline"
    assert m.authors == ("Ada Lovelace", "Grace Hopper")  # the organisation is not a person
    assert m.published == "2024-05-03T15:47:42+02:00"
    assert m.modified == "2024-05-04T08:00:00+00:00"
    assert (m.section, m.tags) == ("Science", ("space", "rockets"))


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("By Jane Doe and John Roe", ("Jane Doe", "John Roe")),
        (["Jane Doe", "John Roe"], ("Jane Doe", "John Roe")),
        ({"@type": "Person", "name": "Jane Doe"}, ("Jane Doe",)),
        ({"@type": "Organization", "name": "Wire Agency"}, ("Wire Agency",)),  # only an agency signs
        ({"@id": "#p1"}, ("Jane Doe",)),  # a reference resolved through the @graph
        (42, ()),
    ],
)
def test_jsonld_author_shapes(author, expected):
    graph = {"@graph": [{"@type": "Article", "author": author}, {"@id": "#p1", "@type": "Person", "name": "Jane Doe"}]}
    assert meta_of(page(jsonld(graph))).authors == expected


def test_invalid_jsonld_is_skipped_and_other_sources_still_count():
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
    head += '<meta name="author" content="Jane Doe"><meta property="article:published_time" content="2024-05-03">'
    m = meta_of(page(head, "<h1>Fallback headline</h1>"))
    assert (m.title, m.authors, m.published) == ("Fallback headline", ("Jane Doe",), "2024-05-03")


def test_jsonld_with_trailing_comma_comments_and_markup_inside_strings():
    raw = '<!-- {"@type": "NewsArticle", "headline": "<em>Bold</em> move", "author": "By <a href=\'/x\'>Jane Doe</a>",} -->'
    m = meta_of(page(f'<script type="application/ld+json">{raw}</script>'))
    assert m.title == "Bold move"
    assert m.authors == ("Jane Doe",)


def test_deeply_nested_or_non_object_jsonld_does_not_crash():
    nested = "[" * 5000 + "]" * 5000
    for raw in (nested, '"just a string"', "null", "[1, 2, 3]", '{"@type": 5}'):
        meta_of(page(f'<script type="application/ld+json">{raw}</script>'))


# --- authors from the page -------------------------------------------------------------------


def test_byline_is_cleaned_of_by_roles_dates_and_site_name():
    head = '<meta property="og:site_name" content="Example News">'
    body = '<div class="article-byline">By Samya Kullab and Vasilisa Stepanenko, Example News</div>'
    assert meta_of(page(head, body)).authors == ("Samya Kullab", "Vasilisa Stepanenko")


def test_meta_author_that_is_the_publisher_is_not_a_person():
    head = '<meta name="author" content="Example News (www.news.example.org)">'
    body = '<span class="author">Von Jane Doe</span>'
    assert meta_of(page(head, body)).authors == ("Jane Doe",)


def test_meta_author_wins_over_byline_elements_and_urls_are_ignored():
    head = '<meta property="article:author" content="https://news.example.org/staff/jd"><meta name="author" content="Jane Doe">'
    assert meta_of(page(head, '<p class="byline">Someone Else</p>')).authors == ("Jane Doe",)


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("Von Birgit Baumann, Anna Fink und Jan Marchart", ["Birgit Baumann", "Anna Fink", "Jan Marchart"]),
        ("Par Jean Dupont et Marie Curie", ["Jean Dupont", "Marie Curie"]),
        ("By JANE DOE | Updated May 3, 2024", ["JANE DOE"]),
        ("Jane Doe, Senior Correspondent", ["Jane Doe"]),
        ("Image: Getty Images", []),
        ("https://example.org/author/jane", []),
    ],
)
def test_split_authors(byline, names):
    assert split_authors(byline, ["Example News"]) == names


# --- dates -----------------------------------------------------------------------------------


def test_dates_keep_their_zone_and_a_later_source_may_add_the_time():
    head = '<meta name="date" content="2024-05-03"><meta property="article:published_time" content="2024-05-03T23:30:00-05:00">'
    assert meta_of(page(head)).published == "2024-05-03T23:30:00-05:00"
    # A zoneless date first, the same day with time and zone in <time>: the richer one wins.
    m = meta_of(page('<meta name="date" content="2024-05-03">', '<time datetime="2024-05-03T10:00:00+09:00">x</time>'))
    assert m.published == "2024-05-03T10:00:00+09:00"
    # A different day does not overrule the declared publication date.
    m = meta_of(page('<meta name="date" content="2024-05-03">', '<time datetime="2024-06-01T10:00:00Z">x</time>'))
    assert m.published == "2024-05-03"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-03T15:47:42.389Z", "2024-05-03T15:47:42+00:00"),
        ("2024-05-03 15:47:42+0200", "2024-05-03T15:47:42+02:00"),
        ("2024-05-03T15:47", "2024-05-03T15:47:00"),
        ("Fri, 03 May 2024 15:47:42 +0100", "2024-05-03T15:47:42+01:00"),
        ("20240503", "2024-05-03"),
    ],
)
def test_parse_and_format_dates(raw, expected):
    from pipeline.metadata_clean import date_has_time

    assert format_date(parse_date(raw), with_time=date_has_time(raw)) == expected


@pytest.mark.parametrize("raw", ["", "yesterday", "2024-13-45", "2024-05-03T10:00+99:00", None, 5, "9" * 500])
def test_unparseable_dates_are_none(raw):
    assert parse_date(raw) is None


def test_out_of_range_years_are_skipped():
    head = '<meta property="article:published_time" content="0001-01-01"><meta name="date" content="2023-04-28">'
    assert meta_of(page(head)).published == "2023-04-28"


# --- the rest --------------------------------------------------------------------------------


def test_canonical_is_made_absolute_and_language_comes_from_html_lang():
    document = '<html lang="de_AT"><head><link rel="canonical" href="/2024/story"></head><body></body></html>'
    m = meta_of(document)
    assert m.canonical_url == "https://news.example.org/2024/story"
    assert m.language == "de-AT"


def test_description_and_sitename():
    head = '<meta name="description" content="  A   summary. "><meta property="og:site_name" content="Example News">'
    m = meta_of(page(head))
    assert (m.description, m.sitename) == ("A summary.", "Example News")


def test_cleaners():
    assert clean_text("a\u00adb\u200c c\ufeff") == "ab c"
    assert clean_text("x" * 5000) is None
    assert strip_site_affixes("Story title - Politik - Example", ["Example"]) == "Story title - Politik"
    assert strip_site_affixes("Example | Story title", ["Example"]) == "Story title"
    assert strip_site_affixes("Story title | 28.04.2023", []) == "Story title"


def test_trimmed_title_keeps_the_winners_own_typography():
    head = (
        '<meta property="og:title" content="Roommate talks to Kohberger\'s lawyers | Example | by Jane Doe">'
        '<meta property="og:site_name" content="Example">'
    )
    art = {"@type": "NewsArticle", "headline": "Roommate talks to Kohberger\u2019s lawyers"}
    assert meta_of(page(head + jsonld(art))).title == "Roommate talks to Kohberger's lawyers"


def test_og_and_jsonld_agreeing_on_a_long_title_outvote_a_shorter_h1():
    long = "Forest fires in the south! Latest situation - Current news"
    art = {"@type": "NewsArticle", "headline": long}
    head = f'<meta property="og:title" content="{long}">' + jsonld(art)
    assert meta_of(page(head, "<h1>Forest fires in the south! Latest situation</h1>")).title == long
    # Without the JSON-LD headline agreeing, the <h1> shows the tail is furniture.
    head = f'<meta property="og:title" content="{long}">'
    assert meta_of(page(head, "<h1>Forest fires in the south! Latest situation</h1>")).title == (
        "Forest fires in the south! Latest situation"
    )


def test_og_title_with_flattened_quotes_yields_to_the_typographic_jsonld_headline():
    art = {"@type": "NewsArticle", "headline": "Minister\u2019s \u201cfinal\u201d offer"}
    head = "<meta property=\"og:title\" content='Minister&#39;s \"final\" offer'>"
    assert meta_of(page(head + jsonld(art))).title == "Minister\u2019s \u201cfinal\u201d offer"
