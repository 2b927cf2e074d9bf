"""The house rules on imports, checked by parsing every module (STYLE.md, 'The house')."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside the same package
                names.add("." + (node.module or ""))
            elif node.module:
                names.add(node.module.split(".")[0])
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).glob("*.py"))


STDLIB_EXTRA_OK = {"sqlite_utils"}


@pytest.mark.parametrize("path", _modules("archive"), ids=lambda p: p.name)
def test_archive_imports_only_stdlib_and_sqlite_utils(path):
    import sys

    for name in _imports(path):
        if name.startswith("."):
            continue
        assert name in sys.stdlib_module_names or name in STDLIB_EXTRA_OK or name == "archive", (
            f"{path.name} imports {name}"
        )


# The fetch side: the stage, its transport (which loads httpx), and the connection pool and
# guarded network stream under it. The address guard (netguard.py) needs neither library.
FETCH_SIDE = {"fetch.py", "fetch_transport.py", "hostpools.py", "netstream.py"}

OWNERS = {
    "httpx": {"fetch.py", "fetch_transport.py"},
    "httpcore": FETCH_SIDE,
    "trafilatura": {"extract.py"},
    "bs4": {"extract.py"},
    "lxml": {"extract.py"},
    "htmldate": {"extract.py"},
    "click": {"cli.py"},
}


@pytest.mark.parametrize("path", _modules("pipeline"), ids=lambda p: p.name)
def test_only_the_owning_stage_imports_its_library(path):
    for name in _imports(path):
        owners = OWNERS.get(name)
        if owners is None:
            continue
        extract_helper = path.name.startswith(("extract_", "metadata")) and "extract.py" in owners
        assert path.name in owners or extract_helper, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", _modules("pipeline") + _modules("archive"), ids=lambda p: p.name)
def test_only_the_cli_prints_or_exits(path):
    if path.name == "cli.py":
        return
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            assert name not in {"print", "exit", "_exit"}, f"{path.name} calls {name}()"


def test_extract_stage_does_no_io():
    for path in [ROOT / "pipeline" / "extract.py", *ROOT.glob("pipeline/metadata*.py"),
                 *ROOT.glob("pipeline/extract_*.py")]:
        banned = {"httpx", "socket", "sqlite3", "urllib.request", "requests", "archive"}
        assert not (_imports(path) & banned), path.name
