"""robots.txt in a run (RFC 9309): disallow obeyed, 404 allows, 5xx or unreachable
disallows, one robots.txt request per host per run, and 2xx/4xx answers kept between runs
for ``robots_max_age``."""

from __future__ import annotations

import json
import socket
import sqlite3
from datetime import datetime, timedelta

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
    # The 200 and the 404 are kept for robots_max_age and still obeyed; the 503 is not final,
    # so the next run asks again.
    assert [len(site.hits(h, "/robots.txt")) for h in range(3)] == [1, 1, 2]
    assert site.hits(0, "/private/a") == [] and len(site.hits(0, "/public/a")) == 2
    assert last_error(tmp_path, private) == "robots"


def age_kept_robots(tmp_path, seconds: float) -> None:
    """Move every kept robots.txt answer ``seconds`` into the past, in the archive file."""
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        rows = conn.execute("SELECT origin, fetched_at FROM robots").fetchall()
        for origin, fetched_at in rows:
            moment = datetime.fromisoformat(fetched_at.replace("Z", "+00:00"))
            older = (moment - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
            conn.execute("UPDATE robots SET fetched_at = ? WHERE origin = ?", (older, origin))


def test_a_kept_robots_txt_is_asked_for_again_once_older_than_max_age(site, tmp_path, capsys):
    rules = {"text": "User-agent: *\nDisallow: /hidden/\n"}
    site.route(0, "/robots.txt", lambda headers: Reply(200, rules["text"],
                                                       {"Content-Type": "text/plain"}))
    site.route(0, "/open/a", Reply(200, article_html("Open page")))
    site.route(0, "/hidden/a", Reply(200, article_html("Hidden page")))
    config = write_config(tmp_path, pages=[site.url(0, "/open/a"), site.url(0, "/hidden/a")],
                          fetch={"robots_max_age": 600.0})
    assert run_json(config, capsys)["errors_by_kind"] == {"robots": 1}
    rules["text"] = "User-agent: *\nDisallow: /open/\n"  # the site changes its rules

    age_kept_robots(tmp_path, 599)  # still within max age: the kept rules hold
    main(["--config", str(config), "run", "--all"])
    assert len(site.hits(0, "/robots.txt")) == 1
    assert len(site.hits(0, "/open/a")) == 2 and site.hits(0, "/hidden/a") == []

    age_kept_robots(tmp_path, 2)  # now past it: asked again, and the new rules apply
    main(["--config", str(config), "run", "--all"])
    assert len(site.hits(0, "/robots.txt")) == 2
    assert len(site.hits(0, "/open/a")) == 2 and len(site.hits(0, "/hidden/a")) == 1


def test_robots_max_age_zero_asks_every_run_and_keeps_nothing(site, tmp_path, capsys):
    site.route(0, "/robots.txt", Reply(200, "User-agent: *\nAllow: /\n",
                                       {"Content-Type": "text/plain"}))
    site.route(0, "/a", Reply(200, article_html("Every run asks")))
    config = write_config(tmp_path, pages=[site.url(0, "/a")], fetch={"robots_max_age": 0})
    for _ in range(2):
        assert main(["--config", str(config), "run", "--all"]) == 0
    assert len(site.hits(0, "/robots.txt")) == 2
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM robots").fetchone()[0] == 0


def test_robots_can_be_switched_off(site, tmp_path, capsys):
    site.route(0, "/robots.txt", Reply(200, "User-agent: *\nDisallow: /\n",
                                       {"Content-Type": "text/plain"}))
    site.route(0, "/a", Reply(200, article_html("Anything")))
    config = write_config(tmp_path, pages=[site.url(0, "/a")], fetch={"obey_robots": False})
    assert run_json(config, capsys)["new_versions"] == 1
    assert site.hits(0, "/robots.txt") == []
