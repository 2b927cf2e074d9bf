"""The archive's robots.txt memory: what is kept, what is returned, and older files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from archive.store import Archive

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_answers_younger_than_the_cutoff_come_back_and_a_new_answer_replaces_the_old(tmp_path):
    with Archive(tmp_path / "a.db") as archive:
        archive.remember_robots("https://a.example", 200, b"User-agent: *\nDisallow: /x\n",
                                NOW - timedelta(hours=2))
        archive.remember_robots("https://b.example", 404, None, NOW - timedelta(minutes=5))
        assert archive.recent_robots(NOW - timedelta(hours=1)) == {"https://b.example": (404, None)}
        archive.remember_robots("https://a.example", 200, b"User-agent: *\nAllow: /\n", NOW)
        assert archive.recent_robots(NOW - timedelta(hours=1)) == {
            "https://a.example": (200, b"User-agent: *\nAllow: /\n"),
            "https://b.example": (404, None),
        }


def test_answers_too_old_to_use_are_forgotten_when_the_recent_ones_are_read(tmp_path):
    with Archive(tmp_path / "a.db") as archive:
        archive.remember_robots("https://old.example", 200, b"", NOW - timedelta(days=2))
        archive.remember_robots("https://recent.example", 404, None, NOW - timedelta(minutes=30))
        assert set(archive.recent_robots(NOW - timedelta(hours=1))) == {"https://recent.example"}
        # Gone from the file, not only filtered: a wider cut-off no longer finds it.
        assert set(archive.recent_robots(NOW - timedelta(days=30))) == {"https://recent.example"}


@pytest.mark.parametrize("status", [503, 500, 301, 0])
def test_only_answers_that_settle_the_rules_are_kept(tmp_path, status):
    with Archive(tmp_path / "a.db") as archive:
        with pytest.raises(ValueError):
            archive.remember_robots("https://a.example", status, b"", NOW)
        assert archive.recent_robots(NOW - timedelta(days=1)) == {}


def test_an_archive_made_before_the_table_gets_it_on_the_next_write_open(tmp_path):
    path = tmp_path / "a.db"
    with Archive(path) as archive:
        archive.track("https://a.example/story")
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE robots")  # as a file from before the table was added
    with Archive(path, write=False) as reader:  # a reader never needs it
        assert reader.page("https://a.example/story") is not None
    with Archive(path) as archive:
        archive.remember_robots("https://a.example", 404, None, NOW)
        assert archive.recent_robots(NOW) == {"https://a.example": (404, None)}
        assert archive.page("https://a.example/story") is not None
