"""The date edit: the publication day moved back by one, in every machine-readable and printed form."""

from __future__ import annotations

import json
import random
import re

from bench.mutation_tree import (
    Expect,
    excluded,
    ld_scripts,
    meta_key,
    replace_in_text_nodes,
    whole_word,
    words,
)

__all__ = ["edit_date"]


_PUBLISHED_KEYS = ("article:published_time", "datepublished", "og:published_time", "publishdate",
                   "pubdate", "publish-date", "date", "dc.date", "dcterms.created", "parsely-pub-date")
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")
_MONTHS_DE = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
              "Oktober", "November", "Dezember")


def _published_day(doc):
    from datetime import date

    values = []
    for script in ld_scripts(doc):
        values += _own_published(script.text)
    values += [m.get("content") for m in doc.iter("meta") if meta_key(m) in _PUBLISHED_KEYS and m.get("content")]
    values += [t.get("datetime") for t in doc.iter("time") if t.get("datetime")]
    for value in values:
        m = _ISO_DAY.search(value or "")
        if m:
            try:
                day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
            if day.year >= 1900:  # placeholders like 0001-01-01 are not a publication day
                return day
    return None


def _own_published(text: str) -> list[str]:
    """``datePublished`` of the JSON-LD's own objects (top level or @graph), not of nested ones:
    a fact check's reviewed claim (itemReviewed) carries the claim's date, not the article's."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return re.findall(r'"datePublished"\s*:\s*"([^"]+)"', text)
    objects = data if isinstance(data, list) else [data]
    objects = [o for obj in objects if isinstance(obj, dict) for o in [obj, *(obj.get("@graph") or [])]]
    return [o["datePublished"] for o in objects if isinstance(o, dict) and isinstance(o.get("datePublished"), str)]


def _day_forms(day) -> list[str]:
    """The ways pages print a day, most specific first (so "3. Mai 2024" wins over "Mai 2024")."""
    d, m, y = day.day, day.month, day.year
    en, de = _MONTHS_EN[m - 1], _MONTHS_DE[m - 1]
    return [
        f"{d:02d}.{m:02d}.{y}", f"{d}.{m}.{y}", f"{d}. {de} {y}", f"{d:02d}. {de} {y}",
        f"{en} {d}, {y}", f"{en[:3]}. {d}, {y}", f"{en[:3]} {d}, {y}", f"{d} {en} {y}",
        f"{d:02d} {en} {y}", f"{d} {en[:3]} {y}", f"{d:02d}/{m:02d}/{y}", f"{m:02d}/{d:02d}/{y}",
    ]


def edit_date(doc, paras, rng: random.Random) -> Expect | None:
    """Move the publication day back by one, in every machine-readable and printed form."""
    from datetime import timedelta

    day = _published_day(doc)
    if day is None:
        return None
    new_day = day - timedelta(days=1)
    iso_old, iso_new = day.isoformat(), new_day.isoformat()
    skip = excluded(doc, paras)
    for el in doc.iter():
        if not isinstance(el.tag, str) or el in skip:
            continue
        for attr in ("content", "datetime"):
            if el.get(attr) and iso_old in el.get(attr):
                el.set(attr, el.get(attr).replace(iso_old, iso_new))
    for script in ld_scripts(doc):
        script.text = script.text.replace(iso_old, iso_new)
    old_words: list[str] = []
    new_words: list[str] = []
    for old_form, new_form in zip(_day_forms(day), _day_forms(new_day)):
        if replace_in_text_nodes([doc], whole_word(old_form), new_form, skip):
            old_words += words(old_form)
            new_words += words(new_form)
    return Expect("date", False, "published", tuple(old_words), tuple(new_words), shift_days=-1,
                  note=f"{iso_old} -> {iso_new}")
