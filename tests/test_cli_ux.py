"""What a new user meets: the README's commands through the real CLI against a loopback
server serving real corpus pages. Each test pins a problem found by using the tool."""

from __future__ import annotations

import gzip
import json
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from werkzeug import Response

from pipeline.cli import main
from tests.conftest import CORPUS

ARCHIVE = Path(sys.executable).with_name("archive")
GUARDIAN = "uk_TheGuardian_2024_02_24.html.gz"
EURONEWS = "uk_EuronewsEN_2024_04_30.html.gz"
GUARDIAN_TITLE = "Death toll in Valencia fire rises to 10 as remains of last missing person found"
HUMAN_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"


def corpus_page(name: str) -> str:
    return gzip.decompress((CORPUS / "fundus-dev" / "html" / name).read_bytes()).decode("utf-8")


def write_config(tmp_path: Path, *, private: bool = True) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f"[fetch]\nallow_private_networks = {'true' if private else 'false'}\n"
        "per_host_delay = 0\nobey_robots = false\nretries = 0\ntimeout = 5\n"
        "[extract]\nworkers = 1\n"
    )
    return config


@pytest.fixture
def cli(tmp_path, capsys):
    config = write_config(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--config", str(config), *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    run.config = config
    return run


def serve(httpserver, path: str, html: str) -> str:
    httpserver.clear_all_handlers()
    httpserver.expect_request(path).respond_with_data(html, content_type="text/html; charset=utf-8")
    return httpserver.url_for(path)


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("archive: ") and "Traceback" not in err, err
    return lines[0]


# -- add -----------------------------------------------------------------------------------


def test_add_prints_one_line_per_url_in_the_order_given(cli, httpserver):
    """Pages finish in any order; the first URL here is the slow one."""
    html = corpus_page(GUARDIAN)

    def slow(_request):
        time.sleep(1.0)
        return Response(html, content_type="text/html; charset=utf-8")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    httpserver.expect_request("/fast").respond_with_data(
        corpus_page(EURONEWS), content_type="text/html; charset=utf-8")
    slow_url, fast_url = httpserver.url_for("/slow"), httpserver.url_for("/fast")
    code, out, err = cli("add", slow_url, fast_url)
    assert code == 0, err
    assert out.splitlines() == [f"{slow_url}: new version 1", f"{fast_url}: new version 1"]
    code, out, _ = cli("add", "--json", fast_url, slow_url)
    assert code == 0 and [row["url"] for row in json.loads(out)] == [fast_url, slow_url]


def test_a_bad_url_is_one_line_naming_it_before_any_request(cli, httpserver):
    good = serve(httpserver, "/a", corpus_page(GUARDIAN))
    code, out, err = cli("add", good, "ftp://example.org/x")
    assert code == 2 and out == ""
    assert one_error_line(err) == "archive: ftp://example.org/x: not an http(s) URL"
    assert httpserver.log == []


def test_a_refused_private_address_says_which_setting_allows_it(tmp_path, httpserver, capsys):
    url = serve(httpserver, "/a", corpus_page(GUARDIAN))
    config = write_config(tmp_path, private=False)
    code = main(["--config", str(config), "add", url])
    line = one_error_line(capsys.readouterr().err)
    assert code == 1 and "blocked_address" in line and "allow_private_networks = true" in line


@pytest.mark.parametrize("args, needle", [
    (("show", "http://127.0.0.1:9/a", "--format", "pdf"),
     "show: invalid value for '--format': 'pdf' is not one of"),
    (("frobnicate",), "no such command 'frobnicate'"),
    (("add",), "add: missing argument 'URLS...'"),
    (("list", "--limit", "0"), "list: invalid value for '--limit'"),
    (("diff", "http://127.0.0.1:9/a", "--context", "-1"), "diff: invalid value for '--context'"),
])
def test_usage_errors_are_one_line_and_exit_2(cli, args, needle):
    code, out, err = cli(*args)
    line = one_error_line(err)
    assert code == 2 and out == "" and needle in line and "--help`)" in line, line


# -- show, history, list -------------------------------------------------------------------


def test_show_markdown_is_the_shape_people_paste(cli, httpserver):
    url = serve(httpserver, "/story", corpus_page(EURONEWS))
    assert cli("add", url)[0] == 0
    code, out, _ = cli("show", url)
    lines = out.splitlines()
    assert code == 0 and lines[0] == "# Swedish police to investigate reports of leaks to violent gangs"
    # Published and updated two seconds apart is one publication, not an update.
    assert lines[2] == "Published 2024-04-30 16:38 +02:00  "
    assert lines[3:5] == ["By Euronews  ", "Source: euronews  "]
    assert re.fullmatch(rf"Archived {HUMAN_TIME} \(version 1 of 1\)", lines[5])
    assert "[report](https://www.dn.se/polislackorna/)" in out  # the body keeps its links
    assert lines[-1] == f"Original url: <{url}>"
    code, text, _ = cli("show", url, "--format", "text")
    assert code == 0 and text.splitlines()[1] == "Published 2024-04-30 16:38 +02:00"
    assert text.splitlines()[-1] == f"Original url: {url}"


def test_history_reads_clearly_and_names_reverts(cli, httpserver):
    """v1 A, v2 a word, v3 the title, v4 whitespace and punctuation, v5 back to v3."""
    a = corpus_page(GUARDIAN)
    word = a.replace("told journalists", "told reporters")
    title = word.replace(GUARDIAN_TITLE, "Valencia fire: death toll rises to 10")
    minor = title.replace("told reporters", "told  reporters ,")
    outputs = [cli("add", serve(httpserver, "/v", html))[1].strip()
               for html in (a, word, title, minor, title)]
    url = httpserver.url_for("/v")
    assert outputs[1:] == [f"{url}: new version 2 (text)", f"{url}: new version 3 (title, headline)",
                           f"{url}: new version 4 (text) [minor]",
                           f"{url}: new version 5 (text) [minor, revert of v3]"]
    code, out, _ = cli("history", url)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 7, out  # a title line only where the title changed
    assert re.fullmatch(rf"v1   {HUMAN_TIME}  first capture, \d+ words", lines[0])
    assert lines[1] == f"     {GUARDIAN_TITLE}"
    assert re.fullmatch(rf"v2   {HUMAN_TIME}  text \+1/-1 words", lines[2])
    assert re.fullmatch(rf"v3   {HUMAN_TIME}  title, headline", lines[3])
    assert lines[4] == "     Valencia fire: death toll rises to 10"
    assert lines[5].endswith("  [minor]") and lines[6].endswith("  [minor, revert of v3]")
    hidden = cli("history", url, "--hide-minor")[1].splitlines()
    assert [line[:2] for line in hidden if line.startswith("v")] == ["v1", "v2", "v3"]
    entries = json.loads(cli("history", url, "--json")[1])
    assert entries[4]["flags"] == ["minor", "revert"] and entries[4]["revert_of"] == 3
    assert entries[0]["captured_at"].endswith("Z")  # machines keep ISO 8601


def test_a_page_never_captured_says_why(cli, httpserver):
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    url = httpserver.url_for("/gone")
    assert cli("add", url)[0] == 1
    for command in (("history", url), ("show", url), ("diff", url)):
        code, out, err = cli(*command)
        line = one_error_line(err)
        assert code == 1 and out == "" and "no version captured yet" in line
        assert "last error: not_found" in line, line
    code, out, _ = cli("list")
    assert code == 0 and out.splitlines() == [
        url, "  no version yet", out.splitlines()[2]]
    assert re.fullmatch(rf"  checked {HUMAN_TIME}, last error: not_found; next check .+",
                        out.splitlines()[2])


def test_list_explains_page_states_and_an_empty_archive(cli, httpserver):
    url = serve(httpserver, "/old", corpus_page(GUARDIAN))  # published 2024: past retire_after
    code, out, err = cli("feeds", "list")
    assert code == 0 and out == "" and "archive feeds add URL" in err
    assert not (cli.config.parent / "archive.db").exists()  # listing feeds made no archive
    assert cli("add", url)[0] == 0
    lines = cli("list")[1].splitlines()
    # Added by hand, an old article is still watched (retirement is for discovered pages).
    assert lines[0] == url and lines[1] == f"  v1  {GUARDIAN_TITLE}"
    assert "next check" in lines[2]
    assert cli("remove", url)[0] == 0
    assert cli("list")[1].splitlines()[0] == (
        f"{url}  [removed: no longer checked; `archive add` tracks it again]"
    )


def test_a_date_before_the_first_version_names_the_first(cli, httpserver):
    url = serve(httpserver, "/a", corpus_page(GUARDIAN))
    cli("add", url)
    code, _, err = cli("show", url, "--version", "2001-01-01")
    line = one_error_line(err)
    assert code == 1 and "no version captured by 2001-01-01T23:59:59Z" in line
    assert re.search(rf"\(the first is from {HUMAN_TIME}\)", line), line


# -- diff colour ---------------------------------------------------------------------------


def _two_versions(cli, httpserver) -> str:
    html = corpus_page(GUARDIAN)
    cli("add", serve(httpserver, "/d", html))
    cli("add", serve(httpserver, "/d", html.replace("told journalists", "told reporters")))
    return httpserver.url_for("/d")


def test_color_flag_survives_a_pipe(cli, httpserver):
    """`archive diff --color | less -R`: click would strip the codes and glue the words."""
    url = _two_versions(cli, httpserver)
    code, out, _ = cli("diff", url, "--color")
    assert code == 0 and "told \x1b[31;9mjournalists\x1b[0m\x1b[32mreporters\x1b[0m" in out
    code, out, _ = cli("diff", url)
    assert code == 0 and "told [-journalists-]{+reporters+}" in out and "\x1b[" not in out


def _diff_on_a_terminal(config: Path, url: str, env: dict) -> str:
    leader, follower = pty.openpty()
    try:
        subprocess.run([str(ARCHIVE), "--config", str(config), "diff", url], stdout=follower,
                       stderr=subprocess.DEVNULL, env=env, timeout=60, check=True)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8")
    finally:
        os.close(leader)


def test_a_terminal_gets_colour_unless_no_color_is_set(cli, httpserver):
    url = _two_versions(cli, httpserver)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    coloured = _diff_on_a_terminal(cli.config, url, {**env, "TERM": "xterm"})
    assert "\x1b[31;9mjournalists" in coloured
    plain = _diff_on_a_terminal(cli.config, url, {**env, "TERM": "xterm", "NO_COLOR": "1"})
    assert "told [-journalists-]{+reporters+}" in plain and "\x1b[" not in plain


# -- run, reextract ------------------------------------------------------------------------


def test_run_verbose_says_when_nothing_was_due(cli, httpserver):
    cli("add", serve(httpserver, "/old", corpus_page(GUARDIAN)))
    code, out, err = cli("run", "--verbose")
    assert code == 0 and out == ""
    assert re.fullmatch(r"archive: checked 0 pages: nothing was due \(`archive run --all` "
                        r"checks every page now\); \d+\.\d s\n", err), err
    code, _, err = cli("run", "--all", "--verbose")
    assert code == 0 and err.startswith("archive: checked 1 page: 1 unchanged; "), err


def test_reextract_says_why_nothing_was_done(cli, httpserver):
    url = serve(httpserver, "/r", corpus_page(GUARDIAN))
    cli("add", url)
    code, out, _ = cli("reextract", url)
    assert code == 0 and out.startswith(f"{url}: 0 versions re-extracted (all 1 were made by")
    assert "--force redoes them" in out
    code, out, _ = cli("reextract", "--all")
    assert code == 0 and out.startswith("1 pages already up to date")
    code, out, _ = cli("reextract", url, "--force")
    assert code == 0 and out.strip() == f"{url}: 1 version re-extracted"
    assert one_error_line(cli("reextract")[2]) == "archive: reextract: give URLs or --all"
    code, _, err = cli("reextract", url, "--all")
    assert code == 2 and one_error_line(err) == "archive: reextract: give URLs or --all, not both"
