"""The article body's layout made legible to trafilatura before the body pass.

A body split into several containers is joined. Some publishers cut the body into sibling
blocks of one class, with ads or pull quotes between them (``<div class="body__container">``
×5, ``StoryBodyCompanionColumn`` ×8). trafilatura scores each block on its own and keeps the
best one, so most of the article is lost. Here the later blocks' children move into the first
block, in document order. Only classes that name a body (a class part ``body``) take part,
and only blocks that each hold real paragraphs: teaser cards and comment threads are left alone.

Paragraphs marked up as ``<div class="…paragraph…">`` holding only inline content become
``<p>``. trafilatura's favor_precision pass skips text in <div>s whenever the page has enough
<p> text elsewhere, so such a body was lost, or left to readability, which drops blocks with
"media" in their class (the lead paragraph of a page whose other paragraphs were divs).

A series of same-class wrappers, each around one paragraph holding a link, is unwrapped.
favor_precision deletes a <div> under 200 characters that contains a link (a "read more"
box, to it), so such a paragraph vanished once an edit made it short; in a series of three
or more look-alike wrappers the paragraph is prose like its neighbours.
"""

from __future__ import annotations

from collections import defaultdict

from lxml import etree

from .extract_clean import class_parts
from .extract_drop import remove_element

__all__ = ["join_split_body", "paragraph_divs", "unwrap_paragraphs"]

MIN_PARAGRAPH = 80  # characters of <p> text for a block to count as body text
MIN_BLOCKS = 2
MIN_WRAPPERS = 3  # same-class one-paragraph wrappers that make a series
# One pass in C: only classes with "ody"/"ODY" in them (body, Body) are split into parts.
_CANDIDATES = etree.XPath(
    "//*[self::div or self::section][contains(@class, 'ody') or contains(@class, 'ODY')]"
)
_P_TEXT = etree.XPath("string-length(normalize-space(string(.)))")
# <div>s whose class might name a paragraph ("zn-body__paragraph", "articleParagraph", "para").
_PARA_CANDIDATES = etree.XPath("//div[contains(translate(@class, 'P', 'p'), 'para')]")
_PARAGRAPH_PARTS = frozenset({"paragraph", "para"})
_INLINE = frozenset(
    "a abbr b bdi bdo br cite code del dfn em font i ins kbd mark q s small span strong sub sup time u var".split()
)
_UNWRAP = "palimpsest-unwrap"  # a tag no page uses, stripped right after it is set
_NOT_BODY = frozenset({"comment", "comments", "teaser", "card", "promo", "related", "footer", "header", "nav"})


def join_split_body(tree: etree._Element) -> int:
    """Merge the blocks of a split body into the first; returns how many blocks were merged."""
    groups: dict[str, list[etree._Element]] = defaultdict(list)
    for el in _CANDIDATES(tree):
        value = el.get("class", "")
        parts = class_parts(value)
        if "body" in parts and not _NOT_BODY.intersection(parts):
            groups[value].append(el)
    merged = 0
    for blocks in groups.values():
        blocks = [b for b in blocks if _holds_paragraphs(b)]
        blocks = [b for b in blocks if not any(a in blocks for a in b.iterancestors())]
        if len(blocks) < MIN_BLOCKS:
            continue
        first = blocks[0]
        for block in blocks[1:]:
            if block.text and block.text.strip():
                etree.SubElement(first, "p").text = block.text
            for child in list(block):
                first.append(child)  # lxml moves the element, its tail with it
            remove_element(block)  # keeps the text that followed it
            merged += 1
    return merged


def _holds_paragraphs(block: etree._Element) -> bool:
    return any(_P_TEXT(p) >= MIN_PARAGRAPH for p in block.iter("p"))


def paragraph_divs(tree: etree._Element) -> int:
    """Retag as <p> each <div> whose class names a paragraph and which holds only inline content
    with text of its own; returns how many were retagged."""
    retagged = 0
    for el in _PARA_CANDIDATES(tree):
        if not _PARAGRAPH_PARTS.intersection(class_parts(el.get("class"))):
            continue
        if any(child.tag not in _INLINE for child in el):  # comments' tag is a function: not inline
            continue
        if (el.text or "").strip() or any((child.tail or "").strip() for child in el):
            el.tag = "p"
            retagged += 1
    return retagged


def unwrap_paragraphs(tree: etree._Element) -> int:
    """Strip the wrappers of a series of one-paragraph <div>/<section>s of one class where the
    paragraph holds a link; returns how many wrappers were stripped."""
    series: dict[tuple[str, str], list[etree._Element]] = defaultdict(list)
    for el in tree.iter("div", "section"):
        cls = el.get("class")
        if not cls or (el.text or "").strip():
            continue
        kids = [child for child in el if isinstance(child.tag, str)]
        if len(kids) == 1 and kids[0].tag == "p" and not (kids[0].tail or "").strip():
            series[(el.tag, cls)].append(el)
    doomed = [
        el for members in series.values() if len(members) >= MIN_WRAPPERS
        for el in members if el.getparent() is not None and next(el.iter("a"), None) is not None
    ]
    for el in doomed:
        el.tag = _UNWRAP
    if doomed:
        etree.strip_tags(tree, _UNWRAP)
    return len(doomed)
