"""FetchResult decodes its body only when asked, and the worker reports the charset it used."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.models import FetchResult
from pipeline.workers import default_extract, prepare_in_worker

HTML = ('<html><head><meta charset="windows-1252"><title>Café in Zürich</title></head>'
        "<body><article>"
        + "".join(f"<p>Paragraph {i}: the café owners in Zürich said the naïve plan would fail"
                  " because the rents doubled twice this year.</p>" for i in range(8))
        + "</article></body></html>")


def result(body: bytes, charset: str | None, **kwargs) -> FetchResult:
    return FetchResult(url="https://a.example/p", final_url="https://a.example/p", status=200,
                       headers=(), fetched_at=datetime.now(UTC), duration=0.1, body=body,
                       charset=charset, **kwargs)


def test_text_and_encoding_come_from_the_body_when_the_header_lies():
    fetched = result(HTML.encode("cp1252"), "utf-8")  # says utf-8, sends cp1252
    assert fetched.charset == "utf-8"
    assert fetched.text == HTML
    assert fetched.encoding == "cp1252"
    assert fetched.text is fetched.text  # decoded once


def test_a_304_has_no_text():
    fetched = result(b"", None, not_modified=True)
    assert fetched.text == "" and fetched.encoding is None


def test_the_worker_decodes_from_the_header_hint_and_reports_the_charset_it_used():
    raw = HTML.encode("cp1252")
    prepared = prepare_in_worker(default_extract, raw, "https://a.example/p",
                                 "https://a.example/p", 30.0, (), "utf-8")
    assert prepared.encoding == "cp1252"
    assert "Zürich" in prepared.extracted.text
