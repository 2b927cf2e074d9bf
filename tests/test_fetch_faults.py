"""The fault matrix: hostile or broken servers on loopback, each ending in one FetchError kind.

Every case is a pytest id named after the fault (``-k slow_drip``). Deadlines are small
(2 s total, 1 s per read) so the whole matrix runs in seconds.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import socket
import time
import tracemalloc
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import repeat

import brotli
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.decompress import CHUNK, BodyDecoder, DecodeFailed, DecodeLimit
from pipeline.errors import FetchError
from pipeline.fetch import Fetcher
from pipeline.models import FetchResult, Target
from pipeline.settings import FetchSettings
from tests.faultserver import Exchange, fault_server  # noqa: F401  (pytest fixture)

MiB = 1024 * 1024
CAP = 1 * MiB
SETTINGS = FetchSettings(
    allow_private_networks=True,
    timeout=2.0,
    connect_timeout=1.0,
    read_timeout=1.0,
    max_bytes=CAP,
    max_redirects=5,
    retry_after_cap=60.0,
)
PAGE = b"<!doctype html><html><head><title>t</title></head><body><p>Hello</p></body></html>"


def fetch(url: str, **overrides) -> FetchResult:
    async def go():
        async with Fetcher(replace(SETTINGS, **overrides)) as fetcher:
            return await fetcher.fetch(Target(url))

    return asyncio.run(go())


def fetch_error(url: str, **overrides) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch(url, **overrides)
    return info.value


# -- handlers -----------------------------------------------------------------------------
def never_answer(ex: Exchange) -> None:
    ex.wait(10)


def slow_drip(ex: Exchange) -> None:
    ex.send(ex.head(200, [("Content-Type", "text/html"), ("Content-Length", "1000")]))
    ex.stream(repeat(b"x"), delay=0.5)


def short_body(ex: Exchange) -> None:
    ex.send(ex.head(200, [("Content-Type", "text/html"), ("Content-Length", "5000")]) + PAGE)


def chunked_cut(ex: Exchange) -> None:
    ex.send(ex.head(200, [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")]))
    ex.send(b"%x\r\n%s\r\n" % (len(PAGE), PAGE) + b"400\r\nonly a bit")


def reset_mid_body(ex: Exchange) -> None:
    ex.send(ex.head(200, [("Content-Type", "text/html"), ("Content-Length", "100000")]))
    ex.send(PAGE * 10)
    time.sleep(0.05)
    ex.reset()


def garbage_status(ex: Exchange) -> None:
    ex.send(b"HTTZ/9.9 banana split\r\nwhat: ever\r\n\r\n" + PAGE)


def huge_header(ex: Exchange) -> None:
    ex.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n")


def status(code: int, headers=(), body: bytes = b"<html>status page</html>"):
    def handler(ex: Exchange) -> None:
        ex.respond(code, body, headers)

    return handler


def redirect(location: str, code: int = 302):
    return status(code, [("Location", location)], b"")


def content_length_1gib(ex: Exchange) -> None:
    ex.send(ex.head(200, [("Content-Type", "text/html"), ("Content-Length", str(1 << 30))]))
    ex.stream(repeat(b"<p>" + b"x" * 65533, 1 << 14))


def endless_chunked(ex: Exchange) -> None:
    ex.send(ex.head(200, [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")]))
    piece = b"<p>" + b"y" * 65533
    ex.stream(repeat(b"%x\r\n%s\r\n" % (len(piece), piece)))


def encoded(body: bytes, coding: str | None, content_type: str | None = "text/html"):
    def handler(ex: Exchange) -> None:
        headers = [("Content-Encoding", coding)] if coding else []
        ex.respond(200, body, headers, content_type=content_type)

    return handler


def binary(content_type: str | None, magic: bytes):
    """64 MiB of binary, delimited by closing; the fetcher must stop long before the end."""

    def handler(ex: Exchange) -> None:
        headers = [("Connection", "close")]
        if content_type:
            headers.append(("Content-Type", content_type))
        ex.send(ex.head(200, headers))
        ex.stream([magic + b"\0" * (65536 - len(magic))] + [b"\0" * 65536] * 1023)

    return handler


# -- compressed bodies ----------------------------------------------------------------------
BOMB_SIZE = 32 * MiB  # 32x the cap
CODINGS = ["gzip", "deflate", "br", "zstd", "gzip, br", "br, zstd"]


@functools.cache
def bomb(codings: str) -> bytes:
    """BOMB_SIZE zero bytes under ``codings`` (applied left to right)."""
    return _encode(bytes(BOMB_SIZE), codings)


def _encode(body: bytes, codings: str) -> bytes:
    encoders = {
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "br": lambda data: brotli.compress(data, quality=5),
        "zstd": zstandard.ZstdCompressor().compress,
    }
    for coding in codings.split(", "):
        body = encoders[coding](body)
    return body


# (handler, expected kind) per case; the id is the fault's name.
FAULTS = [
    pytest.param(never_answer, "timeout", id="accept_never_answer"),
    pytest.param(slow_drip, "timeout", id="slow_drip_1_byte_per_half_second"),
    pytest.param(short_body, "protocol", id="content_length_longer_than_body"),
    pytest.param(chunked_cut, "protocol", id="chunked_body_cut_off"),
    pytest.param(reset_mid_body, "protocol", id="reset_mid_body"),
    pytest.param(garbage_status, "protocol", id="garbage_status_line"),
    pytest.param(huge_header, "protocol", id="huge_response_header"),
    pytest.param(status(500), "http_status", id="status_500"),
    pytest.param(status(403), "http_status", id="status_403"),
    pytest.param(status(404), "not_found", id="status_404"),
    pytest.param(status(410), "gone", id="status_410"),
    pytest.param(status(429), "retry_later", id="status_429_no_retry_after"),
    pytest.param(redirect("file:///etc/passwd"), "bad_redirect", id="redirect_to_file"),
    pytest.param(redirect("ftp://example.org/x"), "bad_redirect", id="redirect_to_ftp"),
    pytest.param(redirect("data:text/html,<p>hi</p>"), "bad_redirect", id="redirect_to_data"),
    pytest.param(redirect("http://[::1"), "bad_redirect", id="redirect_to_garbage"),
    pytest.param(status(302, body=b""), "bad_redirect", id="redirect_without_location"),
    pytest.param(content_length_1gib, "too_large", id="content_length_1gib"),
    pytest.param(endless_chunked, "too_large", id="endless_chunked_body"),
    pytest.param(encoded(b"this is not gzip at all", "gzip"), "decoding", id="bad_gzip_data"),
    pytest.param(encoded(_encode(PAGE, "br")[:-4], "br"), "decoding", id="truncated_br_data"),
    pytest.param(encoded(PAGE, "compress"), "decoding", id="unknown_content_coding"),
    pytest.param(binary("application/pdf", b"%PDF-1.7"), "content_type", id="pdf"),
    pytest.param(binary("image/png", b"\x89PNG\r\n"), "content_type", id="image_png"),
    pytest.param(binary("application/octet-stream", b"\0"), "content_type", id="octet_stream"),
    pytest.param(binary(None, b"%PDF-1.4"), "content_type", id="pdf_without_content_type"),
    pytest.param(binary("text/html", b"%PDF-1.4"), "content_type", id="pdf_labelled_html"),
    pytest.param(encoded(b"just some words", None, None), "content_type", id="untyped_non_html"),
    pytest.param(status(200, body=b""), "empty", id="empty_200"),
    pytest.param(status(204, body=b""), "empty", id="status_204"),
]


@pytest.mark.parametrize(("handler", "kind"), FAULTS)
def test_fault(fault_server, handler, kind):
    fault_server.route("/f", handler)
    url = fault_server.url("/f")
    started = time.monotonic()
    error = fetch_error(url)
    assert error.kind == kind, error
    assert error.url == url
    assert str(error)  # a message, never a bare exception
    # Generous bound: nothing may run far past the 2 s deadline.
    assert time.monotonic() - started < 10
    if kind in ("too_large", "content_type"):
        exchange = fault_server.exchanges[-1]
        exchange.done.wait(10)
        # Far less than the server was willing to send (1 GiB / endless / 64 MiB).
        assert exchange.sent < 24 * MiB


def test_connection_refused():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on this port now
    assert fetch_error(f"http://127.0.0.1:{port}/").kind == "connect"


def test_slow_drip_stopped_at_total_deadline(fault_server):
    fault_server.route("/drip", slow_drip)
    started = time.monotonic()
    error = fetch_error(fault_server.url("/drip"), timeout=1.5, read_timeout=1.0)
    elapsed = time.monotonic() - started
    assert error.kind == "timeout"
    # Each byte arrives within read_timeout, so only the total deadline can stop it.
    assert 1.4 < elapsed < 6


def test_1gib_content_length_refused_before_reading(fault_server):
    fault_server.route("/big", content_length_1gib)
    error = fetch_error(fault_server.url("/big"))
    assert error.kind == "too_large"
    assert "Content-Length" in str(error)  # refused on the header, not after reading


@pytest.mark.parametrize(
    ("code", "header", "expected"),
    [
        pytest.param(429, "7", 7.0, id="429_seconds"),
        pytest.param(503, "0", 0.0, id="503_zero_seconds"),
        pytest.param(429, "3600", 3600.0, id="429_longer_than_run_cap_kept_for_schedule"),
        pytest.param(429, "99999999999999999999999", 604800.0, id="429_huge_capped_to_a_week"),
        pytest.param(503, "soon-ish", None, id="503_unparseable"),
        pytest.param(503, "-5", None, id="503_negative"),
        pytest.param(503, "in 30 s", 30.0, id="503_http_date"),
        pytest.param(429, "30 s ago", 0.0, id="429_http_date_in_past"),
    ],
)
def test_retry_after(fault_server, code, header, expected):
    if header.endswith(" s") or header.endswith(" ago"):
        offset = 30 if header.startswith("in") else -30
        header = format_datetime(datetime.now(UTC) + timedelta(seconds=offset), usegmt=True)
    fault_server.route("/busy", status(code, [("Retry-After", header)]))
    error = fetch_error(fault_server.url("/busy"))
    assert error.kind == "retry_later"
    assert error.status == code
    if expected is None:
        assert error.retry_after is None
    else:
        assert error.retry_after == pytest.approx(expected, abs=3)


def test_redirect_chain_followed(fault_server):
    for i in range(3):
        fault_server.route(f"/c{i}", redirect(f"/c{i + 1}", code=(301, 302, 307)[i]))
    fault_server.route("/c3", status(200, body=PAGE))
    result = fetch(fault_server.url("/c0"))
    assert result.final_url == fault_server.url("/c3")
    assert result.redirects == tuple(fault_server.url(f"/c{i}") for i in range(3))
    assert result.url == fault_server.url("/c0")


def test_too_many_redirects(fault_server):
    for i in range(10):
        fault_server.route(f"/n{i}", redirect(f"/n{i + 1}"))
    error = fetch_error(fault_server.url("/n0"), max_redirects=3)
    assert error.kind == "too_many_redirects"
    assert len(fault_server.seen) == 4  # the first request and three hops, no more


def test_redirect_loop_a_b_a(fault_server):
    fault_server.route("/a", redirect("/b"))
    fault_server.route("/b", redirect(fault_server.url("/a")))
    error = fetch_error(fault_server.url("/a"))
    assert error.kind == "too_many_redirects"
    assert [s.path for s in fault_server.seen] == ["/a", "/b"]


# -- decompression caps ---------------------------------------------------------------------
def _id(codings: str) -> str:
    return codings.replace(", ", "_then_")


@pytest.mark.parametrize("coding", CODINGS, ids=_id)
def test_bomb_refused_as_too_large(fault_server, coding):
    fault_server.route("/bomb", encoded(bomb(coding), coding))
    assert fetch_error(fault_server.url("/bomb")).kind == "too_large"


@pytest.mark.parametrize("coding", CODINGS, ids=_id)
def test_bomb_decoder_never_exceeds_cap(coding):
    decoder = BodyDecoder([c.strip() for c in coding.split(",")], CAP)
    data = bomb(coding)
    total = biggest = 0
    with pytest.raises(DecodeLimit):
        for i in range(0, len(data), 65536):
            for piece in decoder.feed(data[i : i + 65536]):
                total += len(piece)
                biggest = max(biggest, len(piece))
    assert total <= CAP + 64 * 1024
    assert biggest <= CHUNK


@pytest.mark.parametrize("coding", CODINGS, ids=_id)
def test_bomb_peak_memory_small_multiple_of_cap(fault_server, coding):
    fault_server.route("/bomb", encoded(bomb(coding), coding))
    tracemalloc.start()
    try:
        error = fetch_error(fault_server.url("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.kind == "too_large"
    assert peak < 4 * CAP + len(bomb(coding)), peak


@pytest.mark.parametrize("codings", CODINGS, ids=_id)
def test_encoded_bodies_decode_exactly(fault_server, codings):
    body = PAGE.replace(b"Hello", b"Hello " * 20_000)  # ~120 KiB, several decoder pieces
    fault_server.route("/e", encoded(_encode(body, codings), codings))
    result = fetch(fault_server.url("/e"))
    assert result.body == body


def test_raw_deflate_without_zlib_header(fault_server):
    raw = zlib.compress(PAGE)[2:-4]
    fault_server.route("/d", encoded(raw, "deflate"))
    assert fetch(fault_server.url("/d")).body == PAGE


def test_gzip_body_without_content_encoding(fault_server):
    fault_server.route("/gz", encoded(gzip.compress(PAGE), None))
    result = fetch(fault_server.url("/gz"))
    assert result.body == PAGE
    assert "Hello" in result.text


def test_gzip_without_content_encoding_still_capped(fault_server):
    fault_server.route("/gzbomb", encoded(bomb("gzip"), None))
    assert fetch_error(fault_server.url("/gzbomb")).kind == "too_large"


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000), codings=st.lists(
    st.sampled_from(["gzip", "deflate", "br", "zstd", "identity"]), min_size=1, max_size=3))
def test_property_decoder_only_raises_its_own_errors(data, codings):
    decoder = BodyDecoder(codings, 4096)
    try:
        for i in range(0, len(data), 97):
            for _ in decoder.feed(data[i : i + 97]):
                pass
        for _ in decoder.finish():
            pass
    except (DecodeFailed, DecodeLimit):
        pass
