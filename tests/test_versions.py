"""The store's versioning rules through its public API on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.models import Content, FetchInfo, Snapshot
from archive.store import Archive

URL = "https://news.example/2025/bridge"
T0 = datetime(2025, 1, 20, 9, 0, tzinfo=timezone.utc)
BODY = "The council approved the bridge on Monday.\nResidents objected to the plan."


@pytest.fixture
def archive(tmp_path):
    with Archive(tmp_path / "a.db") as store:
        store.track(URL, now=T0)
        yield store


def snap(text=BODY, title="Council approves bridge", minutes=0, **content) -> Snapshot:
    return Snapshot(
        url=URL,
        content=Content(title=title, text=text, **content),
        fetch=FetchInfo(started_at=T0 + timedelta(minutes=minutes), status=200),
        raw_html=f"<html>{title}{text}{minutes}</html>".encode(),
    )


def test_versions_only_on_real_change_with_fields_flags_and_reverts(archive):
    assert archive.save(snap()).version == 1
    same = archive.save(snap(text=BODY.replace(" ", "\u00a0", 2), minutes=5))  # NBSP only
    assert (same.created, same.version) == (False, 1)
    minor = archive.save(snap(text=BODY.replace("Monday.", "Monday!"), minutes=10))
    assert (minor.version, minor.changed, minor.flags) == (2, ("text",), ("minor",))
    edit = archive.save(snap(title="Council rejects bridge", minutes=15))
    assert (edit.version, edit.changed, edit.flags) == (3, ("title", "text"), ())
    back = archive.save(snap(minutes=20))
    assert (back.version, back.flags, back.revert_of) == (4, ("revert",), 1)
    assert [v.number for v in archive.history(URL)] == [1, 2, 3, 4]
    assert archive.version_at(URL, T0 + timedelta(minutes=12)).number == 2


def test_a_normalisation_upgrade_is_not_an_edit(archive, tmp_path):
    archive.save(snap())
    # Stored hashes from an older normalisation must not decide the next comparison.
    with sqlite3.connect(tmp_path / "a.db") as conn:
        conn.execute("UPDATE versions SET field_hashes = ?", (json.dumps({"text": "old"}),))
    assert archive.save(snap(minutes=5)).created is False


def test_every_check_is_a_fetch_row_and_the_baseline_survives_failures(archive, tmp_path):
    archive.save(snap())
    failure = archive.record_failure(
        URL, FetchInfo(started_at=T0, status=500), kind="http_status", message="boom"
    )
    assert failure.consecutive_errors == 1
    assert archive.page(URL).latest_version == 1
    with sqlite3.connect(tmp_path / "a.db") as conn:
        outcomes = [r[0] for r in conn.execute("SELECT outcome FROM fetches ORDER BY id")]
    assert outcomes == ["new_version", "error"]


# Letters, marks that compose with them under NFC (and one that does not), the invisible
# characters, quotes and dashes normalisation unifies, odd whitespace, CJK and digits.
_TRICKY = ("ae\u00e9\u0301\u0308\u0327c\u00ad\u200b\u200c\u200d\u2060\ufeff\u200e\u200f"
           "\u2019\u201c\u2014\u2212'\"- \u00a0\t\n\r\x85\u2028\u3042\u4e00\u212b\u1100\u1161"
           "9_.q")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=_TRICKY, max_size=40))
def test_a_first_version_counts_the_words_of_its_normalised_text(tmp_path_factory, text):
    from archive.normalize import normalize_text
    from archive.words import WORD

    path = tmp_path_factory.getbasetemp() / "words.db"
    with Archive(path) as store:
        url = f"https://news.example/{store.conn.execute('SELECT count(*) FROM pages').fetchone()[0]}"
        store.track(url, now=T0)
        saved = store.save(Snapshot(
            url=url, content=Content(title="t", text=text),
            fetch=FetchInfo(started_at=T0, status=200), raw_html=text.encode("utf-8", "replace"),
        ))
        assert saved.version == 1
        added = store.conn.execute(
            "SELECT words_added FROM versions WHERE page_id = (SELECT id FROM pages WHERE url = ?)",
            (url,),
        ).fetchone()[0]
    assert added == len(WORD.findall(normalize_text(text)))


def test_a_gone_page_that_answers_again_is_active_with_its_new_version(archive):
    archive.save(snap())
    for minutes in (1, 2, 3):
        archive.record_failure(URL, FetchInfo(started_at=T0 + timedelta(minutes=minutes),
                                              status=404), kind="not_found", message="HTTP 404")
    assert archive.page(URL).state == "gone"
    back = archive.save(snap(title="Council delays bridge", minutes=10),
                        next_check_at=T0 + timedelta(hours=5),
                        next_check_if_changed=T0 + timedelta(hours=1))
    page = archive.page(URL)
    assert (back.version, page.state, page.latest_version) == (2, "active", 2)
    assert (page.title, page.consecutive_errors, page.missing_streak) == ("Council delays bridge", 0, 0)
    assert page.next_check_at == "2025-01-20T10:00:00Z"  # the changed schedule
    assert page.last_change_at == page.last_checked_at == "2025-01-20T09:10:00Z"
    assert [e["kind"] for e in archive.events(URL)] == ["gone", "back"]


def test_latest_text_by_url_or_alias(archive):
    from archive.errors import NotFound

    assert archive.latest_text(URL) is None  # tracked, nothing captured yet
    archive.save(snap())
    archive.add_alias("https://news.example/amp/bridge", URL)
    assert archive.latest_text(URL) == archive.latest_text("https://news.example/amp/bridge") == BODY
    with pytest.raises(NotFound):
        archive.latest_text("https://news.example/never")
    with pytest.raises(NotFound):
        archive.save(Snapshot(url="https://news.example/never", content=Content(title="t", text=BODY),
                              fetch=FetchInfo(started_at=T0, status=200), raw_html=b"x"))
