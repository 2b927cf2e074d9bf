"""Re-extraction: versions recomputed from raw HTML, and extractor upgrades never look like edits."""

from __future__ import annotations

import gzip
import json
import sqlite3


import pytest

from archive.models import Content, FetchInfo, Snapshot
from archive.store import Archive
from archive.db import utcnow
from pipeline.cli import main
from pipeline.extract import EXTRACTOR_VERSION, extract
from tests.conftest import CORPUS

PAGE = "uk_TheGuardian_2024_02_24.html.gz"


@pytest.fixture
def html() -> str:
    return gzip.decompress((CORPUS / "fundus-dev" / "html" / PAGE).read_bytes()).decode()


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        "[fetch]\nallow_private_networks = true\nper_host_delay = 0\nobey_robots = false\n"
        "retries = 0\n[extract]\nworkers = 1\n"
    )
    return path


def _old_extractor_snapshot(url: str, html: str, *, title_suffix: str) -> Snapshot:
    """What an older extractor might have stored: the same page, a worse title."""
    ex = extract(html, url=url)
    return Snapshot(
        url=url,
        content=Content(title=ex.title + title_suffix, authors=ex.authors, published=ex.published,
                        text=ex.text, canonical_url=ex.canonical_url, description=ex.description,
                        modified=ex.modified),
        fetch=FetchInfo(started_at=utcnow(), status=200, body_sha256="old"),
        raw_html=html.encode(), markdown=ex.markdown, extractor="old", extractor_version="0+old",
    )


def test_reextract_all_rewrites_fields_and_never_calls_it_an_edit(tmp_path, config, html, capsys):
    url = "https://www.theguardian.com/world/2024/feb/24/valencia-fire"
    with Archive(tmp_path / "archive.db") as archive:
        archive.track(url)
        archive.save(_old_extractor_snapshot(url, html, title_suffix=" | World news | The Guardian"))
        edited = html.replace("Pilar Bernabé", "Pilar Bernabé Garcia")
        archive.save(_old_extractor_snapshot(url, edited, title_suffix=" - The Guardian"))
        assert [v.changed for v in archive.history(url)] == [(), ("title", "text")]

    code = main(["--config", str(config), "reextract", "--all"])
    out = capsys.readouterr().out
    assert code == 0 and out.strip() == f"{url}: 2 versions re-extracted"

    with Archive(tmp_path / "archive.db", write=False) as archive:
        history = archive.history(url)
        events = archive.events(url)
    assert [v.extractor_version for v in history] == [EXTRACTOR_VERSION] * 2
    assert history[0].content.title == history[1].content.title  # the old suffixes are gone
    assert history[1].changed == ("text",)  # only the real edit is left
    assert [e["kind"] for e in events] == ["reextracted"]


def test_reextract_marks_versions_that_only_differed_by_extractor(tmp_path, config, html, capsys):
    url = "https://www.theguardian.com/world/2024/feb/24/valencia-fire"
    with Archive(tmp_path / "archive.db") as archive:
        archive.track(url)
        archive.save(_old_extractor_snapshot(url, html, title_suffix=" | The Guardian"))
        archive.save(_old_extractor_snapshot(url, html, title_suffix=" – The Guardian!"))
    assert main(["--config", str(config), "reextract", url]) == 0
    assert "1 now identical" in capsys.readouterr().out
    history = json.loads(_run(capsys, config, "history", url, "--json"))
    assert history[1]["changed"] == [] and history[1]["flags"] == ["identical"]


def test_a_run_refreshes_a_stale_baseline_instead_of_writing_a_version(
    tmp_path, config, html, httpserver, capsys
):
    httpserver.expect_request("/a").respond_with_data(html, content_type="text/html")
    url = httpserver.url_for("/a")
    with Archive(tmp_path / "archive.db") as archive:
        archive.track(url)
        archive.save(_old_extractor_snapshot(url, html, title_suffix=" | The Guardian"))
    assert main(["--config", str(config), "add", url]) == 0
    assert capsys.readouterr().out.strip() == f"{url}: unchanged (version 1)"
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        assert conn.execute("SELECT extractor_version FROM versions").fetchall() == [(EXTRACTOR_VERSION,)]


def test_reextract_needs_urls_or_all(config, capsys):
    assert main(["--config", str(config), "reextract"]) == 2
    assert "give URLs or --all" in capsys.readouterr().err


def _run(capsys, config, *args) -> str:
    assert main(["--config", str(config), *args]) == 0
    return capsys.readouterr().out


