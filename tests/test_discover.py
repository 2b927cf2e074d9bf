"""Discovery from feeds, sitemaps and home pages finds exactly the expected article URLs."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.discover import MAX_DECOMPRESSED, DiscoveredLink, parse_discovery

DATA = Path(__file__).parent / "data" / "discover"


def discover(name: str, url: str, content_type: str | None = None):
    return parse_discovery((DATA / name).read_bytes(), url=url, content_type=content_type)


def urls(discovery) -> list[str]:
    return [link.url for link in discovery.links]


def test_rss2_feed():
    found = discover("rss2.xml", "https://www.example-gazette.test/feed", "application/rss+xml")
    assert found.kind == "rss"
    assert urls(found) == [
        "https://www.example-gazette.test/2024/05/harbour-bridge-reopens",  # utm_* dropped
        "https://www.example-gazette.test/2024/05/council-budget",  # feedburner:origLink
        "https://www.example-gazette.test/2024/05/guid-permalink",  # guid is the permalink
        "https://www.example-gazette.test/2024/05/relative-story",  # resolved against feed URL
    ]
    first = found.links[0]
    assert first.title == "Harbour bridge reopens"
    assert first.published == "2024-05-14T06:30:00Z"  # +0200 converted to UTC
    assert first.lastmod is None  # pubDate is not an update time
    assert found.sitemaps == () and found.feeds == ()


def test_rss1_rdf_feed():
    found = discover("rss1.rdf", "https://rdf-news.test/index.rdf")
    assert found.kind == "rss"
    assert found.links == (
        DiscoveredLink(
            url="https://rdf-news.test/articles/1",
            published="2024-03-01T10:00:00Z",
            title="First RDF story",
            lastmod="2024-03-01T10:00:00Z",
        ),
        DiscoveredLink(
            url="https://rdf-news.test/articles/2",
            published="2024-03-02T10:15:00Z",
            title="Second RDF story",
            lastmod="2024-03-02T10:15:00Z",
        ),
    )


def test_atom_feed():
    found = discover("atom.xml", "https://atom-times.test/feed.atom", "application/atom+xml")
    assert found.kind == "atom"
    assert urls(found) == [
        "https://atom-times.test/news/election-night",  # the tracking alias collapsed into it
        "https://atom-times.test/news/storm-warning",  # relative to xml:base, not the feed URL
    ]
    assert found.links[0].published == "2024-06-01T07:00:00Z"
    assert found.links[0].lastmod == "2024-06-01T11:00:00Z"


def test_rss091_with_netscape_doctype_still_parses():
    body = (
        b'<?xml version="1.0"?>\n'
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"\n'
        b' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"><channel><title>Old</title><link>http://old.test/</link>'
        b"<item><title>One</title><link>http://old.test/one</link></item>"
        b"</channel></rss>"
    )
    found = parse_discovery(body, url="http://old.test/rss")
    assert found.kind == "rss"
    assert urls(found) == ["http://old.test/one"]


def test_sitemap_index_lists_child_sitemaps():
    found = discover("sitemap-index.xml", "https://mapped.test/sitemap.xml")
    assert found.kind == "sitemapindex"
    assert found.links == ()
    assert found.sitemaps == (
        "https://mapped.test/sitemaps/articles-1.xml",
        "https://mapped.test/sitemaps/articles-2.xml.gz",
    )


def test_sitemap_index_walk_finds_every_article():
    index = discover("sitemap-index.xml", "https://mapped.test/sitemap.xml")
    found = []
    for child in index.sitemaps:
        name = child.rsplit("/", 1)[1]
        result = discover(name, child)
        assert result.kind == "sitemap"
        found += urls(result)
    assert found == [
        "https://mapped.test/world/2024/06/01/summit-ends",
        "https://mapped.test/world/2024/06/01/markets-rally",
        "https://mapped.test/sport/2024/06/02/final-score",
    ]


def test_sitemap_lastmod_and_no_image_locs():
    found = discover("articles-1.xml", "https://mapped.test/sitemaps/articles-1.xml")
    assert [link.lastmod for link in found.links] == ["2024-06-01T18:00:00+00:00", "2024-06-01"]
    assert "https://cdn.mapped.test/img/summit.jpg" not in urls(found)


def test_gzipped_sitemap_equals_plain():
    plain = discover("articles-2.xml", "https://mapped.test/a.xml")
    zipped = discover("articles-2.xml.gz", "https://mapped.test/a.xml.gz")
    assert zipped == plain
    assert urls(plain) == ["https://mapped.test/sport/2024/06/02/final-score"]


def test_google_news_sitemap():
    found = discover("news-sitemap.xml", "https://daily.test/news-sitemap.xml")
    assert found.kind == "newssitemap"
    assert found.links == (
        DiscoveredLink(
            url="https://daily.test/politics/minister-resigns",
            published="2024-06-03T07:45:00+01:00",
            title="Minister resigns",
        ),
        DiscoveredLink(
            url="https://daily.test/economy/rates-held",
            published="2024-06-03",
            title="Rates held & steady",
        ),
    )


def test_html_home_page_feeds():
    found = discover("home.html", "https://herald.test/", "text/html; charset=utf-8")
    assert found.kind == "html"
    assert found.links == ()
    assert found.feeds == (
        "https://herald.test/rss/top.xml",
        "https://herald.test/world/feed.atom",
        "https://herald.test/sections/sport.rss",  # via <base href>, REL/TYPE in capitals
    )


def test_plain_text_sitemap():
    body = b"https://t.test/a\n\nhttps://t.test/b?utm_source=x\nhttps://t.test/a#x\n"
    found = parse_discovery(body, url="https://t.test/sitemap.txt", content_type="text/plain")
    assert found.kind == "sitemap"
    assert urls(found) == ["https://t.test/a", "https://t.test/b"]


def test_aliases_across_sources_share_one_identity():
    atom = discover("atom.xml", "https://atom-times.test/feed.atom")
    body = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>HTTPS://ATOM-TIMES.TEST:443/news/election-night?utm_source=sm#top</loc></url>"
        b"</urlset>"
    )
    sitemap = parse_discovery(body, url="https://atom-times.test/sitemap.xml")
    assert urls(sitemap)[0] == urls(atom)[0]


# --- hostile input -------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


@pytest.mark.parametrize(
    "root",
    [
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://x.test/&lol9;</loc></url></urlset>',
        b'<rss version="2.0"><channel><item><title>&lol9;</title><link>https://x.test/a</link></item></channel></rss>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&lol9;</title><link href="https://x.test/a"/></entry></feed>',
    ],
)
def test_billion_laughs_is_refused(root):
    assert parse_discovery(BILLION_LAUGHS + root, url="https://x.test/s.xml").kind == "unknown"


def test_feed_declaring_short_literal_entities_parses():
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY nbsp "&#160;">\n<!ENTITY mdash \'--\'>\n]>\n'
        b'<rss version="2.0"><channel><title>T</title>'
        b"<item><title>A&nbsp;B&mdash;C</title><link>https://x.test/a</link></item></channel></rss>"
    )
    found = parse_discovery(body, url="https://x.test/rss")
    assert urls(found) == ["https://x.test/a"]


@pytest.mark.parametrize(
    "decl",
    [
        b'<!ENTITY big "' + b"x" * 17 + b'">',  # long literal: quadratic blow-up material
        b'<!ENTITY ref "&other;">',
        b'<!ENTITY % param "x">',
        b'<!ENTITY ext SYSTEM "file:///etc/passwd">',
    ],
)
def test_feed_declaring_other_entities_is_refused(decl):
    body = (
        b"<!DOCTYPE rss [" + decl + b"]>"
        b'<rss version="2.0"><channel><item><link>https://x.test/a</link></item></channel></rss>'
    )
    assert parse_discovery(body, url="https://x.test/rss").kind == "unknown"


def test_external_entity_is_refused():
    body = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://x.test/&xxe;</loc></url></urlset>"
    )
    assert parse_discovery(body, url="https://x.test/s.xml").kind == "unknown"


def test_sitemap_with_any_doctype_is_refused():
    body = (
        b'<!DOCTYPE urlset SYSTEM "http://x.test/sitemap.dtd">'
        b"<urlset><url><loc>https://x.test/a</loc></url></urlset>"
    )
    assert parse_discovery(body, url="https://x.test/s.xml").kind == "unknown"


def test_gzip_bomb_is_refused():
    bomb = gzip.compress(
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + b" " * (MAX_DECOMPRESSED + 10)
        + b"</urlset>"
    )
    assert len(bomb) < MAX_DECOMPRESSED // 100
    assert parse_discovery(bomb, url="https://x.test/s.xml.gz").kind == "unknown"


def test_truncated_gzip_and_truncated_xml_are_unknown():
    raw = (DATA / "articles-1.xml").read_bytes()
    zipped = gzip.compress(raw)
    assert parse_discovery(zipped[: len(zipped) // 2], url="https://x.test/s.xml.gz").kind == "unknown"
    assert parse_discovery(raw[: len(raw) // 2], url="https://x.test/s.xml").kind == "unknown"


def test_huge_garbage_is_unknown():
    assert parse_discovery(b"\x00" * (MAX_DECOMPRESSED + 1), url="https://x.test/").kind == "unknown"
    assert parse_discovery(b"<" * 3_000_000, url="https://x.test/").kind == "unknown"


@pytest.mark.parametrize(
    "body",
    [b"", b"not xml at all", b"\x89PNG\r\n\x1a\n\x00\x00", b"<rss", b"<?xml version='1.0'?>", b"/etc/passwd"],
)
def test_garbage_is_unknown(body):
    found = parse_discovery(body, url="https://x.test/feed")
    assert found.kind == "unknown"
    assert found.links == () and found.sitemaps == () and found.feeds == ()


def test_body_is_never_taken_for_a_file_name(tmp_path, monkeypatch):
    # feedparser.parse() opens a bytes/str argument as a file name when such a file exists.
    name = '<rss version="2.0">'
    (tmp_path / name).write_bytes(
        b'<rss version="2.0"><channel><item><link>https://leak.test/x</link></item></channel></rss>'
    )
    monkeypatch.chdir(tmp_path)
    found = parse_discovery(name.encode(), url="https://x.test/feed")
    assert "https://leak.test/x" not in urls(found)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048), st.sampled_from([None, "text/html", "application/rss+xml", "text/plain"]))
def test_never_raises_on_random_bytes(body, content_type):
    found = parse_discovery(body, url="https://x.test/feed.xml", content_type=content_type)
    assert found.kind in {"rss", "atom", "sitemap", "sitemapindex", "newssitemap", "html", "unknown"}
    assert all(link.url.startswith(("http://", "https://")) for link in found.links)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_never_raises_on_mutated_feeds(noise):
    for name in ("rss2.xml", "atom.xml", "news-sitemap.xml"):
        raw = (DATA / name).read_bytes()
        cut = len(noise) % len(raw)
        parse_discovery(raw[:cut] + noise + raw[cut:], url="https://x.test/f")
