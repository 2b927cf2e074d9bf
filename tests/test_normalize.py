"""archive.normalize: what counts as the same content, and how changes are classified."""

from __future__ import annotations

import hashlib

import pytest

from hypothesis import given
from hypothesis import strategies as st

from archive.models import VERSIONED_FIELDS, Content
from archive.normalize import (
    changed_fields,
    content_hash,
    field_hashes,
    is_minor_change,
    normalize_content,
    normalize_text,
    word_stats,
)

# Text with the characters normalisation cares about well represented.
_ALPHABET = st.sampled_from(
    list("ab é\n\t\r ,.'\"-")
    + ["\u00a0", "\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u2028"]
    + ["\u2018", "\u2019", "\u201c", "\u201d", "\u2013", "\u2014", "\u2212", "\u2032"]
    + ["e\u0301", "\u0301", "\u2126", "\u3000", "\u2003", "字"]
)
messy_text = st.lists(_ALPHABET, max_size=60).map("".join)
plain_words = st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta", "Ωμέγα"]), min_size=1, max_size=8)


def test_normalize_text_spec_examples():
    raw = "  Le\u00a0pr\u00e9sident\u00ad a dit \u201cnon\u201d \u2014 l\u2019homme\u200b  \t ici.\r\n\n\n  Deux\u2013trois  "
    assert normalize_text(raw) == 'Le président a dit "non" - l\'homme ici.\nDeux-trois'


def test_normalize_text_composes_to_nfc():
    assert normalize_text("Cafe\u0301") == "Caf\u00e9"
    # a zero-width space between base and accent must not leave a decomposed pair behind
    assert normalize_text("Cafe\u200b\u0301") == "Caf\u00e9"


def test_normalize_text_keeps_paragraphs_and_case():
    assert normalize_text("One.\nTwo.") == "One.\nTwo."
    assert normalize_text("Paris") != normalize_text("paris")


@given(st.one_of(messy_text, st.text()))
def test_normalize_text_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@given(plain_words, st.data())
def test_invisible_and_typographic_variants_normalise_equal(words, data):
    straight = " ".join(f"'{w}\" -" for w in words)
    fancy_parts = []
    for w in words:
        space = data.draw(st.sampled_from([" ", "\u00a0", "  ", " \t", "\u2003"]))
        invisible = data.draw(st.sampled_from(["", "\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]))
        quote = data.draw(st.sampled_from(["'", "\u2018", "\u2019", "\u2032"]))
        dquote = data.draw(st.sampled_from(['"', "\u201c", "\u201d", "\u2033"]))
        dash = data.draw(st.sampled_from(["-", "\u2013", "\u2014", "\u2212", "\u2012", "\u2015"]))
        fancy_parts.append(f"{quote}{w[:1]}{invisible}{w[1:]}{dquote}{space}{dash}")
    fancy = " ".join(fancy_parts)
    assert normalize_text(fancy) == normalize_text(straight)


def test_normalize_content_fields():
    content = Content(
        title=" A\u00a0title ",
        headline="A\u00adtitle\u200b, printed",
        authors=("Jane Doe", " John  Roe "),
        published="2025-01-20",
        canonical_url=" https://example.org/a?id=1#comments ",
        text="Para one.\n\n Para two. ",
    )
    assert normalize_content(content) == {
        "title": "A title",
        "headline": "Atitle, printed",
        "other_titles": "",
        "authors": "Jane Doe\nJohn Roe",
        "byline": "",
        "published": "2025-01-20",
        "modified": "",
        "description": "",
        "canonical_url": "https://example.org/a?id=1",
        "text": "Para one.\nPara two.",
    }
    assert tuple(normalize_content(Content())) == VERSIONED_FIELDS


def test_field_hashes_and_content_hash():
    content = Content(title="T", text="Body")
    hashes = field_hashes(content)
    assert hashes["title"] == hashlib.sha256(b"T").hexdigest()
    assert hashes["modified"] == hashlib.sha256(b"").hexdigest()
    # a field added later is hashed only when set, so older versions keep their digest
    assert "byline" not in hashes
    assert "byline" in field_hashes(Content(title="T", text="Body", byline=("Ann Lee",)))
    # the same content in a different dict order hashes the same
    assert content_hash(dict(reversed(hashes.items()))) == content_hash(hashes)
    # swapping values between fields is a change
    swapped = field_hashes(Content(title="Body", text="T"))
    assert content_hash(swapped) != content_hash(hashes)
    # invisible differences do not change the hash
    assert content_hash(field_hashes(Content(title="T\u200b", text="Body\u00a0"))) == content_hash(hashes)


def test_changed_fields_in_versioned_order():
    old = field_hashes(Content(title="A", authors=("X",), text="Body"))
    new = field_hashes(Content(title="B", authors=("X",), text="Body changed"))
    assert changed_fields(old, new) == ("title", "text")
    assert changed_fields(old, old) == ()


def test_is_minor_change_whitespace_and_punctuation_only():
    base = Content(title="Putin congratulates Trump", text="He said: no comment.\nSecond one.")
    spaced = Content(title="Putin  congratulates Trump", text="He said: no comment.\n\nSecond   one.")
    punct = Content(title="Putin congratulates Trump!", text="He said, \u201cno comment\u201d\nSecond one")
    assert is_minor_change(base, spaced) is False  # normalises equal: not a change at all
    assert is_minor_change(base, Content(title=base.title, text="He said:no comment.\nSecond one.")) is True
    assert is_minor_change(base, punct) is True


def test_is_minor_change_word_or_case_is_substantive():
    base = Content(title="Putin congratulates Trump", text="He said no comment.")
    assert is_minor_change(base, Content(title=base.title, text="He said a comment.")) is False
    assert is_minor_change(base, Content(title="Putin Congratulates Trump", text=base.text)) is False
    # a minor title edit together with a substantive body edit is not minor
    assert is_minor_change(base, Content(title="Putin congratulates Trump.", text="She said no comment.")) is False
    # symbols are content, not punctuation
    assert is_minor_change(Content(text="Costs 5 $"), Content(text="Costs 5 \u20ac")) is False


def test_word_stats():
    assert word_stats("one two three", "one two three") == (0, 0)
    assert word_stats("The quick brown fox.", "The slow brown fox.") == (1, 1)
    assert word_stats("First.\nSecond.", "First.\nNew words here.\nSecond.") == (3, 0)
    assert word_stats("A sentence that goes.\nKeep.", "Keep.") == (0, 4)
    # punctuation and invisible characters are not words
    assert word_stats("Hello, world", "Hello world!") == (0, 0)
    assert word_stats("Hello\u00a0world", "Hello world") == (0, 0)


@pytest.mark.parametrize(
    "line",
    ["Updated 5 minutes ago", "1.2K views", "hace 3 horas", "87 Kommentare"],
)
def test_widget_lines_never_count_in_the_body_fingerprint(line):
    body = "The council approved the bridge.\nResidents objected to the plan."
    with_widget = Content(text=f"The council approved the bridge.\n{line}\nResidents objected to the plan.")
    assert field_hashes(Content(text=body))["text"] == field_hashes(with_widget)["text"]


@pytest.mark.parametrize("line", ["Bake for 10 minutes", "He died 5 minutes ago."])
def test_sentences_that_look_like_widgets_still_count(line):
    body = "The council approved the bridge."
    assert field_hashes(Content(text=body))["text"] != field_hashes(
        Content(text=f"{body}\n{line}")
    )["text"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Residents objected to the plan. vor 9 Minuten aktualisiert", "Residents objected to the plan. vor 14 Minuten aktualisiert"),
        ("Residents objected to the plan. Updated 5 minutes ago", "Residents objected to the plan. Updated 7 minutes ago"),
        ("Residents objected. | 1,204 views", "Residents objected. | 1,388 views"),
        ("Updated 5 minutes ago Residents objected to the plan.", "Updated 9 minutes ago Residents objected to the plan."),
    ],
)
def test_widget_glued_to_a_paragraph_never_counts(old, new):
    assert field_hashes(Content(text=old))["text"] == field_hashes(Content(text=new))["text"]
    # ... while the paragraph around it still does
    edited = old.replace("Residents", "Tenants")
    assert field_hashes(Content(text=old))["text"] != field_hashes(Content(text=edited))["text"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("The bridge opened. He said it closed 3 days ago.", "The bridge opened. He said it closed 4 days ago."),
        ("The vote was held 5 days ago", "The vote was held 6 days ago"),  # no sentence before it
    ],
)
def test_numbers_inside_sentences_still_count(old, new):
    assert field_hashes(Content(text=old))["text"] != field_hashes(Content(text=new))["text"]
