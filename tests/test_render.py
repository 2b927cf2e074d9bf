"""archive.render: text, unified, JSON and HTML renderings of a VersionDiff."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

from archive.diff import apply_ops, diff_versions
from archive.models import Content, Version
from archive.render import diff_to_json, render_html, render_text, render_unified

URL = "https://example.org/news/budget"
STEADY = [f"Unchanged paragraph number {i} about the city." for i in range(10)]


def _version(number: int, content: Content, captured_at: str) -> Version:
    return Version(
        url=URL,
        number=number,
        captured_at=captured_at,
        content=content,
    )


def _diff(old_paras, new_paras, old_title="Council approves budget", new_title="Council approves budget"):
    old = _version(1, Content(title=old_title, text="\n".join(old_paras)), "2025-01-20T10:00:00+00:00")
    new = _version(2, Content(title=new_title, text="\n".join(new_paras)), "2025-01-21T08:30:00+00:00")
    return diff_versions(old, new)


def _one_word_edit():
    new = list(STEADY)
    new[5] = "Unchanged paragraph number 5 about the village."
    return _diff(STEADY, new)


def test_text_plain_markers_and_context_elision():
    out = render_text(_one_word_edit(), color=False, context=1)
    assert "\x1b" not in out
    assert "Unchanged paragraph number 5 about the [-city-]{+village+}." in out
    lines = out.splitlines()
    assert "Unchanged paragraph number 4 about the city." in lines
    assert "Unchanged paragraph number 6 about the city." in lines
    assert "Unchanged paragraph number 3 about the city." not in lines
    assert "\u2026 (4 unchanged paragraphs)" in lines
    assert "\u2026 (3 unchanged paragraphs)" in lines


def test_text_context_variants():
    diff = _one_word_edit()
    everything = render_text(diff, color=False, context=None)
    assert all(p in everything for p in STEADY[:5] + STEADY[6:])
    assert "unchanged paragraph" not in everything
    tight = render_text(diff, color=False, context=0)
    assert "Unchanged paragraph number 4" not in tight
    assert "\u2026 (5 unchanged paragraphs)" in tight and "\u2026 (4 unchanged paragraphs)" in tight


def test_text_color_uses_ansi_and_neutralises_archived_escapes():
    new = list(STEADY)
    new[0] = "Evil \x1b]0;owned\x07 paragraph number 0 about the city."
    out = render_text(_diff(STEADY, new), color=True)
    assert "\x1b[32m" in out and "\x1b[31;9m" in out  # green insertions, red struck deletions
    assert "\x1b]0;" not in out and "\x07" not in out
    assert "\ufffd]0;owned\ufffd" in out


def test_text_metadata_before_after_first():
    new = list(STEADY)
    new[9] = "A different ending entirely, nothing in common."
    out = render_text(_diff(STEADY, new, new_title="Council rejects budget"), color=False)
    assert out.index("before: Council approves budget") < out.index("after:  Council rejects budget")
    assert out.index("after:  Council rejects budget") < out.index("A different ending")
    assert "changed: title, text" in out
    assert "[-Unchanged paragraph number 9 about the city.-]" in out
    assert "{+A different ending entirely, nothing in common.+}" in out


def test_text_no_changes():
    out = render_text(_diff(STEADY, STEADY), color=False)
    assert out.endswith("No changes.\n")


def test_unified_headers_and_hunks():
    out = render_unified(_one_word_edit(), context=1)
    assert out.splitlines()[:2] == [
        f"--- {URL}\tversion 1 2025-01-20T10:00:00+00:00",
        f"+++ {URL}\tversion 2 2025-01-21T08:30:00+00:00",
    ]
    assert "-Unchanged paragraph number 5 about the city." in out
    assert "+Unchanged paragraph number 5 about the village." in out
    assert " Unchanged paragraph number 4 about the city." in out
    assert "number 3" not in out
    assert "@@ -5,3 +5,3 @@" in out


def test_unified_without_context_limit_is_one_hunk():
    out = render_unified(_one_word_edit(), context=None)
    assert out.count("@@") == 2 and " Unchanged paragraph number 0 about the city." in out


def test_unified_shows_metadata_changes():
    out = render_unified(_diff(STEADY, STEADY, new_title="Council rejects budget"))
    assert "-title: Council approves budget" in out and "+title: Council rejects budget" in out


def test_json_shape_and_ops_apply():
    new = list(STEADY)
    new.insert(3, "Breaking: a new paragraph.")
    diff = _diff(STEADY, new, new_title="Council rejects budget")
    data = json.loads(json.dumps(diff_to_json(diff)))
    assert data["url"] == URL and data["from"] == 1 and data["to"] == 2
    assert data["from_captured_at"] == "2025-01-20T10:00:00+00:00"
    assert data["changed"] == ["title", "text"]
    assert data["fields"] == {"title": {"old": "Council approves budget", "new": "Council rejects budget"}}
    assert {op["op"] for op in data["ops"]} == {"equal", "insert"}
    assert apply_ops("\n".join(STEADY), data["ops"]) == "\n".join(new)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


HOSTILE = [
    "<script>document.title='pwned'</script>",
    "<img src=x onerror=\"document.title='pwned'\">",
    "</style><b onmouseover=alert(1)>x</b>",
    '" autofocus onfocus="alert(1)',
]


def test_html_escapes_everything_archived():
    new = list(STEADY)
    new[2] = "Quote: " + HOSTILE[0]
    new[7] = HOSTILE[1] + " " + HOSTILE[2]
    diff = _diff(STEADY, new, new_title="Title " + HOSTILE[3])
    page = render_html(diff)
    parser = _Collector()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags and "b" not in parser.tags
    assert not any(name.startswith("on") or name == "autofocus" for name, _ in parser.attrs)
    text = "".join(parser.text)
    for hostile in HOSTILE:
        assert hostile in text  # shown verbatim, as text
    assert html.escape(HOSTILE[0], quote=True) in page


def test_html_is_self_contained_with_strict_csp():
    page = render_html(_one_word_edit())
    assert (
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">" in page
    )
    assert not re.search(r"<(script|link|iframe|object|embed)\b", page, re.I)
    assert not re.search(r"\bsrc\s*=|url\(|@import", page)
    # both views are present and switchable without JavaScript
    assert 'id="view-inline" checked' in page and 'id="view-side"' in page
    assert 'class="view text inline"' in page and 'class="view text side"' in page
    assert "<del>city</del>" in page and "<ins>village</ins>" in page
    assert "\u2026 4 unchanged paragraphs" in page


def test_html_side_by_side_splits_word_changes():
    page = render_html(_one_word_edit(), context=0)
    side = page[page.index('class="view text side"') :]
    # left cell keeps only the deletion, right cell only the insertion
    assert '<div class="cell"><p>Unchanged paragraph number 5 about the <del>city</del>.</p></div>' in side
    assert '<div class="cell"><p>Unchanged paragraph number 5 about the <ins>village</ins>.</p></div>' in side


def test_text_title_only_change_has_no_body_section_and_readable_times():
    out = render_text(_diff(STEADY, STEADY, new_title="Council rejects budget"), color=False)
    assert "version 1 (2025-01-20 10:00 UTC) \u2192 version 2 (2025-01-21 08:30 UTC)" in out
    assert "title:" in out and "text:" not in out and "unchanged paragraph" not in out


def test_text_header_names_the_newer_versions_flags():
    from dataclasses import replace

    old = _version(2, Content(title="T", text="A b."), "2025-01-20T10:00:00Z")
    new = replace(_version(3, Content(title="T", text="A b!"), "2025-01-21T10:00:00Z"),
                  flags=("minor", "revert"), revert_of=1)
    first_line = render_text(diff_versions(old, new), color=False).splitlines()[1]
    assert first_line.endswith("[minor, revert of v1]")
