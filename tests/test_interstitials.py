"""Pages that answer 200 but are not the article (access-denied stubs, bot checks, consent
walls, paywalls, soft 404s) never become a version and never move the baseline."""

from __future__ import annotations

import gzip
import sqlite3

import pytest

from pipeline.cli import main
from tests.conftest import CORPUS

PAGE = "uk_TheGuardian_2024_02_24.html.gz"
ARTICLE = gzip.decompress((CORPUS / "fundus-dev" / "html" / PAGE).read_bytes()).decode()

STUBS = {
    "access_denied_30_bytes": (200, "<html>Access denied</html>\n", {"empty", "extract_failed", "interstitial"}),
    "bot_check": (200, """<html><head><title>Just a moment...</title></head><body>
        <h1>Checking your browser before accessing the site.</h1>
        <p>This process is automatic. Your browser will redirect to your requested content
        shortly. Please allow up to 5 seconds. DDoS protection by the network provider.</p>
        </body></html>""", {"interstitial"}),
    "consent_wall": (200, """<html><head><title>Before you continue</title></head><body>
        <div class="consent"><h2>We value your privacy</h2>
        <p>We and our 842 partners store and access information on your device, such as
        cookies, and process personal data for personalised ads and content, ad and content
        measurement, audience research and services development.</p>
        <p>You can accept all, reject all, or manage consent for each purpose.</p>
        <button>Accept all</button><button>Reject all</button></div></body></html>""",
        {"interstitial", "empty"}),
    "paywall": (200, """<html><head><title>Death toll in Valencia fire rises to 10</title></head>
        <body><article><h1>Death toll in Valencia fire rises to 10</h1>
        <p>The death toll from a fire that left two residential buildings charred ruins in
        Valencia rose to 10 on Saturday.</p>
        <div class="paywall"><p>Subscribe to continue reading. This content is available to
        subscribers only. Already a subscriber? Log in.</p></div></article></body></html>""",
        {"interstitial", "shrunk", "empty"}),
}


@pytest.fixture
def cli(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text("[fetch]\nallow_private_networks = true\nper_host_delay = 0\n"
                      "obey_robots = false\nretries = 0\n[extract]\nworkers = 1\n")

    def run(*args):
        code = main(["--config", str(config), *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    run.db = tmp_path / "archive.db"
    return run


def _serve(httpserver, status, body, headers=None):
    httpserver.clear_all_handlers()
    httpserver.expect_request("/world/fire").respond_with_data(
        body, status=status, content_type="text/html; charset=utf-8", headers=headers
    )
    httpserver.expect_request("/").respond_with_data(
        "<html><head><title>The Daily Example - news, sport and opinion</title></head><body>"
        + "".join(f'<p><a href="/story/{i}">Headline number {i} about the day</a></p>'
                  for i in range(40)) + "</body></html>",
        content_type="text/html",
    )


def _versions(db) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM versions").fetchone()[0]


@pytest.mark.parametrize("name", sorted(STUBS))
def test_stub_pages_are_errors_and_the_baseline_stays(httpserver, cli, name):
    status, body, kinds = STUBS[name]
    _serve(httpserver, 200, ARTICLE)
    url = httpserver.url_for("/world/fire")
    code, out, err = cli("add", url)
    assert (code, out.strip()) == (0, f"{url}: new version 1"), err  # stderr names the cause of a flake

    _serve(httpserver, status, body)
    code, out, err = cli("add", url)
    kind = err.split(" error ", 1)[1].split(":", 1)[0] if " error " in err else None
    assert code == 1 and out == "" and kind in kinds, err
    assert _versions(cli.db) == 1

    # The real article again: compared with the last good capture, not with the stub.
    _serve(httpserver, 200, ARTICLE)
    assert cli("add", url)[1].strip() == f"{url}: unchanged (version 1)"
    with sqlite3.connect(cli.db) as conn:
        outcomes = [r[0] for r in conn.execute("SELECT outcome FROM fetches ORDER BY id")]
    assert outcomes == ["new_version", "error", "same_body"]


def test_soft_404_redirect_to_the_home_page_is_an_error(httpserver, cli):
    _serve(httpserver, 200, ARTICLE)
    url = httpserver.url_for("/world/fire")
    cli("add", url)
    httpserver.clear_all_handlers()
    httpserver.expect_request("/world/fire").respond_with_data(
        "", status=301, headers={"Location": "/"}
    )
    _serve_home_only(httpserver)
    code, _, err = cli("add", url)
    assert code == 1 and "error soft_404:" in err and _versions(cli.db) == 1


def _serve_home_only(httpserver):
    httpserver.expect_request("/").respond_with_data(
        "<html><head><title>The Daily Example - news, sport and opinion</title></head><body>"
        + "".join(f"<p>Headline number {i} about the day and the night in the city.</p>"
                  for i in range(40)) + "</body></html>",
        content_type="text/html",
    )
