"""Read config.toml into frozen settings, rejecting unknown keys and wrong types by name."""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError
from .schedule import ScheduleSettings, parse_duration
from .settings import ExtractSettings, FetchSettings

DEFAULT_CONFIG = "config.toml"
DEFAULT_DB = "archive.db"


@dataclass(frozen=True)
class RunSettings:
    max_runtime: float = 600.0  # seconds; a run stops starting pages after this
    limit: int = 0  # pages per run; 0 means no limit
    lock: str = "skip"  # "skip": a second run exits at once; "wait": it waits its turn


@dataclass(frozen=True)
class SiteRules:
    """Per-site clean-up for what extraction cannot catch."""

    host: str  # matches the host and its subdomains
    drop: tuple[str, ...] = ()  # CSS selectors removed before extraction
    ignore_lines: tuple[str, ...] = ()  # regexes; matching body lines never count as change


@dataclass(frozen=True)
class Config:
    path: Path | None
    db: Path
    fetch: FetchSettings = field(default_factory=FetchSettings)
    extract: ExtractSettings = field(default_factory=ExtractSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    run: RunSettings = field(default_factory=RunSettings)
    pages: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sites: tuple[SiteRules, ...] = ()

    def rules_for(self, host: str) -> SiteRules | None:
        host = host.lower()
        for rules in self.sites:
            if host == rules.host or host.endswith("." + rules.host):
                return rules
        return None


_SIMPLE_SECTIONS = {"fetch": FetchSettings, "extract": ExtractSettings, "run": RunSettings}
_TOP_LEVEL = {"archive", "fetch", "extract", "schedule", "run", "pages", "feeds", "sites"}
_CHOICES = {("run", "lock"): ("skip", "wait")}


def load_config(path: str | Path | None, *, db_override: str | Path | None = None) -> Config:
    """Load ``path`` (or ./config.toml when present, else defaults)."""
    if path is None:
        candidate = Path(DEFAULT_CONFIG)
        path = candidate if candidate.is_file() else None
    if path is None:
        db = Path(db_override) if db_override else Path(DEFAULT_DB)
        return Config(path=None, db=db)
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from exc
    return _build(path, raw, db_override)


def _build(path: Path, raw: dict, db_override) -> Config:
    _reject_unknown(path, "", raw, _TOP_LEVEL)
    archive = _table(path, raw, "archive")
    _reject_unknown(path, "archive", archive, {"db"})
    db_text = archive.get("db", DEFAULT_DB)
    _expect(path, "archive.db", db_text, str)
    db = Path(db_override) if db_override else (path.parent / db_text)
    sections = {
        name: _dataclass_from(path, name, _table(path, raw, name), cls)
        for name, cls in _SIMPLE_SECTIONS.items()
    }
    return Config(
        path=path,
        db=db,
        schedule=_schedule_from(path, _table(path, raw, "schedule")),
        pages=_url_list(path, raw, "pages"),
        feeds=_url_list(path, raw, "feeds"),
        sites=_sites(path, raw.get("sites", [])),
        **sections,
    )


def _table(path: Path, raw: dict, name: str) -> dict:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a table, not {_type_name(value)}")
    return value


def _reject_unknown(path: Path, prefix: str, table: dict, known) -> None:
    for key in table:
        if key not in known:
            where = f"{prefix}.{key}" if prefix else key
            hint = ", ".join(sorted(known))
            raise ConfigError(f"{path}: unknown key '{where}' (known: {hint})")


def _dataclass_from(path: Path, section: str, table: dict, cls):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    _reject_unknown(path, section, table, fields)
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in table.items():
        values[key] = _coerce(path, f"{section}.{key}", value, hints[key])
        choices = _CHOICES.get((section, key))
        if choices and values[key] not in choices:
            raise ConfigError(
                f"{path}: {section}.{key} must be one of {', '.join(choices)}, not {value!r}"
            )
        if isinstance(values[key], (int, float)) and not isinstance(values[key], bool):
            if values[key] < 0:
                raise ConfigError(f"{path}: {section}.{key} must not be negative, got {value!r}")
    return cls(**values)


def _coerce(path: Path, key: str, value, hint):
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: {key} must be a number, not {_type_name(value)}")
        return float(value)
    _expect(path, key, value, hint)
    return value


def _expect(path: Path, key: str, value, hint) -> None:
    ok = isinstance(value, hint) and not (hint is int and isinstance(value, bool))
    if not ok:
        raise ConfigError(f"{path}: {key} must be {_type_label(hint)}, not {_type_name(value)}")


def _schedule_from(path: Path, table: dict) -> ScheduleSettings:
    defaults = ScheduleSettings()
    known = {f.name for f in dataclasses.fields(ScheduleSettings)}
    _reject_unknown(path, "schedule", table, known)
    values = {}
    for key, value in table.items():
        default = getattr(defaults, key)
        where = f"schedule.{key}"
        if key == "rules":
            values[key] = _intervals(path, where, value)
        elif isinstance(default, bool):
            _expect(path, where, value, bool)
            values[key] = value
        elif isinstance(default, int):
            _expect(path, where, value, int)
            values[key] = value
        elif isinstance(default, float):
            values[key] = _duration(path, where, value)
        else:
            values[key] = value
    try:
        return dataclasses.replace(defaults, **values)
    except ConfigError as exc:  # ScheduleSettings checks its own invariants
        raise ConfigError(f"{path}: {exc}") from None


def _intervals(path: Path, where: str, value) -> tuple[tuple[float, float], ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{path}: {where} must be a list of [age, interval] pairs")
    steps = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 2):
            raise ConfigError(f"{path}: {where} entries must be [age, interval] pairs, got {item!r}")
        steps.append((_duration(path, where, item[0]), _duration(path, where, item[1])))
    return tuple(steps)


def _duration(path: Path, where: str, value) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except (ValueError, ConfigError) as exc:
            raise ConfigError(f"{path}: {where}: {exc}") from None
    raise ConfigError(f"{path}: {where} must be a duration like \"15m\", not {_type_name(value)}")


def _url_list(path: Path, raw: dict, name: str) -> tuple[str, ...]:
    value = raw.get(name, [])
    if not isinstance(value, list):
        raise ConfigError(f"{path}: {name} must be a list")
    urls = []
    for index, item in enumerate(value):
        where = f"{name}[{index}]"
        if isinstance(item, dict):
            _reject_unknown(path, where, item, {"url"})
            item = item.get("url")
        if not isinstance(item, str) or not re.match(r"(?i)^https?://", item.strip()):
            raise ConfigError(f"{path}: {where} must be an http(s) URL, got {item!r}")
        urls.append(item.strip())
    return tuple(urls)


def _sites(path: Path, value) -> tuple[SiteRules, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: sites must be an array of tables ([[sites]])")
    rules = []
    for index, table in enumerate(value):
        where = f"sites[{index}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {where} must be a table")
        _reject_unknown(path, where, table, {"host", "drop", "ignore_lines"})
        host = table.get("host")
        if not isinstance(host, str) or not host:
            raise ConfigError(f"{path}: {where}.host must be a host name")
        lists = {}
        for key in ("drop", "ignore_lines"):
            items = table.get(key, [])
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise ConfigError(f"{path}: {where}.{key} must be a list of strings")
            lists[key] = tuple(items)
        if lists["drop"]:
            # lxml and cssselect: only for a config that has selectors to check.
            from .extract_drop import css_to_xpath
        for selector in lists["drop"]:
            try:
                css_to_xpath(selector)
            except ValueError as exc:
                raise ConfigError(f"{path}: {where}.drop: bad CSS selector {selector!r}: {exc}") from None
        for pattern in lists["ignore_lines"]:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"{path}: {where}.ignore_lines: bad regex {pattern!r}: {exc}") from None
        rules.append(SiteRules(host=host.lower().lstrip("."), **lists))
    return tuple(rules)


def _type_label(hint) -> str:
    return {str: "a string", int: "a whole number", bool: "true or false", float: "a number"}.get(
        hint, getattr(hint, "__name__", str(hint))
    )


def _type_name(value) -> str:
    return {
        str: "a string", int: "a whole number", float: "a number", bool: "a boolean",
        list: "a list", dict: "a table",
    }.get(type(value), type(value).__name__)


