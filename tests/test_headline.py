"""The printed headline (<h1>) is versioned beside the declared title (og:title, JSON-LD).

Newsrooms often give the social/SEO title and the on-page headline different wording, and an
editor may change either one alone; both changes must make a version that says which changed.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from archive.store import Archive
from pipeline.cli import main
from pipeline.extract import extract
from tests.runsite import WORDS

DECLARED = "Council approves harbour budget after long debate"
PRINTED = "Harbour budget passes: council ends a six-hour debate"


def page(declared: str = DECLARED, printed: str = PRINTED, *, h1_extra: str = "") -> str:
    paragraphs = "".join(
        f"<p>Paragraph {i} of the harbour story: {' '.join(WORDS[(i * 5 + k) % len(WORDS)] for k in range(30))}.</p>"
        for i in range(6)
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{declared} | The Test Gazette</title>"
        f"<meta property='og:title' content='{declared}'>"
        "<meta property='og:site_name' content='The Test Gazette'>"
        "<meta property='article:published_time' content='2025-03-01T09:00:00+01:00'>"
        "</head><body><header><h1 class='logo'>The Test Gazette</h1></header>"
        f"<article>{h1_extra}<h1>{printed}</h1><p class='byline'>By Ann Writer</p>{paragraphs}</article>"
        "</body></html>"
    )


def test_extract_keeps_declared_title_and_printed_headline_apart():
    got = extract(page(), url="https://news.example/harbour")
    assert got.title == DECLARED
    assert got.headline == PRINTED


def test_logo_h1_and_site_name_h1_are_not_the_headline():
    # The only <h1> is the site's name, which the <title> names as its furniture.
    html = page().replace(f"<h1>{PRINTED}</h1>", "<h2>Sub heading</h2>")
    assert extract(html, url="https://news.example/harbour").headline is None


def test_h1_equal_to_title_is_still_recorded():
    got = extract(page(printed=DECLARED), url="https://news.example/harbour")
    assert got.title == got.headline == DECLARED


@pytest.fixture
def cli(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text(
        "[fetch]\nallow_private_networks = true\nper_host_delay = 0\nobey_robots = false\n"
        "retries = 0\ntimeout = 3\n[extract]\nworkers = 1\n"
    )

    def run(*args: str) -> tuple[int, str]:
        code = main(["--config", str(config), *args])
        return code, capsys.readouterr().out

    run.db = tmp_path / "archive.db"
    return run


def serve(httpserver, html: str) -> str:
    httpserver.clear_all_handlers()
    httpserver.expect_request("/harbour").respond_with_data(html, content_type="text/html; charset=utf-8")
    return httpserver.url_for("/harbour")


def capture_then_recheck(httpserver, cli, first: str, second: str) -> tuple[str, int, str]:
    """Capture ``first``, then serve ``second`` and check again: (url, exit code, line printed)."""
    url = serve(httpserver, first)
    assert cli("add", url)[0] == 0
    serve(httpserver, second)
    code, out = cli("add", url)
    return url, code, out.strip()


def test_edit_to_printed_headline_alone_is_a_version_naming_headline(httpserver, cli):
    url, code, line = capture_then_recheck(
        httpserver, cli, page(), page(printed=PRINTED.replace("six-hour", "nine-hour"))
    )
    assert code == 0 and line == f"{url}: new version 2 (headline)"
    diff = json.loads(cli("diff", url, "--format", "json")[1])
    assert diff["changed"] == ["headline"]
    assert diff["fields"]["headline"] == {"old": PRINTED, "new": PRINTED.replace("six-hour", "nine-hour")}
    assert [op for op in diff["ops"] if op["op"] != "equal"] == []
    shown = json.loads(cli("show", url, "--format", "json")[1])
    assert (shown["title"], shown["headline"]) == (DECLARED, PRINTED.replace("six-hour", "nine-hour"))


def test_edit_to_declared_title_alone_is_a_version_naming_title(httpserver, cli):
    url, code, line = capture_then_recheck(
        httpserver, cli, page(), page(declared=DECLARED.replace("approves", "rejects"))
    )
    assert code == 0 and line == f"{url}: new version 2 (title)"


def test_new_teaser_h1_elsewhere_on_the_page_changes_nothing(httpserver, cli):
    url, code, line = capture_then_recheck(
        httpserver, cli, page(), page(h1_extra="<aside><h1>Weather: sunny spells all week</h1></aside>")
    )
    assert code == 0 and line == f"{url}: unchanged (version 1)"


def test_schema_1_archive_gains_the_column_and_keeps_its_versions(httpserver, cli):
    url = serve(httpserver, page())
    assert cli("add", url)[0] == 0
    # Turn the file back into a schema-1 archive: no headline column, version 1 recorded.
    with sqlite3.connect(cli.db) as conn:
        conn.execute("ALTER TABLE versions DROP COLUMN headline")
        conn.execute("ALTER TABLE versions DROP COLUMN other_titles")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.close()
    with Archive(cli.db, write=False) as archive:  # read-only: no migration, still readable
        assert archive.version(url, 1).content.headline is None
        assert archive.version(url, 1).content.other_titles == ()
        assert archive.version(url, 1).content.title == DECLARED
    with Archive(cli.db) as archive:  # opening for writing migrates
        assert archive.version(url, 1).content.text
    with sqlite3.connect(cli.db) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(versions)")}
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    conn.close()
    assert {"headline", "other_titles"} <= columns and version == "2"


def test_hostile_h1_values_are_bounded():
    huge = "Harbour " * 150_000  # 1.2 MB inside one <h1>
    got = extract(page(printed=huge), url="https://news.example/harbour")
    assert got.title == DECLARED and got.headline is None
    markup = extract(page(printed="Harbour budget <em>passes</em>: council ends a six-hour debate"),
                     url="https://news.example/harbour")
    assert markup.headline == PRINTED


def test_page_without_any_declared_title_uses_its_h1_for_both():
    html = page().replace(f"<title>{DECLARED} | The Test Gazette</title>", "")
    html = html.replace(f"<meta property='og:title' content='{DECLARED}'>", "")
    got = extract(html, url="https://news.example/harbour")
    assert got.title == got.headline == PRINTED


def test_title_and_headline_edited_alike_show_once_in_text_and_both_in_json(httpserver, cli):
    new = DECLARED.replace("approves", "rejects")
    url, code, line = capture_then_recheck(httpserver, cli, page(printed=DECLARED), page(declared=new, printed=new))
    assert code == 0 and line == f"{url}: new version 2 (title, headline)"
    text = cli("diff", url)[1]
    assert "title and headline:" in text and text.count(f"after:  {new}") == 1
    assert "title and headline" in cli("diff", url, "--format", "unified")[1]
    fields = json.loads(cli("diff", url, "--format", "json")[1])["fields"]
    assert fields["title"] == fields["headline"] == {"old": DECLARED, "new": new}


def test_edit_to_a_declared_headline_the_title_did_not_take_is_seen(httpserver, cli):
    # og:title is a social teaser unlike the JSON-LD headline: the title takes og:title, and
    # the JSON-LD headline is kept among the other declared titles, so editing it alone is
    # still a version.
    teaser = "You will not believe what the harbour council did"

    def with_jsonld(headline: str) -> str:
        ld = '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "%s"}</script>' % headline
        return page(declared=teaser, printed=PRINTED).replace("</head>", ld + "</head>")

    url = serve(httpserver, with_jsonld(DECLARED))
    assert cli("add", url)[0] == 0
    shown = json.loads(cli("show", url, "--format", "json")[1])
    assert (shown["title"], shown["headline"], shown["other_titles"]) == (teaser, PRINTED, [DECLARED])
    edited = DECLARED.replace("approves", "rejects")
    serve(httpserver, with_jsonld(edited))
    code, out = cli("add", url)
    assert code == 0 and out.strip() == f"{url}: new version 2 (other_titles)"
    fields = json.loads(cli("diff", url, "--format", "json")[1])["fields"]
    assert fields == {"other_titles": {"old": DECLARED, "new": edited}}


def test_short_h1_is_found_when_the_site_suffix_cannot_be_stripped():
    # A loopback URL names no site, so og:title keeps " - The Daily Example"; the <h1> is its
    # leading segment and still the printed headline.
    html = page(declared="Quiet win - The Daily Example", printed="Quiet win")
    html = html.replace("<meta property='og:site_name' content='The Test Gazette'>", "")
    html = html.replace("<h1 class='logo'>The Test Gazette</h1>", "")
    got = extract(html, url="http://127.0.0.1:8000/story")
    assert got.headline == "Quiet win"


def test_a_declared_title_that_only_adds_furniture_is_not_another_title():
    html = page(printed=DECLARED).replace(
        "</head>", f"<meta name='twitter:title' content='Opinion | {DECLARED} - Harbour Desk'></head>"
    )
    assert extract(html, url="https://news.example/harbour").other_titles == ()
    longer = page(printed=DECLARED).replace(
        "</head>", f"<meta name='twitter:title' content='{DECLARED} and what it means'></head>"
    )
    assert extract(longer, url="https://news.example/harbour").other_titles == (f"{DECLARED} and what it means",)


DISPLAY = "The night the cranes stopped"


def marked_page(printed: str = DISPLAY, itemprop: str = "headline") -> str:
    """A display headline sharing nothing with the declared title, marked (or not) by microdata."""
    return page(printed=printed).replace(f"<h1>{printed}</h1>", f"<h1 itemprop='{itemprop}'>{printed}</h1>")


def test_h1_marked_as_headline_is_the_headline_even_unlike_every_declared_title():
    got = extract(marked_page(), url="https://news.example/harbour")
    assert (got.title, got.headline) == (DECLARED, DISPLAY)
    # Without the mark, an unlike <h1> could be a teaser or a section name: not taken.
    unmarked = extract(page(printed=DISPLAY), url="https://news.example/harbour")
    assert unmarked.headline is None
    # itemprop lists several properties in one attribute.
    both = extract(marked_page(itemprop="name headline"), url="https://news.example/harbour")
    assert both.headline == DISPLAY


def test_edit_to_a_marked_display_headline_is_a_version_naming_headline(httpserver, cli):
    url, code, line = capture_then_recheck(
        httpserver, cli, marked_page(), marked_page(printed=DISPLAY.replace("cranes", "ferries"))
    )
    assert code == 0 and line == f"{url}: new version 2 (headline)"
