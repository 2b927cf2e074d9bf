"""The names a page prints in its "By" line are versioned beside the structured authors.

Structured data often names a CMS account ("web desk", a login) while the page prints the
reporter; an editor who swaps that printed name changed the article, and the archive must say so,
without teaser rails and "most read" boxes (other articles' bylines) ever making a version.
"""

from __future__ import annotations

import json
import sqlite3

from archive.normalize import content_hash
from archive.store import Archive
from pipeline.extract import extract
from tests.runsite import WORDS
from tests.test_headline import capture_then_recheck, cli, serve  # noqa: F401 - fixture

URL = "https://www.example-gazette.test/2025/03/harbour"


def page(printed: str = "By Ann Marlow", *, account: str = "gazette_web", extra: str = "") -> str:
    paragraphs = "".join(
        f"<p>Paragraph {i} of the harbour story: {' '.join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(30))}.</p>"
        for i in range(6)
    )
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Harbour budget passes",
          "author": {"@type": "Person", "name": account}}
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Harbour budget passes</title>"
        f"<script type='application/ld+json'>{json.dumps(ld)}</script>"
        "<meta property='og:site_name' content='The Test Gazette'></head><body>"
        f"<article><h1>Harbour budget passes</h1><p class='byline'>{printed}</p>{paragraphs}</article>"
        f"{extra}</body></html>"
    )


def test_printed_reporter_beside_a_cms_account_is_kept():
    ex = extract(page(account="Kevin Rebong"), url=URL, final_url=URL)
    assert ex.authors == ("Kevin Rebong",)
    assert ex.byline == ("Ann Marlow",)


def test_printed_names_equal_to_the_authors_are_not_repeated():
    assert extract(page(account="Ann Marlow"), url=URL, final_url=URL).byline == ()
    # Printed with the outlet glued on, or as a subset of a longer author list: the same people.
    assert extract(page("By Ann MarlowThe Test Gazette", account="Ann Marlow"), url=URL, final_url=URL).byline == ()
    assert extract(page("By Ann Marlow, Gazette.test", account="Ann Marlow"), url=URL, final_url=URL).byline == ()


def test_co_authors_printed_but_not_declared_are_kept_with_the_declared_one():
    ex = extract(page("By Ann Marlow and Bo Lindqvist", account="Ann Marlow"), url=URL, final_url=URL)
    assert ex.authors == ("Ann Marlow",) and ex.byline == ("Ann Marlow", "Bo Lindqvist")


def test_teaser_bylines_that_print_other_names_make_no_byline():
    rail = "".join(f"<div class='most-read'><a href='/s{i}'>Story {i}</a><span class='byline'>By {name}</span></div>"
                   for i, name in enumerate(["Cara Other", "Dan Someone"]))
    assert extract(page(account="Kevin Rebong", extra=rail), url=URL, final_url=URL).byline == ()


def test_a_line_without_by_is_not_a_printed_byline():
    assert extract(page("Ann Marlow", account="Kevin Rebong"), url=URL, final_url=URL).byline == ()


def test_hostile_byline_values_are_bounded():
    ex = extract(page("By " + "Ann " * 100_000, account="Kevin Rebong"), url=URL, final_url=URL)
    assert all(len(name) <= 200 for name in ex.byline)


def test_swapped_printed_name_is_a_version_naming_byline(httpserver, cli):  # noqa: F811
    url, code, line = capture_then_recheck(
        httpserver, cli, page(account="Kevin Rebong"), page("By Aisha Okafor", account="Kevin Rebong")
    )
    assert code == 0 and line == f"{url}: new version 2 (byline)"
    diff = json.loads(cli("diff", url, "--format", "json")[1])
    assert diff["changed"] == ["byline"]
    assert diff["fields"]["byline"] == {"old": "Ann Marlow", "new": "Aisha Okafor"}
    shown = json.loads(cli("show", url, "--format", "json")[1])
    assert (shown["authors"], shown["byline"]) == (["Kevin Rebong"], ["Aisha Okafor"])
    text = cli("diff", url)[1]
    assert "Ann Marlow" in text and "Aisha Okafor" in text
    # The article as the page showed it names the printed reporter, not the CMS account.
    markdown = cli("show", url, "--format", "markdown")[1]
    assert "By Aisha Okafor" in markdown and "Kevin Rebong" not in markdown


def test_rotating_teaser_rail_makes_no_version(httpserver, cli):  # noqa: F811
    rail = "<div class='rail'><span class='byline'>By {}</span><span class='byline'>By {}</span></div>"
    url, code, line = capture_then_recheck(
        httpserver, cli,
        page(account="Kevin Rebong", extra=rail.format("Cara Other", "Dan Someone")),
        page(account="Kevin Rebong", extra=rail.format("Eve Third", "Fay Fourth")),
    )
    assert code == 0 and line == f"{url}: unchanged (version 1)"


def test_archive_without_the_column_gains_it_and_keeps_its_hashes(httpserver, cli):  # noqa: F811
    url = serve(httpserver, page(account="Ann Marlow"))
    assert cli("add", url)[0] == 0
    with sqlite3.connect(cli.db) as conn:
        conn.execute("ALTER TABLE versions DROP COLUMN byline")
        stored = conn.execute("SELECT content_hash, field_hashes FROM versions").fetchone()
    conn.close()
    # A version with no printed byline hashes exactly as it did before the field existed.
    assert "byline" not in json.loads(stored[1]) and content_hash(json.loads(stored[1])) == stored[0]
    with Archive(cli.db, write=False) as archive:  # read-only: readable without the column
        assert archive.version(url, 1).content.byline == ()
    assert cli("add", url) == (0, f"{url}: unchanged (version 1)\n")  # migrates, no false edit
    with sqlite3.connect(cli.db) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(versions)")}
    conn.close()
    assert "byline" in columns
