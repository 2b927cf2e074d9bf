"""The core contract end to end: the real `archive` CLI against a loopback server serving a
real news page, with a real SQLite archive."""

from __future__ import annotations

import gzip
import json
import re
import socket
import sqlite3
import time

import pytest

from pipeline.cli import main
from tests.conftest import CORPUS

PAGE = "uk_TheGuardian_2024_02_24.html.gz"


@pytest.fixture(scope="module")
def article() -> dict:
    truth = json.loads((CORPUS / "fundus-dev" / "ground-truth.json").read_text())[PAGE]
    html = gzip.decompress((CORPUS / "fundus-dev" / "html" / PAGE).read_bytes()).decode("utf-8")
    return {"html": html, "truth": truth}


@pytest.fixture
def cli(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text(
        "[fetch]\nallow_private_networks = true\nper_host_delay = 0\nobey_robots = false\n"
        "retries = 0\ntimeout = 3\nread_timeout = 2\nmax_bytes = 1048576\n"
        "[extract]\nworkers = 1\n"
    )

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--config", str(config), *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    run.db = tmp_path / "archive.db"
    return run


def serve(httpserver, path: str, html: str, **kwargs) -> str:
    httpserver.clear_all_handlers()
    httpserver.expect_request(path).respond_with_data(
        html, content_type="text/html; charset=utf-8", **kwargs
    )
    return httpserver.url_for(path)


def _one_word_edit(article: dict) -> tuple[str, str, str]:
    """A word from the middle of the true body that occurs once in the HTML, and its edit."""
    body = article["truth"]["articleBody"]
    words = re.findall(r"\b[a-z]{7,}\b", body[len(body) // 3 :])
    for word in words:
        if len(re.findall(rf"\b{word}\b", article["html"])) == 1:
            return word, "zanzibarian", re.sub(rf"\b{word}\b", "zanzibarian", article["html"])
    raise AssertionError("no editable word found")


def test_add_recheck_edit_and_diff(httpserver, cli, article):
    url = serve(httpserver, "/news/fire", article["html"])

    code, out, err = cli("add", url)
    assert (code, err) == (0, "")
    assert out.strip() == f"{url}: new version 1"

    code, out, _ = cli("add", url)
    assert code == 0 and out.strip() == f"{url}: unchanged (version 1)"
    assert len(json.loads(cli("history", url, "--json")[1])) == 1

    old_word, new_word, edited = _one_word_edit(article)
    serve(httpserver, "/news/fire", edited)
    code, out, _ = cli("add", url)
    assert code == 0 and out.startswith(f"{url}: new version 2 (text")

    history = json.loads(cli("history", url, "--json")[1])
    assert [h["version"] for h in history] == [1, 2]
    assert history[1]["changed"] == ["text"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", history[1]["captured_at"])

    code, out, _ = cli("diff", url, "--format", "json")
    ops = [op for op in json.loads(out)["ops"] if op["op"] != "equal"]
    assert ops == [{"op": "replace", "old": old_word, "new": new_word}]

    code, out, _ = cli("diff", url, "--no-color")
    assert f"[-{old_word}-]{{+{new_word}+}}" in out

    with sqlite3.connect(cli.db) as conn:
        outcomes = [r[0] for r in conn.execute("SELECT outcome FROM fetches ORDER BY id")]
    assert outcomes == ["new_version", "same_body", "new_version"]


CHURN = {
    "ad_slot": lambda html, n: html.replace(
        "<body", f'<div class="ad-slot" id="ad-{n}">Advertisement: SuperWidget sale {n}% off</div><body', 1
    ),
    "sidebar_timestamp": lambda html, n: html.replace(
        "</body>", f'<aside class="sidebar"><p>Updated {n} minutes ago</p></aside></body>', 1
    ),
    "hidden_token": lambda html, n: html.replace(
        "</body>",
        f'<form action="/login"><input type="hidden" name="csrf" value="tok{n}x{n * 7919}"></form></body>',
        1,
    ),
    "script_churn": lambda html, n: html.replace(
        "</head>", f"<script>window.__state={{render:{n},nonce:'{n * 31}'}}</script></head>", 1
    ),
}


@pytest.mark.parametrize("kind", sorted(CHURN))
def test_page_furniture_churn_makes_no_version(httpserver, cli, article, kind):
    url = serve(httpserver, "/news/fire", article["html"])
    assert cli("add", url)[0] == 0
    for n in (3, 17):
        serve(httpserver, "/news/fire", CHURN[kind](article["html"], n))
        code, out, _ = cli("add", url)
        assert code == 0 and out.strip() == f"{url}: unchanged (version 1)", out
    with sqlite3.connect(cli.db) as conn:
        assert conn.execute("SELECT count(*) FROM versions").fetchone()[0] == 1
        # The body differed each time, so extraction ran and decided "unchanged".
        assert [r[0] for r in conn.execute("SELECT outcome FROM fetches ORDER BY id")] == [
            "new_version", "unchanged", "unchanged",
        ]


def test_show_markdown_has_title_date_source_and_original_url(httpserver, cli, article):
    assert article["html"].count("Pilar Bernabé") == 1
    linked = article["html"].replace(
        "Pilar Bernabé", '<a href="https://example.org/people/bernabe">Pilar Bernabé</a>'
    )
    url = serve(httpserver, "/news/fire", linked)
    cli("add", url)
    code, out, _ = cli("show", url, "--format", "markdown")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"# {article['truth']['title']}"
    assert any(line.startswith("Published 2024-02-24") for line in lines[:5])
    assert any(line.startswith("Source: ") for line in lines[:6])
    assert lines[-1] == f"Original url: <{url}>"
    assert "[Pilar Bernabé](https://example.org/people/bernabe)" in out, "body keeps its links"

    shown = json.loads(cli("show", url, "--format", "json")[1])
    for key in ("url", "final_url", "version", "captured_at", "title", "authors", "published",
                "sitename", "language", "text"):
        assert key in shown
    assert shown["version"] == 1 and isinstance(shown["authors"], list)
    assert shown["published"].startswith("2024-02-24")


ERROR_CASES = {
    "http_status": lambda s: s.expect_request("/p").respond_with_data("boom", status=500),
    "not_found": lambda s: s.expect_request("/p").respond_with_data("nope", status=404),
    "content_type": lambda s: s.expect_request("/p").respond_with_data(
        b"%PDF-1.7 " + b"x" * 5000, content_type="application/pdf"
    ),
    "too_large": lambda s: s.expect_request("/p").respond_with_data(
        "<html><body>" + "<p>word </p>" * 400_000 + "</body></html>", content_type="text/html"
    ),
    "too_many_redirects": lambda s: (
        s.expect_request("/p").respond_with_data("", status=302, headers={"Location": "/q"}),
        s.expect_request("/q").respond_with_data("", status=302, headers={"Location": "/p"}),
    ),
}


@pytest.mark.parametrize("kind", sorted(ERROR_CASES))
def test_each_error_kind_is_recorded_and_reported_without_traceback(httpserver, cli, kind):
    ERROR_CASES[kind](httpserver)
    url = httpserver.url_for("/p")
    code, out, err = cli("add", url)
    assert code == 1
    assert out == ""
    assert err.strip().startswith(f"archive: {url}: error {kind}:")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    with sqlite3.connect(cli.db) as conn:
        rows = conn.execute("SELECT outcome, error_kind, error_message FROM fetches").fetchall()
        assert conn.execute("SELECT count(*) FROM versions").fetchone()[0] == 0
    assert [(r[0], r[1]) for r in rows] == [("error", kind)] and rows[0][2]


def test_server_that_never_answers_is_a_timeout(cli):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)  # the kernel completes the handshake; nobody ever reads or answers
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/p"
        started = time.monotonic()
        code, out, err = cli("add", url)
        elapsed = time.monotonic() - started
    assert code == 1 and out == ""
    assert err.strip().startswith(f"archive: {url}: error timeout:") and "Traceback" not in err
    assert elapsed < 15, "the total deadline (3 s) bounds the wait"
    with sqlite3.connect(cli.db) as conn:
        assert conn.execute("SELECT outcome, error_kind FROM fetches").fetchall() == [("error", "timeout")]


def test_connection_refused_is_a_connect_error(cli):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nobody listens
    code, _, err = cli("add", f"http://127.0.0.1:{port}/gone")
    assert code == 1 and "error connect:" in err and "Traceback" not in err


@pytest.mark.parametrize("bad", ["ftp://example.org/a", "file:///etc/passwd", "notaurl", "javascript:alert(1)"])
def test_non_http_url_refused_before_any_request(httpserver, cli, bad):
    code, out, err = cli("add", bad)
    assert code == 2 and out == ""
    assert err.startswith("archive: ") and len(err.strip().splitlines()) == 1
    assert len(httpserver.log) == 0
    assert not cli.db.exists()


def test_unknown_page_and_version_are_one_line_errors(httpserver, cli, article):
    url = serve(httpserver, "/news/fire", article["html"])
    cli("add", url)
    code, _, err = cli("show", url, "--version", "7")
    assert code == 1 and err.strip() == f"archive: {url}: no version 7 (latest is 1)"
    code, _, err = cli("history", "https://example.org/never-added")
    assert code == 1 and "not tracked" in err
    code, _, err = cli("diff", url)
    assert code == 1 and "only one version" in err


def test_remove_stops_all_checks_keeps_history_and_add_brings_it_back(httpserver, cli, article):
    url = serve(httpserver, "/news/fire", article["html"])
    cli("add", url)
    code, out, _ = cli("remove", url)
    assert code == 0 and out.strip() == f"{url}: no longer checked; its 1 version stays in the archive"
    before = len(httpserver.log)
    assert cli("run", "--all", "--no-discover")[0] == 0
    assert len(httpserver.log) == before  # not even `run --all` fetches a removed page
    assert json.loads(cli("history", url, "--json")[1])[0]["version"] == 1
    listed = json.loads(cli("list", "--json")[1])
    assert listed[0]["state"] == "removed"
    code, out, _ = cli("add", url)
    assert code == 0 and out.strip() == f"{url}: unchanged (version 1)"
    assert json.loads(cli("list", "--json")[1])[0]["state"] == "active"
