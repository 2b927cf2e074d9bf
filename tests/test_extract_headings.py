"""Subheadings inside the article survive extraction, so an edit to one is an edit to the body."""

from __future__ import annotations

import re

import lxml.html
import trafilatura
from lxml import etree

from pipeline.extract import TRAFILATURA_OPTIONS, extract
from pipeline.extract_headings import restore_headings

PARAGRAPHS = [
    "The river rose two metres overnight and flooded the lower town, the mayor said on Friday morning after a long night.",
    "Residents were moved to the school gym, where volunteers handed out blankets, soup and dry clothes to more than two hundred people.",
    "Engineers will inspect the old stone bridge next week before it opens again to cars and buses, the council said in a statement.",
    "Insurers expect claims to run into the millions, and the regional government has promised an emergency fund for small shops.",
]
URL = "https://news.example/flood"


def page(middle: str = "<h2>What the engineers found</h2>", after: str = "", box: str = "longText") -> str:
    """An article in a container whose class no extractor knows, with ``middle`` between paragraphs 2 and 3."""
    p = [f"<p>{text}</p>" for text in PARAGRAPHS]
    return (
        "<html><head><title>Flood in the valley</title></head><body>"
        f"<div class='{box}'>{p[0]}{p[1]}{middle}{p[2]}{p[3]}{after}</div></body></html>"
    )


def test_subheading_between_paragraphs_is_kept_where_trafilatura_alone_drops_it():
    html = page()
    bare = trafilatura.extract(html, **{k: v for k, v in TRAFILATURA_OPTIONS.items() if k != "output_format"})
    assert "What the engineers found" not in (bare or "")  # the gap this module closes
    got = extract(html, url=URL)
    assert got.text.split("\n") == [*PARAGRAPHS[:2], "What the engineers found", *PARAGRAPHS[2:]]
    assert re.search(r"^## What the engineers found$", got.markdown, re.M)


def test_an_edit_to_the_subheading_changes_the_body():
    before = extract(page(), url=URL).text
    after = extract(page("<h2>What the inspectors found</h2>"), url=URL).text
    assert before != after and after.replace("inspectors", "engineers") == before


def test_linked_subheading_and_one_past_an_ad_are_kept():
    linked = extract(page("<h3><a href='/bridge'>Old Stone Bridge</a></h3>"), url=URL)
    assert "Old Stone Bridge" in linked.text.split("\n")
    past_ad = extract(page("<div class='ad-slot'></div><h2>Damage report</h2><div class='ad'></div>"), url=URL)
    assert past_ad.text.split("\n")[2] == "Damage report"


def test_headings_outside_the_flow_of_kept_paragraphs_stay_out():
    related = "<h2>Related stories</h2><ul><li><a href='/a'>Storm warning for the coast</a></li></ul>"
    got = extract(page(after=related), url=URL)
    assert "Related stories" not in got.text
    # A heading before a block the result did not keep cannot be placed, so it is not guessed.
    teaser = "<h2>Most read</h2><div class='teaser'>" + "Unrelated words about a football match. " * 12 + "</div>"
    assert "Most read" not in extract(page(middle=teaser), url=URL).text


def test_many_hostile_headings_are_bounded():
    # Called on the trees directly: the source has 5,000 subheadings, each between two
    # paragraphs the result kept; only the first _MAX_HEADINGS are looked at.
    source = lxml.html.fromstring(
        "<div>" + "".join(f"<p>Paragraph {i} of the story.</p><h2>Heading {i}</h2>" for i in range(5000)) + "</div>"
    )
    body = etree.Element("body")
    for i in range(5000):
        etree.SubElement(body, "p").text = f"Paragraph {i} of the story."
    assert restore_headings(source, body) == 200
    assert [el.text for el in body.iter("head")][:2] == ["Heading 0", "Heading 1"]
    # A heading-styled block of 5,000 characters is a paragraph, not a heading to restore.
    source = lxml.html.fromstring(f"<div><p>One.</p><h2>{'Flood words ' * 500}</h2><p>Two.</p></div>")
    body = etree.Element("body")
    etree.SubElement(body, "p").text = "One."
    etree.SubElement(body, "p").text = "Two."
    assert restore_headings(source, body) == 0


# --- the comparison keys, against plain reference definitions ---------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipeline.extract_headings import _KEY_CHARS, _key  # noqa: E402
from pipeline.metadata_clean import fold  # noqa: E402

# Letters that case-fold to more than one, quotes, dashes, soft hyphens, zero-width and
# other spaces: everything fold treats specially, mixed with plain text.
_ALPHABET = st.sampled_from(list("aZß.,:;!?'\"- \t\n\u00a0\u00ad\u200b\u2018\u2019\u201a\u201b\u2032\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
                                     "\u2010\u2011\u2012\u2013\u2014\u2015\u2212`\u00b4İﬁ"))


def reference_fold(value: str) -> str:
    """fold as first written: one regular expression per group of marks."""
    from pipeline.metadata_clean import _INVISIBLE_SHY, _SPACES

    value = value.translate(_INVISIBLE_SHY).casefold()
    value = re.sub(r"[\u2018\u2019\u201a\u201b\u2032`´]", "'", value)
    value = re.sub(r"[\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033]", '"', value)
    value = re.sub(r"[\u2010-\u2015\u2212]", "-", value)
    return _SPACES.sub(" ", value).strip(" .:;,!?\"'-")


@settings(max_examples=300, deadline=None)
@given(st.text(_ALPHABET, max_size=60))
def test_fold_matches_its_reference(text):
    assert fold(text) == reference_fold(text)


@settings(max_examples=300, deadline=None)
@given(st.text(_ALPHABET, min_size=400, max_size=900))
def test_a_long_paragraph_keys_like_its_whole_text(text):
    assert _key(text) == fold(" ".join(text.split()))[:_KEY_CHARS]


def test_a_long_paragraph_of_punctuation_still_gets_the_key_of_its_words():
    text = "." * 700 + " The council met on Monday " * 10
    assert _key(text) == fold(" ".join(text.split()))[:_KEY_CHARS]
    assert _key(text).startswith("the council met")
