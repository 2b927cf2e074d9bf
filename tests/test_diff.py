"""archive.diff: paragraph alignment, word ops, exact reconstruction."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.diff import Block, FieldChange, WordOp, apply_ops, diff_texts, diff_versions
from archive.models import Content, Version

# Paragraph-ish texts: words from a small vocabulary (so edits share material), unicode,
# punctuation and every kind of whitespace, including empty and trailing lines.
_PIECES = st.sampled_from(
    ["the", "cat", "sat", "on", "mat", "Ωμέγα", "naïve", "東京", "字", "😀", "e\u0301", ",", ".", "'", "—"]
    + [" ", "  ", "\t", "\u00a0", "\n", "\n\n", "\r\n"]
)
texts = st.lists(_PIECES, max_size=80).map("".join)
any_text = st.one_of(texts, st.text(max_size=200))


def _version(number: int, content: Content, captured_at: str = "2025-01-20T10:00:00+00:00") -> Version:
    return Version(
        url="https://example.org/a",
        number=number,
        captured_at=captured_at,
        content=content,
    )


@given(any_text)
def test_diff_of_text_with_itself_is_all_equal(text):
    blocks, ops = diff_texts(text, text)
    assert all(op.op == "equal" for op in ops)
    assert all(block.kind == "equal" for block in blocks)
    assert apply_ops(text, ops) == text


@settings(max_examples=300)
@given(any_text, any_text)
def test_ops_rebuild_new_text_exactly(old, new):
    _blocks, ops = diff_texts(old, new)
    assert apply_ops(old, ops) == new
    for op in ops:
        assert op.op in ("equal", "insert", "delete", "replace")
        if op.op == "equal":
            assert op.old == op.new and op.old
        elif op.op == "insert":
            assert op.old == "" and op.new
        elif op.op == "delete":
            assert op.old and op.new == ""
        else:
            assert op.old and op.new
    # JSON round trip of the ops works too, as a researcher would use them
    as_json = json.loads(json.dumps([{"op": o.op, "old": o.old, "new": o.new} for o in ops]))
    assert apply_ops(old, as_json) == new


@given(texts, texts)
def test_blocks_cover_both_texts_in_order(old, new):
    blocks, _ops = diff_texts(old, new)
    old_paras = [p for b in blocks for p in b.old]
    new_paras = [p for b in blocks for p in b.new]
    assert old_paras == (old.split("\n") if old else [])
    assert new_paras == (new.split("\n") if new else [])


def test_apply_ops_rejects_ops_that_do_not_fit():
    ops = (WordOp("equal", "abc", "abc"),)
    with pytest.raises(ValueError):
        apply_ops("abd", ops)
    with pytest.raises(ValueError):
        apply_ops("abcdef", ops)


def test_one_word_edit_is_a_changed_paragraph_with_that_word():
    old = "Intro paragraph.\nThe minister resigned on Monday after the vote.\nOutro."
    new = "Intro paragraph.\nThe minister resigned on Tuesday after the vote.\nOutro."
    blocks, ops = diff_texts(old, new)
    assert [b.kind for b in blocks] == ["equal", "changed", "equal"]
    changes = [op for op in ops if op.op != "equal"]
    assert changes == [WordOp("replace", "Monday", "Tuesday")]
    assert [w for w in blocks[1].words if w.op != "equal"] == changes


def test_adjacent_changed_words_form_one_op():
    _blocks, ops = diff_texts("The quick brown fox.", "The slow red fox.")
    assert [op for op in ops if op.op != "equal"] == [WordOp("replace", "quick brown", "slow red")]


def test_paragraphs_sharing_little_are_replaced_whole():
    old = "Keep this.\nPolice said the suspect fled the scene in a car.\nEnd."
    new = "Keep this.\nWeather tomorrow will be sunny with light winds.\nEnd."
    blocks, _ops = diff_texts(old, new)
    assert blocks[1] == Block(
        "replace",
        ("Police said the suspect fled the scene in a car.",),
        ("Weather tomorrow will be sunny with light winds.",),
        (),
    )


def test_replaced_group_pairs_similar_paragraphs():
    old = "A.\nThe council approved the budget on Friday.\nB."
    new = "A.\nA completely new paragraph about sport.\nThe council rejected the budget on Friday.\nB."
    blocks, _ops = diff_texts(old, new)
    kinds = [b.kind for b in blocks]
    assert kinds == ["equal", "insert", "changed", "equal"]
    assert blocks[1].new == ("A completely new paragraph about sport.",)
    assert [w for w in blocks[2].words if w.op != "equal"] == [WordOp("replace", "approved", "rejected")]


def test_added_and_removed_paragraphs():
    blocks, ops = diff_texts("One.\nTwo.", "One.\nTwo.\nThree.")
    assert [b.kind for b in blocks] == ["equal", "insert"]
    assert [op for op in ops if op.op != "equal"] == [WordOp("insert", "", "\nThree.")]
    blocks, ops = diff_texts("One.\nTwo.\nThree.", "One.\nThree.")
    assert [b.kind for b in blocks] == ["equal", "delete", "equal"]
    assert [op for op in ops if op.op != "equal"] == [WordOp("delete", "Two.\n", "")]


def test_diff_versions_reports_fields_then_body():
    old = _version(1, Content(title="Old title", authors=("A. Writer",), text="Body one.\nBody two."))
    new = _version(
        3,
        Content(title="New title", authors=("A. Writer", "B. Editor"), text="Body one.\nBody 2."),
        captured_at="2025-01-21T10:00:00+00:00",
    )
    diff = diff_versions(old, new)
    assert (diff.url, diff.from_version, diff.to_version) == ("https://example.org/a", 1, 3)
    assert diff.to_captured_at == "2025-01-21T10:00:00+00:00"
    assert diff.changed == ("title", "authors", "text")
    assert diff.fields == (
        FieldChange("title", "Old title", "New title"),
        FieldChange("authors", "A. Writer", "A. Writer, B. Editor"),
    )
    assert apply_ops(old.content.text, diff.ops) == new.content.text


def test_diff_versions_ignores_invisible_changes_in_changed_list():
    old = _version(1, Content(title="Title", text="Same body."))
    new = _version(2, Content(title="Title\u00a0", text="Same\u00a0body."))
    diff = diff_versions(old, new)
    assert diff.changed == () and diff.fields == ()
    # the ops are still exact about what the stored text is
    assert apply_ops(old.content.text, diff.ops) == new.content.text


def test_sentence_added_to_short_paragraph_is_a_word_change():
    old = "Intro.\nBy STAFF\nOutro."
    new = "Intro.\nBy STAFF and the mayor declined to comment on Tuesday.\nOutro."
    blocks, ops = diff_texts(old, new)
    assert [b.kind for b in blocks] == ["equal", "changed", "equal"]
    assert [op for op in ops if op.op != "equal"] == [
        WordOp("insert", "", " and the mayor declined to comment on Tuesday.")
    ]


def test_sentence_removed_leaves_the_rest_equal():
    kept = "The vote is due on Friday."
    old = "Intro.\nA long first sentence about the council and its many members here. " + kept + "\nEnd."
    new = "Intro.\n" + kept + "\nEnd."
    _blocks, ops = diff_texts(old, new)
    assert [op for op in ops if op.op != "equal"] == [
        WordOp("delete", "A long first sentence about the council and its many members here. ", "")
    ]


@pytest.mark.parametrize("short_first", [True, False])
def test_swapped_paragraphs_show_the_shorter_one_moving(short_first):
    short = "Short note."
    long = "A much longer paragraph with many words that stays where it is in the story."
    old_paras = ["Head.", short, long, "Tail."] if short_first else ["Head.", long, short, "Tail."]
    new_paras = ["Head.", long, short, "Tail."] if short_first else ["Head.", short, long, "Tail."]
    blocks, ops = diff_texts("\n".join(old_paras), "\n".join(new_paras))
    moved = [b for b in blocks if b.kind in ("insert", "delete")]
    assert {p for b in moved for p in b.old + b.new} == {short}
    assert apply_ops("\n".join(old_paras), ops) == "\n".join(new_paras)


def test_appended_sentence_is_one_clean_insertion():
    old = "Intro.\nThe office of Letitia James was contacted.\nEnd."
    new = "Intro.\nThe office of Letitia James was contacted. The company declined to comment.\nEnd."
    _blocks, ops = diff_texts(old, new)
    assert [op for op in ops if op.op != "equal"] == [
        WordOp("insert", "", " The company declined to comment.")
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("東京の私立大では学生が増えた。次の文。", "東京のnothing立大では学生が増えた。次の文。", [("私", "nothing")]),
        ("尹氏は野党が政府高官や検事らへの弾劾を進めた。", "尹氏は野党が政府高話や検事らへの弾劾を進めた。", [("官", "話")]),
    ],
)
def test_chinese_and_japanese_edits_are_one_character_words_not_whole_sentences(old, new, expected):
    _blocks, ops = diff_texts(old, new)
    assert [(op.old, op.new) for op in ops if op.op != "equal"] == expected
    assert apply_ops(old, [{"op": op.op, "old": op.old, "new": op.new} for op in ops]) == new


def test_a_moved_paragraph_is_one_delete_and_one_insert_of_itself():
    moved = "\u201cI feel like I\u2019m in an alternate universe,\u201d she said."
    old = f"Intro line.\n{moved}\nSwift and Travis went to Coachella.\n\u201cI loved it,\u201d he said."
    new = f"Intro line.\nSwift and Travis went to Coachella.\n{moved}\n\u201cI loved it,\u201d he said."
    _blocks, ops = diff_texts(old, new)
    changed = [op for op in ops if op.op != "equal"]
    # Either paragraph may be the one shown as moved; it moves whole, first word included.
    assert sorted(op.op for op in changed) == ["delete", "insert"]
    assert changed[0].old + changed[0].new == changed[1].old + changed[1].new
    assert changed[0].old + changed[0].new in (moved + "\n", "Swift and Travis went to Coachella.\n")
    assert apply_ops(old, [{"op": op.op, "old": op.old, "new": op.new} for op in ops]) == new


def test_a_whole_inserted_paragraph_is_not_slid_across_the_next_paragraphs_first_word():
    from archive.words import coalesce

    ops = coalesce([("equal", "Intro.\n", "Intro.\n"), ("change", "", "\u201cI feel fine.\n"),
                    ("equal", "\u201cI loved it.\n", "\u201cI loved it.\n")])
    assert [op.new for op in ops if op.op == "insert"] == ["\u201cI feel fine.\n"]
    # a sentence inside a paragraph still slides onto the word boundary
    ops = coalesce([("equal", "James", "James"), ("change", "", ". Sentence added"), ("equal", ".", ".")])
    assert [op.new for op in ops if op.op == "insert"] == [" Sentence added."]
