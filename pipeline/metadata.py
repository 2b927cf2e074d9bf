"""Choose article metadata by agreement between the page's own sources.

The candidates come from metadata_sources.collect (one pass over the lxml tree trafilatura
also uses); trafilatura's own guesses join them as one more voice. No rule names a publisher.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

from pipeline.metadata_authors import beyond_authors, body_byline, choose_authors, printed_byline
from pipeline.metadata_clean import clean_text, date_has_time, fold, format_date, parse_date
from pipeline.metadata_sources import Sources
from pipeline.metadata_title import choose_headline, choose_title, other_titles, title_voices

_PUBLISHED_META = (
    "article:published_time", "og:published_time", "datepublished", "article.published",
    "publishdate", "publish-date", "pubdate", "publication_date", "parsely-pub-date",
    "sailthru.date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.created", "date",
)
_MODIFIED_META = (
    "article:modified_time", "og:updated_time", "datemodified", "article.updated",
    "lastmod", "last-modified", "dcterms.modified", "dc.date.modified",
)

_SITE_NAME_WORDS = 5  # longer than this and equal to the headline: not a site name


@dataclass(frozen=True)
class Metadata:
    title: str | None
    authors: tuple[str, ...]
    published: str | None
    modified: str | None
    description: str | None
    sitename: str | None
    language: str | None
    canonical_url: str | None
    section: str | None
    tags: tuple[str, ...]
    authors_personal: bool = False  # False: the authors are the publisher/an agency, or none
    site_names: tuple[str, ...] = ()
    headline: str | None = None  # the printed <h1> headline (metadata_title.choose_headline)
    other_titles: tuple[str, ...] = ()  # metadata_title.other_titles
    byline: tuple[str, ...] = ()  # printed byline names that differ from ``authors``


@dataclass(frozen=True)
class Fallback:
    """What trafilatura's own metadata pass found; the weakest voice."""

    title: str | None = None
    author: str | None = None
    date: str | None = None
    sitename: str | None = None
    description: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


def choose(src: Sources, fb: Fallback, *, url: str) -> Metadata:
    sites = _site_names(src, fb, url)
    authors = choose_authors(src, fb.author, sites)
    voices = title_voices(src, fb.title, sites)  # read once for the title and the other titles
    title = choose_title(voices, sites)
    headline = choose_headline(src, title, sites)
    return Metadata(
        title=title,
        headline=headline,
        other_titles=other_titles(voices, title, headline),
        authors=authors.names,
        byline=printed_byline(src, sites, authors.names),
        published=choose_date(_published_candidates(src, fb)),
        modified=choose_date(_modified_candidates(src)),
        description=_first_text(_jsonld_values(src, "description") + _meta(src, "og:description", "description", "twitter:description") + [fb.description]),
        sitename=clean_text(sites[0]) if sites else None,
        language=_language(src),
        canonical_url=_canonical(src, url),
        section=_first_text(_jsonld_values(src, "articleSection") + _meta(src, "article:section") + list(fb.categories[:1])),
        tags=_tags(src, fb),
        authors_personal=authors.personal,
        site_names=tuple(sites),
    )


def with_body_byline(meta: Metadata, text: str, printed: set[str]) -> tuple[Metadata, str | None]:
    """When no person was named, names printed as a bold early body line become the authors.

    Returns the metadata and the byline line found (for the caller to drop from the body).
    """
    if meta.authors_personal:
        return meta, None
    found = body_byline(text, list(meta.site_names), printed)
    if found is None:
        return meta, None
    names, line = found
    # The printed byline is judged against the new authors by the same rule as before.
    byline = beyond_authors(meta.byline, names)
    return replace(meta, authors=names, authors_personal=True, byline=byline), line


# --- dates -----------------------------------------------------------------------------------


def _published_candidates(src: Sources, fb: Fallback) -> list[str]:
    values = _jsonld_values(src, "datePublished") + _meta(src, *_PUBLISHED_META)
    values += [v for v, pub in src.times if pub] + _jsonld_values(src, "dateCreated")
    values += [v for v, pub in src.times[:3] if not pub]
    if fb.date:
        values.append(fb.date)
    return values


def _modified_candidates(src: Sources) -> list[str]:
    return _jsonld_values(src, "dateModified") + _meta(src, *_MODIFIED_META)


def choose_date(values: list[str]) -> str | None:
    """The first parseable date; a later one on the same day may add the time and zone."""
    first = None
    for raw in values:
        parsed = parse_date(raw)
        if parsed is None or not 1990 <= parsed.year <= 2100:
            continue
        timed = date_has_time(raw)
        if first is None:
            first = (parsed, timed)
            if timed and parsed.tzinfo is not None:
                break
            continue
        fp, ft = first
        richer = (timed and not ft) or (timed and parsed.tzinfo is not None and fp.tzinfo is None)
        if richer and parsed.date() == fp.date():
            first = (parsed, timed)
            if parsed.tzinfo is not None:
                break
    if first is None:
        return None
    return format_date(first[0], with_time=first[1])


# --- the rest --------------------------------------------------------------------------------


def _site_names(src: Sources, fb: Fallback, url: str) -> list[str]:
    names = _meta(src, "og:site_name", "application-name", "twitter:site") + src.jsonld_publishers + src.jsonld_sites
    if fb.sitename:
        names.append(fb.sitename)
    host = urlsplit(url).hostname or ""
    labels = [x for x in host.split(".") if x not in ("www", "m", "amp")]
    if labels:
        names.append(".".join(labels))
        if len(labels) >= 2:
            names.append(labels[-2])
    # A "site name" that is the page's whole headline is a misfilled field (seen as
    # application-name or WebSite.name): taking it would strip the headline away.
    headlines = {fold(t) for t in [*src.meta.get("og:title", ()), src.title_tag, *src.h1[:1]] if t}
    out = []
    for name in names:
        if (text := clean_text(name, limit=200)):
            text = text.lstrip("@")
            if len(text.split()) > _SITE_NAME_WORDS and fold(text) in headlines:
                continue
            if text not in out:
                out.append(text)
    return out


def _meta(src: Sources, *keys: str) -> list[str]:
    return [v for k in keys for v in src.meta.get(k, ())]


def _jsonld_values(src: Sources, key: str) -> list[str]:
    out = []
    for obj in src.jsonld[:3]:
        value = obj.get(key)
        if isinstance(value, list):
            out.extend(v for v in value if isinstance(v, str))
        elif isinstance(value, str):
            out.append(value)
    return out


def _first_text(values: list, *, limit: int = 2000) -> str | None:
    for value in values:
        if (text := clean_text(value, limit=limit)):
            return text
    return None


def _language(src: Sources) -> str | None:
    for value in _jsonld_values(src, "inLanguage") + [src.lang] + _meta(src, "og:locale", "content-language", "language"):
        if (text := clean_text(value, limit=20)):
            return text.replace("_", "-")
    return None


def _canonical(src: Sources, url: str) -> str | None:
    for value in [src.canonical] + _meta(src, "og:url"):
        text = clean_text(value, limit=2000)
        if text:
            absolute = urljoin(url, text)
            if urlsplit(absolute).scheme in ("http", "https"):
                return absolute
    return None


def _tags(src: Sources, fb: Fallback) -> tuple[str, ...]:
    raw = _meta(src, "article:tag") + _jsonld_values(src, "keywords") + _meta(src, "news_keywords", "keywords")
    tags: list[str] = []
    for value in raw:
        for part in value.split(","):
            if (text := clean_text(part, limit=100)) and text not in tags:
                tags.append(text)
        if tags and len(tags) >= 1:
            break
    return tuple(tags[:50]) or tuple(t for t in (clean_text(x, limit=100) for x in fb.tags[:50]) if t)
