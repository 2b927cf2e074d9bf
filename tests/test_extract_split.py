"""A body split into several same-class containers is extracted whole; look-alikes are not joined."""

from __future__ import annotations

from lxml import html as lxml_html

from pipeline.extract import extract
from pipeline.extract_split import join_split_body, paragraph_divs, unwrap_paragraphs
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


def assert_sentences_in_order(text: str, count: int) -> None:
    """Sentences 0..count-1 are all in ``text``, in their order."""
    positions = [text.find(sentence(n)) for n in range(count)]
    assert -1 not in positions, text
    assert positions == sorted(positions)


def test_every_part_of_a_split_body_is_extracted_in_order():
    assert_sentences_in_order(extract(split_page(), url="https://news.example/split").text, 15)


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


def paragraph_div_page(cls: str = "zn-body__paragraph") -> str:
    lead = f"<div class='el__leafmedia'><p><cite>(Wire)</cite>{sentence(0)} <a href='/x'>said the mayor</a>.</p></div>"
    paras = "".join(f"<div class='{cls}'>{sentence(n)} <em>It went on.</em></div>" for n in range(1, 9))
    about = "".join(f"<p>About us: {sentence(40 + n)}</p>" for n in range(3))
    return (
        "<html><head><title>Div story | Example</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>Div story</h1><div itemprop='articleBody'><div class='l-container'>{lead}{paras}"
        f"</div></div></article><div class='about'>{about}</div></body></html>"
    )


def test_paragraphs_marked_up_as_divs_are_extracted_whole():
    assert_sentences_in_order(extract(paragraph_div_page(), url="https://news.example/divs").text, 9)


def test_only_inline_only_divs_named_paragraph_are_retagged():
    tree = lxml_html.fromstring(
        "<html><body><div class='article-paragraph'>Text <b>bold</b> tail</div>"
        "<div class='paragraph-wrap'><p>block inside</p></div><div class='paragraph'> <span></span> </div>"
        "<div class='story'>plain div text</div><div class='paraglider'>not a paragraph</div></body></html>"
    )
    assert paragraph_divs(tree) == 1
    assert [el.get("class") for el in tree.iter("p")] == ["article-paragraph", None]


def wrapped_page(last: str) -> str:
    wrap = "<section class='content-group'><div class='sr-only'>Article content</div><div class='inline'>{}</div></section>"
    paras = [f"<p>{sentence(n)}</p>" for n in range(6)] + [f"<p><a href='/tag/x'>The economist</a> {last}</p>"]
    return (
        "<html><head><title>Jobs | Example</title></head><body><article><h1>Jobs</h1><div class='story'>"
        + "".join(wrap.format(p) for p in paras) + "</div></article></body></html>"
    )


def test_a_short_linked_paragraph_in_a_series_of_wrappers_survives_an_edit():
    # Each paragraph sits in its own wrapper; favor_precision deleted a wrapper under 200
    # characters holding a link, so removing a sentence removed the whole paragraph.
    short = "said the numbers are a good reminder of how a trend can reverse with one release."
    long = short + " The slide in full-time job growth that started in February has reversed this spring."
    for last in (long, short):
        assert f"The economist {last}" in extract(wrapped_page(last), url="https://news.example/jobs").text


def test_only_series_of_one_paragraph_wrappers_with_links_are_unwrapped():
    linked = "<div class='w'><p><a href='/a'>a</a> text</p></div>"
    tree = lxml_html.fromstring(
        f"<html><body>{linked * 3}<div class='w'><p>no link</p></div>"
        "<div class='pair'><p><a href='/b'>b</a></p></div>"
        f"<div class='v'><p><a href='/c'>c</a></p><p>two paragraphs</p></div></body></html>"
    )
    assert unwrap_paragraphs(tree) == 3
    assert [div.get("class") for div in tree.iter("div")] == ["w", "pair", "v"]
