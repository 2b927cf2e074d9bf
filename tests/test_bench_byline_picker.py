"""The byline picker of bench/changes: it edits a name the page prints as this article's byline,
never a picture credit, a teaser's writer, a CMS account named after the site or a bio's words,
and it reaches every spelling of that name (escaped JSON-LD, givenName/familyName)."""

from __future__ import annotations

import json

from bench.changes import mutate
from bench.mutations import prepare

PARAS = [
    "The council met on Monday to discuss the harbour budget for the coming year.",
    "Members argued for three hours and nobody explained why the vote was postponed.",
    "Residents who attended said the debate had been unusually heated and personal.",
]


def page_with(head: str = "", byline: str = "", after: str = ""):
    html = (
        '<!DOCTYPE html><html><head><title>Harbour budget vote delayed</title>'
        '<meta property="og:site_name" content="Ilanga News">'
        f'<link rel="canonical" href="https://ilanganews.test/a">{head}</head><body><article>'
        f'<h1>Harbour budget vote delayed</h1>{byline}{"".join(f"<p>{p}</p>" for p in PARAS)}'
        f"</article>{after}</body></html>"
    )
    return prepare("test/picker", "https://ilanganews.test/a", html, "\n".join(PARAS))


def ld(author) -> str:
    return f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", "author": author})}</script>'


def picked(page) -> str | None:
    _html, expect = mutate(page, "byline")
    return " ".join(expect.deleted) if expect else None


def test_a_picture_credit_is_not_a_byline():
    head = '<meta name="author" content="Emma Mackenzie"><meta name="author" content="(Image: Getty Images/iStockphoto)">'
    byline = '<span class="author">(Image: Getty Images/Cultura RF)</span>'
    assert picked(page_with(head, byline)) == "Emma Mackenzie"


def test_a_teaser_byline_after_the_article_is_not_its_byline():
    after = '<div class="most-read"><h3><a href="/b">Other story</a></h3><div class="appetizer-author">Von Knut Krohn</div></div>'
    assert picked(page_with(ld({"@type": "Organization", "name": "dpa"}), after=after)) is None


def test_a_cms_account_named_after_the_site_is_not_a_byline():
    assert picked(page_with(ld({"@type": "Person", "name": "Ilanga D"}), '<div class="author">Ilanga D</div>')) is None
    # A person whose surname is no word of the site's name is picked.
    assert picked(page_with(ld({"@type": "Person", "name": "Thandi Dube"}))) == "Thandi Dube"


def test_only_the_authors_name_counts_not_the_words_of_a_bio():
    bio = "Supported by the Bill and Melinda Gates Foundation and the NIH."
    head = ld({"@type": "Person", "name": "Bruce Y. Lee", "description": bio}) + '<meta name="author" content="Bruce Y. Lee">'
    assert picked(page_with(head, '<div class="author">Bruce Y. Lee</div>')) == "Bruce Y Lee"


def test_the_name_is_replaced_in_escaped_json_ld_and_split_names():
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "author": {"@type": "Person", '
        '"name": "Luna Gonz\\u00e1lez"}}</script>'
    )
    html, expect = mutate(page_with(head, '<div class="author">Luna González</div>'), "byline")
    text = html.decode()
    assert "Gonz\\u00e1lez" not in text and "González" not in text and " ".join(expect.inserted) in text
    split = ld({"@type": "Person", "givenName": "Anna Giulia", "familyName": "Fink"})
    html, expect = mutate(page_with(split, '<div class="article-byline">Anna Giulia Fink</div>'), "byline")
    new_given, new_family = " ".join(expect.inserted).rsplit(" ", 1)
    assert f'"givenName": "{new_given}"' in html.decode() and f'"familyName": "{new_family}"' in html.decode()


def test_domains_and_affiliations_are_not_names():
    head = '<meta name="author" content="Fotolia.com"><meta name="author" content="Finian Cunningham. Sputnik International">'
    assert picked(page_with(head)) is None
