"""robots.txt as RFC 9309 reads it, on top of protego. Pure: the fetcher brings the response.

What a robots.txt response means (RFC 9309 §2.3.1):

| response                          | rules                                        |
|-----------------------------------|----------------------------------------------|
| 2xx                               | parse the body (first 500 KiB)               |
| 3xx left over (redirects exhausted) | unavailable: allow all                     |
| 4xx, except 429                   | unavailable: allow all                       |
| 429, 5xx, no response, other      | unreachable: disallow all (for this run)     |

429 is a "slow down" signal, not a missing file, so it is treated like 5xx (as Google does).

Groups are chosen by the crawler's product token ("palimpsest" from "palimpsest/0.1 (...)"):
the group whose User-agent line names that token, case-insensitively (a trailing version
or "*" is tolerated), else the "*" group, else no rules. Protego alone would also pick a group
named by a prefix of the token ("palim"), or by any word of a full User-Agent header.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from protego import Protego

from pipeline.urls import canonical_url

__all__ = [
    "MAX_ROBOTS_BYTES",
    "RobotsRules",
    "allowed",
    "crawl_delay",
    "product_token",
    "robots_url",
    "rules_from_response",
]

MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309 §2.5: parse at least 500 KiB; we parse exactly that

_AGENT_LINE = re.compile(r"^\s*user[-_ ]?agent\s*:\s*([^#\r\n]*)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class RobotsRules:
    """The rules of one host's robots.txt, ready to ask. Build with ``rules_from_response``."""

    mode: str  # "parsed", "allow_all" or "disallow_all"
    status: int | None = None
    agents: frozenset[str] = frozenset()  # lower-cased User-agent values as written
    sitemaps: tuple[str, ...] = ()  # Sitemap: lines, absolute http(s) URLs in canonical form
    _parser: Protego | None = field(default=None, compare=False, repr=False)


def robots_url(url: str) -> str:
    """The robots.txt URL governing ``url`` (same scheme, host and port). Raises bad_url."""
    parts = urlsplit(canonical_url(url))
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def rules_from_response(status: int | None, body: bytes | None) -> RobotsRules:
    """Rules from the final response to a robots.txt request (``status`` None: unreachable)."""
    if status is None or status < 200 or status == 429 or status >= 500:
        return RobotsRules(mode="disallow_all", status=status)
    if status >= 300:
        return RobotsRules(mode="allow_all", status=status)
    text = (body or b"")[:MAX_ROBOTS_BYTES].decode("utf-8", "replace")
    if len(body or b"") > MAX_ROBOTS_BYTES:
        text = text.rsplit("\n", 1)[0]  # drop the line cut in half
    parser = Protego.parse(text)
    agents = frozenset(
        name.strip().lower() for name in _AGENT_LINE.findall(text) if name.strip()
    )
    sitemaps = []
    for link in parser.sitemaps:
        try:
            sitemaps.append(canonical_url(link))
        except Exception:  # noqa: BLE001 - a junk Sitemap: line is just ignored
            continue
    return RobotsRules(
        mode="parsed", status=status, agents=agents, sitemaps=tuple(dict.fromkeys(sitemaps)),
        _parser=parser,
    )


def product_token(user_agent: str) -> str:
    """"palimpsest" from "palimpsest/0.1 (news archiver; +https://...)", lower-cased."""
    match = re.match(r"\s*([A-Za-z0-9_-]+)", user_agent or "")
    return match.group(1).lower() if match else ""


def _group_name(rules: RobotsRules, user_agent: str) -> str:
    # Protego picks the longest group name found inside the string it is given; an empty string
    # matches only "*". Giving it the token only when a group is named exactly so makes the
    # choice exact.
    token = product_token(user_agent)
    if not token:
        return ""
    if token in rules.agents:
        return token
    # Tolerate "User-agent: palimpsest/1.0" and "palimpsest*": same product token.
    for name in sorted(rules.agents):
        if name != "*" and product_token(name.replace("*", "")) == token:
            return name.replace("*", "")
    return ""


def allowed(rules: RobotsRules, url: str, user_agent: str) -> bool:
    """May ``user_agent`` fetch ``url``? /robots.txt itself is always allowed."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    if path == "/robots.txt":
        return True
    if rules.mode != "parsed":
        return rules.mode == "allow_all"
    if rules._parser is None:
        return True
    return rules._parser.can_fetch(url, _group_name(rules, user_agent))


def crawl_delay(rules: RobotsRules, user_agent: str, *, cap: float) -> float | None:
    """Seconds to wait between requests to the host, from Crawl-delay or Request-rate, capped.

    None when robots.txt asks for nothing (or nonsense: negative, infinite, not a number).
    """
    if rules.mode != "parsed" or rules._parser is None:
        return None
    name = _group_name(rules, user_agent)
    delays = []
    delay = rules._parser.crawl_delay(name)
    if delay is not None:
        delays.append(delay)
    rate = rules._parser.request_rate(name)
    if rate is not None and rate.requests:
        delays.append(rate.seconds / rate.requests)
    delays = [d for d in delays if isinstance(d, (int, float)) and math.isfinite(d) and d >= 0]
    if not delays:
        return None
    return float(min(max(delays), cap))
