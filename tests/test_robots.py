"""robots.txt: RFC 9309 status handling, group choice by product token, capped crawl delay."""

from __future__ import annotations

import pickle

import pytest

from pipeline.errors import UsageError
from pipeline.robots import (
    MAX_ROBOTS_BYTES,
    allowed,
    crawl_delay,
    product_token,
    robots_url,
    rules_from_response,
)
from pipeline.settings import DEFAULT_USER_AGENT

UA = DEFAULT_USER_AGENT  # "palimpsest/0.1 (news archiver; +https://github.com/...)"
OTHER = "somebot/2.0"

ROBOTS = b"""\
# comments and blank lines are fine

User-agent: *
Disallow: /private/
Allow: /private/press-releases/
Crawl-delay: 2

User-agent: palim
Disallow: /

User-agent: Palimpsest
Disallow: /drafts/
Disallow: /*?preview=
Crawl-delay: 3600

Sitemap: https://news.test/sitemap.xml
Sitemap: /relative-is-ignored.xml
"""


@pytest.fixture
def rules():
    return rules_from_response(200, ROBOTS)


def test_robots_url():
    assert robots_url("HTTPS://News.Test:443/a/b?c=1#d") == "https://news.test/robots.txt"
    assert robots_url("http://127.0.0.2:8123/x") == "http://127.0.0.2:8123/robots.txt"
    with pytest.raises(UsageError):
        robots_url("ftp://news.test/")


def test_product_token():
    assert product_token(UA) == "palimpsest"
    assert product_token("Mozilla/5.0 (compatible)") == "mozilla"
    assert product_token("") == ""


@pytest.mark.parametrize(
    ("path", "ours", "theirs"),
    [
        ("/", True, True),
        ("/world/story", True, True),
        ("/private/secret", True, False),  # our group replaces "*": its rules don't apply to us
        ("/private/press-releases/1", True, True),
        ("/drafts/next", False, True),
        ("/world/story?preview=1", False, True),
        ("/robots.txt", True, True),
    ],
)
def test_groups_are_chosen_by_product_token(rules, path, ours, theirs):
    url = "https://news.test" + path
    assert allowed(rules, url, UA) is ours
    assert allowed(rules, url, OTHER) is theirs


def test_token_inside_a_full_user_agent_does_not_pick_a_group():
    # "github" appears in our User-Agent header's contact URL; only the product token counts.
    rules = rules_from_response(200, b"User-agent: github\nDisallow: /\n")
    assert allowed(rules, "https://news.test/a", UA)


def test_group_named_by_a_prefix_of_our_token_is_not_ours():
    rules = rules_from_response(200, b"User-agent: palim\nDisallow: /\n\nUser-agent: *\nDisallow:\n")
    assert allowed(rules, "https://news.test/a", UA)


def test_star_group_applies_when_ours_is_absent():
    rules = rules_from_response(200, b"User-agent: *\nDisallow: /private\n")
    assert not allowed(rules, "https://news.test/private/x", UA)
    assert allowed(rules, "https://news.test/public", UA)


def test_group_with_version_suffix_still_matches():
    rules = rules_from_response(200, b"User-agent: *\nDisallow:\n\nUser-agent: palimpsest/1.0\nDisallow: /\n")
    assert not allowed(rules, "https://news.test/a", UA)
    assert allowed(rules, "https://news.test/a", OTHER)


def test_404_allows_everything():
    rules = rules_from_response(404, b"<html>not found</html>")
    assert allowed(rules, "https://news.test/private/x", UA)
    assert crawl_delay(rules, UA, cap=60) is None


@pytest.mark.parametrize("status", [400, 401, 403, 410])
def test_other_4xx_allow_everything(status):
    assert allowed(rules_from_response(status, None), "https://news.test/x", UA)


@pytest.mark.parametrize("status", [None, 500, 502, 503, 429, 100])
def test_unreachable_disallows_everything(status):
    rules = rules_from_response(status, None)
    assert rules.mode == "disallow_all"
    assert not allowed(rules, "https://news.test/", UA)
    assert not allowed(rules, "https://news.test/x", OTHER)
    assert allowed(rules, "https://news.test/robots.txt", UA)


def test_unfollowed_redirect_counts_as_unavailable():
    assert allowed(rules_from_response(301, None), "https://news.test/x", UA)


def test_empty_or_html_200_allows_everything():
    assert allowed(rules_from_response(200, b""), "https://news.test/x", UA)
    assert allowed(rules_from_response(200, None), "https://news.test/x", UA)
    soft404 = b"<!doctype html><html><body>Welcome to our site</body></html>"
    assert allowed(rules_from_response(200, soft404), "https://news.test/x", UA)


def test_garbage_body_does_not_raise():
    rules = rules_from_response(200, bytes(range(256)) * 50)
    assert allowed(rules, "https://news.test/x", UA)


def test_crawl_delay_is_capped(rules):
    assert crawl_delay(rules, UA, cap=60.0) == 60.0  # asked for 3600
    assert crawl_delay(rules, OTHER, cap=60.0) == 2.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"User-agent: *\nCrawl-delay: 1.5\n", 1.5),
        (b"User-agent: *\nRequest-rate: 1/10s\n", 10.0),
        (b"User-agent: *\nCrawl-delay: 2\nRequest-rate: 1/5s\n", 5.0),  # the slower wins
        (b"User-agent: *\nCrawl-delay: soon\n", None),
        (b"User-agent: *\nCrawl-delay: -4\n", None),
        (b"User-agent: *\nDisallow: /x\n", None),
    ],
)
def test_crawl_delay_values(text, expected):
    assert crawl_delay(rules_from_response(200, text), UA, cap=60.0) == expected


def test_sitemaps_from_robots(rules):
    assert rules.sitemaps == ("https://news.test/sitemap.xml",)


def test_body_beyond_500_kib_is_ignored():
    filler = b"# " + b"x" * (MAX_ROBOTS_BYTES + 10) + b"\n"
    rules = rules_from_response(200, b"User-agent: *\nDisallow: /a\n" + filler + b"Disallow: /b\n")
    assert not allowed(rules, "https://news.test/a", UA)
    assert allowed(rules, "https://news.test/b", UA)


def test_rules_pickle_for_worker_processes(rules):
    copy = pickle.loads(pickle.dumps(rules))
    assert not allowed(copy, "https://news.test/drafts/x", UA)
    assert copy == rules
