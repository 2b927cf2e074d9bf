"""Author signals: labelled names, bylines that say "By", credits, places, CJK roles,
publisher accounts, and bylines printed as a bold body paragraph."""

from __future__ import annotations

import json

import pytest
from lxml import html as lxml_html

from pipeline.extract import extract
from pipeline.metadata import Fallback, choose
from pipeline.metadata_authors import body_byline
from pipeline.metadata_clean import clean_name, split_authors
from pipeline.metadata_sources import bold_paragraphs, collect

URL = "https://www.example-daily.test/2024/05/03/story"
SITE = '<meta property="og:site_name" content="Example Daily">'

STORY = [
    "The harbour authority said on Tuesday that the northern pier will stay closed until the spring.",
    "Divers found cracks in three of the oldest pillars during an inspection after the autumn storms.",
    "Ferries to the islands will leave from the southern quay, which adds ten minutes to each crossing.",
]


def meta_of(head: str = "", body: str = ""):
    document = f"<html><head>{head}</head><body>{body}</body></html>"
    return choose(collect(lxml_html.fromstring(document)), Fallback(), url=URL)


def jsonld(obj: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


@pytest.mark.parametrize(
    "markup",
    [
        "<ul><li><strong>Autorin/Autor</strong> Roman Goncharenko</li></ul>",
        "<dl><dt>Author</dt><dd>Roman Goncharenko</dd></dl>",
        "<p><b>Auteur :</b> Roman Goncharenko</p>",
    ],
)
def test_a_labelled_author_is_read(markup):
    m = meta_of(SITE, markup)
    assert m.authors == ("Roman Goncharenko",) and m.authors_personal


def test_a_label_inside_running_text_is_not_a_byline():
    m = meta_of(SITE, "<p><strong>The author of the report</strong> said the pier was unsafe.</p>")
    assert m.authors == ()


def test_byline_saying_by_wins_over_an_earlier_section_label_and_the_publisher():
    art = {"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Example Daily"}}
    body = (
        '<span class="author-section">capital</span>'
        '<div class="authors">von\n   Jemima Kelly</div>'
        '<div class="teaser-author">von Patrick Other</div>'
    )
    m = meta_of(SITE + jsonld(art), body)
    assert m.authors == ("Jemima Kelly",) and m.authors_personal


def test_without_any_person_the_publisher_organisation_is_the_author():
    art = {"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Example Daily"}}
    m = meta_of(SITE + jsonld(art), '<div class="byline">a sentence about the weekly paper, read widely</div>')
    assert m.authors == ("Example Daily",) and not m.authors_personal


def test_cms_account_named_after_the_site_is_not_a_person():
    art = {"@type": "NewsArticle", "author": {"@type": "Person", "name": "Example D"}}
    m = meta_of(SITE + jsonld(art))
    assert m.authors == ("Example D",) and not m.authors_personal
    # A real surname that happens to be a word of the site name is still a person.
    art = {"@type": "NewsArticle", "author": {"@type": "Person", "name": "Emily Daily"}}
    assert meta_of(SITE + jsonld(art)).authors_personal


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("(Image: Getty Images/iStockphoto)", []),
        ("Foto: dpa", []),
        ("Twitter Facebook", []),
        ("Associated Press in Valencia", ["Associated Press"]),
        ("By Jane Doe in Kyiv and John Roe in Moscow", ["Jane Doe", "John Roe"]),
        ("신현주 기자", ["신현주"]),
        ("박준석 기자 외 1명", ["박준석"]),
        ("松岡大地 記者", ["松岡大地"]),
        ("Jane in the City", ["Jane in the City"]),  # lower-case place word: not a dateline
    ],
)
def test_split_authors_drops_credits_social_links_places_and_cjk_roles(byline, names):
    assert split_authors(byline, ["Example Daily"]) == names


def test_clean_name_keeps_particles_and_rejects_share_buttons():
    assert clean_name("Ursula von der Leyen") == "Ursula von der Leyen"
    assert clean_name("Share") is None and clean_name("E-Mail") is None


def test_bold_paragraphs_are_whole_bold_runs_only():
    tree = lxml_html.fromstring(
        "<html><body><p><strong>Jane Doe\u00a0</strong></p><p><b>Lead</b> and more text</p>"
        "<p>plain</p><div><strong>Not a paragraph</strong></div></body></html>"
    )
    assert bold_paragraphs(tree) == {"Jane Doe"}


@pytest.mark.parametrize(
    ("text", "printed", "expected"),
    [
        ("Mohloai Mpesi\nIN the heart of the country...", {"Mohloai Mpesi"}, (("Mohloai Mpesi",), "Mohloai Mpesi")),
        ("Standfirst one\nStandfirst two\nJane Doe/John Roe\nBody", {"Jane Doe/John Roe"}, (("Jane Doe", "John Roe"), "Jane Doe/John Roe")),
        ("MTHOBISI SITHOLE\nBody", {"MTHOBISI SITHOLE"}, (("MTHOBISI SITHOLE",), "MTHOBISI SITHOLE")),
        ("Mohloai Mpesi\nBody", set(), None),  # not printed in bold: a subheading, a caption
        ("Read more here\nBody", {"Read more here"}, None),  # lower-case words: not a name
        ("One\nTwo\nThree\nJane Doe\nBody", {"Jane Doe"}, None),  # too far down
        ("Example Daily\nBody", {"Example Daily"}, None),  # the site itself
    ],
)
def test_body_byline(text, printed, expected):
    assert body_byline(text, ["Example Daily"], printed) == expected


def test_bold_byline_paragraph_becomes_the_authors_and_leaves_the_body():
    paras = "".join(f"<p>{p}</p>" for p in STORY)
    html = (
        f"<html><head><title>Pier closed - Example Daily</title>{SITE}</head><body><article>"
        f"<h1>Pier closed</h1><p><strong>Jane Doe / John Roe</strong></p>{paras}</article></body></html>"
    )
    e = extract(html, url=URL)
    assert e.authors == ("Jane Doe", "John Roe")
    assert e.text.splitlines() == STORY
    assert "Jane Doe" not in e.markdown
    # A page that names its author elsewhere keeps the bold line as body text.
    named = html.replace("</head>", '<meta name="author" content="Ann Other"></head>')
    e = extract(named, url=URL)
    assert e.authors == ("Ann Other",) and "Jane Doe / John Roe" in e.text


def test_a_site_name_after_a_comma_is_not_part_of_the_person():
    sites = ["cleveland", "cleveland.com"]
    assert clean_name("Troy L. Smith, Cleveland.com", sites) == "Troy L. Smith"
    assert clean_name("Smith, John", sites) == "Smith, John"  # a comma alone says nothing
    assert clean_name("Cleveland.com", sites) is None
