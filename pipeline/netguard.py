"""SSRF guard: which URLs and addresses the fetcher may reach.

Feed and sitemap URLs are third-party input, so by default nothing that points into the
machine or its private networks is fetched. Two checks:

- ``check_url`` before any request (and on every redirect hop): scheme and literal host,
  in every spelling a resolver accepts (``127.1``, ``0x7f000001``, ``2130706433``,
  ``0177.0.0.1``, ``[::ffff:127.0.0.1]``, ...).
- ``resolve_checked`` at connect time: the host is resolved once, every address is checked,
  and the caller connects to a checked address, so DNS rebinding cannot slip through.

``pipeline.netstream.GuardedBackend`` plugs the second check into httpcore. This module
is the standard library only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from pipeline.errors import BlockedError

__all__ = ["check_host", "check_url", "is_forbidden_ip", "parse_host_ip", "resolve_checked"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_ALLOWED_SCHEMES = frozenset({"http", "https"})

# IANA special-purpose blocks that are not reachable (or not safe) on the public internet.
_V4_FORBIDDEN = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
)
_V6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_V6_FORBIDDEN = tuple(
    ipaddress.IPv6Network(n)
    for n in ("2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20")
)
_V6_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_V6_COMPAT = ipaddress.IPv6Network("::/96")
_V6_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_V6_SIXTOFOUR = ipaddress.IPv6Network("2002::/16")
_V6_TEREDO = ipaddress.IPv6Network("2001::/32")

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def _embedded_v4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    found: list[ipaddress.IPv4Address] = []
    if ip in _V6_MAPPED or ip in _V6_COMPAT or ip in _V6_NAT64:
        found.append(low32)
    if ip in _V6_SIXTOFOUR:
        found.append(ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF))
    if ip in _V6_TEREDO and ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def is_forbidden_ip(ip: str | IPAddress) -> bool:
    """True when ``ip`` is not a public unicast address (or embeds one that is not).

    Unparseable input counts as forbidden: the guard fails closed.
    """
    try:
        addr = ipaddress.ip_address(ip.split("%")[0] if isinstance(ip, str) else ip)
    except ValueError:
        return True
    if isinstance(addr, ipaddress.IPv4Address):
        return any(addr in net for net in _V4_FORBIDDEN) or addr == ipaddress.IPv4Address(
            "255.255.255.255"
        )
    embedded = _embedded_v4(addr)
    if embedded:
        # Mapped/compat/NAT64 forms are judged by what they point at; 6to4 and Teredo
        # are transition ranges we refuse outright anyway.
        if any(is_forbidden_ip(v4) for v4 in embedded):
            return True
        return not (addr in _V6_MAPPED or addr in _V6_NAT64)
    if addr not in _V6_GLOBAL_UNICAST:
        return True
    return any(addr in net for net in _V6_FORBIDDEN)


def _parse_v4_part(part: str) -> int | None:
    if not part:
        return None
    try:
        if part[:2].lower() == "0x":
            return int(part[2:], 16) if part[2:] else 0
        if len(part) > 1 and part[0] == "0":
            return int(part[1:], 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:
        return None


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """Parse IPv4 the way BSD inet_aton (and so getaddrinfo) does: 1-4 parts, hex/octal."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = [_parse_v4_part(p) for p in parts]
    if any(v is None for v in values):
        return None
    *head, last = values  # type: ignore[misc]
    if any(v > 255 for v in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    number = 0
    for v in head:
        number = (number << 8) | v
    number = (number << (8 * (4 - len(head)))) | last
    return ipaddress.IPv4Address(number)


def parse_host_ip(host: str) -> IPAddress | None:
    """The IP a literal host denotes in any accepted spelling, or None for a DNS name."""
    h = host.strip().rstrip(".").lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    h = h.split("%")[0]  # IPv6 zone id
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        pass
    if ":" in h:
        return None
    return _inet_aton(h)


def check_host(host: str, *, allow_private: bool, url: str = "") -> None:
    """Refuse a literal forbidden address or a loopback name; DNS names pass to connect time."""
    if allow_private:
        return
    name = host.strip().rstrip(".").lower()
    if not name:
        raise BlockedError("URL has no host", kind="blocked_address", url=url)
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        raise BlockedError(f"refusing local host name {host!r}", kind="blocked_address", url=url)
    ip = parse_host_ip(name)
    if ip is not None and is_forbidden_ip(ip):
        raise BlockedError(
            f"refusing non-public address {ip} (from host {host!r})",
            kind="blocked_address",
            url=url,
        )


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise BlockedError unless ``url`` is http(s) with a host we may reach."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except (ValueError, AttributeError):
        raise BlockedError(f"not a valid URL: {url!r}", kind="blocked_scheme", url=url) from None
    if parts.scheme.lower() not in _ALLOWED_SCHEMES:
        raise BlockedError(
            f"only http and https URLs are fetched, not {parts.scheme or 'no scheme'!r}",
            kind="blocked_scheme",
            url=url,
        )
    if not host:
        raise BlockedError(f"URL has no host: {url!r}", kind="blocked_scheme", url=url)
    check_host(host, allow_private=allow_private, url=url)


async def resolve_checked(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Resolve ``host`` and return its addresses, refusing if any of them is forbidden.

    Every address must pass, not just the first: a rebinding name may mix one public and
    one private answer. Raises BlockedError, or OSError when resolution fails.
    """
    literal = parse_host_ip(host)
    if literal is not None:
        candidates = [str(literal)]
    else:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )
        candidates = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not candidates:
        raise OSError(f"no address for {host!r}")
    if not allow_private:
        for ip in candidates:
            if is_forbidden_ip(ip):
                raise BlockedError(
                    f"{host!r} resolves to non-public address {ip}", kind="blocked_address"
                )
    return candidates
