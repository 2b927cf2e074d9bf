"""The change benchmark's mutations do what they claim, on a tiny page (no network, no engine)."""

from __future__ import annotations

import json
import random
import re
from collections import Counter

import lxml.html
import pytest

from bench.changes import mutate
from bench.furniture import _AD_TEXTS
from bench.mutation_tree import article_paragraphs, words
from bench.mutations import COSMETIC, SUBSTANTIVE, build, prepare

PARAS = [
    "The council met on Monday to discuss the harbour budget for the coming year.",
    "Members argued for three hours. The mayor left early. Nobody explained why the vote was postponed.",
    "Residents who attended said the debate had been unusually heated and personal.",
    "A final decision is now expected before the summer recess begins in July.",
]

HTML = f"""<!DOCTYPE html>
<html lang="en"><head>
<title>Harbour budget vote delayed again | Example News</title>
<meta property="og:title" content="Harbour budget vote delayed again">
<meta name="author" content="Jane Marlow">
<meta property="article:published_time" content="2024-05-03T10:00:00+00:00">
<link rel="canonical" href="/news/harbour-budget">
<script type="application/ld+json">{json.dumps({
    "@type": "NewsArticle", "headline": "Harbour budget vote delayed again",
    "author": {"@type": "Person", "name": "Jane Marlow"},
    "datePublished": "2024-05-03T10:00:00+00:00"})}</script>
<script>var page = {{"id": 1}};</script>
</head><body>
<nav><ul><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<article>
<h1>Harbour budget vote delayed again</h1>
<p class="byline">By Jane Marlow, <time datetime="2024-05-03T10:00:00+00:00">3 May 2024</time></p>
{''.join(f'<p>{p}</p>' for p in PARAS)}
<img src="/img/harbour.jpg" alt="">
</article>
<aside><a href="/other">Another story about something else</a></aside>
<form><input type="hidden" name="token" value="abc123"></form>
</body></html>"""


@pytest.fixture
def page():
    return prepare("test/page", "https://news.example/news/harbour-budget", HTML, "\n".join(PARAS))


def _doc(body: bytes):
    return lxml.html.document_fromstring(body.decode("utf-8"))


def _body_text(doc) -> list[str]:
    """The article's own paragraphs: unclassed <p> children of <article> (furniture has a class)."""
    article = doc.find(".//article")
    return [" ".join(p.text_content().split()) for p in article
            if p.tag == "p" and p.get("class") is None]


def test_prepare_makes_canonical_absolute_and_finds_paragraphs(page):
    doc = build(page)
    assert doc.find(".//link[@rel='canonical']").get("href") == "https://news.example/news/harbour-budget"
    found = [" ".join(p.text_content().split()) for p in article_paragraphs(doc, page.truth_body)]
    assert found == PARAS


def test_baseline_is_stable_and_carries_furniture_inside_the_article(page):
    first, _ = mutate(page, "ads", seed=0)
    again, _ = mutate(page, "ads", seed=0)
    assert first == again
    text = first.decode()
    assert "data-furniture" not in text  # the bench's own marks never reach the server
    article = _doc(first).find(".//article")
    inside = lxml.html.tostring(article, encoding="unicode")
    # An ad slot between body paragraphs.
    ad = next(inside.index(t) for t in _AD_TEXTS if t in inside)
    assert inside.index(PARAS[0][:20]) < ad < inside.index(PARAS[-1][:20])


@pytest.mark.parametrize("kind", COSMETIC)
def test_cosmetic_mutations_change_the_page_but_not_the_article(page, kind):
    base, _ = mutate(page, "ads", seed=0)
    changed, expect = mutate(page, kind)
    assert expect is not None and expect.cosmetic
    assert changed != base
    before, after = _doc(base), _doc(changed)
    assert _body_text(after) == _body_text(before)
    assert after.findtext(".//title") == before.findtext(".//title")
    assert after.find(".//h1").text_content() == before.find(".//h1").text_content()


def _article_words(body: bytes) -> Counter:
    return Counter(w for p in _body_text(_doc(body)) for w in words(p))


@pytest.mark.parametrize("kind", ["word", "sentence_add", "sentence_remove", "paragraph_move"])
def test_body_edits_change_exactly_the_words_they_report(page, kind):
    base, _ = mutate(page, "ads", seed=0)
    changed, expect = mutate(page, kind)
    assert expect is not None and not expect.cosmetic and expect.field == "text"
    old, new = _article_words(base), _article_words(changed)
    assert old - new == Counter(expect.deleted if kind != "paragraph_move" else ())
    assert new - old == Counter(expect.inserted if kind != "paragraph_move" else ())
    if kind == "paragraph_move":
        assert _body_text(_doc(changed)) != _body_text(_doc(base))
    else:
        assert expect.deleted or expect.inserted


def test_title_edit_reaches_every_title_source(page):
    changed, expect = mutate(page, "title")
    (old,), (new,) = expect.deleted, expect.inserted
    doc = _doc(changed)
    ld = json.loads(next(s.text for s in doc.iter("script") if s.get("type") == "application/ld+json"))
    sources = [doc.findtext(".//title"), doc.find(".//meta[@property='og:title']").get("content"),
               ld["headline"], doc.find(".//h1").text_content()]
    for value in sources:
        assert re.search(rf"\b{new}\b", value) and not re.search(rf"\b{old}\b", value), value
    assert _body_text(doc) == _body_text(_doc(mutate(page, "ads", seed=0)[0]))


def test_byline_edit_renames_the_author_everywhere(page):
    changed, expect = mutate(page, "byline")
    assert expect.deleted == ("Jane", "Marlow")
    text = changed.decode()
    assert "Jane Marlow" not in text
    new_name = " ".join(expect.inserted)
    doc = _doc(changed)
    assert doc.find(".//meta[@name='author']").get("content") == new_name
    assert new_name in doc.find(".//p[@class='byline']").text_content()


def test_date_edit_moves_every_date_source_back_one_day(page):
    changed, expect = mutate(page, "date")
    assert expect.field == "published" and expect.shift_days == -1
    doc = _doc(changed)
    assert doc.find(".//meta[@property='article:published_time']").get("content").startswith("2024-05-02")
    assert doc.find(".//time").get("datetime").startswith("2024-05-02")
    assert doc.find(".//time").text == "2 May 2024"
    assert "2024-05-03" not in changed.decode()


def test_substantive_kinds_without_material_are_not_applicable():
    bare = prepare("test/bare", "https://news.example/a", "<html><body><p>Too short.</p></body></html>")
    for kind in SUBSTANTIVE:
        assert mutate(bare, kind) == (None, None), kind


def test_mutations_are_deterministic_per_page_and_seed(page):
    assert mutate(page, "word") == mutate(page, "word")
    assert mutate(page, "ads", seed=1)[0] != mutate(page, "ads", seed=2)[0]
    random.seed(0)  # global state plays no part
    assert mutate(page, "tracking")[0] == mutate(page, "tracking")[0]
