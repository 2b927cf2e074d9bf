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


# --- written-by links, credentials, placeholders, labels, editors, staff labels ---------------


def test_written_by_link_with_credentials_is_the_author():
    body = (
        '<section><div class="css-12r7hj0"> <!-- -->Written by <a href="/nutrition-team">Rachael Link, MS, RD</a>'
        " on November 14, 2019</div></section>"
    )
    m = meta_of(SITE, body)
    assert m.authors == ("Rachael Link",) and m.authors_personal


@pytest.mark.parametrize(
    "body",
    [
        '<footer>Powered by <a href="https://wordpress.test">Example Press VIP</a></footer>',
        '<div>Photo by <a href="/p">Jane Lens</a></div>',
        "<p>A new report by <a href='/r'>Human Rights Watch</a> found more cases.</p>",  # running text
        '<div>Edited by <a href="/e">Ann Editor</a></div>',
        '<div>nearby <a href="/x">Harbour Street</a></div>',
    ],
)
def test_links_after_other_by_phrases_are_not_bylines(body):
    assert meta_of(SITE, body).authors == ()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Rachael Link, MS, RD", ("Rachael Link",)),
        ("Ilana Muhlstein, M.S., R.D.N.", ("Ilana Muhlstein",)),
        ("John Roe, Ph.D.", ("John Roe",)),
        ("Jane Doe, John Roe", ("Jane Doe", "John Roe")),  # a second person is no credential
    ],
)
def test_credentials_after_a_name_are_dropped(name, expected):
    assert meta_of(SITE + f'<meta name="author" content="{name}">').authors == expected
    if len(expected) == 1:  # a JSON-LD Person's name is one person
        art = {"@type": "NewsArticle", "author": {"@type": "Person", "name": name}}
        assert meta_of(SITE + jsonld(art)).authors == expected


def test_placeholder_account_gives_way_to_the_printed_byline():
    body = '<span itemprop="author">Гость</span><div class="article-author">Текст: Венера Ерофеева</div>'
    m = meta_of(SITE, body)
    assert m.authors == ("Венера Ерофеева",) and m.authors_personal
    art = {"@type": "NewsArticle", "author": {"@type": "Person", "name": "Guest"}}
    assert meta_of(SITE + jsonld(art)).authors == ()


def test_a_name_followed_by_an_affiliation_sentence_keeps_the_name():
    assert meta_of(SITE + '<meta name="author" content="Finian Cunningham. Sputnik International">').authors == (
        "Finian Cunningham",
    )
    assert meta_of(SITE + '<meta name="author" content="Dr. Jane Doe">').authors == ("Dr. Jane Doe",)


def test_declared_editor_gives_way_to_the_writer_the_byline_names():
    art = {"@type": "NewsArticle", "author": {"@type": "Person", "name": "Heryadi", "jobTitle": "Jurnalis"}}
    body = '<div class="author">Naufal Zuhdi</div><div class="editor-author">Editor : Heryadi</div>'
    m = meta_of(SITE + jsonld(art), body)
    assert m.authors == ("Naufal Zuhdi",) and m.authors_personal
    # Without a writer named on the page the declared person stays.
    assert meta_of(SITE + jsonld(art), '<div class="author">Editor : Heryadi</div>').authors == ("Heryadi",)
    # A declared author the page does not call the editor is kept over a byline.
    art["author"]["name"] = "Jane Doe"
    assert meta_of(SITE + jsonld(art), body).authors == ("Jane Doe",)


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        ('<meta name="author" content="Staff Reports">', '<div class="byline">By Staff Reports - </div>', "Staff Reports"),
        (
            '<meta name="author" content="HNN Staff">',
            ('<div class="byline">By HNN Staff | November 18, 2019 at 2:26 PM HST</div>'
             '<div class="teaser-byline">By Lisa Kubota</div>'),
            "HNN Staff",
        ),
        ('<meta name="author" content="Example Daily Editorial Staff">', "", "Example Daily Editorial Staff"),
        (jsonld({"@type": "NewsArticle", "author": {"@type": "Person", "name": "Guardian staff reporter"}})
         + '<meta property="article:author" content="Associated Press in Valencia">', "", "Guardian staff reporter"),
    ],
)
def test_a_staff_label_is_kept_as_the_newsroom_byline(head, body, expected):
    m = meta_of(SITE + head, body)
    assert m.authors == (expected,) and not m.authors_personal


def test_a_person_anywhere_beats_a_staff_label():
    head = '<meta name="author" content="Staff Reports"><meta name="parsely-author" content="Jane Doe">'
    assert meta_of(SITE + head).authors == ("Jane Doe",)
    # A staff label in a teaser byline alone is not kept (teasers share the class).
    assert meta_of(SITE, '<div class="teaser-author">Von unserer Redaktion</div>').authors == ()


def test_hostile_staff_and_credential_values():
    long_label = "Staff " * 200
    assert meta_of(SITE + f'<meta name="author" content="{long_label}">').authors == ()
    assert meta_of(SITE + '<meta name="author" content=", MS, RD">').authors == ()
    art = {"@type": "NewsArticle", "author": {"@type": "Person", "name": "<b>Staff</b> Reports"}}
    assert meta_of(SITE + jsonld(art)).authors == ("Staff Reports",)
    assert meta_of(SITE + jsonld({"@type": "NewsArticle", "author": {"@type": "Person", "name": ["MS"]}})).authors == ()


def test_a_declared_staff_label_yields_to_the_name_the_by_line_prints():
    art = {"@type": "NewsArticle", "author": {"@type": "Person", "name": "Science X staff"}}
    body = '<div class="article-byline">by European Space Agency</div>'
    m = meta_of(SITE + jsonld(art), body)
    assert m.authors == ("European Space Agency",)
    # The first "By" line being the staff label itself keeps the label over a later teaser.
    body = '<div class="byline">By Science X staff</div><div class="byline">By Lisa Kubota</div>'
    assert meta_of(SITE + jsonld(art), body).authors == ("Science X staff",)
