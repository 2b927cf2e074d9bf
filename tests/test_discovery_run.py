"""Discovery through the real CLI: RSS, Atom, a sitemap index, a Google News sitemap and a
home page's feed link served on loopback; aliases of one article collapse to one page."""

from __future__ import annotations

import json

from pipeline.cli import main
from tests.runsite import Reply, article_html, site, write_config  # noqa: F401

XML = {"Content-Type": "application/xml"}


def cli_json(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


def build_site(site):
    art = lambda path: site.url(0, path)  # noqa: E731 - articles on host 0
    feed = lambda path: site.url(1, path)  # noqa: E731 - feeds on host 1
    one = art("/2025/story-one")
    html_one = article_html("Story one", canonical=one)
    site.route(0, "/2025/story-one", Reply(200, html_one))
    site.route(0, "/2025/story-one/amp", Reply(200, html_one))  # AMP twin, canonical -> one
    site.route(0, "/s/1", Reply(301, "", {"Location": "/2025/story-one"}))  # a short alias
    for name in ("two", "three", "four", "five", "six", "seven"):
        site.route(0, f"/2025/story-{name}", Reply(200, article_html(f"Story {name}")))
    site.route(1, "/rss.xml", Reply(200, f"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Gazette</title><link>{feed('/')}</link>
<item><title>Story one</title><link>{one}?utm_source=rss&amp;utm_medium=feed</link></item>
<item><title>Story two</title><link>{art('/2025/story-two')}</link></item>
</channel></rss>""", {"Content-Type": "application/rss+xml"}))
    site.route(1, "/atom.xml", Reply(200, f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Gazette</title><id>urn:x</id>
<updated>2025-01-20T10:00:00Z</updated>
<entry><title>Story one</title><id>urn:1</id><updated>2025-01-20T10:00:00Z</updated>
<link href="{art('/s/1')}"/></entry>
<entry><title>Story six</title><id>urn:6</id><updated>2025-01-20T10:00:00Z</updated>
<link rel="alternate" href="{art('/2025/story-six')}"/></entry></feed>""",
                                      {"Content-Type": "application/atom+xml"}))
    site.route(1, "/sitemap-index.xml", Reply(200, f"""<?xml version="1.0"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{feed('/sitemap-a.xml')}</loc></sitemap>
<sitemap><loc>{feed('/sitemap-b.xml')}</loc></sitemap></sitemapindex>""", XML))
    site.route(1, "/sitemap-a.xml", Reply(200, f"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{art('/2025/story-three')}</loc></url>
<url><loc>{one}/amp</loc></url></urlset>""", XML))
    site.route(1, "/sitemap-b.xml", Reply(200, f"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{art('/2025/story-four')}</loc></url></urlset>""", XML))
    site.route(1, "/news-sitemap.xml", Reply(200, f"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>{art('/2025/story-five')}</loc><news:news>
<news:publication><news:name>Gazette</news:name><news:language>en</news:language></news:publication>
<news:publication_date>2025-01-20T10:00:00Z</news:publication_date>
<news:title>Story five</news:title></news:news></url></urlset>""", XML))
    site.route(2, "/", Reply(200, f"""<!doctype html><html><head><title>Home</title>
<link rel="alternate" type="application/rss+xml" href="{site.url(2, '/feed')}"></head>
<body>Front page</body></html>"""))
    site.route(2, "/feed", Reply(200, f"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Other</title>
<item><link>{art('/2025/story-seven')}</link></item></channel></rss>""",
                                 {"Content-Type": "application/rss+xml"}))
    return [feed("/rss.xml"), feed("/atom.xml"), feed("/sitemap-index.xml"),
            feed("/news-sitemap.xml"), site.url(2, "/")]


def test_discovery_finds_exactly_the_articles_and_collapses_aliases(site, tmp_path, capsys):
    feeds = build_site(site)
    config = write_config(tmp_path)
    for url in feeds:
        assert main(["--config", str(config), "feeds", "add", url]) == 0
    capsys.readouterr()

    code, summary, err = cli_json(capsys, "--config", str(config), "run", "--json")
    assert code == 0, err
    assert summary["errors_by_kind"] == {}

    code, pages, _ = cli_json(capsys, "--config", str(config), "list", "--json")
    expected = {site.url(0, f"/2025/story-{n}")
                for n in ("one", "two", "three", "four", "five", "six", "seven")}
    assert {p["url"] for p in pages} == expected
    assert all(p["versions"] == 1 for p in pages)

    one = site.url(0, "/2025/story-one")
    for alias in (one + "?utm_source=rss&utm_medium=feed", site.url(0, "/s/1"), one + "/amp"):
        code, history, err = cli_json(capsys, "--config", str(config), "history", alias, "--json")
        assert code == 0, err
        assert [h["version"] for h in history] == [1]  # every alias reads the one history

    # A second run finds nothing new and fetches nothing it does not need.
    code, summary, _ = cli_json(capsys, "--config", str(config), "run", "--json")
    assert (summary["new_pages"], summary["checked"]) == (0, 0)
    code, pages, _ = cli_json(capsys, "--config", str(config), "list", "--json")
    assert len(pages) == len(expected)


def test_feeds_obey_robots_and_a_failing_feed_is_reported_once(site, tmp_path, capsys):
    site.route(1, "/robots.txt", Reply(200, "User-agent: *\nDisallow: /private/\n",
                                       {"Content-Type": "text/plain"}))
    site.route(1, "/private/rss.xml", Reply(200, "<rss/>", XML))
    site.route(1, "/broken.xml", Reply(500, "oops"))
    config = write_config(tmp_path, feeds=[site.url(1, "/private/rss.xml"),
                                           site.url(1, "/broken.xml")])
    errors = []
    for _ in range(3):
        code, summary, err = cli_json(capsys, "--config", str(config), "run", "--json")
        errors.append(err.splitlines())
    assert site.hits(1, "/private/rss.xml") == []
    first = errors[0]
    assert len(first) == 2 and any("robots" in line for line in first)
    assert any("broken.xml" in line for line in first)
    assert errors[1:] == [[], []]  # still failing, but already reported
