"""Per-site "drop" selectors: CSS compiled to XPath by cssselect, applied to the parsed tree.

css_to_xpath raises ValueError for a selector cssselect cannot parse or translate, so config
validation can name the bad selector; extraction itself skips such a selector.
"""

from __future__ import annotations

from functools import lru_cache

from cssselect import HTMLTranslator, SelectorError
from lxml import etree

__all__ = ["css_to_xpath", "drop"]

# The HTML translator matches element names case-insensitively, as browsers do.
_TRANSLATOR = HTMLTranslator()


def css_to_xpath(selector: str) -> str:
    """One CSS selector (or comma list) -> an XPath 1.0 expression; ValueError if unusable."""
    if not isinstance(selector, str) or not selector.strip():
        raise ValueError(f"empty selector {selector!r}")
    try:
        return _TRANSLATOR.css_to_xpath(selector)
    except SelectorError as exc:  # SelectorSyntaxError and ExpressionError (pseudo-elements)
        raise ValueError(f"unsupported CSS selector {selector!r}: {exc}") from exc


@lru_cache(maxsize=256)
def _compiled(selector: str) -> etree.XPath | None:
    try:
        return etree.XPath(css_to_xpath(selector))
    except (ValueError, etree.XPathSyntaxError):
        return None  # config validation reports it; extraction just skips it


def drop(tree: etree._Element, selectors: tuple[str, ...]) -> int:
    """Remove every element matching one of ``selectors`` (with its subtree, keeping its tail)."""
    removed = 0
    for selector in selectors:
        xpath = _compiled(selector)
        if xpath is None:
            continue
        for el in xpath(tree):
            removed += remove_element(el)
    return removed


def remove_element(el) -> bool:
    """Remove ``el`` and its subtree, keeping the text that follows it (lxml keeps that text
    in ``el.tail``, which ``remove`` would throw away). False for the root."""
    parent = el.getparent()
    if parent is None:
        return False
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)
    return True
