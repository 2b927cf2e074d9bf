"""The extract stage: one page's HTML -> Extracted. No I/O.

The HTML is parsed once. trafilatura runs once on that tree for the body (a second pass only
when the first finds a scrap or nothing: extract_fallback.py); metadata.py reads JSON-LD, <meta>,
<h1>, <time> and bylines from the same tree and chooses by agreement. Both the plain text and the
Markdown are rendered from the one body tree.
"""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import replace

import trafilatura
from htmldate import find_date
from lxml import etree
from lxml import html as lxml_html
from trafilatura.external import SANITIZED_XPATH
from trafilatura.utils import is_dubious_html, repair_faulty_html
from trafilatura.xml import xmltotxt

from pipeline.errors import ExtractError
from pipeline.extract_clean import clean_tree
from pipeline.extract_drop import drop
from pipeline.extract_fallback import SCRAP_CHARS, flight_article_html, prefer_recall
from pipeline.extract_headings import restore_headings
from pipeline.extract_split import join_split_body, paragraph_divs, unwrap_paragraphs
from pipeline.metadata import Fallback, choose, with_body_byline
from pipeline.metadata_clean import clean_text, fold
from pipeline.metadata_sources import bold_paragraphs, collect
from pipeline.models import Extracted

__all__ = ["EXTRACTOR_NAME", "EXTRACTOR_VERSION", "TRAFILATURA_OPTIONS", "extract"]

# Bump the first part whenever extract() may give different output for the same HTML.
_OWN_VERSION = "8"  # 3: ad-slot and hidden-box cleaning before the body pass; 4: printed headline, other titles, split bodies joined
# 5: text after empty inline elements and inside "border:none" boxes kept; paragraph <div>s read as <p>;
# a script-shipped article replaces a scrap of page furniture; one-paragraph wrapper series unwrapped;
# 6: a leading body line equal to the headline up to punctuation is dropped; lost subheadings restored;
# an RSC push call followed by more code is still read; 7: the printed "By" line's names (byline)
# 8: trafilatura's readability/justext comparison skipped where it cannot change the body
EXTRACTOR_NAME = "palimpsest+trafilatura"
EXTRACTOR_VERSION = f"{_OWN_VERSION}+trafilatura-{trafilatura.__version__}"

# Chosen by bench/extraction.py's option sweep (see docs/BENCHMARKS.md).
TRAFILATURA_OPTIONS = {
    "include_comments": False,
    "favor_precision": True,
    "include_links": True,  # Markdown keeps links; plain text strips them again
    "include_tables": True,
    "include_formatting": False,
    "deduplicate": False,  # its cache is process-global: output would depend on earlier pages
    # Our metadata layer reads the tree itself; trafilatura's pass would cost ~15% more time.
    "with_metadata": False,
}

# trafilatura's parser options, with a C-level element class lookup: lxml.html's default
# calls a Python method for every element proxy (thousands a page, ~6% of extraction).
# Only <form>/<input>/... lose their form helpers, which nothing here uses.
_PARSER = lxml_html.HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment,
    pi=lxml_html.HtmlProcessingInstruction, entity=lxml_html.HtmlEntity,
))

# A fast-pass body at least this long is kept when it is clean paragraphs: on the 308 corpus
# pages readability only ever won against own bodies of 894 characters or fewer.
CONFIDENT_CHARS = 2000
_PARAGRAPH_TEXT = etree.XPath("boolean(.//p//text())")
# What trafilatura's comparison calls an unclean body (then justext gets a say): its own
# expression, so the two cannot drift apart.
_FURNITURE = etree.XPath(SANITIZED_XPATH)

_INDENT = re.compile(r"^[ \t]+")
_SOURCE_NEWLINE = re.compile(r"[ \t]*\n\s*")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def extract(
    html: str, *, url: str, final_url: str | None = None, drop_selectors: tuple[str, ...] = ()
) -> Extracted:
    """Extract the article in ``html``. Raises ExtractError and nothing else.

    ``drop_selectors`` (a site's configured CSS selectors) are removed before anything is read.
    """
    final = final_url or url
    if not isinstance(html, str) or not html.strip():
        raise ExtractError("empty HTML document", kind="empty")
    try:
        return _extract(html, url=url, final_url=final, drop_selectors=tuple(drop_selectors))
    except ExtractError:
        raise
    except (RecursionError, MemoryError) as exc:
        raise ExtractError(f"HTML too deeply nested or too large: {type(exc).__name__}") from exc
    except Exception as exc:  # library bugs on hostile HTML must not end the run
        raise ExtractError(f"extraction crashed: {type(exc).__name__}: {exc}"[:300]) from exc


def _extract(html: str, *, url: str, final_url: str, drop_selectors: tuple[str, ...]) -> Extracted:
    tree = _load_html(html)
    if tree is None:
        raise ExtractError("HTML could not be parsed", kind="extract_failed")
    if drop_selectors:
        drop(tree, drop_selectors)
    sources = collect(tree)
    # Ad slots, hidden boxes and class-order churn out of the body's way (metadata read first).
    clean_tree(tree)
    join_split_body(tree)
    paragraph_divs(tree)
    unwrap_paragraphs(tree)
    body = _body(tree, final_url)
    if body is None:
        raise ExtractError("trafilatura found no article body", kind="extract_failed")
    text, markdown = body
    if not text:
        raise ExtractError("the article body is empty", kind="empty")
    meta = choose(sources, Fallback(), url=final_url)
    byline = None
    if not meta.authors_personal:
        meta, byline = with_body_byline(meta, text, bold_paragraphs(tree))
    if byline is not None:
        text = _drop_line(text, byline)
        markdown = _BLANK_LINES.sub("\n\n", _drop_line(markdown, byline))
    # The headline repeated as the body's first line belongs to the title field, not the body.
    heads = {_head_key(h) for h in [meta.title or "", *sources.h1[:3]]} - {""}
    text = _drop_leading(text, heads)
    markdown = _drop_leading(markdown, heads, strip="# ")
    if not text:
        raise ExtractError("the article body is empty", kind="empty")
    if meta.published is None:
        # htmldate's heuristics (URL, text patterns) only when the page declares no date;
        # it may clean the tree it is given, which nothing reads after this point.
        meta = replace(meta, published=_htmldate(tree, final_url))
    return Extracted(
        url=url,
        final_url=final_url,
        title=meta.title,
        headline=meta.headline,
        other_titles=meta.other_titles,
        authors=meta.authors,
        byline=meta.byline,
        published=meta.published,
        modified=meta.modified,
        description=meta.description,
        sitename=meta.sitename,
        language=meta.language,
        canonical_url=meta.canonical_url,
        text=text,
        markdown=markdown,
        extractor=EXTRACTOR_NAME,
        extractor_version=EXTRACTOR_VERSION,
        section=meta.section,
        tags=meta.tags,
    )


def _body(tree: etree._Element, url: str) -> tuple[str, str] | None:
    """(plain text, Markdown) of the article body, with the fallbacks of extract_fallback."""
    found = _render(_trafilatura(tree, url, TRAFILATURA_OPTIONS), tree)
    if found is None or len(found[0]) < SCRAP_CHARS:
        options = {**TRAFILATURA_OPTIONS, "favor_precision": False, "favor_recall": True}
        wider = _render(_trafilatura(tree, url, options), tree)
        if wider is not None and prefer_recall(found[0] if found else "", wider[0]):
            found = wider
    if found is None or len(found[0]) < SCRAP_CHARS:
        # A page rendered by script: the DOM may hold only menus and rails around no article.
        markup = flight_article_html(tree)
        if markup is not None and (inner := _load_html(markup)) is not None:
            shipped = _render(_trafilatura(inner, url, TRAFILATURA_OPTIONS), inner)
            if shipped is not None and (not found or prefer_recall(found[0], shipped[0])):
                found = shipped
    return found


def _trafilatura(tree: etree._Element, url: str, options: dict) -> object | None:
    """trafilatura's document for ``tree``, its readability/justext comparison run only when it can matter.

    That comparison is about a quarter of trafilatura's pass, and it can replace the own body
    only when readability's is twice as long, the own body has no paragraph text or is mostly
    tables, or (justext) the own body is short or still holds page furniture. A fast pass that
    is long, clean paragraphs, and at least half of the page's paragraph text is kept; any
    other page gets the full pass, exactly what trafilatura alone would give.
    """
    paragraph_chars = sum(len("".join(p.itertext())) for p in tree.iter("p"))
    # A page with little paragraph text seldom yields a body long enough to keep: straight to
    # the full pass, rather than a fast pass thrown away (22% of pages on the corpora).
    if paragraph_chars >= CONFIDENT_CHARS:
        # bare_extraction copies a tree it is given, so ``tree`` stays intact for every pass.
        doc = trafilatura.bare_extraction(tree, url=url, fast=True, **options)
        if doc is not None and not _comparison_may_change(doc, paragraph_chars):
            return doc
    return trafilatura.bare_extraction(tree, url=url, **options)


def _comparison_may_change(doc: object, paragraph_chars: int) -> bool:
    body = getattr(doc, "body", None)
    own = len(getattr(doc, "raw_text", "") or "")
    if body is None or own < CONFIDENT_CHARS:
        return True
    if not _PARAGRAPH_TEXT(body) or len(body.findall(".//table")) > len(body.findall(".//p")):
        return True
    if _FURNITURE(body):
        return True
    # Readability's body is mostly paragraphs: it cannot be twice ours if the page has no more.
    return paragraph_chars > 2 * own


def _render(doc: object, source: etree._Element) -> tuple[str, str] | None:
    if doc is None or getattr(doc, "body", None) is None:
        return None
    restore_headings(source, doc.body)
    _join_source_lines(doc.body)
    markdown = _BLANK_LINES.sub("\n\n", _unindent(xmltotxt(doc.body, True))).strip()
    plain_tree = deepcopy(doc.body)
    etree.strip_tags(plain_tree, "ref")
    return _tidy(xmltotxt(plain_tree, False)), markdown


def _load_html(html: str) -> etree._Element | None:
    """``trafilatura.utils.load_html`` for a str, on ``_PARSER`` (same checks and repairs)."""
    beginning = html[:50].lower()
    html = repair_faulty_html(html, beginning)
    tree, as_bytes = None, False
    try:
        tree = lxml_html.fromstring(html, parser=_PARSER)
    except ValueError:  # a str with an encoding declaration: lxml wants bytes
        tree, as_bytes = _from_bytes(html), True
    except Exception:
        pass
    if (tree is None or len(tree) < 1) and not as_bytes:
        tree = _from_bytes(html)
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        return None  # not (well-formed) HTML at all
    return tree


def _from_bytes(html: str) -> etree._Element | None:
    try:
        return lxml_html.fromstring(html.encode("utf8", "surrogatepass"), parser=_PARSER)
    except Exception:
        return None


def _htmldate(tree: object, url: str) -> str | None:
    try:
        found = find_date(tree, url=url, extensive_search=True, original_date=True)
    except Exception:  # htmldate bugs must not lose the article
        return None
    return found if isinstance(found, str) else None


def _drop_line(text: str, line: str, *, within: int = 8) -> str:
    """``text`` without its first line equal to ``line`` (Markdown emphasis ignored) near the top."""
    lines = text.split("\n")
    for i, candidate in enumerate(lines[:within]):
        if candidate.strip().strip("*_ ") == line:
            return "\n".join(lines[:i] + lines[i + 1 :]).strip("\n")
    return text


def _drop_leading(text: str, heads: set[str], *, strip: str = "") -> str:
    first, _, rest = text.partition("\n")
    if first and _head_key(first.lstrip(strip)) in heads:
        return rest.lstrip("\n")
    return text


def _head_key(line: str) -> str:
    """Letters and digits only: a headline whose kicker separator is a visually-hidden ": "
    reaches the body as "Kicker" glued to "Headline", and is still the same headline."""
    return "".join(ch for ch in fold(clean_text(line) or "") if ch.isalnum())


def _join_source_lines(body: etree._Element) -> None:
    """Newlines the page's source put inside a paragraph are spaces, as a browser shows them;
    otherwise one paragraph would become several lines (and versions would diff by line)."""
    for el in body.iter():
        if el.tail and "\n" in el.tail:
            el.tail = _SOURCE_NEWLINE.sub(" ", el.tail)
        if el.text and "\n" in el.text and not any(e.tag in ("code", "pre") for e in (el, *el.iterancestors())):
            el.text = _SOURCE_NEWLINE.sub(" ", el.text)


def _tidy(text: str) -> str:
    """One paragraph per line: the page's indentation, trailing spaces and blank lines removed."""
    lines = (line.strip() for line in _BLANK_LINES.sub("\n", text or "").split("\n"))
    return "\n".join(line for line in lines if line)


def _unindent(markdown: str) -> str:
    """Markdown without the page source's indentation, which would render as a code block.

    Fenced code keeps its own."""
    out, fenced = [], False
    for line in markdown.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        out.append(line if fenced else _INDENT.sub("", line))
    return "\n".join(out)
