"""Turn an HTML (or XML) body into text without ever raising.

Order of evidence, strongest first:

1. a byte-order mark (unambiguous; browsers let it override the header too),
2. the charset from the Content-Type header,
3. ``<meta charset>`` / ``<meta http-equiv=Content-Type>`` / ``<?xml encoding?>`` near the top,
4. UTF-8 if the bytes are valid UTF-8,
5. charset_normalizer's detection,
6. UTF-8 with replacement characters.

A declared charset is only used when the body decodes with it strictly, so a header that
lies (says utf-8, sends cp1251) falls through to the next step. Unknown or dangerous labels
(``utf-7``, ``unicode_escape``, byte-to-byte codecs such as ``zlib``) are ignored.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_html", "normalise_label"]

_SNIFF_BYTES = 4096
_DETECT_BYTES = 64 * 1024

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, which is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# WHATWG maps these labels to supersets that real pages rely on.
_SUPERSETS = {
    "latin-1": "cp1252",
    "ascii": "cp1252",
    "iso8859_9": "cp1254",
    "iso8859_11": "cp874",
    "tis_620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "big5": "big5hkscs",
}
_SUPERSETS = {codecs.lookup(k).name: v for k, v in _SUPERSETS.items()}

# Codecs that are text encodings to Python but must never be taken from a web page.
_REFUSED = frozenset(
    {
        "utf_7", "unicode_escape", "raw_unicode_escape", "escape_codec", "idna", "punycode",
        "undefined", "charmap", "mbcs", "oem", "unicode_internal",
    }
)

_RARE_PREFIXES = ("mac_", "cp4", "cp7", "cp8", "kz1048", "ptcp154", "hp_", "palmos")

_META_RE = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)""", re.IGNORECASE
)
_XML_DECL_RE = re.compile(
    rb"""<\?xml[^>]*?encoding\s*=\s*["']\s*([a-zA-Z0-9_.:\-]+)""", re.IGNORECASE
)


def normalise_label(label: str | None) -> str | None:
    """The Python codec name for a charset label, or None if unknown or refused."""
    if not label:
        return None
    cleaned = label.strip().strip("\"'").strip().lower()
    if not cleaned or len(cleaned) > 40:
        return None
    try:
        info = codecs.lookup(cleaned)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None
    if info.name.replace("-", "_") in _REFUSED:
        return None
    return codecs.lookup(_SUPERSETS.get(info.name, info.name)).name


def _strict(body: bytes, encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        if encoding == "cp1252":
            # cp1252 leaves five bytes unmapped; browsers decode them as C1 controls.
            return body.decode("latin-1")
        return None


def _bom(body: bytes) -> tuple[str, int] | None:
    for mark, name in _BOMS:
        if body.startswith(mark):
            return name, len(mark)
    return None


def _declared_in_body(body: bytes) -> str | None:
    head = body[:_SNIFF_BYTES]
    for pattern in (_META_RE, _XML_DECL_RE):
        match = pattern.search(head)
        if match:
            name = normalise_label(match.group(1).decode("ascii", "replace"))
            if name is not None and name.startswith(("utf-16", "utf-32")):
                # A page whose markup we just read as ASCII is not UTF-16 (WHATWG rule).
                return "utf-8"
            return name
    return None


def _detect(body: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes

        matches = list(from_bytes(body[:_DETECT_BYTES]))
    except Exception:  # the detector is a best-effort hint; never let it fail the fetch
        return None
    if not matches:
        return None
    best = matches[0]
    # On short pages the detector often ties a web encoding with a Mac or DOS one
    # (cp1251 vs mac_cyrillic); among near-ties prefer what web pages actually use.
    near = [
        m for m in matches
        if m.chaos <= best.chaos + 0.02 and m.coherence >= best.coherence - 0.1
    ]
    near.sort(key=lambda m: m.encoding.startswith(_RARE_PREFIXES))
    return normalise_label(near[0].encoding)


def decode_html(body: bytes, header_charset: str | None) -> tuple[str, str]:
    """Decode ``body``; returns (text, Python codec name used). Never raises."""
    try:
        return _decode(body, header_charset)
    except Exception:  # last line of defence: a page must never crash the run
        return body.decode("utf-8", "replace"), "utf-8"


def _decode(body: bytes, header_charset: str | None) -> tuple[str, str]:
    if not body:
        return "", normalise_label(header_charset) or "utf-8"
    bom = _bom(body)
    if bom is not None:
        name, skip = bom
        return body[skip:].decode(name, "replace"), name
    for name in (normalise_label(header_charset), _declared_in_body(body), "utf-8"):
        text = _strict(body, name)
        if text is not None:
            return text, name  # type: ignore[return-value]
    detected = _detect(body)
    if detected is not None:
        return body.decode(detected, "replace"), detected
    return body.decode("utf-8", "replace"), "utf-8"
