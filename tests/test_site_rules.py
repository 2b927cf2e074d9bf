"""Per-site rules from config.toml: CSS selectors dropped before extraction and body lines
ignored, for churn that generic extraction cannot tell from the article."""

from __future__ import annotations

import pytest

from pipeline.cli import main

PARAGRAPHS = "".join(
    f"<p>Paragraph {i} of the report explains what the council decided about the river "
    f"crossing and why residents in the northern districts objected to the plan.</p>"
    for i in range(8)
)


def page(ticker: str, note: str) -> str:
    # The ticker and the note sit inside the article body, where extraction keeps them.
    return (
        "<html><head><title>Council approves bridge</title></head><body><article>"
        "<h1>Council approves bridge</h1>"
        f"<p>{PARAGRAPHS[3:-4]}</p>"
        f'<div class="live-ticker"><p>Live: {ticker} readers are following this story now</p></div>'
        f"{PARAGRAPHS}"
        f"<p>Last refreshed at {note} by the newsroom system.</p>"
        "</article></body></html>"
    )


def _config(tmp_path, rules: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(
        "[fetch]\nallow_private_networks = true\nper_host_delay = 0\nobey_robots = false\n"
        "[extract]\nworkers = 1\n" + rules
    )
    return str(path)


def _check(httpserver, config, html, capsys) -> str:
    httpserver.clear_all_handlers()
    httpserver.expect_request("/story").respond_with_data(html, content_type="text/html")
    assert main(["--config", config, "add", httpserver.url_for("/story")]) == 0
    return capsys.readouterr().out.strip().rsplit(": ", 1)[1]


@pytest.mark.parametrize("with_rules", [False, True], ids=["no-rules", "site-rules"])
def test_site_rules_silence_in_article_churn(tmp_path, httpserver, capsys, with_rules):
    rules = (
        '[[sites]]\nhost = "127.0.0.1"\ndrop = [".live-ticker"]\n'
        'ignore_lines = ["^Last refreshed at "]\n'
        if with_rules
        else ""
    )
    config = _config(tmp_path, rules)
    assert _check(httpserver, config, page("1,204", "09:14"), capsys) == "new version 1"
    second = _check(httpserver, config, page("3,877", "09:29"), capsys)
    if with_rules:
        assert second == "unchanged (version 1)"
        shown = main(["--config", config, "show", httpserver.url_for("/story"), "--format", "text"])
        text = capsys.readouterr().out
        assert shown == 0 and "readers are following" not in text and "Last refreshed" not in text
    else:
        assert second.startswith("new version 2")
