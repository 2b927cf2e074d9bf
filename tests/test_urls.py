"""URL identity: aliases collapse to one key, distinct pages stay distinct, bad input is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import UsageError
from pipeline.urls import (
    amp_variants,
    canonical_url,
    choose_identity,
    is_http_url,
    same_site,
    site_key,
)

ARTICLE = "https://www.example.com/world/2024/story"


@pytest.mark.parametrize(
    "alias",
    [
        ARTICLE,
        "HTTPS://WWW.EXAMPLE.COM/world/2024/story",
        "https://www.example.com:443/world/2024/story",
        "https://www.example.com/world/2024/story#comments",
        "https://www.example.com/world/2024/story?utm_source=rss&utm_medium=feed",
        "https://www.example.com/world/2024/story?fbclid=IwAR0abc&gclid=xyz",
        "https://www.example.com/world/2024/story?UTM_Campaign=x&mc_cid=1&mc_eid=2&_ga=3",
        "https://www.example.com/world/./2024/../2024/story",
        "https://www.example.com/%77orld/2024/story",
        "  https://www.example.com/world/2024/story\n",
        "https://www.example.com./world/2024/story",
        "https://www.example.com/world/2024/story?",
    ],
)
def test_aliases_collapse_to_one_key(alias):
    assert canonical_url(alias) == ARTICLE


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://Example.com", "http://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("http://bücher.de/straße", "http://xn--bcher-kva.de/stra%C3%9Fe"),
        ("http://x.com/a b", "http://x.com/a%20b"),
        ("http://x.com/%c3%a9", "http://x.com/%C3%A9"),
        ("http://x.com/100%", "http://x.com/100%25"),
        ("http://[2001:DB8::0001]:443/", "http://[2001:db8::1]:443/"),
        # other parameters stay, in their order and spelling, around dropped ones
        ("http://x.com/s?b=2&utm_source=x&a=1&a=0", "http://x.com/s?b=2&a=1&a=0"),
        ("http://x.com/s?q=a%2Fb&page=2", "http://x.com/s?q=a%2Fb&page=2"),
        ("http://x.com/s?ref=home&id=7&igshid=1&msclkid=2", "http://x.com/s?ref=home&id=7"),
        ("http://x.com/s?utm_source=a&fbclid=b", "http://x.com/s"),
    ],
)
def test_canonical_form(given, expected):
    assert canonical_url(given) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://x.com/a", "https://x.com/a/"),  # trailing slash may be another page
        ("https://x.com/a?id=1", "https://x.com/a?id=2"),
        ("https://x.com/a?b=1&c=2", "https://x.com/a?c=2&b=1"),
        ("http://x.com/a", "https://x.com/a"),
        ("https://x.com/A", "https://x.com/a"),  # paths are case-sensitive
        ("https://x.com/a%2Fb", "https://x.com/a/b"),  # an escaped slash is not a slash
    ],
)
def test_distinct_pages_stay_distinct(a, b):
    assert canonical_url(a) != canonical_url(b)


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("ftp://example.com/file", "not an http(s) URL"),
        ("javascript:alert(1)", "not an http(s) URL"),
        ("feed://example.com/rss", "not an http(s) URL"),
        ("/relative/path", "not an absolute URL"),
        ("", "empty"),
        ("http://", "no host"),
        ("http://exa mple.com/", "bad host"),
        ("http://x..com/", "bad host"),
        ("http://x.com:99999/", "out of range"),
        ("http://x.com:8o/", "bad port"),
        ("http://[::1/", "IPv6"),
        ("http://x.com/\x00", "control characters"),
        ("http://x.com/" + "a" * 9000, "longer than"),
    ],
)
def test_bad_urls_raise_usage_error_naming_url_and_problem(bad, problem):
    with pytest.raises(UsageError) as info:
        canonical_url(bad)
    assert info.value.kind == "bad_url"
    assert problem in info.value.message
    assert repr(bad[:200])[:-1] in info.value.message
    assert not is_http_url(bad)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_canonical_url_is_idempotent_or_refuses(text):
    try:
        once = canonical_url(text)
    except UsageError:
        return
    assert canonical_url(once) == once
    assert is_http_url(once)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet="abc%2F/é ?=&#.", max_size=12), min_size=1, max_size=4),
)
def test_idempotent_on_urlish_paths(pieces):
    url = "http://example.com/" + "/".join(pieces)
    once = canonical_url(url)
    assert canonical_url(once) == once


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("https://www.x.com/a", "https://x.com/b", True),
        ("https://amp.x.com/a", "https://www.x.com/a", True),
        ("https://news.bbc.co.uk/a", "https://www.bbc.co.uk/b", True),
        ("https://www.abc.net.au/a", "https://abc.net.au/", True),
        ("https://a.co.uk/", "https://b.co.uk/", False),  # co.uk is not a site
        ("https://x.com/", "https://y.com/", False),
        ("https://x.com/", "https://x.com.evil.net/", False),
        ("https://alice.blogspot.com/", "https://bob.blogspot.com/", False),
        ("https://alice.substack.com/p/1", "https://alice.substack.com/p/2", True),
        ("http://127.0.0.2:8000/", "http://127.0.0.2:9000/", True),
        ("http://127.0.0.2/", "http://127.0.0.3/", False),
        ("https://x.com/", "ftp://x.com/", False),
    ],
)
def test_same_site(a, b, expected):
    assert same_site(a, b) is expected
    assert same_site(b, a) is expected


def test_site_key_examples():
    assert site_key("https://a.b.news.example.co.uk/x") == "example.co.uk"
    assert site_key("https://co.uk/") == "co.uk"
    assert site_key("mailto:x@y") is None


@pytest.mark.parametrize(
    ("amp", "expected"),
    [
        ("https://www.x.com/story/amp/", ("https://www.x.com/story/",)),
        ("https://www.x.com/story/amp", ("https://www.x.com/story",)),
        ("https://www.x.com/amp/story", ("https://www.x.com/story",)),
        ("https://www.x.com/story?amp=1&id=4", ("https://www.x.com/story?id=4",)),
        ("https://www.x.com/story?amp", ("https://www.x.com/story",)),
        ("https://www.x.com/story?outputType=amp", ("https://www.x.com/story",)),
        ("https://www.x.com/story.amp.html", ("https://www.x.com/story.html",)),
        ("https://www.x.com/story.amp", ("https://www.x.com/story",)),
        (
            "https://amp.theguardian.com/world/2024/x",
            ("https://theguardian.com/world/2024/x", "https://www.theguardian.com/world/2024/x"),
        ),
        (
            "https://www-x-com.cdn.ampproject.org/c/s/www.x.com/story/amp/",
            ("https://www.x.com/story/",),
        ),
        ("https://www.google.com/amp/s/www.x.com/story.amp", ("https://www.x.com/story",)),
    ],
)
def test_amp_variants(amp, expected):
    assert amp_variants(amp) == expected


@pytest.mark.parametrize(
    "plain",
    ["https://www.x.com/story", "https://www.x.com/camping/", "https://x.com/?ample=1", "bad"],
)
def test_non_amp_urls_have_no_variants(plain):
    assert amp_variants(plain) == ()


class TestChooseIdentity:
    def test_same_site_canonical_wins(self):
        got = choose_identity(
            "https://x.com/s?utm_source=rss",
            "https://www.x.com/2024/story?utm_source=rss",
            "https://www.x.com/2024/story",
        )
        assert got == "https://www.x.com/2024/story"

    def test_relative_canonical_is_resolved(self):
        got = choose_identity("https://x.com/a", "https://x.com/a?page=1", "/a")
        assert got == "https://x.com/a"

    def test_no_canonical_uses_final_url_after_redirects(self):
        got = choose_identity(
            "http://feeds.example.net/~r/x/123", "https://WWW.X.COM:443/story#top", None
        )
        assert got == "https://www.x.com/story"

    def test_bad_final_url_falls_back_to_requested(self):
        assert choose_identity("https://x.com/a", "", None) == "https://x.com/a"

    def test_both_bad_raise(self):
        with pytest.raises(UsageError):
            choose_identity("ftp://x", "ftp://y", None)

    @pytest.mark.parametrize(
        "canonical",
        [
            "https://evil.example/story",  # another site
            "https://www.x.com/",  # template bug: every article -> home page
            "javascript:void(0)",
            "http://[bad",
            "",
            "https://www.x.com/story/amp/",  # canonical pointing *to* AMP
        ],
    )
    def test_untrustworthy_canonical_is_ignored(self, canonical):
        assert choose_identity("https://www.x.com/story", "https://www.x.com/story", canonical) == (
            "https://www.x.com/story"
        )

    def test_amp_page_with_canonical_to_non_amp(self):
        got = choose_identity(
            "https://amp.x.com/story", "https://amp.x.com/story", "https://www.x.com/story"
        )
        assert got == "https://www.x.com/story"

    def test_amp_cache_page_with_publisher_canonical(self):
        cache = "https://www-x-com.cdn.ampproject.org/c/s/www.x.com/story/amp/"
        assert choose_identity(cache, cache, "https://www.x.com/story/") == "https://www.x.com/story/"

    def test_three_aliases_one_identity(self):
        canonical = "https://www.x.com/2024/story"
        keys = {
            choose_identity(
                "https://www.x.com/2024/story?utm_source=rss", "https://www.x.com/2024/story", canonical
            ),
            choose_identity(
                "https://www.x.com/2024/story/amp/", "https://www.x.com/2024/story/amp/", canonical
            ),
            choose_identity("http://x.com/p=123", "https://www.x.com/2024/story#c", canonical),
        }
        assert keys == {canonical}


def test_public_surfaces_are_sorted_and_exist():
    import pipeline.discover
    import pipeline.robots
    import pipeline.schedule
    import pipeline.urls

    for module in (pipeline.urls, pipeline.discover, pipeline.robots, pipeline.schedule):
        assert module.__all__ == sorted(module.__all__), module.__name__
        assert all(hasattr(module, name) for name in module.__all__), module.__name__


def test_credentials_never_enter_the_key():
    assert canonical_url("https://user:s3cret@x.com/a") == "https://x.com/a"
