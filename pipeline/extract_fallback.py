"""Where the article body is when trafilatura's first pass finds little or nothing.

Two generic fallbacks, tried only on pages that need them, so most pages pay nothing:
- favor_recall on the same tree when favor_precision kept only a scrap of the page;
- the HTML that a React Server Components page (Next.js app router) ships inside its
  ``self.__next_f.push([1, "..."])`` scripts: the article markup is a text row there, not in
  the DOM, until JavaScript runs.
"""

from __future__ import annotations

import json
import re

from lxml import etree

__all__ = ["SCRAP_CHARS", "flight_article_html", "prefer_recall"]

# A favor_precision body shorter than this is a scrap worth a second, recall-minded look ...
SCRAP_CHARS = 500
# ... and the recall body replaces it only when it is at least this many times longer.
_RECALL_GAIN = 2.0

# The call's argument is read as JSON up to its own end: code a site (or a proxy) appends after
# the call must not hide the article.
_PUSH = re.compile(r"^\s*self\.__next_f\.push\(\s*(?=\[)")
_JSON = json.JSONDecoder()
# An RSC text row: "<id>:T<byte length in hex>,<that many UTF-8 bytes>".
_TEXT_ROW = re.compile(rb"(?:^|\n)[0-9a-zA-Z]+:T([0-9a-f]{1,8}),")
_MAX_FLIGHT = 20_000_000  # characters of payload worth decoding
_MIN_ARTICLE = 200  # characters of markup that can hold an article


def prefer_recall(precise: str, recall: str) -> bool:
    """Whether the favor_recall text should replace a scrap of favor_precision text."""
    return len(precise) < SCRAP_CHARS and len(recall) >= _RECALL_GAIN * max(len(precise), 1)


def flight_article_html(tree: etree._Element) -> str | None:
    """The longest paragraph-bearing HTML text row of an RSC payload, as a document; or None."""
    chunks: list[str] = []
    size = 0
    for script in tree.iter("script"):
        text = script.text or ""
        if "__next_f" not in text[:40]:
            continue
        match = _PUSH.match(text)
        if not match:
            continue
        try:
            row, _end = _JSON.raw_decode(text, match.end())
        except (ValueError, RecursionError):
            continue
        if isinstance(row, list) and len(row) > 1 and isinstance(row[1], str):
            chunks.append(row[1])
            size += len(row[1])
            if size > _MAX_FLIGHT:
                break
    if not chunks:
        return None
    best = _longest_markup(("".join(chunks)).encode("utf-8", "replace"))
    if best is None:
        return None
    return f"<html><body><article>{best}</article></body></html>"


def _longest_markup(payload: bytes) -> str | None:
    best: str | None = None
    for match in _TEXT_ROW.finditer(payload):
        length = int(match.group(1), 16)
        body = payload[match.end() : match.end() + length].decode("utf-8", "replace")
        if len(body) >= _MIN_ARTICLE and body.count("<p") >= 2 and (best is None or len(body) > len(best)):
            best = body
    return best
