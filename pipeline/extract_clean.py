"""Generic pre-extraction cleaning: ad slots and hidden boxes out, class attributes made canonical.

trafilatura decides by regular expressions over the raw ``class``/``id`` strings, so its choices
depend on token order ("x hide" is caught, "hide x" is not) and it only knows ads whose id
starts with ``ad-``. This module works on *tokens* instead, on the tree extract.py parsed once:

- ad containers: a class/id token whose parts (split on ``-``, ``_`` and camelCase) name an
  ad (``advert*``, ``sponsor*``, ``gpt``+``ad``, ``ad``+``slot``, ``werbung``...), an element
  carrying ``data-ad*`` attributes, and a block that is mostly a ``rel=sponsored`` link;
- related-story boxes of teaser size: tokens like ``related``, ``read-more``, ``also-read``;
- hidden elements: the ``hidden`` attribute, ``aria-hidden="true"``, inline ``display:none``
  or ``visibility:hidden``, and the tokens ``hide``/``hidden``/``sr-only``/``visually-hidden``;
- class attributes: tokens sorted, and hash suffixes of CSS-in-JS names cut off, so
  trafilatura sees the same string whatever order or build hash a request got;
- text that trafilatura's favor_precision pass would lose with no reason in the page: an empty
  inline element (``<span id="more-12"></span>``) is deleted *with the text that follows it*,
  and any element whose inline style merely mentions ``border`` is dropped, so a style that
  says there is no border (``border:none``, common in pasted word-processor markup) loses it.

An element is never dropped when it holds a large share of the page's paragraph or visible
text: a page wrapped in ``<div class="has-ads">`` or a paywalled body marked hidden is still
the article.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise

from lxml import etree

from .extract_drop import remove_element

__all__ = ["canonical_class", "class_parts", "clean_tree"]

# Share of the page's <p> text above which a candidate is kept whatever its markers say.
MAX_SHARE = 0.3
MIN_KEPT = 200  # characters; on a page with almost no text, an ad may well hold 30% of it
# Related-story boxes are dropped only while teaser-sized: a big one named "related" may be
# the layout block trafilatura's choice hangs on, and keeping it costs little.
RELATED_MAX_CHARS = 500
_AD, _RELATED, _HIDDEN = "ad", "related", "hidden"

_SEPARATORS = re.compile(r"[-_\s:]+")
_HUMPS = re.compile(r"[A-Z]?[a-z]+")
# Parts that on their own mark an ad container.
_AD_PARTS = frozenset(
    "ad ads adv advert adverts advertisement advertisements advertising advertorial adslot adslots "
    "adunit adunits adcontainer adwrapper adbox adsense adsbygoogle dfp dfpad gpt gptad "
    "sponsor sponsors sponsored anzeige anzeigen werbung reklame reklama publicite publicidad "
    "pubblicita outbrain taboola teads criteo".split()
)
# Related-story and read-more boxes: teaser headlines that change on every request.
_RELATED_PARTS = frozenset(
    "related recirculation readmore alsoread mostread mostpopular morestories lesetipp lesetipps".split()
)
_RELATED_PAIRS = frozenset(
    {("read", "more"), ("also", "read"), ("read", "also"), ("most", "read"), ("most", "popular"),
     ("more", "stories"), ("see", "also"), ("more", "from"), ("you", "may"), ("further", "reading")}
)
_HIDDEN_TOKENS = frozenset(
    "hide hidden is-hidden sr-only sr-only-focusable screen-reader-text screenreader-only "
    "visually-hidden visuallyhidden u-hidden".split()
)
_HIDDEN_CLASS = re.compile(
    "(?:^|\\s)(?:" + "|".join(map(re.escape, sorted(_HIDDEN_TOKENS))) + ")(?=\\s|$)"
)
# Utility-CSS tokens that show the element again at some breakpoint ("hidden md:block").
_SHOWN_AGAIN = re.compile(
    r"^(?:[a-z0-9]+:)+(?:block|flex|grid|inline|table|contents)|^d-[a-z]+-(?!none)|^visible", re.IGNORECASE
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
# data-ad, data-ad-unit, data-adunit, data-ad-slot, data-ads...: attribute names, split like classes.
_AD_DATA = re.compile(r"^data-(?:ads?|adunit|adslot)(?:$|-)", re.IGNORECASE)
# A CSS-in-JS or CSS-module hash: a part of five or more characters mixing letters and digits,
# or anything after a known generator prefix (css-, sc-, jsx-, emotion-, svelte-).
_HASH_PART = re.compile(r"^(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{5,}$")
_GENERATED = re.compile(r"^(css|sc|jsx|emotion|svelte)[-_]", re.IGNORECASE)
# Cheap pre-tests on lower-cased text: without these substrings no part can name an ad or a
# related box, and without a digit or a generator prefix no token carries a build hash.
_HINT = re.compile(
    "ad|sponsor|gpt|dfp|werbung|anzeige|reklam|publici|pubblicit|outbrain|taboola|teads|criteo"
    "|relat|recirc|read|popular|stories|also|lesetipp|from|may"
)
_HASH_HINT = re.compile(r"[0-9]|(?:^|\s)(?:css|sc|jsx|emotion|svelte)[-_]")
_ROUGH_LEN = etree.XPath("string-length(normalize-space(.))")
_REL_LINKS = etree.XPath("//a[@rel]")
_KEEP_TAGS = frozenset(("html", "head", "body", "article", "main"))
_INVISIBLE = frozenset(("script", "style", "noscript", "template"))
_BLOCKS = ("p", "div", "li", "section", "aside", "figure")
# Empty inline elements that trafilatura's favor_precision pruning deletes with their tail text.
_EMPTY_INLINE = frozenset(("span", "b", "strong", "i", "em", "q"))
_NO_BORDER = re.compile(r"\bborder(?:-[a-z]+)*\s*:\s*(?:none|0|hidden)\b[^;]*;?", re.IGNORECASE)


def clean_tree(tree: etree._Element) -> None:
    """Clean ``tree`` in place before extraction (never raises on odd markup)."""
    doomed: list[tuple[etree._Element, int]] = []  # (element, most characters it may hold)
    empty: list[etree._Element] = []
    for el in tree.iter(etree.Element):  # elements only: no comments or processing instructions
        if el.tag in _EMPTY_INLINE and el.text is None and not len(el) and el.tail and el.tail.strip():
            empty.append(el)
        names = el.keys()
        if not names:
            continue
        if "style" in names and "border" in (style := el.get("style")):
            el.set("style", _NO_BORDER.sub("", style))
        verdict = None
        cls = el.get("class")
        if cls:
            verdict, canonical = _class_verdict(cls)
            if canonical != cls:
                el.set("class", canonical)
        if verdict is None and (len(names) > 1 or not cls):
            verdict = _attribute_verdict(el, names)
        if verdict and el.tag not in _KEEP_TAGS:
            doomed.append((el, RELATED_MAX_CHARS if verdict == _RELATED else 0))
    for a in _REL_LINKS(tree):
        if "sponsored" in a.get("rel").lower().split() and (block := _sponsored_block(a)) is not None:
            doomed.append((block, 0))
    totals: list[int] = []  # the page's paragraph and visible text, counted only when needed
    for el, limit in doomed:
        if not _attached(el, tree):
            continue
        size = int(_ROUGH_LEN(el))  # scripts included: an upper bound, counted in C
        if size >= MIN_KEPT:
            if not totals:
                totals += [_text_len(tree, "p"), _visible_len(tree)]
            if _holds_article(el, *totals) or (limit and _visible_len(el) > limit):
                continue
        remove_element(el)
    for el in empty:
        remove_element(el)  # its tail joins the text before it


@lru_cache(maxsize=8192)
def _class_verdict(value: str) -> tuple[str | None, str]:
    """(what the class names: _AD, _RELATED, _HIDDEN or None; canonical form) of one class value."""
    tokens = value.split()
    lower = value.lower()
    verdict = None
    if _HIDDEN_CLASS.search(lower) and not any(_SHOWN_AGAIN.match(t) for t in tokens):
        verdict = _HIDDEN
    elif _HINT.search(lower):
        verdict = next((v for t in tokens if (v := _token_verdict(t))), None)
    if _HASH_HINT.search(lower):
        tokens = [_unhashed(t) for t in tokens]
    return verdict, " ".join(sorted(set(tokens) - {""}))


def _attribute_verdict(el: etree._Element, names: list[str]) -> str | None:
    """What the id, data-ad* and hiding attributes say (the class was judged already)."""
    if "hidden" in names or ("aria-hidden" in names and el.get("aria-hidden").strip().lower() == "true"):
        return _HIDDEN
    if "style" in names and _HIDDEN_STYLE.search(el.get("style")):
        return _HIDDEN
    if "id" in names and (verdict := _token_verdict(el.get("id"))):
        return verdict
    for name in names:
        if name.startswith("data-ad") and _AD_DATA.match(name):
            return _AD
    return None


@lru_cache(maxsize=8192)
def _token_verdict(token: str) -> str | None:
    """_AD or _RELATED for a class/id token naming an ad slot or a related-stories box."""
    if not _HINT.search(token.lower()):
        return None  # most tokens: no part could match, skip the splitting
    parts = _parts(token)
    if any(p in _AD_PARTS or p.startswith(("advert", "sponsor")) for p in parts):
        return _AD
    if any(p in _RELATED_PARTS for p in parts) or any(pair in _RELATED_PAIRS for pair in pairwise(parts)):
        return _RELATED
    return None


def canonical_class(value: str) -> str:
    """Class tokens with build hashes cut off, deduplicated and sorted."""
    return _class_verdict(value)[1]


@lru_cache(maxsize=8192)
def _unhashed(token: str) -> str:
    if not _HASH_HINT.search(token.lower()):
        return token
    if _GENERATED.match(token):
        return token.split("-")[0].split("_")[0].lower()
    pieces = re.split(r"([-_]+)", token)
    # Keep the leading meaningful pieces: "Article_body__x7Ks9" -> "Article_body".
    while len(pieces) >= 3 and _HASH_PART.match(pieces[-1]):
        pieces = pieces[:-2]
    return "".join(pieces)


@lru_cache(maxsize=8192)
def class_parts(value: str) -> frozenset[str]:
    """The lower-cased words of every token of a class attribute ("article__body" -> article, body)."""
    return frozenset(p for token in value.split() for p in _parts(token))


def _parts(value: str) -> list[str]:
    """Lower-cased words of a class or id token: split on - _ : and on camelCase humps.

    A piece is split on humps only when every hump is a word-like run ("adWrapper",
    "GoogleAd"), never in random ids ("n1AuAdJlVL", "xKpAdQz").
    """
    out = []
    for piece in _SEPARATORS.split(value):
        humps = _HUMPS.findall(piece)
        wordlike = all(len(h) >= 3 for h in humps if h.lower() != "ad")
        if len(humps) > 1 and "".join(humps) == piece and wordlike:
            out += [h.lower() for h in humps]
        elif piece:
            out.append(piece.lower())
    return out


def _holds_article(el: etree._Element, paragraphs: int, visible: int) -> bool:
    """True when ``el`` holds a large share of the page's text: markers or not, keep it."""
    mine = _text_len(el, "p")
    if mine >= MIN_KEPT and mine > MAX_SHARE * paragraphs:
        return True
    mine = _visible_len(el)
    return mine >= MIN_KEPT and mine > MAX_SHARE * visible


def _sponsored_block(a: etree._Element) -> etree._Element | None:
    """The nearest block around a sponsored link, when the link is most of its text."""
    link = len(" ".join("".join(a.itertext()).split()))
    for block in a.iterancestors(*_BLOCKS):
        text = len(" ".join("".join(block.itertext()).split()))
        return block if link and link * 2 >= text else None
    return None


def _text_len(el: etree._Element, tag: str) -> int:
    return sum(len("".join(p.itertext()).strip()) for p in el.iter(tag))


def _visible_len(el: etree._Element) -> int:
    """Characters of text a reader could see under ``el``: scripts and styles left out."""
    size = int(_ROUGH_LEN(el))
    if size:
        size -= sum(int(_ROUGH_LEN(node)) for node in el.iter(*_INVISIBLE))
    return max(size, 0)


def _attached(el: etree._Element, root: etree._Element) -> bool:
    for ancestor in el.iterancestors():
        if ancestor is root:
            return True
    return el is root

