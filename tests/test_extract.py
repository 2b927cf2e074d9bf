"""The extract stage through its public function, on built pages and real corpus pages."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import ExtractError
from pipeline.extract import EXTRACTOR_NAME, EXTRACTOR_VERSION, extract
from pipeline.models import Extracted

FUNDUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "fundus-dev"

PARAGRAPHS = [
    "The river rose two metres overnight and flooded the lower town, the mayor said on Friday morning.",
    "Residents were moved to the school gym, where volunteers handed out blankets, soup and dry clothes.",
    "Engineers will inspect the old stone bridge next week before it opens again to cars and buses.",
]


def article(head: str = "", extra_body: str = "") -> str:
    paras = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        f"<html lang='en'><head><title>Flood in the valley | Example News</title>{head}</head><body>"
        "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>Flood in the valley</h1>{paras}"
        "<h2>What happens next</h2>"
        "<p>The council will meet on Monday to decide on repairs, read the <a href='https://example.org/plan'>full plan</a> here.</p>"
        f"{extra_body}</article><footer>Copyright Example News</footer></body></html>"
    )


def test_a_plain_article_gives_every_field():
    head = (
        '<meta property="og:site_name" content="Example News"><link rel="canonical" href="/flood">'
        '<meta property="article:published_time" content="2024-05-03T08:00:00+02:00">'
        '<meta name="author" content="By Jane Doe"><meta name="description" content="Water everywhere.">'
    )
    e = extract(article(head), url="https://news.example.org/flood?utm_source=x", final_url="https://news.example.org/flood")
    assert isinstance(e, Extracted)
    assert (e.url, e.final_url) == ("https://news.example.org/flood?utm_source=x", "https://news.example.org/flood")
    assert e.title == "Flood in the valley"
    assert e.authors == ("Jane Doe",)
    assert e.published == "2024-05-03T08:00:00+02:00"
    assert (e.description, e.sitename, e.language) == ("Water everywhere.", "Example News", "en")
    assert e.canonical_url == "https://news.example.org/flood"
    assert (e.extractor, e.extractor_version) == (EXTRACTOR_NAME, EXTRACTOR_VERSION)
    assert re.fullmatch(r"\d+\+trafilatura-\d+\.\d+\.\d+", EXTRACTOR_VERSION)


def test_text_is_one_paragraph_per_line_and_markdown_keeps_links_and_headings():
    e = extract(article(), url="https://news.example.org/flood")
    lines = e.text.split("\n")
    assert lines[: len(PARAGRAPHS)] == PARAGRAPHS
    assert "" not in lines and "Home" not in e.text and "Copyright" not in e.text
    assert "full plan" in e.text and "https://example.org/plan" not in e.text
    assert "[full plan](https://example.org/plan)" in e.markdown
    assert re.search(r"^#+ What happens next$", e.markdown, re.M)


def test_same_html_gives_the_same_result_whatever_came_before():
    first = extract(article(), url="https://news.example.org/a")
    extract(article(extra_body="<p>Another page entirely with different words in it.</p>"), url="https://news.example.org/b")
    assert extract(article(), url="https://news.example.org/a") == first  # no dedup cache between pages


@pytest.mark.parametrize("html", ["", "   \n\t"])
def test_empty_document_is_kind_empty(html):
    with pytest.raises(ExtractError) as info:
        extract(html, url="https://news.example.org/x")
    assert info.value.kind == "empty"


@pytest.mark.parametrize(
    "html",
    ["<html><body></body></html>", "<html><head><title>Only a title</title></head></html>", "\x00\x01\x02", "<<<>>>"],
)
def test_page_without_a_body_is_extract_failed(html):
    with pytest.raises(ExtractError) as info:
        extract(html, url="https://news.example.org/x")
    assert info.value.kind in ("extract_failed", "empty")


def test_hostile_metadata_does_not_break_the_body():
    head = (
        f"<title>{'T' * 1_000_000}</title>"
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "<script>alert(1)</script>Flood",</script>'
        '<script type="application/ld+json">[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]</script>'
        '<meta property="article:published_time" content="not a date">'
    )
    e = extract(article(head), url="https://news.example.org/flood")
    assert e.title == "Flood in the valley"
    assert len(e.title) < 1000 and e.published is None or len(e.published) <= 25
    assert PARAGRAPHS[0] in e.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=3000))
def test_random_text_never_raises_anything_but_extract_error(html):
    try:
        result = extract(html, url="https://news.example.org/r")
    except ExtractError as exc:
        assert exc.kind in ("empty", "extract_failed")
    else:
        assert isinstance(result, Extracted) and result.text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=4000), st.sampled_from(["", "<div><p>", "<!--", "<script>", "</html>"]))
def test_truncated_html_never_raises_anything_but_extract_error(cut, tail):
    html = article('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Flood"}</script>')
    try:
        extract(html[:cut] + tail, url="https://news.example.org/t")
    except ExtractError as exc:
        assert exc.kind in ("empty", "extract_failed")


def _fundus(name: str) -> tuple[str, dict]:
    truth = json.loads((FUNDUS / "ground-truth.json").read_text(encoding="utf-8"))[name]
    return gzip.decompress((FUNDUS / truth["file"]).read_bytes()).decode("utf-8"), truth


@pytest.mark.parametrize(
    "name",
    [
        "at_DerStandard_2024_05_03.html.gz",  # JSON-LD Person authors given as givenName/familyName
        "ca_GlobalNews_2026_05_24.html.gz",  # "X and Y" author string, "- National | Globalnews.ca" suffix
        "de_DW_2023_06_13.html.gz",  # "– DW – 13.06.2023" suffix on og:title
        "de_Correctiv_2026_05_24.html.gz",
    ],
)
def test_real_fundus_pages_give_the_ground_truth_title_and_authors(name):
    if not FUNDUS.exists():
        pytest.skip("corpus not available")
    html, truth = _fundus(name)
    e = extract(html, url=truth["url"])
    assert e.title.strip() == truth["title"].strip()
    assert list(e.authors) == truth["authors"]
    assert e.published[:10] == truth["publishing_date"][:10]


def test_drop_selectors_remove_site_furniture_before_extraction():
    noise = "<div class='promo box'><p>Subscribe now to read unlimited stories about floods and rivers today.</p></div>"
    html = article(extra_body=noise)
    assert "Subscribe now" in extract(html, url="https://news.example.org/f").text
    kept = extract(html, url="https://news.example.org/f", drop_selectors=("article div.promo", "[data-none]"))
    assert "Subscribe now" not in kept.text and PARAGRAPHS[0] in kept.text
    # A selector cssselect cannot translate is skipped, not an error for every page.
    assert extract(html, url="https://news.example.org/f", drop_selectors=("p::before",)).text


def test_drop_selectors_cover_css3_beyond_a_simple_subset():
    furniture = (
        "<ul class='facts'><li>Sponsored: insure your house against floods with our partner today</li>"
        "<li>Rainfall in the valley reached a record level for the month of May this year</li></ul>"
    )
    html = article(extra_body=furniture)
    assert "Sponsored: insure" in extract(html, url="https://news.example.org/g").text
    kept = extract(html, url="https://news.example.org/g", drop_selectors=("UL.facts > li:first-child", "p:has(> b)"))
    assert "Sponsored: insure" not in kept.text
    assert "Rainfall in the valley" in kept.text and PARAGRAPHS[0] in kept.text


@pytest.mark.parametrize(
    ("css", "matches"),
    [
        ("div.ad", ["<div class='x ad'>1</div>"]),
        ("#top > span", ["<p id='top'><span>1</span></p>"]),
        ("aside, [data-ad]", ["<aside>1</aside>", "<p data-ad=''>2</p>"]),
        ("a[href^='/promo']", ["<a href='/promo/x'>1</a>"]),
        ("li:nth-child(2)", ["<ul><li>0</li><li>1</li></ul>"]),
        ("h2 + p", ["<h2>0</h2><p>1</p>"]),
    ],
)
def test_css_to_xpath_selects_what_a_browser_would(css, matches):
    from lxml import etree, html as lxml_html

    from pipeline.extract_drop import css_to_xpath

    for fragment in matches:
        tree = lxml_html.fromstring(f"<html><body>{fragment}<p class='ad-free'>0</p></body></html>")
        found = etree.XPath(css_to_xpath(css))(tree)
        assert found and all(el.text_content() != "0" for el in found), (css, fragment)


@pytest.mark.parametrize("css", ["> p", "", "   ", "div[", "p::before", "a:::b", "div)"])
def test_unusable_css_is_a_value_error(css):
    from pipeline.extract_drop import css_to_xpath

    with pytest.raises(ValueError):
        css_to_xpath(css)


def test_source_layout_never_reaches_the_text_or_turns_markdown_into_code():
    # Mixed text and links keep the source's newlines and tabs through trafilatura.
    indented = article(extra_body=(
        "<p>Shares of\n            <a href='https://example.org/q/HD'>Home Depot</a>\n"
        "            fell 3% on Tuesday after the company cut its outlook for the year.</p>"
        "<p class='postinfo'>\n\t\t\t\t\tFiled under: <a href='https://example.org/c/floods'>Floods</a> |\t\t\t</p>"
    ))
    got = extract(indented, url="https://news.example.org/flood")
    assert "Filed under: Floods |" in got.text.split("\n")
    assert all(line == line.strip() for line in got.text.split("\n"))
    # ... and a paragraph stays one line, its source newlines read as the spaces a browser shows
    assert "Shares of Home Depot fell 3% on Tuesday after the company cut its outlook for the year." in got.text.split("\n")
    assert "Shares of [Home Depot](https://example.org/q/HD) fell 3% on Tuesday" in got.markdown
    assert not [line for line in got.markdown.split("\n") if line.startswith(("\t", "    "))]


def test_fenced_code_keeps_its_indentation():
    from pipeline.extract import _unindent

    assert _unindent("```\n    def f():\n        return 1\n```\n  Text") == "```\n    def f():\n        return 1\n```\nText"


def test_headline_repeated_atop_the_body_is_dropped_even_with_its_kicker_glued_on():
    # A kicker and headline split by a visually-hidden ": " reach trafilatura as one glued line.
    html = article().replace(
        "<h1>Flood in the valley</h1>",
        "<h1><span class='kicker'>Storm</span><span class='visually-hidden'>: </span>"
        "<span>Flood in the valley</span></h1>",
    ).replace("<title>Flood in the valley | Example News</title>", "<title>Storm: Flood in the valley | Example News</title>")
    e = extract(html, url="https://news.example.org/flood")
    assert e.title == "Storm: Flood in the valley"
    assert e.text.split("\n")[: len(PARAGRAPHS)] == PARAGRAPHS
    assert re.match(r"#* ?" + re.escape(PARAGRAPHS[0]), e.markdown.lstrip())
