"""A body split into several same-class containers is extracted whole; look-alikes are not joined."""

from __future__ import annotations

from lxml import html as lxml_html

from pipeline.extract import extract
from pipeline.extract_split import join_split_body
from tests.runsite import WORDS


def sentence(n: int) -> str:
    return f"Part {n} of the story: " + " ".join(WORDS[(n * 3 + k) % len(WORDS)] for k in range(24)) + "."


AD = "<div class='ad-slot'><span>Advertisement</span></div>"
PULL = "<aside class='pullquote'><p>A quote pulled out of the text for show.</p></aside>"


def split_page(container: str = "body__container article__body", parts: int = 5) -> str:
    blocks = []
    for n in range(parts):
        paras = "".join(f"<p>{sentence(n * 3 + k)}</p>" for k in range(3))
        blocks.append(f"<div class='grid'><div class='{container}'>{paras}</div></div>{AD if n % 2 else PULL}")
    return (
        "<html><head><title>Split story | Example</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>Split story</h1>{''.join(blocks)}</article><footer>Example Inc.</footer></body></html>"
    )


def test_every_part_of_a_split_body_is_extracted_in_order():
    got = extract(split_page(), url="https://news.example/split").text
    positions = [got.find(sentence(n)) for n in range(15)]
    assert -1 not in positions, got
    assert positions == sorted(positions)


def test_joining_moves_later_blocks_into_the_first_and_keeps_what_sits_between():
    tree = lxml_html.fromstring(split_page(parts=3))
    assert join_split_body(tree) == 2
    blocks = tree.xpath("//div[@class='body__container article__body']")
    assert len(blocks) == 1 and len(blocks[0].findall("p")) == 9
    assert tree.xpath("//div[@class='ad-slot']")  # the cleaner's business, not this module's


def test_teaser_cards_and_comments_are_not_joined():
    for container in ("card-body", "comment-body", "teaser__body"):
        tree = lxml_html.fromstring(split_page(container=container, parts=3))
        assert join_split_body(tree) == 0, container
        assert len(tree.xpath(f"//div[@class='{container}']")) == 3


def test_a_class_not_naming_a_body_and_a_single_body_are_left_alone():
    assert join_split_body(lxml_html.fromstring(split_page(container="grid-item", parts=3))) == 0
    assert join_split_body(lxml_html.fromstring(split_page(parts=1))) == 0


def test_blocks_without_real_paragraphs_are_not_joined():
    page = split_page(parts=3).replace("<p>Part", "<span>Part").replace(".</p>", ".</span>")
    assert join_split_body(lxml_html.fromstring(page)) == 0
