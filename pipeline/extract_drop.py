"""Per-site "drop" selectors: a small CSS subset compiled to XPath, applied to the parsed tree.

Supported: tag, *, .class, #id, [attr], [attr=value], [attr*=value], [attr^=value], compounds
of these (div.ad[data-x]), descendant (space) and child (>) combinators, and comma lists.
Anything else raises ValueError from css_to_xpath, so config validation can name the selector.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lxml import etree

_TOKEN = re.compile(
    r"\s*(?P<comb>>)\s*|(?P<space>\s+)|(?P<tag>[a-zA-Z][\w-]*|\*)|\.(?P<cls>[\w-]+)|#(?P<id>[\w-]+)"
    r"|\[\s*(?P<attr>[\w-]+)\s*(?:(?P<op>[*^]?=)\s*(?P<q>[\"']?)(?P<val>[^\"'\]]*)(?P=q)\s*)?\]"
)


def css_to_xpath(selector: str) -> str:
    parts = [_one(s.strip()) for s in selector.split(",") if s.strip()]
    if not parts:
        raise ValueError(f"empty selector {selector!r}")
    return " | ".join(parts)


def _one(selector: str) -> str:
    steps: list[str] = []
    axis, tag, preds = "//", "*", []
    pos = 0
    while pos < len(selector):
        m = _TOKEN.match(selector, pos)
        if not m or m.end() == pos:
            raise ValueError(f"unsupported CSS selector {selector!r} at {selector[pos:]!r}")
        pos = m.end()
        if m["comb"] or m["space"]:
            if tag != "*" or preds:
                steps.append(f"{axis}{tag}{''.join(preds)}")
            elif not steps:
                raise ValueError(f"selector {selector!r} starts with a combinator")
            axis, tag, preds = ("/" if m["comb"] else "//"), "*", []
        elif m["tag"]:
            tag = m["tag"].lower() if m["tag"] != "*" else "*"
        elif m["cls"]:
            preds.append(f"[contains(concat(' ', normalize-space(@class), ' '), ' {m['cls']} ')]")
        elif m["id"]:
            preds.append(f"[@id='{m['id']}']")
        elif m["attr"]:
            name, op, val = m["attr"], m["op"], (m["val"] or "").replace("'", "")
            preds.append(
                {None: f"[@{name}]", "=": f"[@{name}='{val}']", "*=": f"[contains(@{name}, '{val}')]",
                 "^=": f"[starts-with(@{name}, '{val}')]"}[op]
            )
    steps.append(f"{axis}{tag}{''.join(preds)}")
    return "".join(steps)


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
            parent = el.getparent()
            if parent is None:
                continue
            if el.tail:
                prev = el.getprevious()
                if prev is not None:
                    prev.tail = (prev.tail or "") + el.tail
                else:
                    parent.text = (parent.text or "") + el.tail
            parent.remove(el)
            removed += 1
    return removed
