"""Normalisation and fingerprints that decide whether extracted content changed.

Each versioned field is normalised on its own and hashed on its own, so a version can
record *which* fields changed. Normalisation removes only differences a reader cannot see
(invisible characters, typographic quote and dash variants, whitespace layout); anything
else, including a change of case, is a real change. One exception, in the body's fingerprint
only: a page widget ("Updated 5 minutes ago", "1,234 views · 56 shares") changes on every
request, so it never counts, whether it is a line of its own or glued by the extractor to
the end or start of a paragraph (the stored text keeps it).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urldefrag

from archive.models import VERSIONED_FIELDS, Content

__all__ = [
    "changed_fields",
    "content_hash",
    "field_hashes",
    "is_minor_change",
    "normalize_content",
    "normalize_text",
    "word_stats",
    "word_total",
]

# Invisible characters: soft hyphen, zero-width space/non-joiner/joiner, word joiner, BOM,
# and the left-to-right/right-to-left marks that CMSs sprinkle into headlines.
_DROP = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\u200e\u200f"))

_MAP = {
    **dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032\u2035"), "'"),
    **dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u2033\u2036"), '"'),
    # hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar, minus
    **dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-"),
}
_TABLE = {**_DROP, **_MAP}

# Everything Python treats as a line boundary becomes "\n"; other whitespace becomes " ".
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_SPACES = re.compile(r"[^\S\n]+")


def normalize_text(value: str) -> str:
    """Return ``value`` with invisible differences removed; one non-empty line per paragraph."""
    text = unicodedata.normalize("NFC", value)
    # Dropping a zero-width character can bring a base and a combining mark together,
    # so compose again after the translation.
    text = unicodedata.normalize("NFC", text.translate(_TABLE))
    text = _LINE_BREAKS.sub("\n", text)
    text = _SPACES.sub(" ", text)
    lines = (line.strip(" ") for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# Widget lines: a few words, at least one number, every word from one of these vocabularies.
# Relative times need a relative marker ("ago", "vor", "il y a"), so "10 minutes" alone in a
# recipe stays a real line; counters need a counted unit ("views", "Kommentare").
_TIME_UNITS = frozenset(
    "s sec secs second seconds m min mins minute minutes h hr hrs hour hours d day days week weeks"
    " sekunde sekunden minute minuten std stunde stunden tag tagen woche wochen"
    " seconde secondes heure heures jour jours semaine semaines segundo segundos minuto minutos"
    " hora horas día días dia dias semana semanas secondi minuti ora ore giorno giorni settimana"
    " settimane minuut minuten uur dag dagen weken sekund sekunder minutt minutter minut minuter"
    " time timer timme timmar dager dagar uke uker vecka veckor".split()
)
_RELATIVE = frozenset(
    "ago vor il y a hace fa geleden siden sedan há updated aktualisiert actualizado actualizada"
    " aggiornato aggiornata bijgewerkt oppdatert uppdaterad atualizado atualizada".split()
)
_TIME_FILLER = _RELATIVE | frozenset(
    "last just about over less than published posted edited modified zuletzt veröffentlicht"
    " mis à jour depuis publicado publicada pubblicato publisert publicerad ca etwa rund".split()
)
_COUNT_UNITS = frozenset(
    "view views read reads share shares comment comments like likes reaction reactions retweets"
    " claps aufrufe leser kommentar kommentare teilen geteilt vues vue partages commentaires"
    " visitas vistas visualizaciones comentarios compartidos visualizzazioni commenti"
    " condivisioni weergaven reacties visninger kommentarer delinger просмотр просмотра"
    " просмотров комментарий комментария комментариев".split()
)
_COUNT_FILLER = frozenset("k m mio mil tsd and und et y e".split())
_NUMBER = re.compile(r"\d+(?:k|m|mio|tsd)?")
_WIDGET_WORDS = re.compile(r"\w+")
_WIDGET_MAX_WORDS = 10


def _is_widget_line(line: str) -> bool:
    """True for a line that is only a relative timestamp or an engagement counter."""
    tokens = _WIDGET_WORDS.findall(line.casefold())
    if not tokens or len(tokens) > _WIDGET_MAX_WORDS:
        return False
    words = {t for t in tokens if not _NUMBER.fullmatch(t)}
    if len(words) == len(tokens):  # no number at all
        return False
    if words & _TIME_UNITS and words & _RELATIVE and words <= _TIME_UNITS | _TIME_FILLER:
        return True
    return bool(words & _COUNT_UNITS) and words <= _COUNT_UNITS | _COUNT_FILLER


# A widget glued to a paragraph by the extractor: after the paragraph's last sentence (the
# text before it ends in punctuation, the widget does not), or before its first (the text
# after it starts a sentence). The number must sit near that end of the line.
_SENTENCE_END = tuple(".!?:;\"')|\u00b7\u2022\u2026\u00bb")
_NUMBER_NEAR_END = re.compile(r"\d\D{0,60}$")
_NUMBER_NEAR_START = re.compile(r"^\D{0,60}\d")


def _strip_glued_widgets(line: str) -> str:
    if not line.endswith((".", "!", "?")) and _NUMBER_NEAR_END.search(line):
        words = line.split(" ")
        for k in range(min(len(words) - 1, _WIDGET_MAX_WORDS), 1, -1):
            head = " ".join(words[:-k])
            if head.endswith(_SENTENCE_END) and _is_widget_line(" ".join(words[-k:])):
                line = head
                break
    if _NUMBER_NEAR_START.search(line):
        words = line.split(" ")
        for k in range(min(len(words) - 1, _WIDGET_MAX_WORDS), 1, -1):
            rest = " ".join(words[k:])
            starts_sentence = rest[:1].isupper() and rest[1:2].islower()
            if starts_sentence and not words[k - 1].endswith(".") and _is_widget_line(" ".join(words[:k])):
                line = rest
                break
    return line


def _body_fingerprint_text(value: str) -> str:
    lines = normalize_text(value).split("\n")
    return "\n".join(_strip_glued_widgets(line) for line in lines if not _is_widget_line(line))


def _normalize_url(value: str) -> str:
    url, _fragment = urldefrag(value.strip())
    return url


def normalize_content(content: Content) -> dict[str, str]:
    """One normalised string per name in VERSIONED_FIELDS; a missing value becomes ""."""
    out: dict[str, str] = {}
    for name in VERSIONED_FIELDS:
        value = getattr(content, name)
        if name in ("authors", "other_titles", "byline"):
            out[name] = normalize_text("\n".join(value or ()))
        elif name == "canonical_url":
            out[name] = _normalize_url(value) if value else ""
        elif name == "text":
            out[name] = _body_fingerprint_text(value) if value else ""
        else:
            out[name] = normalize_text(value) if value else ""
    return out


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Fields added to VERSIONED_FIELDS later; left out of the hashes while empty, so versions
# stored before them keep their content hash (revert detection compares stored hashes).
_HASHED_WHEN_SET = frozenset({"byline"})


def field_hashes(content: Content) -> dict[str, str]:
    """sha256 hex digest of each normalised versioned field."""
    return {
        name: _sha256(value)
        for name, value in normalize_content(content).items()
        if value or name not in _HASHED_WHEN_SET
    }


def content_hash(hashes: dict[str, str]) -> str:
    """One digest over the per-field digests, keyed by name so swapped fields differ."""
    joined = "".join(f"{name}={hashes[name]}\n" for name in sorted(hashes))
    return _sha256(joined)


def changed_fields(old: dict[str, str], new: dict[str, str]) -> tuple[str, ...]:
    """Names, in VERSIONED_FIELDS order, whose hashes differ between ``old`` and ``new``."""
    return tuple(name for name in VERSIONED_FIELDS if old.get(name) != new.get(name))


def _skeleton(text: str) -> str:
    # Letters, digits, marks and symbols survive; punctuation and whitespace do not.
    # No casefold: a change of case is substantive.
    return "".join(
        ch for ch in text if not ch.isspace() and not unicodedata.category(ch).startswith("P")
    )


def is_minor_change(old: Content, new: Content) -> bool:
    """True when some field changed and every change is only whitespace and/or punctuation."""
    before, after = normalize_content(old), normalize_content(new)
    changed = [name for name in VERSIONED_FIELDS if before[name] != after[name]]
    if not changed:
        return False
    return all(_skeleton(before[name]) == _skeleton(after[name]) for name in changed)


def word_stats(old_text: str, new_text: str) -> tuple[int, int]:
    """(words added, words removed) by a word-level diff of the normalised bodies."""
    # Imported here: archive.diff builds on this module, so a top-level import would cycle.
    from archive.diff import count_words

    return count_words(normalize_text(old_text), normalize_text(new_text))


# The characters normalize_text drops: between two word parts, dropping one joins them.
_DROPPED = re.compile("[" + "".join(map(chr, _DROP)) + "]")


def word_total(text: str) -> int:
    """``len(WORD.findall(normalize_text(text)))``: the words a first version adds.

    Normalising changes that count only by composing a mark onto a letter (NFC) or by
    dropping an invisible character inside a word; its other steps map non-word characters
    to non-word characters. Text already in NFC without an invisible character is therefore
    counted as it is, without the normalisation (~1 ms for a 5 kB body, on the writer)."""
    from archive.words import WORD  # the diff's word pattern: a run of unchanged pages never needs it

    if not unicodedata.is_normalized("NFC", text) or _DROPPED.search(text):
        text = normalize_text(text)
    return len(WORD.findall(text))
