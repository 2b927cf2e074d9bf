"""The crontab line and the systemd timer/service pair in docs/cron parse and run `archive run`."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess

from tests.conftest import ROOT

CRON = ROOT / "docs" / "cron"
_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def _entries() -> list[str]:
    lines = (CRON / "crontab").read_text().splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _runs_archive(command: str) -> bool:
    words = shlex.split(command.replace("&&", " && "))
    return any(w.rsplit("/", 1)[-1] == "archive" and "run" in words[i + 1:]
               for i, w in enumerate(words))


def test_crontab_has_five_valid_fields_and_runs_archive_run():
    (entry,) = _entries()
    fields = entry.split(None, 5)
    assert len(fields) == 6
    for text, (low, high) in zip(fields[:5], _RANGES):
        assert _FIELD.match(text), text
        for number in map(int, re.findall(r"\d+", text.split("/")[0])):
            assert low <= number <= high
    assert _runs_archive(fields[5])
    assert "%" not in fields[5]  # cron would turn % into a newline


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((CRON / name).read_text())
    return parser


def test_systemd_service_is_a_oneshot_archive_run():
    service = _unit("palimpsest.service")
    assert service["Service"]["Type"] == "oneshot"
    assert _runs_archive(service["Service"]["ExecStart"])
    assert service["Service"]["ExecStart"].split()[0].startswith(("/", "%h/"))  # absolute


def test_systemd_timer_is_persistent_with_a_calendar():
    timer = _unit("palimpsest.timer")
    assert timer["Timer"]["Persistent"] == "true"
    calendar = timer["Timer"]["OnCalendar"]
    assert calendar
    if shutil.which("systemd-analyze"):
        check = subprocess.run(["systemd-analyze", "calendar", calendar],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    assert timer["Install"]["WantedBy"] == "timers.target"
