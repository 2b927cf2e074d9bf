"""Read raw metadata candidates out of one parsed lxml tree: JSON-LD, <meta>, <h1>, <time>, bylines.

Nothing here decides; metadata.py compares the candidates. Every lookup tolerates hostile input:
broken JSON, markup inside JSON strings, huge values, unexpected types.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

MAX_JSONLD = 2_000_000  # characters of one JSON-LD block worth parsing
MAX_NODES = 5000  # JSON-LD objects visited per page

_ARTICLE_TYPES = re.compile(r"(Article|BlogPosting|Report|LiveBlogPosting|Posting)$", re.I)
_TEXT_OF = etree.XPath("string()")


@dataclass
class Sources:
    """Candidate values, in document order, each list possibly empty."""

    jsonld: list[dict] = field(default_factory=list)  # article-like objects only
    jsonld_publishers: list[str] = field(default_factory=list)
    jsonld_sites: list[str] = field(default_factory=list)  # WebSite/Organization names
    jsonld_ids: dict[str, dict] = field(default_factory=dict)  # @id -> node, to resolve references
    meta: dict[str, list[str]] = field(default_factory=dict)  # lower-cased name/property
    title_tag: str | None = None
    h1: list[str] = field(default_factory=list)
    marked_h1: str | None = None  # the first <h1 itemprop="headline">: the page names it the headline
    times: list[tuple[str, bool]] = field(default_factory=list)  # (datetime attr, is-pubdate)
    bylines: list[str] = field(default_factory=list)
    itemprop_authors: list[str] = field(default_factory=list)
    labelled_authors: list[str] = field(default_factory=list)  # "<b>Author</b> Jane Doe"
    canonical: str | None = None
    lang: str | None = None


def collect(tree: etree._Element) -> Sources:
    src = Sources()
    _read_head(tree, src)
    _read_jsonld(tree, src)
    _read_body(tree, src)
    return src


def _read_head(tree: etree._Element, src: Sources) -> None:
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        value = el.get("content")
        if key and value and value.strip():
            src.meta.setdefault(key, []).append(value)
    for el in tree.iter("title"):
        if src.title_tag is None and el.getparent() is not None and el.getparent().tag == "head":
            src.title_tag = _TEXT_OF(el)
    for el in tree.iter("link"):
        rel = (el.get("rel") or "").lower().split()
        if "canonical" in rel and el.get("href") and src.canonical is None:
            src.canonical = el.get("href").strip()
    root = tree.getroottree().getroot() if hasattr(tree, "getroottree") else tree
    if root is not None and root.get("lang"):
        src.lang = root.get("lang")


def _read_jsonld(tree: etree._Element, src: Sources) -> None:
    seen = 0
    for el in tree.iter("script"):
        if "ld+json" not in (el.get("type") or "").lower():
            continue
        raw = el.text or ""
        if not raw.strip() or len(raw) > MAX_JSONLD:
            continue
        data = _loads(raw)
        if data is None:
            continue
        for obj in _walk(data):
            seen += 1
            if seen > MAX_NODES:
                return
            types = _types(obj)
            node_id = obj.get("@id")
            if isinstance(node_id, str) and len(obj) > 1:
                src.jsonld_ids.setdefault(node_id, obj)
            if any(_ARTICLE_TYPES.search(t) for t in types):
                src.jsonld.append(obj)
                pub = obj.get("publisher")
                for p in pub if isinstance(pub, list) else [pub]:
                    if isinstance(p, dict) and isinstance(p.get("name"), str):
                        src.jsonld_publishers.append(p["name"])
            elif types & {"WebSite", "Organization", "NewsMediaOrganization"}:
                if isinstance(obj.get("name"), str):
                    src.jsonld_sites.append(obj["name"])


def _loads(raw: str) -> object | None:
    raw = raw.strip()
    # CMS templates wrap JSON-LD in comments or CDATA, or leave trailing commas.
    raw = re.sub(r"^\s*(?:<!--|/\*\s*<!\[CDATA\[\s*\*/|<!\[CDATA\[)", "", raw)
    raw = re.sub(r"(?:-->|/\*\s*\]\]>\s*\*/|\]\]>)\s*$", "", raw)
    try:
        return json.loads(raw, strict=False)
    except (ValueError, RecursionError):
        pass
    try:
        return json.loads(re.sub(r",\s*([}\]])", r"\1", raw), strict=False)
    except (ValueError, RecursionError):
        return None


def _walk(data: object, depth: int = 0) -> Iterator[dict]:
    """Every dict in a JSON-LD document: top level, lists, @graph and nested mainEntity."""
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data[:200]:
            yield from _walk(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement", "hasPart"):
            if isinstance(data.get(key), (list, dict)):
                yield from _walk(data[key], depth + 1)


def _types(obj: dict) -> set[str]:
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return {v.rsplit("/", 1)[-1] for v in values if isinstance(v, str)}


_BYLINE_CLASS = re.compile(r"(?:^|[\s_-])(?:byline|author|authors|autor|auteur|writer)(?:$|[\s_-])", re.I)


_LABEL_TEXT = (
    "[contains(translate(., 'AUTHOR', 'author'), 'autor') or contains(translate(., 'AUTHOR', 'author'), 'author')"
    " or contains(translate(., 'AUTEUR', 'auteur'), 'auteur')]"
)
# One XPath, evaluated in C, instead of a Python walk over every element of the page.
_BODY_NODES = etree.XPath(
    "//h1 | //time[@datetime] | //*[@itemprop][contains(translate(@itemprop, 'AUTHOR', 'author'), 'author')]"
    " | //a[contains(@rel, 'author')]"
    # "Written by <a>Jane Doe</a>" outside running text: a link right after a closing "by".
    " | //a[not(ancestor::p)][substring(concat(' ', translate(normalize-space(preceding-sibling::node()[1][self::text()]),"
    " 'BY', 'by')), string-length(normalize-space(preceding-sibling::node()[1][self::text()])) - 1) = ' by']"
    # Cheap tests first: most elements have no class, and a tag name test is cheaper than
    # the text of a whole subtree.
    " | //*[@class][contains(@class, 'uthor') or contains(@class, 'yline') or contains(@class, 'utor')"
    " or contains(@class, 'riter')][self::a or self::span or self::div or self::p or self::address or self::li]"
    + "".join(f" | //{tag}{_LABEL_TEXT}" for tag in ("strong", "b", "dt", "th"))
)
# The label itself, in the languages of the larger news markets: "Autorin/Autor", "Author:".
_AUTHOR_LABEL = re.compile(r"(?:autor(?:in|en|e|i)?|authors?|auteur(?:e|s)?)(?:\s*/\s*autor(?:in)?)?\s*:?", re.I)


def _read_body(tree: etree._Element, src: Sources) -> None:
    for el in _BODY_NODES(tree):
        tag = el.tag
        if tag in ("strong", "b", "dt", "th"):
            if len(src.labelled_authors) < 5 and _AUTHOR_LABEL.fullmatch(_TEXT_OF(el).strip()):
                value = _labelled_value(el)
                if value:
                    src.labelled_authors.append(value)
            continue
        if tag == "h1":
            text = _TEXT_OF(el)
            if text.strip() and len(src.h1) < 10:
                src.h1.append(text)
            if src.marked_h1 is None and text.strip() and "headline" in (el.get("itemprop") or "").lower().split():
                src.marked_h1 = text
            continue
        if tag == "time":
            if len(src.times) < 20:
                pub = el.get("pubdate") is not None or "datepublished" in (el.get("itemprop") or "").lower()
                src.times.append((el.get("datetime"), pub))
            continue
        if (el.get("itemprop") or "").lower() == "author":
            if len(src.itemprop_authors) < 20:
                src.itemprop_authors.append(_itemprop_name(el))
            continue
        if tag == "a" and "author" in (el.get("rel") or "").lower().split():
            if len(src.bylines) < 20:
                src.bylines.append(_TEXT_OF(el))
            continue
        if tag == "a" and _CLOSING_BY.search(_text_before(el)):
            if len(src.bylines) < 20:
                src.bylines.append("By " + _TEXT_OF(el))
            continue
        cls = el.get("class") or ""
        if len(src.bylines) < 20 and _BYLINE_CLASS.search(cls) and len(el) < 30:
            text = _TEXT_OF(el)
            if 2 < len(text) < 300:
                src.bylines.append(text)


# Only a byline's own words before the link: "Powered by", "Photo by", "Edited by" are not bylines.
_CLOSING_BY = re.compile(r"^\W*(?:(?:written|reported|posted|story|words|text|article)\s+)?by\s*$", re.I)


def _text_before(el: etree._Element) -> str:
    prev = el.getprevious()
    parent = el.getparent()
    return (prev.tail if prev is not None else parent.text if parent is not None else None) or ""


def _itemprop_name(el: etree._Element) -> str:
    for child in el.iter():
        if (child.get("itemprop") or "").lower() == "name":
            return child.get("content") or _TEXT_OF(child)
    return el.get("content") or _TEXT_OF(el)


def _labelled_value(label: etree._Element) -> str | None:
    """The text right after a label: its tail, else the next sibling's text (a <dd>, a <td>)."""
    value = (label.tail or "").strip(" :\t\n")
    if not value:
        nxt = label.getnext()
        value = _TEXT_OF(nxt).strip() if nxt is not None else ""
    return value if 1 < len(value) < 200 else None


# A paragraph whose whole text is one bold run: how many sites print a byline inside the body.
_BOLD_PARAGRAPHS = etree.XPath("//p[count(*) = 1][strong or b][normalize-space(.) = normalize-space(*)]")


def bold_paragraphs(tree: etree._Element, limit: int = 50) -> set[str]:
    """Whitespace-normalised texts of bold-only paragraphs (read lazily: few pages need it)."""
    out: set[str] = set()
    for el in _BOLD_PARAGRAPHS(tree)[:limit]:
        text = " ".join(_TEXT_OF(el).split())
        if 1 < len(text) < 200:
            out.add(text)
    return out
