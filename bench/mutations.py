"""Page mutations for bench/changes: cosmetic churn that must not make a version, real edits that must.

Everything works on the DOM (lxml.html), never on strings of a particular page:
- ``prepare`` parses a page, makes a relative rel=canonical absolute (the page is served from
  another host) and finds the article paragraphs (the parent holding most body-text <p>s).
- ``build`` adds the furniture real news pages carry (bench/furniture.py), rendered from a seed:
  a header with nav and a leaderboard ad, and *inside the article* a meta bar ("Updated N
  minutes ago", view and share counts), an ad slot between paragraphs, a related-articles box,
  an embed script; a most-read rail, a footer form with a CSRF token, head scripts, styles and
  a csrf meta. The markup variant is picked per page; a cosmetic round re-renders one kind with
  a new seed.
- ``MUTATIONS`` maps each kind to a function that edits the tree and returns an ``Expect``
  (what the archive should record), or None when the page has nothing to mutate: churn from
  bench/furniture.py, body edits (bench/body_edits.py) and metadata edits
  (bench/title_edit.py, bench/byline_edit.py, bench/date_edit.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import lxml.html

from bench.body_edits import add_sentence, edit_word, move_paragraph, remove_sentence
from bench.byline_edit import edit_byline
from bench.date_edit import edit_date
from bench.furniture import CHURN, FURNITURE_KINDS, furnish
from bench.mutation_tree import Expect, article_paragraphs, parse, serialize
from bench.title_edit import edit_title

__all__ = ["COSMETIC", "MUTATIONS", "Page", "SUBSTANTIVE", "build", "prepare"]


@dataclass(frozen=True)
class Page:
    """One corpus page ready to mutate: its HTML with an absolute canonical, and its truth."""

    name: str
    url: str  # where the page was originally published
    html: str
    truth_body: str = ""


def prepare(name: str, url: str, html: str, truth_body: str = "") -> Page:
    """Round-trip the page through lxml once, so every served variant differs only by its mutation."""
    doc = parse(html)
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            # Served from loopback, a relative canonical would point at the bench server.
            from urllib.parse import urljoin

            link.set("href", urljoin(url, link.get("href").strip()))
    return Page(name=name, url=url, html=serialize(doc), truth_body=truth_body)


def build(page: Page, seeds: dict[str, int] | None = None) -> lxml.html.HtmlElement:
    """The page's tree with furniture rendered from ``seeds`` (0 for every kind not named)."""
    doc = parse(page.html)
    paras = article_paragraphs(doc, page.truth_body)
    furnish(doc, paras, page_seed=page.name, seeds=seeds or {})
    return doc


def _apply_churn(kind: str):
    def run(doc, paras, rng: random.Random) -> Expect | None:
        return Expect(kind, True) if CHURN[kind](doc, rng) else None

    run.__name__ = f"churn_{kind}"
    return run


SUBSTANTIVE = ("word", "sentence_add", "sentence_remove", "paragraph_move", "title", "byline", "date")
COSMETIC = FURNITURE_KINDS + tuple(CHURN)

MUTATIONS = {
    **{kind: _apply_churn(kind) for kind in CHURN},
    "word": edit_word,
    "sentence_add": add_sentence,
    "sentence_remove": remove_sentence,
    "paragraph_move": move_paragraph,
    "title": edit_title,
    "byline": edit_byline,
    "date": edit_date,
}
