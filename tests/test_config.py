"""config.toml: defaults, every documented key, and one clear line for every mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.errors import ConfigError
from tests.conftest import ROOT


def test_shipped_config_loads_and_tracks_the_first_article():
    config = load_config(ROOT / "config.toml")
    assert config.pages[0].startswith("https://www.themoscowtimes.com/2025/01/20/putin-congratulates")
    assert config.db == ROOT / "archive.db"
    assert config.fetch.per_host_concurrency == 1 and config.fetch.per_host_delay == 1.0
    assert config.fetch.allow_private_networks is False and config.fetch.obey_robots is True
    assert config.schedule.rules[0] == (3 * 3600, 15 * 60)


def test_every_key_in_the_shipped_config_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    text = (ROOT / "config.toml").read_text()
    section = ""
    for line in text.splitlines():
        if m := re.match(r"^#?\s*\[\[?(\w+)\]?\]", line):
            section = m.group(1)
        elif m := re.match(r"^#?\s*(\w+)\s*=", line):
            key = m.group(1)
            name = f"[{section}] {key}" if section and section != "sites" else key
            if section == "sites":
                name = f"[[sites]] {key}"
            assert f"`{name}`" in readme, f"{name} is not documented in README.md"


def test_db_path_is_relative_to_the_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "c.toml"
    path.write_text('[archive]\ndb = "data/a.db"\n')
    assert load_config(path).db == tmp_path / "sub" / "data" / "a.db"
    assert load_config(path, db_override="/x/y.db").db == Path("/x/y.db")


def test_missing_config_uses_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(None)
    assert config.path is None and config.db == Path("archive.db")


@pytest.mark.parametrize(
    "text, message",
    [
        ("[fetch\ntimeout = 3", "malformed TOML"),
        ("[fetch]\ntimeot = 3\n", "unknown key 'fetch.timeot'"),
        ("[fetchh]\n", "unknown key 'fetchh'"),
        ('[fetch]\ntimeout = "soon"\n', "fetch.timeout must be a number, not a string"),
        ("[fetch]\nretries = 1.5\n", "fetch.retries must be a whole number, not a number"),
        ('[fetch]\nallow_private_networks = "yes"\n', "fetch.allow_private_networks must be true or false"),
        ("[fetch]\ntimeout = -1\n", "fetch.timeout must not be negative"),
        ('[run]\nlock = "maybe"\n', "run.lock must be one of skip, wait"),
        ('pages = ["ftp://x.org/a"]\n', "pages[0] must be an http(s) URL"),
        ("pages = 3\n", "pages must be a list"),
        ('[schedule]\nrules = [["3h"]]\n', "schedule.rules entries must be [age, interval] pairs"),
        ('[schedule]\nretire_after = "forever"\n', "schedule.retire_after"),
        ('[archive]\ndb = 5\n', "archive.db must be a string"),
        ('[[sites]]\nhost = "x.org"\nignore_lines = ["("]\n', "bad regex"),
        ('[[sites]]\nhost = "x.org"\ndrop = ["div[[["]\n', "sites[0].drop: bad CSS selector"),
        ('[[sites]]\nhost = "x.org"\ncolour = 1\n', "unknown key 'sites[0].colour'"),
    ],
)
def test_broken_config_is_one_line_naming_file_key_and_problem(tmp_path, capsys, text, message):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value) and message in str(caught.value)

    code = main(["--config", str(path), "list"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"archive: {path}") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_missing_config_file_named_explicitly_is_an_error(tmp_path, capsys):
    code = main(["--config", str(tmp_path / "nope.toml"), "list"])
    assert code == 2 and "no such config file" in capsys.readouterr().err
