"""The fetch stage on well-behaved (and a few awkward) loopback servers."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import FetchError
from pipeline.fetch import Fetcher, parse_retry_after
from pipeline.models import FetchResult, Target
from pipeline.settings import FetchSettings
from tests.faultserver import FaultServer, fault_server  # noqa: F401  (pytest fixture)

SETTINGS = FetchSettings(allow_private_networks=True, timeout=3.0, read_timeout=2.0,
                         user_agent="palimpsest-test/1 (+https://example.org/contact)")
PAGE = "<!doctype html><html><head><title>Über</title></head><body><p>Grüße</p></body></html>"


def run(coro_fn, **kwargs):
    async def go():
        async with Fetcher(kwargs.pop("settings", SETTINGS), **kwargs) as fetcher:
            return await coro_fn(fetcher)

    return asyncio.run(go())


def fetch(target: Target | str, **kwargs) -> FetchResult:
    target = Target(target) if isinstance(target, str) else target
    return run(lambda f: f.fetch(target), **kwargs)


def page(body: bytes = PAGE.encode(), headers=(), content_type="text/html; charset=utf-8"):
    return lambda ex: ex.respond(200, body, headers, content_type=content_type)


def test_result_fields(fault_server):
    fault_server.route("/p", page(headers=[("ETag", '"v1"'), ("Last-Modified", "Mon, 20 Jan 2025 10:00:00 GMT")]))
    before = datetime.now(UTC)
    result = fetch(fault_server.url("/p"))
    assert result.status == 200
    assert result.url == result.final_url == fault_server.url("/p")
    assert result.body == PAGE.encode()
    assert result.text == PAGE
    assert result.encoding == "utf-8"
    assert result.content_type == "text/html"
    assert result.etag == '"v1"'
    assert result.last_modified == "Mon, 20 Jan 2025 10:00:00 GMT"
    assert result.body_sha256 == hashlib.sha256(PAGE.encode()).hexdigest()
    assert result.fetched_at.tzinfo is not None and result.fetched_at.utcoffset() == timedelta(0)
    assert before <= result.fetched_at <= datetime.now(UTC)
    assert result.duration >= 0
    assert ("etag", '"v1"') in [(k.lower(), v) for k, v in result.headers]
    assert result.redirects == () and not result.not_modified


def test_request_headers(fault_server):
    fault_server.route("/p", page())
    fetch(fault_server.url("/p"))
    headers = fault_server.seen[0].headers
    assert headers["user-agent"] == SETTINGS.user_agent
    assert headers["accept-encoding"] == "gzip"  # never br/zstd/deflate: we cap gzip ourselves
    assert "text/html" in headers["accept"]
    assert "cookie" not in headers and "authorization" not in headers


def test_sha256_is_of_decompressed_body(fault_server):
    fault_server.route("/gz", lambda ex: ex.respond(200, gzip.compress(PAGE.encode()),
                                                    [("Content-Encoding", "gzip")]))
    result = fetch(fault_server.url("/gz"))
    assert result.body_sha256 == hashlib.sha256(PAGE.encode()).hexdigest()


def test_conditional_get_304(fault_server):
    def handler(ex):
        if ex.headers.get("if-none-match") == '"v1"' and ex.headers.get("if-modified-since"):
            ex.respond(304, b"", [("ETag", '"v1"')], content_type=None, content_length=False)
        else:
            ex.respond(200, PAGE.encode())

    fault_server.route("/c", handler)
    target = Target(fault_server.url("/c"), etag='"v1"', last_modified="Mon, 20 Jan 2025 10:00:00 GMT")
    result = fetch(target)
    assert result.not_modified and result.status == 304 and result.body == b""
    assert result.etag == '"v1"'
    assert result.last_modified == "Mon, 20 Jan 2025 10:00:00 GMT"
    assert result.body_sha256 is None
    assert fault_server.seen[0].headers["if-modified-since"] == "Mon, 20 Jan 2025 10:00:00 GMT"
    assert fetch(fault_server.url("/c")).status == 200  # unconditional gets the page


def test_cookies_not_kept_between_requests(fault_server):
    fault_server.route("/set", page(headers=[("Set-Cookie", "session=abc; Path=/")]))
    fault_server.route("/p", page())

    async def twice(fetcher):
        await fetcher.fetch(Target(fault_server.url("/set")))
        return await fetcher.fetch(Target(fault_server.url("/p")))

    run(twice)
    assert "cookie" not in fault_server.seen[1].headers


def test_missing_content_type_sniffed_as_html(fault_server):
    fault_server.route("/u", page(content_type=None))
    assert fetch(fault_server.url("/u")).text == PAGE


def test_xhtml_accepted(fault_server):
    fault_server.route("/x", page(content_type="application/xhtml+xml"))
    assert fetch(fault_server.url("/x")).content_type == "application/xhtml+xml"


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        pytest.param("<p>café “q”</p>".encode("cp1252"), "text/html; charset=ISO-8859-1",
                     "<p>café “q”</p>", id="header_iso_8859_1"),
        pytest.param(b"<meta charset=windows-1251><p>" + "Привет мир".encode("cp1251"), "text/html",
                     "Привет мир", id="only_meta_windows_1251"),
        pytest.param(("<p>" + "Правительство готовит новые меры поддержки. " * 4).encode("cp1251"),
                     "text/html; charset=utf-8", "Правительство готовит", id="header_lies"),
        pytest.param("\ufeff<p>Grüße</p>".encode("utf-16-le"), "text/html", "<p>Grüße</p>",
                     id="utf16_with_bom"),
        pytest.param("<p>Grüße</p>".encode(), "text/html; charset=bogus-label", "<p>Grüße</p>",
                     id="bogus_label"),
    ],
)
def test_charsets(fault_server, body, content_type, expected):
    fault_server.route("/cs", page(body, content_type=content_type))
    assert expected in fetch(fault_server.url("/cs")).text


# -- fetch_bytes: robots.txt, feeds, sitemaps ----------------------------------------------
@pytest.mark.parametrize("content_type", ["application/rss+xml", "application/atom+xml", "text/xml",
                                          "application/xml; charset=utf-8", "text/plain", None])
def test_fetch_bytes_accepts_textish(fault_server, content_type):
    body = b'<?xml version="1.0"?><rss><channel><title>t</title></channel></rss>'
    fault_server.route("/feed", page(body, content_type=content_type))
    result = run(lambda f: f.fetch_bytes(fault_server.url("/feed")))
    assert result.body == body and result.text.startswith("<?xml")


def test_fetch_bytes_empty_robots_is_fine(fault_server):
    fault_server.route("/robots.txt", page(b"", content_type="text/plain"))
    assert run(lambda f: f.fetch_bytes(fault_server.url("/robots.txt"))).body == b""


def test_fetch_bytes_gzipped_sitemap(fault_server):
    xml = b"<urlset><url><loc>https://example.org/a</loc></url></urlset>"
    fault_server.route("/sitemap.xml.gz", page(gzip.compress(xml), content_type="application/x-gzip"))
    assert run(lambda f: f.fetch_bytes(fault_server.url("/sitemap.xml.gz"))).body == xml


@pytest.mark.parametrize(("content_type", "body"), [("application/pdf", b"%PDF-1.4 ..."),
                                                    ("application/octet-stream", b"\0\1\2" * 500)])
def test_fetch_bytes_refuses_binary(fault_server, content_type, body):
    fault_server.route("/bin", page(body, content_type=content_type))
    with pytest.raises(FetchError) as info:
        run(lambda f: f.fetch_bytes(fault_server.url("/bin")))
    assert info.value.kind == "content_type"


def test_fetch_bytes_own_cap_and_conditional(fault_server):
    fault_server.route("/big", page(b"x" * 5000, content_type="text/plain"))
    with pytest.raises(FetchError) as info:
        run(lambda f: f.fetch_bytes(fault_server.url("/big"), max_bytes=1000))
    assert info.value.kind == "too_large"
    fault_server.route("/nm", lambda ex: ex.respond(304, b"", content_type=None, content_length=False))
    result = run(lambda f: f.fetch_bytes(fault_server.url("/nm"), etag='"e"'))
    assert result.not_modified and fault_server.seen[-1].headers["if-none-match"] == '"e"'


def test_fetch_bytes_errors_keep_status_for_robots_rules(fault_server):
    fault_server.route("/robots.txt", lambda ex: ex.respond(503, b"busy"))
    with pytest.raises(FetchError) as info:
        run(lambda f: f.fetch_bytes(fault_server.url("/robots.txt")))
    assert (info.value.kind, info.value.status) == ("retry_later", 503)


# -- credentials on redirects ---------------------------------------------------------------
def _needs_second_loopback(server: FaultServer):
    if "127.0.0.2" not in server.bound_hosts:
        pytest.skip("127.0.0.2 is not available on this system")


def test_credentials_stripped_on_cross_host_redirect(fault_server):
    _needs_second_loopback(fault_server)
    other = fault_server.url("/landing", host="127.0.0.2")
    fault_server.route("/start", lambda ex: ex.respond(302, b"", [("Location", other)]))
    fault_server.route("/landing", page())
    url = fault_server.url("/start").replace("http://", "http://user:secret@")
    result = fetch(url, headers={"Cookie": "consent=yes", "Authorization": "Bearer t0k3n",
                                 "X-Harmless": "1"})
    assert result.final_url == other
    first, second = fault_server.seen
    assert first.host == "127.0.0.1"
    assert first.headers["authorization"] == "Bearer t0k3n"  # explicit header wins
    assert first.headers["cookie"] == "consent=yes"
    assert second.host == "127.0.0.2"
    assert "authorization" not in second.headers and "cookie" not in second.headers
    assert second.headers["x-harmless"] == "1"
    assert "secret" not in result.final_url


def test_userinfo_basic_auth_kept_same_origin_dropped_cross_host(fault_server):
    _needs_second_loopback(fault_server)
    fault_server.route("/a", lambda ex: ex.respond(302, b"", [("Location", "/b")]))
    fault_server.route("/b", lambda ex: ex.respond(
        302, b"", [("Location", fault_server.url("/c", host="127.0.0.2"))]))
    fault_server.route("/c", page())
    fetch(fault_server.url("/a").replace("http://", "http://user:secret@"))
    basic = "Basic " + base64.b64encode(b"user:secret").decode()
    assert [s.headers.get("authorization") for s in fault_server.seen] == [basic, basic, None]


def test_credentials_dropped_on_port_change(fault_server):
    with FaultServer(hosts=("127.0.0.1",)) as other:
        other.route("/x", page())
        fault_server.route("/a", lambda ex: ex.respond(302, b"", [("Location", other.url("/x"))]))
        fetch(fault_server.url("/a"), headers={"Cookie": "c=1"})
        assert fault_server.seen[0].headers["cookie"] == "c=1"
        assert "cookie" not in other.seen[0].headers


@respx.mock(assert_all_called=True)
def test_credentials_dropped_on_scheme_change(respx_mock):
    respx_mock.get("https://news.example/a").mock(
        return_value=httpx.Response(301, headers={"Location": "http://news.example/b"}))
    final = respx_mock.get("http://news.example/b").mock(
        return_value=httpx.Response(200, html=PAGE))
    fetch("https://news.example/a", transport=httpx.AsyncHTTPTransport(),
          headers={"Cookie": "c=1"}, settings=replace(SETTINGS, allow_private_networks=False))
    assert "cookie" not in final.calls.last.request.headers
    assert respx_mock.calls[0].request.headers["cookie"] == "c=1"


# -- Retry-After ----------------------------------------------------------------------------
NOW = datetime(2025, 1, 20, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 60.0), ("5", 5.0), (" 7 ", 7.0), ("0", 0.0), ("9" * 5000, 60.0),
     (format_datetime(NOW + timedelta(seconds=42), usegmt=True), 42.0),
     (format_datetime(NOW - timedelta(days=1), usegmt=True), 0.0),
     ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), (None, None), ("", None), ("soon", None),
     ("-3", None), ("1.5", None), ("Mon, 99 Foo 2025 99:99:99 GMT", None), ("inf", None),
     ("NaN", None)],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=NOW, cap=60.0) == expected


@settings(max_examples=500, deadline=None)
@given(value=st.one_of(st.none(), st.text(max_size=80), st.integers(-10**30, 10**30).map(str)),
       cap=st.floats(0, 3600), now=st.datetimes(timezones=st.just(UTC)))
def test_property_retry_after_never_raises_and_is_capped(value, cap, now):
    result = parse_retry_after(value, now=now, cap=cap)
    assert result is None or 0.0 <= result <= cap


def test_verify_cannot_be_disabled():
    with pytest.raises(ValueError):
        Fetcher(SETTINGS, verify=False)


# -- fuzz: any URL or Location gives a result or a FetchError, nothing else -------------------
@settings(max_examples=100, deadline=None)
@given(url=st.one_of(st.text(max_size=40), st.text(max_size=30).map(lambda t: f"http://{t}/"),
                     st.text(max_size=30).map(lambda t: f"https://ok.example/{t}")),
       location=st.text(max_size=40))
def test_property_any_url_or_location_only_fetch_errors(url, location):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/final":
            return httpx.Response(200, html=PAGE)
        # Raw bytes, as a server would send them (h11 would refuse CR, LF and NUL).
        raw = location.encode("utf-8", "replace").translate(None, b"\r\n\x00")
        return httpx.Response(302, headers=[(b"Location", raw)])

    try:
        result = fetch(url, transport=httpx.MockTransport(handler),
                       settings=replace(SETTINGS, allow_private_networks=False))
    except FetchError as exc:
        assert exc.kind and str(exc)
    else:
        assert result.status == 200
