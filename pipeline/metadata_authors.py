"""Choose the article's authors among JSON-LD, <meta>, itemprop, labelled and byline voices.

Persons first, in order of trust; then a staff label a trusted voice gives ("Staff Reports",
"HNN Staff": the newsroom signs, and that is worth keeping); the publisher or an agency (a
JSON-LD Organization, or a "Person" named like the site) only when nothing else is named.
Placeholders ("Guest", "Гость"), credentials ("Jane Doe, MS, RD") and labels ("Текст:") are
cleaned away. When the trusted voices name only whom a byline calls the editor ("Editor : Jane
Doe"), the writer the bylines name is the author. A byline printed as the first lines of the
body ("**Jane Doe / John Roe**") is read by extract.py through body_byline(), and only when
this module found no person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.metadata_clean import clean_name, clean_text, fold, split_authors
from pipeline.metadata_sources import Sources

__all__ = ["Authors", "beyond_authors", "body_byline", "choose_authors", "looks_personal", "printed_byline"]

_META_KEYS = ("author", "article:author", "dc.creator", "dcterms.creator", "parsely-author",
              "sailthru.author", "byl")
_BY_MARKER = re.compile(r"^\W*(?:by|von|par|por|door|av|af|di|przez|autor|author)\b", re.I)


@dataclass(frozen=True)
class Authors:
    names: tuple[str, ...]
    personal: bool  # False: the publisher, an agency, or nothing


def choose_authors(src: Sources, fallback_author: str | None, sites: list[str]) -> Authors:
    editors = _editors(src.bylines + src.labelled_authors, sites)
    persons, orgs = _jsonld_authors(src, sites)
    # A staff label yields to names the first "By" byline prints ("by Jane Doe" over "X staff").
    first_by = next((v for v in src.bylines[:20] if _BY_MARKER.match(v.strip())), "")
    printed = [] if _staff_labels([first_by]) else [n for n in _names(first_by, sites) if _printed_name(n)]
    for group in (
        persons,
        [n for v in _meta(src, *_META_KEYS) for n in _names(v, sites)],
        [n for v in src.itemprop_authors for n in _names(v, sites)],
        [n for v in src.labelled_authors for n in _names(v, sites)],
    ):
        if group:
            if editors and all(fold(n) in editors for n in group):
                # Only the editor is declared ("Editor : Jane Doe" on the page): the writer the
                # bylines name is the author, when they name one.
                writers = [n for n in _byline_persons(src.bylines, sites) if fold(n) not in editors]
                group = writers or group
            return Authors(tuple(dict.fromkeys(group)), any(looks_personal(n) for n in group))
        if group is persons and not printed and (staff := _staff_labels(orgs)):
            return Authors(staff[:1], False)  # the article's own JSON-LD signs it "Staff"
    staff = _staff_labels([*orgs, *_meta(src, *_META_KEYS), *src.itemprop_authors, *src.labelled_authors])
    if staff and not printed:
        return Authors(staff[:1], False)
    group = _byline_persons(src.bylines, sites)
    if group:
        return Authors(tuple(dict.fromkeys(group)), True)
    # Byline-like elements are the noisiest voice (teasers share the class): only the first one
    # that yields a name, and only after the organisations.
    byline = next((names for v in src.bylines if (names := _names(v, sites))), [])
    fallback = _names(fallback_author.replace(";", ",") if fallback_author else None, sites)
    for group in (orgs, byline, fallback):
        if group:
            return Authors(tuple(dict.fromkeys(group)), False)
    return Authors((), False)


def printed_byline(src: Sources, sites: list[str], authors: tuple[str, ...]) -> tuple[str, ...]:
    """The names the page's "By" line prints, when some are not among the chosen ``authors``.

    Structured data wins the authors field, but it may name a CMS account or a desk while the
    page prints the reporter: an editor who swaps the printed name changed the article. Only
    lines that say "By" count, and only when they all print the same names: teaser lists and
    most-read rails print other articles' bylines, and those rotate.
    """
    found = [names for v in src.bylines[:20] if _BY_MARKER.match(v.strip())
             and (names := [n for n in _names(v, sites) if _printed_name(n)])]
    if not found or len({frozenset(map(_letters, names)) for names in found}) > 1:
        return ()
    return beyond_authors(tuple(dict.fromkeys(found[0])), authors)


def beyond_authors(names: tuple[str, ...], authors: tuple[str, ...]) -> tuple[str, ...]:
    """``names`` when some printed name is not one of ``authors``, else nothing."""
    known = [_letters(a) for a in authors]
    # "Jane DoeExample News" or "Jane Doe, Example.com" printed for the author "Jane Doe".
    if all(any(k and (k in key or key in k) for k in known) for key in map(_letters, names)):
        return ()
    return names


def _letters(name: str) -> str:
    return "".join(ch for ch in fold(name) if ch.isalpha())


def looks_personal(name: str) -> bool:
    """Two or more words, or a name in a script written without spaces (CJK, Hangul)."""
    return len(name.split()) >= 2 or any("\u3040" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af" for c in name)


# Lower-case name particles: "Ursula von der Leyen", "Luiz Inácio Lula da Silva".
_PARTICLES = {"von", "van", "der", "den", "de", "du", "da", "das", "dos", "di", "del", "della", "la", "le", "bin", "al", "el", "ten", "ter", "y", "e"}


def _printed_name(name: str) -> bool:
    """Looks like a personal name as printed in a byline: capitalised words (or all caps)."""
    if not looks_personal(name):
        return False
    return all(not w[0].islower() or w in _PARTICLES for w in name.split())


def _byline_persons(bylines: list[str], sites: list[str]) -> list[str]:
    """Personal names from the first byline that has any, preferring one that says "By"."""
    found = [(bool(_BY_MARKER.match(v)), names) for v in bylines[:20] if (names := [n for n in _names(v, sites) if _printed_name(n)])]
    marked = [names for by, names in found if by]
    return (marked or [names for _by, names in found] or [[]])[0]


# A byline paragraph: names only (capitalised words, maybe all caps), joined by "/", "," or "and".
_NAME_WORD = r"[^\W\d_][\w'\u2019.\-]*"
_BODY_BYLINE = re.compile(rf"^(?:{_NAME_WORD}\s+){{1,3}}{_NAME_WORD}(?:\s*(?:/|,|&|\band\b)\s*(?:{_NAME_WORD}\s+){{1,3}}{_NAME_WORD})*$")
_MAX_BODY_BYLINE = 80


def body_byline(text: str, sites: list[str], printed: set[str], *, lines: int = 3) -> tuple[tuple[str, ...], str] | None:
    """Names printed as a bold paragraph among the first body lines, and that line; or None.

    ``printed`` holds the page's bold-only paragraphs (metadata_sources.bold_paragraphs).
    """
    for line in text.split("\n", lines)[:lines]:
        line = " ".join(line.split())
        if len(line) > _MAX_BODY_BYLINE or line not in printed or not _BODY_BYLINE.match(line):
            continue
        names = [n for n in split_authors(line, sites) if _printed_name(n)]
        if names:
            return tuple(names), line
    return None


def _names(value: str | None, sites: list[str]) -> list[str]:
    if not value or value.lstrip().lower().startswith(("http:", "https:", "/")):
        return []
    lowered = value.lower()
    if any("." in s and s.lower() in lowered for s in sites):
        return []  # "Example News (www.example.com)": the publisher, not a person
    value = _affiliation_cut(_strip_credentials(_LABEL.sub("", value)))
    return [n for n in split_authors(value, sites) if not _publisher_account(n, sites) and not _placeholder(n)]


# "Текст: Jane Doe": labels metadata_clean's "By"/"Text:" list does not cover (Cyrillic, Greek).
_LABEL = re.compile(r"^\W*(?:текст|автор(?:ы|и|ка)?|κείμενο|συντάκτης)\s*[:\-]\s*", re.I)
# Placeholders CMSs put where no author was entered: "Guest", "Гость", "Anonymous", "admin".
_PLACEHOLDERS = frozenset(
    "guest gast gość гость гост invité invitée invitado ospite vieras misafir anonymous anonym anonyme "
    "anónimo anonimo аноним unknown admin administrator administrador webmaster user".split()
)
# Degrees and certifications printed after a name: "Jane Doe, MS, RD", "John Roe, Ph.D.".
_CREDENTIALS = frozenset(
    "md do phd ms msc bsc bs ba ma mph mba rd rdn ld ldn cde cdces rn np pac aprn fnp dnp pharmd dds dmd "
    "dvm cpt cscs lpc lcsw psyd edd jd facs facp faap ibclc cnm od dpt pt otr cns med mfa apd mbbs frcp "
    "mrcp cpa cfa cfp esq mrcs frcs mpharm ccn cnc chc".split()
)


# "Jane Doe. Example Wire": a sentence break after a full name starts an affiliation.
_AFFILIATION = re.compile(r"^(\S+\s+\S*[^\W\d_]{3})\.\s+\S.*$")


def _affiliation_cut(value: str) -> str:
    return _AFFILIATION.sub(r"\1", value.strip())


def _placeholder(name: str) -> bool:
    """A CMS default ("Guest") or a credential left alone ("MS" of ", MS, RD"): nobody."""
    key = fold(name)
    return key in _PLACEHOLDERS or key.replace(".", "") in _CREDENTIALS


def _strip_credentials(value: str) -> str:
    """Drop the degrees after a name's last comma(s): "Jane Doe, MS, RD" -> "Jane Doe"."""
    head = value
    while True:
        rest, sep, tail = head.rpartition(",")
        tokens = re.sub(r"[.\-]", "", tail).split()
        if not sep or not rest.strip() or not tokens or any(t.lower() not in _CREDENTIALS for t in tokens):
            return head
        head = rest


# The names a byline calls the editor ("Editor : Jane Doe"), not the writer.
_EDITOR = re.compile(
    r"^\W*(?:editor(?:a|in)?|edited by|editado por|édité par|redaktur|penyunting|redaktor(?:ka)?)\s*[:\-]?\s+(\S.*)$",
    re.I,
)


def _editors(values: list[str], sites: list[str]) -> set[str]:
    return {fold(n) for v in values[:20] if (m := _EDITOR.match(" ".join(v.split()))) for n in _names(m.group(1), sites)}


# A newsroom's signature: "Staff Reports", "HNN Staff", "Guardian staff reporter", "Redaktion".
_STAFF = re.compile(r"\b(?:staff|newsroom|news desk|redaktion|rédaction|redacción|redazione|editorial team)\b", re.I)
_STAFF_TAIL = re.compile(r"\s+(?:\||-|\u2013|\u2014|·)\s.*$")


def _staff_labels(values: list[str]) -> tuple[str, ...]:
    """Staff labels among ``values`` as printed, cleaned of "By" and a trailing "| date"."""
    out: list[str] = []
    for value in values[:30]:
        label = clean_text(value, limit=200) or ""
        label = _STAFF_TAIL.sub("", re.sub(r"^(?:by|von|par|por)\s+", "", label, flags=re.I)).strip(" ,-|")
        if _STAFF.search(label) and len(label) <= 60 and len(label.split()) <= 6 and not re.search(r"\d|@|https?:", label):
            out.append(label)
    return tuple(dict.fromkeys(out))


def _jsonld_authors(src: Sources, sites: list[str]) -> tuple[list[str], list[str]]:
    persons: list[str] = []
    orgs: list[str] = []
    for obj in src.jsonld[:3]:
        value = obj.get("author") or obj.get("creator")
        for item in (value if isinstance(value, list) else [value])[:30]:
            if isinstance(item, dict) and "@id" in item and len(item) <= 2:
                item = src.jsonld_ids.get(item["@id"], item)
            if isinstance(item, str):
                persons.extend(_names(item, sites))
            elif isinstance(item, dict):
                _one_jsonld_author(item, sites, persons, orgs)
        if persons or orgs:
            break
    return list(dict.fromkeys(persons)), orgs


def _one_jsonld_author(item: dict, sites: list[str], persons: list[str], orgs: list[str]) -> None:
    name = item.get("name")
    if not isinstance(name, str):
        given, family = item.get("givenName"), item.get("familyName")
        name = " ".join(p for p in (given, family) if isinstance(p, str)) or None
    if name is None:
        return
    types = item.get("@type")
    types = types if isinstance(types, list) else [types]
    name = _affiliation_cut(_strip_credentials(name))
    if _placeholder(name):
        return
    org = clean_text(name, limit=120)
    if any(isinstance(t, str) and "Organization" in t for t in types) or _publisher_account(org, sites):
        if org:
            orgs.append(org)
    elif person := clean_name(name, sites):
        persons.append(person)
    elif org:
        orgs.append(org)  # a "Person" named like the site is the publisher


_ACCOUNT_WORDS = {"staff", "team", "desk", "newsroom", "redaktion", "admin", "editor", "editors", "online", "digital", "web"}


def _publisher_account(name: str | None, sites: list[str]) -> bool:
    """A CMS account named after the site ("Example D", "Example Newsroom"), not a person."""
    if not name:
        return False
    words = re.findall(r"\w+", fold(name))
    site_words = {w for s in sites for w in re.findall(r"\w+", fold(s)) if len(w) >= 4}
    if not any(w in site_words for w in words):
        return False
    return all(w in site_words or len(w) <= 2 or w in _ACCOUNT_WORDS for w in words)


def _meta(src: Sources, *keys: str) -> list[str]:
    return [v for k in keys for v in src.meta.get(k, ())]
