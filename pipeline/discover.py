"""Find article URLs in a fetched feed, sitemap or home page. Pure: bytes in, Discovery out.

Supported: RSS 0.9x/1.0/2.0 and Atom (through feedparser), XML sitemaps, sitemap indexes,
Google News sitemaps, plain-text sitemaps (one URL a line), gzipped sitemaps, and HTML pages
whose <link rel="alternate"> names feeds.

Hostile input is expected: bodies come from third parties. ``parse_discovery`` never raises;
anything it cannot read is ``kind="unknown"`` with nothing in it. Sitemaps are parsed with
ElementTree only after refusing any DOCTYPE (no entity expansion, no external DTD). Feeds go to
feedparser, which never loads external entities; a feed declaring any entity other than a short
literal (``<!ENTITY nbsp "&#160;">``) is refused before that. Gzip is inflated with a cap.
"""

from __future__ import annotations

import io
import re
import time
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

import feedparser

from pipeline.urls import canonical_url

__all__ = [
    "DiscoveredLink",
    "Discovery",
    "MAX_DECOMPRESSED",
    "MAX_LINKS",
    "parse_discovery",
]

MAX_DECOMPRESSED = 64 * 1024 * 1024  # sitemaps may be 50 MB uncompressed; gzip bombs stop here
MAX_LINKS = 50_000  # the sitemap protocol's own per-file limit
_MAX_HTML_SCAN = 1024 * 1024  # feed <link>s live in <head>; don't tokenise megabytes of body
_MAX_FIELD = 512  # longest title/date string we keep from a feed

_FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/x-rss+xml"}
)


@dataclass(frozen=True)
class DiscoveredLink:
    """One article URL (canonical_url form) and what the feed or sitemap said about it."""

    url: str
    published: str | None = None  # ISO 8601 (feeds: UTC "Z"; sitemaps: as written)
    title: str | None = None
    lastmod: str | None = None


@dataclass(frozen=True)
class Discovery:
    links: tuple[DiscoveredLink, ...]
    sitemaps: tuple[str, ...]  # child sitemaps of a sitemap index
    feeds: tuple[str, ...]  # feeds announced by an HTML page
    kind: str  # rss | atom | sitemap | sitemapindex | newssitemap | html | unknown


UNKNOWN = Discovery(links=(), sitemaps=(), feeds=(), kind="unknown")


def parse_discovery(body: bytes, *, url: str, content_type: str | None = None) -> Discovery:
    """Read ``body`` fetched from ``url``; relative links resolve against ``url``. Never raises."""
    try:
        return _parse(body, url, (content_type or "").lower())
    except Exception:  # noqa: BLE001 - third-party bytes must never crash discovery
        return UNKNOWN


def _parse(body: bytes, url: str, content_type: str) -> Discovery:
    if not isinstance(body, (bytes, bytearray)) or not body:
        return UNKNOWN
    body = bytes(body)
    if body[:2] == b"\x1f\x8b":
        inflated = _gunzip(body)
        if inflated is None:
            return UNKNOWN
        body = inflated
    elif len(body) > MAX_DECOMPRESSED:
        return UNKNOWN
    root, has_doctype, has_entity = _sniff(body)
    if root in ("rss", "rdf", "feed", "channel"):
        return UNKNOWN if has_entity else _parse_feed(body, url, content_type)
    if root in ("urlset", "sitemapindex"):
        return UNKNOWN if has_doctype or has_entity else _parse_sitemap(body, url)
    if root == "html" or "html" in content_type:
        return _parse_html(body, url, content_type)
    if root is None and ("text/plain" in content_type or url.lower().endswith(".txt")):
        return _parse_text(body, url)
    return UNKNOWN


def _gunzip(body: bytes) -> bytes | None:
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, MAX_DECOMPRESSED + 1)
    except zlib.error:
        return None
    if len(out) > MAX_DECOMPRESSED or not inflater.eof:
        return None  # a bomb, or a truncated download
    return out


# --- sniffing -------------------------------------------------------------------------------------

_PROLOGUE_SKIP = re.compile(
    rb"\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>", re.DOTALL | re.IGNORECASE
)
_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
# The only entity declarations let through to feedparser: a short literal or one character
# reference, like <!ENTITY nbsp "&#160;">. They cannot nest, reach a file, or amplify.
_SAFE_ENTITY = re.compile(
    rb"""<!ENTITY\s+[A-Za-z_][\w.-]*\s+("(&\#x?[0-9A-Fa-f]{1,6};|[^&%"<]{0,16})"|"""
    rb"""'(&\#x?[0-9A-Fa-f]{1,6};|[^&%'<]{0,16})')\s*>"""
)


def _sniff(body: bytes) -> tuple[str | None, bool, bool]:
    """(first element's local name, lower-cased; DOCTYPE seen; unsafe ENTITY seen), from the
    prologue. A prologue this scan cannot follow gives no root, hence "unknown"."""
    head = body[:65536]
    head = head.removeprefix(b"\xef\xbb\xbf")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16: decode enough to find the root
        head = head.decode("utf-16", "ignore").encode("utf-8", "ignore")
    pos, doctype, entity = 0, False, False
    while pos < len(head):
        match = _PROLOGUE_SKIP.match(head, pos)
        if not match:
            break
        chunk = match.group(0)
        if chunk[:9].upper() == b"<!DOCTYPE":
            doctype = True
            if chunk.upper().count(b"<!ENTITY") > len(_SAFE_ENTITY.findall(chunk)):
                entity = True
            if chunk[9:].strip().lower().startswith(b"html"):
                return "html", doctype, entity
        pos = match.end()
    if head[pos : pos + 8].upper() == b"<!ENTITY":  # a stray declaration ends the prologue scan
        entity = True
    tag = _ROOT_TAG.match(head, pos)
    if not tag:
        return None, doctype, entity
    return tag.group(2).decode("ascii", "ignore").lower(), doctype, entity


# --- feeds ----------------------------------------------------------------------------------------


def _parse_feed(body: bytes, url: str, content_type: str) -> Discovery:
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # A file object, never bytes or str: feedparser treats strings as URLs or file names.
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False,
        resolve_relative_uris=False,
    )
    version = parsed.get("version") or ""
    kind = "atom" if version.startswith("atom") else "rss" if version.startswith("rss") else None
    if kind is None:
        return UNKNOWN
    links = []
    for entry in parsed.entries[:MAX_LINKS]:
        target = _entry_link(entry)
        if target is None:
            continue
        # Raw dict reads: FeedParserDict answers "updated" with the published date when absent.
        published = _iso(dict.get(entry, "published_parsed")) or _iso(
            dict.get(entry, "created_parsed")
        )
        updated = _iso(dict.get(entry, "updated_parsed"))
        if published is None and version in ("rss090", "rss10"):
            published = updated  # dc:date is RSS 1.0's only item date
        title = _clip(entry.get("title"))
        links.append((target, dict(published=published, title=title, lastmod=updated)))
    return Discovery(links=_dedupe_links(links, url), sitemaps=(), feeds=(), kind=kind)


def _entry_link(entry) -> str | None:
    """feedburner:origLink, else the alternate <link>, else a guid that is a permalink."""
    for key in ("feedburner_origlink", "link"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value
    for link in entry.get("links") or ():
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    guid = entry.get("id")
    if entry.get("guidislink") and isinstance(guid, str):
        return guid
    return None


def _iso(struct: time.struct_time | None) -> str | None:
    if not struct:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", struct)
    except (TypeError, ValueError):
        return None


def _clip(value) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value[:_MAX_FIELD] or None


# --- sitemaps -------------------------------------------------------------------------------------


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _parse_sitemap(body: bytes, url: str) -> Discovery:
    root = ET.fromstring(body)
    if _local(root.tag) == "sitemapindex":
        locs = [
            (_child_text(item, "loc"), {})
            for item in root
            if _local(item.tag) == "sitemap"
        ]
        sitemaps = tuple(link.url for link in _dedupe_links(locs, url))
        return Discovery(links=(), sitemaps=sitemaps, feeds=(), kind="sitemapindex")
    links, is_news = [], False
    for item in root:
        if _local(item.tag) != "url":
            continue
        published = title = None
        for child in item:
            if _local(child.tag) == "news":
                is_news = True
                published = _clip(_child_text(child, "publication_date"))
                title = _clip(_child_text(child, "title"))
        links.append(
            (_child_text(item, "loc"),
             dict(published=published, title=title, lastmod=_clip(_child_text(item, "lastmod"))))
        )
        if len(links) >= MAX_LINKS:
            break
    kind = "newssitemap" if is_news else "sitemap"
    return Discovery(links=_dedupe_links(links, url), sitemaps=(), feeds=(), kind=kind)


def _child_text(element, name: str) -> str | None:
    """Text of the first direct child with local name ``name`` (image:loc is not a child of url)."""
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip() or None
    return None


def _parse_text(body: bytes, url: str) -> Discovery:
    lines = body.decode("utf-8", "replace").splitlines()
    candidates = [line.strip() for line in lines if line.strip()]
    if not candidates or not all(c.lower().startswith(("http://", "https://")) for c in candidates):
        return UNKNOWN
    links = _dedupe_links(((c, {}) for c in candidates[:MAX_LINKS]), url)
    return Discovery(links=links, sitemaps=(), feeds=(), kind="sitemap") if links else UNKNOWN


# --- HTML -----------------------------------------------------------------------------------------


class _FeedLinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.feeds: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: (value or "") for name, value in attrs}
        if tag == "base" and self.base is None and attr.get("href"):
            self.base = attr["href"].strip()
        elif tag == "link":
            rels = attr.get("rel", "").lower().split()
            kind = attr.get("type", "").split(";")[0].strip().lower()
            if "alternate" in rels and kind in _FEED_TYPES and attr.get("href"):
                self.feeds.append(attr["href"].strip())


def _parse_html(body: bytes, url: str, content_type: str) -> Discovery:
    charset = re.search(r"charset=[\"']?([\w.:-]+)", content_type)
    try:
        text = body[:_MAX_HTML_SCAN].decode(charset.group(1) if charset else "utf-8", "replace")
    except LookupError:
        text = body[:_MAX_HTML_SCAN].decode("utf-8", "replace")
    parser = _FeedLinkParser()
    parser.feed(text)
    parser.close()
    base = url
    if parser.base:
        joined = _absolute(parser.base, url)
        base = joined or url
    feeds = tuple(link.url for link in _dedupe_links(((f, {}) for f in parser.feeds), base))
    return Discovery(links=(), sitemaps=(), feeds=feeds, kind="html")


# --- shared -------------------------------------------------------------------------------------


def _absolute(href: str | None, base: str) -> str | None:
    """``href`` resolved against ``base`` in canonical form, or None if it is not http(s)."""
    if not href:
        return None
    try:
        return canonical_url(urljoin(base, href.strip()))
    except Exception:  # noqa: BLE001 - UsageError, or ValueError from urljoin on junk
        return None


def _dedupe_links(
    items: Iterable[tuple[str | None, dict]], base: str
) -> tuple[DiscoveredLink, ...]:
    seen: set[str] = set()
    out: list[DiscoveredLink] = []
    for href, extra in items:
        absolute = _absolute(href, base)
        if absolute is None or absolute in seen:
            continue
        seen.add(absolute)
        out.append(DiscoveredLink(url=absolute, **extra))
    return tuple(out)
