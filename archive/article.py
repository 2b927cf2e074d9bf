"""One stored version rendered for people (Markdown, text) or machines (JSON).

Times for people read as ``2024-02-24 11:42 UTC`` (or the publisher's own offset, which a
reader cites); machines get the stored ISO 8601 text unchanged.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from .models import Version


def human_time(value: str | None, *, seconds: bool = False) -> str | None:
    """An ISO 8601 date or time as people read it; text that does not parse is kept as is."""
    if not value:
        return None
    if len(value) == 10:  # a bare date: no time to invent
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    shown = moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    offset = moment.utcoffset()
    if offset is None:
        return shown
    if not offset:
        return f"{shown} UTC"
    return f"{shown} {moment.strftime('%z')[:3]}:{moment.strftime('%z')[3:]}"


def _date_line(version: Version) -> str | None:
    content = version.content
    published, modified = human_time(content.published), human_time(content.modified)
    # An update within the same minute as publication is the CMS saving twice, not news.
    if published and modified and modified != published:
        return f"Published {published}, updated {modified}"
    if published:
        return f"Published {published}"
    if modified:
        return f"Updated {modified}"
    return None


def _byline(version: Version) -> str | None:
    # The names the page printed, when structured data named someone else (a CMS account).
    names = version.content.byline or version.content.authors
    return "By " + ", ".join(names) if names else None


def _archived_line(version: Version, latest: int | None) -> str:
    of = f" of {latest}" if latest else ""
    return f"Archived {human_time(version.captured_at, seconds=True)} (version {version.number}{of})"


def _head(version: Version, latest: int | None) -> list[str]:
    source = version.sitename or _host(version.final_url or version.url)
    parts = [_date_line(version), _byline(version), f"Source: {source}",
             _archived_line(version, latest)]
    return [part for part in parts if part]


def render_markdown(version: Version, *, latest: int | None = None) -> str:
    """The shape people paste: title, date, source, body with links, then the original URL.

    ``latest`` (the page's newest version number) lets the archive line say "version 2 of 5".
    """
    head = _head(version, latest)
    lines = [f"# {version.content.title or '(untitled)'}", ""]
    lines.extend(line + "  " for line in head[:-1])  # two spaces: a Markdown line break
    lines += [head[-1], ""]
    lines.append(version.markdown.strip() or version.content.text.strip())
    lines += ["", f"Original url: <{version.url}>"]
    return "\n".join(lines) + "\n"


def render_text(version: Version, *, latest: int | None = None) -> str:
    head = [version.content.title or "(untitled)", *_head(version, latest)]
    paragraphs = "\n\n".join(p for p in version.content.text.split("\n") if p.strip())
    return "\n".join(head) + "\n\n" + paragraphs + f"\n\nOriginal url: {version.url}\n"


def version_to_json(version: Version) -> dict:
    content = version.content
    return {
        "url": version.url,
        "final_url": version.final_url,
        "version": version.number,
        "captured_at": version.captured_at,
        "title": content.title,
        "headline": content.headline,
        "other_titles": list(content.other_titles),
        "byline": list(content.byline),
        "authors": list(content.authors),
        "published": content.published,
        "modified": content.modified,
        "description": content.description,
        "canonical_url": content.canonical_url,
        "sitename": version.sitename,
        "language": version.language,
        "section": version.section,
        "tags": list(version.tags),
        "text": content.text,
        "markdown": version.markdown,
        "changed": list(version.changed),
        "flags": list(version.flags),
        "revert_of": version.revert_of,
        "extractor": version.extractor,
        "extractor_version": version.extractor_version,
        "raw_sha256": version.raw_sha256,
    }


def history_entry(version: Version) -> dict:
    return {
        "version": version.number,
        "captured_at": version.captured_at,
        "title": version.content.title,
        "changed": list(version.changed),
        "flags": list(version.flags),
        "revert_of": version.revert_of,
        "words_added": version.words_added,
        "words_removed": version.words_removed,
        "extractor_version": version.extractor_version,
    }


def flags_label(flags: tuple[str, ...] | list[str], revert_of: int | None) -> str:
    """``minor, revert of v5``: the flags as one phrase (empty when there are none)."""
    return ", ".join(f"revert of v{revert_of}" if f == "revert" and revert_of else f for f in flags)


def history_line(version: Version, *, previous_title: str | None) -> list[str]:
    """One version in `archive history`: when, what changed and how much, then new titles."""
    changed = list(version.changed)
    if version.number == 1 and not changed:
        what = f"first capture, {version.words_added} words"
    else:
        parts = [f"text +{version.words_added}/-{version.words_removed} words"
                 if name == "text" else name for name in changed]
        what = ", ".join(parts) or "no field changed after normalisation"
    flags = flags_label(version.flags, version.revert_of)
    line = f"v{version.number:<3} {human_time(version.captured_at, seconds=True)}  {what}"
    lines = [line + (f"  [{flags}]" if flags else "")]
    title = version.content.title
    if title and (version.number == 1 or title != previous_title):
        lines.append(f"     {title}")
    return lines


def _host(url: str) -> str:
    return urlsplit(url).hostname or url
