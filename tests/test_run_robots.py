"""robots.txt in a run (RFC 9309): disallow obeyed, 404 allows, 5xx or unreachable
disallows, one robots.txt request per host per run."""

from __future__ import annotations

import json
import socket

from archive.store import Archive
from pipeline.cli import main
from tests.runsite import Reply, article_html, site, write_config  # noqa: F401


def run_json(config, capsys) -> dict:
    code = main(["--config", str(config), "run", "--json"])
    out = json.loads(capsys.readouterr().out)
    return {"code": code, **out}


def last_error(tmp_path, url) -> str | None:
    with Archive(tmp_path / "archive.db") as archive:
        return archive.page(url).last_error_kind


def test_robots_rules_per_host(site, tmp_path, capsys):
    site.route(0, "/robots.txt", Reply(200, "User-agent: *\nDisallow: /private/\n",
                                       {"Content-Type": "text/plain"}))
    site.route(0, "/private/a", Reply(200, article_html("Secret")))
    site.route(0, "/public/a", Reply(200, article_html("Open")))
    site.route(1, "/a", Reply(200, article_html("No robots file")))  # robots.txt: 404
    site.route(2, "/robots.txt", Reply(503, "down"))
    site.route(2, "/a", Reply(200, article_html("Robots broken")))
    with socket.socket() as probe:  # a port nobody listens on: unreachable robots.txt
        probe.bind(("127.0.0.5", 0))
        dead = f"http://127.0.0.5:{probe.getsockname()[1]}/a"
    private, public = site.url(0, "/private/a"), site.url(0, "/public/a")
    no_robots, broken = site.url(1, "/a"), site.url(2, "/a")
    config = write_config(tmp_path, pages=[private, public, no_robots, broken, dead])

    summary = run_json(config, capsys)
    assert summary["new_versions"] == 2
    # An unreachable robots.txt blocks the host too, reported as what it is: a connect error.
    assert summary["errors_by_kind"] == {"connect": 1, "robots": 2}
    assert site.hits(0, "/private/a") == []  # never requested
    assert site.hits(2, "/a") == []
    assert {url: last_error(tmp_path, url) for url in (private, public, no_robots, broken, dead)} \
        == {private: "robots", public: None, no_robots: None, broken: "robots", dead: "connect"}
    with Archive(tmp_path / "archive.db") as archive:
        (row,) = archive.fetches(dead)
    assert row["error_message"].startswith("robots.txt could not be read (")

    # Cached per host per run: host 0 served two pages from one robots.txt request.
    assert [len(site.hits(h, "/robots.txt")) for h in range(3)] == [1, 1, 1]
    assert run_json(config, capsys)["checked"] == 0  # nothing due: robots.txt not needed
    assert [len(site.hits(h, "/robots.txt")) for h in range(3)] == [1, 1, 1]
    assert main(["--config", str(config), "run", "--all"]) == 0
    assert [len(site.hits(h, "/robots.txt")) for h in range(3)] == [2, 2, 2]  # a new run asks again


def test_robots_can_be_switched_off(site, tmp_path, capsys):
    site.route(0, "/robots.txt", Reply(200, "User-agent: *\nDisallow: /\n",
                                       {"Content-Type": "text/plain"}))
    site.route(0, "/a", Reply(200, article_html("Anything")))
    config = write_config(tmp_path, pages=[site.url(0, "/a")], fetch={"obey_robots": False})
    assert run_json(config, capsys)["new_versions"] == 1
    assert site.hits(0, "/robots.txt") == []
