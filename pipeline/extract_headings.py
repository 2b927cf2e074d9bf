"""Put back the subheadings trafilatura dropped from inside an article it kept.

trafilatura loses an article's <h2>/<h3> in two ways: when no known article container matches,
its recovery pass gathers loose paragraphs and never headings; and its precision mode deletes a
heading that is mostly a link (a product name in a buying guide). A subheading is part of what
the article says, and an edit to it must be seen. Only a heading that sits, in the page, between
two paragraphs the result kept side by side is restored, so a heading above a related-links box
or after the article's end stays out.
"""

from __future__ import annotations

from lxml import etree

from pipeline.metadata_clean import fold

__all__ = ["restore_headings"]

_HEADINGS = etree.XPath("//h2 | //h3 | //h4")
_TEXT_OF = etree.XPath("string()")
_MAX_HEADINGS = 200  # looked at per page: a hostile page with thousands costs nothing
_MAX_HEADING_CHARS = 200  # longer is a paragraph styled as a heading, which the body keeps or not
_KEY_CHARS = 120  # a paragraph is known by the start of its text
_KEY_SOURCE_CHARS = 4 * _KEY_CHARS
_MAX_BLOCK_CHARS = 200  # text in a non-paragraph sibling beyond which the heading is not placed
_HEADING_TAGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))


def restore_headings(source: etree._Element, body: etree._Element) -> int:
    """Insert into ``body`` (trafilatura's result) the source's headings it lost; return how many."""
    blocks = {}
    for index, el in enumerate(body):
        key = _key(_TEXT_OF(el))
        if key and el.tag == "p":
            blocks.setdefault(key, index)
    if len(blocks) < 2:
        return 0
    present = {_key(_TEXT_OF(el)) for el in body.iter("head")}
    inserts: list[tuple[int, str, str]] = []
    for heading in _HEADINGS(source)[:_MAX_HEADINGS]:
        text = " ".join(_TEXT_OF(heading).split())
        key = _key(text)
        if not key or len(text) > _MAX_HEADING_CHARS or key in present:
            continue
        before, after = _paragraph_sibling(heading, "previous"), _paragraph_sibling(heading, "next")
        if before is None or after is None:
            continue
        at_before, at_after = blocks.get(_key(_TEXT_OF(before))), blocks.get(_key(_TEXT_OF(after)))
        if at_before is None or at_after != at_before + 1:
            continue
        inserts.append((at_after, text, heading.tag))
        present.add(key)
    # From the end, so earlier positions stay valid; two headings in one gap keep their order.
    for at, text, tag in sorted(inserts, key=lambda item: item[0], reverse=True):
        restored = etree.Element("head", rend=tag)
        restored.text = text
        restored.tail = "\n"
        body.insert(at, restored)
    return len(inserts)


def _paragraph_sibling(heading: etree._Element, direction: str) -> etree._Element | None:
    """The nearest <p> with text beside ``heading``, past empty elements, ads or embeds only."""
    def step(el: etree._Element) -> etree._Element | None:
        return el.getprevious() if direction == "previous" else el.getnext()

    sibling = step(heading)
    for _ in range(6):
        if sibling is None:
            return None
        if sibling.tag == "p" and _key(_TEXT_OF(sibling)):
            return sibling
        # Another heading in between is looked past (it is judged on its own); a block of text
        # we cannot place is not: do not guess.
        if (sibling.tag not in _HEADING_TAGS and isinstance(sibling.tag, str)
                and len(_TEXT_OF(sibling).strip()) > _MAX_BLOCK_CHARS):
            return None
        sibling = step(sibling)
    return None


def _key(text: str) -> str:
    # A long paragraph is keyed by folding only its start. Folding keeps the order of what it
    # keeps, so once the cut start still folds to _KEY_CHARS, the whole text's key begins alike.
    if len(text) > _KEY_SOURCE_CHARS:
        key = fold(" ".join(text[:_KEY_SOURCE_CHARS].split()))
        if len(key) >= _KEY_CHARS:
            return key[:_KEY_CHARS]
    return fold(" ".join(text.split()))[:_KEY_CHARS]
