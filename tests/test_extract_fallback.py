"""Body fallbacks: a recall-minded second pass for scraps, and React Server Components payloads."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from lxml import html as lxml_html

from pipeline.errors import ExtractError
from pipeline.extract import extract
from pipeline.extract_fallback import SCRAP_CHARS, flight_article_html, prefer_recall

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"

STORY = [
    "The harbour authority said on Tuesday that the northern pier will stay closed until the spring.",
    "Divers found cracks in three of the oldest pillars during an inspection after the autumn storms.",
    "Ferries to the islands will leave from the southern quay, which adds ten minutes to each crossing.",
]


def push(chunk: str) -> str:
    return f"<script>self.__next_f.push({json.dumps([1, chunk])})</script>"


def rsc_page(markup: str, *, split_at: int = 40) -> str:
    """A Next.js app-router page: an empty shell, the article only inside the flight payload."""
    raw = markup.encode("utf-8")
    row = f'0:["$","div",null,{{}}]\n7:T{len(raw):x},{markup}2:["$","p",null,{{}}]\n'
    scripts = push(row[:split_at]) + push(row[split_at:])
    return (
        "<html><head><title>Pier closed | Harbour News</title>"
        '<meta property="og:site_name" content="Harbour News"></head>'
        f"<body><div id='app'></div>{scripts}</body></html>"
    )


def test_article_shipped_only_in_an_rsc_payload_is_found():
    markup = "".join(f"<p class='para'>{p}</p>" for p in STORY)
    e = extract(rsc_page(markup), url="https://harbour.example.org/pier")
    assert e.text.splitlines() == STORY
    assert e.title == "Pier closed"


def test_code_after_the_push_call_does_not_hide_the_article():
    # A script that appends a statement after the call (a tag manager, an edge proxy's request
    # id) still ships the same payload; before, the whole script had to be the call.
    markup = "".join(f"<p class='para'>{p}</p>" for p in STORY)
    html = re.sub(r"\)</script>", ');\nwindow.__rid="5f2a9c";</script>', rsc_page(markup))
    assert html.count("window.__rid") == 2
    assert extract(html, url="https://harbour.example.org/pier").text.splitlines() == STORY


def test_an_rsc_article_wins_over_the_menus_and_rails_of_an_empty_shell():
    # The DOM holds only navigation and a most-read rail: trafilatura returns that scrap,
    # which must not stand in for the article the payload ships (it churns on every request).
    markup = "".join(f"<p class='para'>{p}</p>" for p in STORY * 2)
    rail = ("<div class='shell'><ul class='top'><li><a href='/t'>Tech</a></li><li><a href='/w'>World</a></li></ul>"
            "<div class='rail'><p>Popular now: Minister rejects rail strike deal. Union accepts pay offer.</p></div></div>")
    html = rsc_page(markup).replace("<div id='app'></div>", rail)
    e = extract(html, url="https://harbour.example.org/pier")
    assert e.text.splitlines() == STORY * 2
    # A real article in the DOM is not replaced by a shorter or similar payload row.
    dom = "<article>" + "".join(f"<p>{p} {p}</p>" for p in STORY) + "</article>"
    e = extract(rsc_page(markup).replace("<div id='app'></div>", dom), url="https://harbour.example.org/pier")
    assert e.text.splitlines() == [f"{p} {p}" for p in STORY]


def test_rsc_text_rows_are_cut_by_utf8_byte_length():
    story = [p.replace("harbour", "Hafen-Behörde ä") for p in STORY]
    markup = "".join(f"<p>{p}</p>" for p in story)
    found = flight_article_html(lxml_html.fromstring(rsc_page(markup, split_at=25)))
    assert found is not None
    assert found.endswith(f"<p>{story[-1]}</p></article></body></html>")
    assert '2:["$"' not in found


@pytest.mark.parametrize(
    "scripts",
    [
        "",
        "<script>self.__next_f.push([1, 'not json'])</script>",
        "<script>self.__next_f.push([0])</script>",
        push('7:Tffff,<p>short</p><p>and cut</p>'),  # declared longer than what follows
        push("7:T10,<b>no paragraphs</b>"),
    ],
)
def test_pages_without_usable_flight_markup_give_none_or_a_clean_error(scripts):
    document = f"<html><body><div></div>{scripts}</body></html>"
    assert flight_article_html(lxml_html.fromstring(document)) is None
    with pytest.raises(ExtractError):
        extract(document, url="https://harbour.example.org/empty")


def test_recall_replaces_only_a_scrap_and_only_when_much_longer():
    scrap = "x" * (SCRAP_CHARS - 1)
    assert prefer_recall(scrap, "y" * (2 * len(scrap)))
    assert not prefer_recall(scrap, "y" * (len(scrap) + 100))
    assert not prefer_recall("x" * SCRAP_CHARS, "y" * 10_000)
    assert prefer_recall("", "some text")


def _aeb(name: str) -> str:
    return gzip.decompress((CORPUS / "aeb" / "html" / f"{name}.html.gz").read_bytes()).decode("utf-8")


def test_a_page_where_precision_keeps_only_a_reprint_notice_gets_the_article():
    name = "f8ff621a0b9b7646cc0d57d37416feabba2bf78ef5dd0bfc5b080f9f97bbe584"
    if not (CORPUS / "aeb" / "html" / f"{name}.html.gz").exists():
        pytest.skip("corpus not available")
    truth = json.loads((CORPUS / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))[name]
    e = extract(_aeb(name), url=truth["url"])
    assert len(e.text) > 5 * SCRAP_CHARS
    assert "are dropping in premarket trading after the company cut" in " ".join(e.text.split())
    assert "Home Depot (ticker: HD) reported $2.53" in e.text
