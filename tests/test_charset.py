"""decode_html: header, BOM, meta, detection; a lying or bogus label never breaks the text."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.charset import decode_html, normalise_label

RUSSIAN = (
    "Президент заявил журналистам, что переговоры продолжатся на следующей неделе, "
    "а правительство готовит новые меры поддержки для регионов."
)
FRENCH = "L’été à Genève : café, crème brûlée et «guillemets» — fin."


def test_header_charset_iso_8859_1_means_windows_1252():
    body = "<p>café “quoted” €</p>".encode("cp1252")
    text, encoding = decode_html(body, "ISO-8859-1")
    assert text == "<p>café “quoted” €</p>"
    assert encoding == "cp1252"


def test_only_meta_charset_windows_1251():
    body = b"<html><head><meta charset=windows-1251></head><body>" + RUSSIAN.encode("cp1251")
    text, encoding = decode_html(body, None)
    assert RUSSIAN in text
    assert encoding == "cp1251"


def test_meta_http_equiv():
    body = (
        b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>'
        + RUSSIAN.encode("koi8_r")
    )
    assert RUSSIAN in decode_html(body, None)[0]


def test_header_that_lies_falls_through_to_detection():
    body = ("<html><body><p>" + RUSSIAN * 3 + "</p></body></html>").encode("cp1251")
    text, encoding = decode_html(body, "utf-8")
    assert RUSSIAN in text
    assert encoding != "utf-8"


def test_utf16_with_bom_even_if_header_disagrees():
    body = codecs.BOM_UTF16_LE + f"<p>{FRENCH}</p>".encode("utf-16-le")
    for header in (None, "utf-8", "iso-8859-1"):
        text, encoding = decode_html(body, header)
        assert text == f"<p>{FRENCH}</p>"
        assert encoding == "utf-16-le"


def test_utf8_bom_stripped():
    assert decode_html(codecs.BOM_UTF8 + "<p>é</p>".encode(), None) == ("<p>é</p>", "utf-8")


@pytest.mark.parametrize("label", ["bogus-label", "utf-7", "zlib", "base64", "rot13",
                                   "unicode_escape", "x-user-defined", "", "  ", "é" * 50])
def test_bogus_or_dangerous_label_ignored(label):
    body = f"<p>{FRENCH} \\u0041 +ADw-</p>".encode()
    text, encoding = decode_html(body, label)
    assert text == f"<p>{FRENCH} \\u0041 +ADw-</p>"
    assert encoding == "utf-8"


def test_meta_claiming_utf16_on_ascii_page_read_as_utf8():
    body = b"<meta charset=utf-16><p>" + "é".encode() + b"</p>"
    assert decode_html(body, None) == ("<meta charset=utf-16><p>é</p>", "utf-8")


def test_xml_declaration():
    body = b'<?xml version="1.0" encoding="ISO-8859-1"?><rss><title>caf\xe9</title></rss>'
    assert "café" in decode_html(body, None)[0]


def test_undecodable_falls_back_with_replacement():
    text, _ = decode_html(b"<p>ok</p>" + b"\xc3\x28\xfa\x81" * 3, "utf-8")
    assert "<p>ok</p>" in text


def test_empty_body():
    assert decode_html(b"", None) == ("", "utf-8")


@pytest.mark.parametrize(("label", "name"), [("latin1", "cp1252"), ("US-ASCII", "cp1252"),
                                             ("UTF8", "utf-8"), ('"utf-8"', "utf-8"),
                                             ("gb2312", "gb18030"), ("Shift_JIS", "cp932"),
                                             ("nonsense", None), (None, None)])
def test_normalise_label(label, name):
    assert normalise_label(label) == name


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=3000), label=st.one_of(st.none(), st.text(max_size=30),
       st.sampled_from(["utf-8", "utf-16", "cp1251", "latin1", "shift_jis", "utf-32", "gbk"])))
def test_property_never_raises(body, label):
    text, encoding = decode_html(body, label)
    assert isinstance(text, str)
    assert codecs.lookup(encoding)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=500), label=st.sampled_from([None, "utf-8", "bogus", "UTF-8"]))
def test_property_utf8_round_trips(text, label):
    body = text.encode("utf-8")
    assert decode_html(body, label)[0] == text.removeprefix("\ufeff")
