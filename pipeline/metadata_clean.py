"""Cleaners for metadata values: invisible characters, title affixes, bylines and dates.

Pure string functions, no parsing library: metadata.py feeds them what it found in the tree.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

MAX_FIELD = 2000  # a metadata value longer than this is not a title, name or date

# Zero-width space/joiners, word joiner, BOM: invisible, break equality.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
# The soft hyphen too, except where the publisher's spelling is kept (titles): it is part of
# what was written, and the archive's fingerprint drops it before comparing versions.
_INVISIBLE_SHY = {**_INVISIBLE, 0xAD: None}
_SPACES = re.compile(r"\s+")
_TAGS = re.compile(r"<[^>]{0,500}>")


def clean_text(value: object, *, limit: int = MAX_FIELD, keep_soft_hyphens: bool = False) -> str | None:
    """NFC, entities decoded, markup and invisible characters dropped, whitespace collapsed."""
    if not isinstance(value, str):
        return None
    value = value[: limit * 4]
    if "<" in value:
        value = _TAGS.sub(" ", value)
    if "&" in value:
        value = html.unescape(value)
    value = unicodedata.normalize("NFC", value).translate(_INVISIBLE if keep_soft_hyphens else _INVISIBLE_SHY)
    value = _SPACES.sub(" ", value).strip()
    if not value or len(value) > limit:
        return None
    return value


_SINGLE_QUOTES = re.compile(r"[\u2018\u2019\u201a\u201b\u2032`\u00b4]")
_DOUBLE_QUOTES = re.compile(r"[\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033]")
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")


def fold(value: str) -> str:
    """Comparison key: case-folded, quotes and dashes unified, punctuation at the ends dropped."""
    if value.isascii():  # most keys (~130 a page): no invisible, dash or curly quote to map
        value = value.lower().replace("`", "'")
    else:
        value = value.translate(_INVISIBLE_SHY).casefold()
        value = _DASHES.sub("-", _DOUBLE_QUOTES.sub('"', _SINGLE_QUOTES.sub("'", value)))
    return _SPACES.sub(" ", value).strip(" .:;,!?\"'-")


# Marks that stand between a headline and the site or section name beside it ("Headline | Site").
_SEPARATOR_MARKS = r"|\-\u2013\u2014\u00b7\u2022:/\u00bb~*"
# Separators in <title>/og:title: one or two marks between spaces ("Headline « Site" too), or
# a mark that needs no spaces around it.
_TITLE_SEPARATORS = re.compile(
    rf"\s+[{_SEPARATOR_MARKS}\u00ab]{{1,2}}\s+|\s*[|\u00b7\u2022\uff5c\uff1a]\s*"
)
# Where furniture meets the headline inside one string: a head ends with a mark ("Opinion |"),
# a tail starts with one ("- Site"); the fullwidth pipe counts, and before a tail the Hangul
# letter that Korean sites set as a pipe.
SEPARATOR_AT_END = re.compile(rf"[{_SEPARATOR_MARKS}\uff5c]\s*$")
SEPARATOR_AT_START = re.compile(rf"^\s*[{_SEPARATOR_MARKS}\u3163\uff5c]")


def leading_segment(value: str) -> str:
    """The part of a title before its first site-name separator ("Headline | Site" -> "Headline")."""
    return _TITLE_SEPARATORS.split(value, 1)[0].strip()


def title_segments(value: str) -> list[str]:
    """The parts of a title split on site-name separators, longest first, the whole first of all."""
    parts = [p.strip() for p in _TITLE_SEPARATORS.split(value) if p and p.strip()]
    out = [value]
    # Contiguous runs of segments: the headline itself may contain a separator.
    for size in range(len(parts) - 1, 0, -1):
        for start in range(len(parts) - size + 1):
            joined = _join_run(value, parts[start], parts[start + size - 1])
            if joined and joined not in out:
                out.append(joined)
    return out


def _join_run(value: str, first: str, last: str) -> str | None:
    i = value.find(first)
    j = value.rfind(last)
    if i < 0 or j < 0 or j + len(last) <= i:
        return None
    return value[i : j + len(last)].strip()


def strip_site_affixes(title: str, site_names: list[str]) -> str:
    """Drop leading/trailing segments naming the site (or a date) from a <title>-like string."""
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    keys = {fold(s) for s in site_names if s}

    def is_affix(part: str) -> bool:
        key = fold(part)
        if not key:
            return True
        if key in keys or any(_names_site(key, k) for k in keys if len(k) > 2):
            return True
        return bool(_DATE_ONLY.fullmatch(part.strip()))

    while len(parts) > 1 and is_affix(parts[-1]):
        parts.pop()
    while len(parts) > 1 and is_affix(parts[0]):
        parts.pop(0)
    return _join_run(title, parts[0].strip(), parts[-1].strip()) or title


_DATE_ONLY = re.compile(r"[\d./\- ]{6,12}")


def _names_site(segment: str, site: str) -> bool:
    """A title segment that is (a part of) the site name, or the site name with a few words."""
    if segment in site:
        return True
    # "Politik - Die Neue Tageszeitung" yes; a headline clause that merely ends in the site
    # name ('... "vote again"-Politics|Example Daily') no: at most three more words count.
    return site in segment and len(segment.replace(site, " ").split()) <= 3

# --- authors ---------------------------------------------------------------------------------

# "By" in the languages of the world's larger news markets; generic, not tied to a publisher.
_BY = re.compile(
    r"^(?:(?:written|reported|posted|text|story|words|photos?|interview)\s+)?"
    r"(?:by|von|vom|par|por|di|da|door|av|af|przez|od|tekst|text|texte|autor(?:in)?|author|"
    r"auteur|escrito por|redacción|reportage|kirjoittanut|yazan|af:|av:)\s*[:\-]?\s+",
    re.I,
)
_AUTHOR_SPLIT = re.compile(
    r"\s*(?:,|;|\||/|&|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bog\b|\boch\b|\ben\b|\bi\b|\bja\b|"
    r"\boraz\b|\bu\.\b|\bmit\b|\bwith\b|\u3001|\uff0c|\u30fb)\s*",
    re.I,
)
_NOT_A_NAME = re.compile(
    r"https?:|www\.|@|\d{2,}|\b(?:updated|published|aktualisiert|veröffentlicht|min read|"
    r"minutes?|hours?|ago|staff|correspondent|editor|reporter|redakteur|redaktion|"
    r"journalist|contributor|writer|columnist|photographer|news desk|newsroom|am|pm|"
    # share buttons and social links sit in the same byline boxes
    r"twitter|facebook|instagram|linkedin|whatsapp|telegram|pinterest|reddit|youtube|tiktok|"
    r"e-?mail|share|print|follow|comments?)\b",
    re.I,
)
# A credit line, not a byline: "(Image: Getty Images/iStockphoto)", "Foto: dpa".
_CREDIT = re.compile(r"^\W*(?:images?|photos?|fotos?|bild(?:er)?|pictures?|credits?|quelle|source|grafik|video)\s*:", re.I)
# "Jane Doe in Kyiv": a dateline place after the name.
_IN_PLACE = re.compile(r"^(\S.*?\S)\s+(?:in|aus|à)\s+[A-ZÀ-ÖØ-Þ][\w.'\u2019-]*(?:\s+[A-ZÀ-ÖØ-Þ][\w.'\u2019-]*){0,2}$")
# Job titles written after a name in Korean, Japanese and Chinese bylines ("홍길동 기자 외 1명").
_CJK_ROLE = re.compile(
    r"\s*(?:선임기자|기자|특파원|논설위원|객원기자|記者|特派員|編集委員|論説委員|通信員|报道|記)(?:\s*외\s*\d+\s*명)?$"
)
_ROLE_TAIL = re.compile(
    r"\s*(?:,|\s-\s|\s\u2013\s|\s\u2014\s|\()\s*(?:[^,()]*\b(?:correspondent|editor|reporter|"
    r"writer|contributor|columnist|staff|journalist|redakteur(?:in)?|korrespondent(?:in)?|"
    r"in|aus|from|en|à|a)\b.*)$",
    re.I,
)


def split_authors(value: str, site_names: list[str] = ()) -> list[str]:
    """A byline string -> person names, cleaned of "By", roles, dates and site names."""
    text = clean_text(value, limit=500)
    if not text or re.match(r"(?:https?:|www\.|/)", text, re.I):
        return []
    if _CREDIT.match(text):
        return []
    text = _BY.sub("", text)
    text = _ROLE_TAIL.sub("", text)
    names: list[str] = []
    for part in _AUTHOR_SPLIT.split(text):
        part = _IN_PLACE.sub(r"\1", part.strip())
        name = clean_name(part, site_names)
        if name and name not in names:
            names.append(name)
    return names


def clean_name(value: str, site_names: list[str] = ()) -> str | None:
    """One name, or None when it is a URL, date, role word, site name or too long/short."""
    name = clean_text(value, limit=120)
    if not name:
        return None
    name = _BY.sub("", name).strip(" .,:;|-\u2013\u2014()[]\"'")
    name = _CJK_ROLE.sub("", name)
    if _BY.match(name + " "):  # a bare "By"/"Von" left over from a split byline
        return None
    if len(name) < 2 or len(name) > 80 or _NOT_A_NAME.search(name):
        return None
    if len(name.split()) > 6 or ":" in name or re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)+", name):
        return None  # a label ("Image: ...") or a URL slug, not a name
    key = fold(name)
    if any(key == fold(s) for s in site_names if s):
        return None
    # "Troy L. Smith, Cleveland.com": the site named after the person is not part of the name.
    head, sep, tail = name.rpartition(",")
    if sep and head.strip() and any(fold(tail) == fold(s) for s in site_names if s):
        return clean_name(head, site_names)
    return name


# --- dates -----------------------------------------------------------------------------------

_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*"
    r"(Z|UTC|GMT|[+-]\d{2}:?\d{2}|[+-]\d{2}(?!\d))?)?"
)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?)?$")


def parse_date(value: object) -> datetime | None:
    """An ISO 8601 / RFC 2822 / compact date string -> datetime (aware when a zone is given).

    A value with only a date becomes a naive midnight with ``tzinfo`` None and is marked by
    ``has_time`` returning False.
    """
    text = clean_text(value, limit=100)
    if not text:
        return None
    match = _ISO.search(text)
    if match:
        return _from_iso_match(match)
    match = _COMPACT.match(text)
    if match:
        y, mo, d, h, mi, s = match.groups()
        try:
            return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
        except ValueError:
            return None
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _from_iso_match(match: re.Match) -> datetime | None:
    y, mo, d, h, mi, s, frac, zone = match.groups()
    try:
        tz = _zone(zone)
        micro = int((frac or "0")[:6].ljust(6, "0"))
        return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro, tz)
    except (ValueError, OverflowError):
        return None


def _zone(zone: str | None) -> timezone | None:
    if not zone:
        return None
    if zone in ("Z", "UTC", "GMT"):
        return timezone.utc
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 14 or minutes > 59:
        raise ValueError("offset out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def date_has_time(value: str) -> bool:
    return bool(re.search(r"\d{1,2}:\d{2}", value or ""))


def format_date(value: datetime, *, with_time: bool) -> str:
    """ISO 8601: the time (and zone when known) if the source gave a time, else YYYY-MM-DD."""
    if not with_time:
        return value.date().isoformat()
    return value.isoformat(timespec="seconds")
