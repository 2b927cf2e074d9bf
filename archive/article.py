"""One stored version rendered for people (Markdown, text) or machines (JSON)."""

from __future__ import annotations

from .models import Version


def _date_line(version: Version) -> str | None:
    content = version.content
    if content.published and content.modified and content.modified != content.published:
        return f"Published {content.published}, updated {content.modified}"
    if content.published:
        return f"Published {content.published}"
    return None


def _byline(version: Version) -> str | None:
    authors = version.content.authors
    return "By " + ", ".join(authors) if authors else None


def render_markdown(version: Version) -> str:
    """The shape people paste: title, date, source, body with links, then the original URL."""
    content = version.content
    lines = [f"# {content.title or '(untitled)'}", ""]
    meta = [part for part in (_date_line(version), _byline(version)) if part]
    source = version.sitename or _host(version.final_url or version.url)
    meta.append(f"Source: {source}")
    lines.extend(line + "  " for line in meta[:-1])
    lines.append(meta[-1])
    lines.append("")
    body = version.markdown.strip() or content.text.strip()
    lines.append(body)
    lines.append("")
    lines.append(f"Original url: <{version.url}>")
    return "\n".join(lines) + "\n"


def render_text(version: Version) -> str:
    content = version.content
    head = [content.title or "(untitled)"]
    head.extend(part for part in (_date_line(version), _byline(version)) if part)
    head.append(f"Source: {version.sitename or _host(version.final_url or version.url)}")
    paragraphs = "\n\n".join(p for p in content.text.split("\n") if p.strip())
    return "\n".join(head) + "\n\n" + paragraphs + f"\n\nOriginal url: {version.url}\n"


def version_to_json(version: Version) -> dict:
    content = version.content
    return {
        "url": version.url,
        "final_url": version.final_url,
        "version": version.number,
        "captured_at": version.captured_at,
        "title": content.title,
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


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or url
