"""URL identity: one canonical key per page, whatever alias (feed link, redirect, AMP) reached it.

``canonical_url`` is a pure string function; nothing here touches the network.

The identity key is the URL with:
- scheme and host lower-cased, the host IDNA-encoded (stdlib IDNA 2003 codec) and its
  trailing dot removed, the default port (:80 for http, :443 for https) dropped;
- user info ("user:password@") dropped: it is not part of a page's identity, and a key is
  stored and shown, so it must not carry a password;
- the fragment dropped;
- tracking parameters dropped (see ``TRACKING_PARAMS`` and ``TRACKING_PREFIXES``), every other
  query parameter kept in its order and spelling; an empty query disappears;
- an empty path written as "/", dot segments ("/a/../b") resolved as RFC 3986 §5.2.4 says;
- percent-encoding normalised (RFC 3986 §6.2.2): hex digits upper-case, escapes of
  unreserved characters decoded, characters that may not appear raw (space, non-ASCII, ``"<>``
  ...) encoded as UTF-8, a stray "%" written as "%25".

Trailing slashes, "www." and parameter order are left alone: sites do serve different pages
for those, so only ``same_site`` and ``choose_identity`` look past them.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote_plus, urljoin, urlsplit

from pipeline.errors import UsageError

__all__ = [
    "MAX_URL_LENGTH",
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "amp_variants",
    "canonical_url",
    "choose_identity",
    "is_http_url",
    "same_site",
    "site_key",
]

MAX_URL_LENGTH = 8192  # longer "URLs" from third-party feeds are garbage, not pages

# Query parameters that only say where a click came from; compared lower-cased after decoding.
# Sources: Google Analytics/Ads, Meta, Microsoft, Yandex, Mailchimp, HubSpot, Marketo, Adobe,
# comScore, AT Internet, Webtrends, Twitter/X share links, Guardian/NYT/MSN share campaigns.
TRACKING_PREFIXES = ("utm_", "__hs", "_hs", "ns_", "at_", "oly_", "pk_", "mtm_", "wt.")
TRACKING_PARAMS = frozenset(
    {
        # Google
        "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "_ga", "_gl", "srsltid",
        # Meta / Instagram
        "fbclid", "fb_action_ids", "fb_action_types", "fb_ref", "fb_source", "igshid", "igsh",
        # Microsoft / MSN, Yandex, TikTok, LinkedIn, Twitter/X
        "msclkid", "ocid", "yclid", "ttclid", "li_fat_id", "twclid", "ref_src", "ref_url",
        # mail and marketing platforms
        "mc_cid", "mc_eid", "mkt_tok", "vero_id", "vero_conv", "hsctatracking", "_openstat",
        "s_cid", "sc_cid", "wt_mc", "xtor", "ito",
        # publishers' share/campaign tags (Guardian CMP, NYT smid/smtyp, Yahoo soc_*)
        "cmp", "cmpid", "icid", "smid", "smtyp", "soc_src", "soc_trk", "sr_share",
        "guccounter", "guce_referrer", "guce_referrer_sig",
    }
)

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS = "!$&'()*+,;="
_PATH_SAFE = frozenset(_UNRESERVED | set(_SUB_DELIMS) | set(":@/"))
_QUERY_SAFE = frozenset(_PATH_SAFE | set("?"))
_HEX = frozenset("0123456789abcdefABCDEF")
_HOST_OK = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PLAIN: dict[frozenset[str], re.Pattern[str]] = {}  # per safe set: "nothing to rewrite" matcher


def _bad(url: str, problem: str) -> UsageError:
    shown = url if len(url) <= 200 else url[:200] + "..."
    return UsageError(f"bad URL {shown!r}: {problem}", kind="bad_url")


def is_http_url(url: str) -> bool:
    """True when ``url`` is a well-formed absolute http(s) URL that ``canonical_url`` accepts."""
    try:
        canonical_url(url)
    except UsageError:
        return False
    return True


def canonical_url(url: str) -> str:
    """Return the identity key of ``url``; raise UsageError(kind="bad_url") if it is not one."""
    if not isinstance(url, str):
        raise UsageError(f"bad URL {url!r}: not a string", kind="bad_url")
    text = url.strip()
    if not text:
        raise _bad(url, "empty")
    if len(text) > MAX_URL_LENGTH:
        raise _bad(url, f"longer than {MAX_URL_LENGTH} characters")
    if _CONTROL.search(text):
        raise _bad(url, "contains control characters")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise _bad(url, str(exc)) from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise _bad(url, "not an http(s) URL" if scheme else "not an absolute URL")
    host, port = _split_netloc(url, parts.netloc)
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = _remove_dot_segments(_normalise_escapes(parts.path, _PATH_SAFE)) or "/"
    if not path.startswith("/"):
        path = "/" + path
    query = _strip_tracking(parts.query)
    return f"{scheme}://{host}{path}" + (f"?{query}" if query else "")


def _split_netloc(url: str, netloc: str) -> tuple[str, int | None]:
    """(normalised host, port) from an authority, user info dropped; raises bad_url if bad."""
    netloc = netloc.rpartition("@")[2]
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            raise _bad(url, "unclosed IPv6 bracket")
        literal, rest = netloc[1:end], netloc[end + 1 :]
        try:
            host = f"[{ipaddress.IPv6Address(literal).compressed}]"
        except ValueError as exc:
            raise _bad(url, f"bad IPv6 address {literal!r}") from exc
    else:
        host, sep, port_text = netloc.partition(":")
        rest = sep + port_text
        host = _normalise_host(url, host)
    port = None
    if rest and rest != ":":  # "host:" with an empty port means the default one
        if not re.fullmatch(r":[0-9]{1,5}", rest):
            raise _bad(url, f"bad port {rest!r}")
        port = int(rest[1:])
        if not 0 < port < 65536:
            raise _bad(url, f"port {port} out of range")
    return host, port


def _normalise_host(url: str, host: str) -> str:
    host = host.rstrip(".").lower()
    if not host:
        raise _bad(url, "no host")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise _bad(url, f"host cannot be IDNA-encoded ({exc})") from exc
    if len(host) > 253 or not _HOST_OK.fullmatch(host):
        raise _bad(url, f"bad host {host!r}")
    if any(len(label) > 63 for label in host.split(".")):
        raise _bad(url, "host label longer than 63 characters")
    return host


def _normalise_escapes(text: str, safe: frozenset[str]) -> str:
    """Upper-case %XX, decode escaped unreserved characters, encode characters not in ``safe``."""
    plain = _PLAIN.get(safe)
    if plain is None:
        plain = _PLAIN[safe] = re.compile("[" + re.escape("".join(sorted(safe))) + "]*")
    if plain.fullmatch(text):
        return text  # the common case: nothing to rewrite
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "%":
            if i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
                decoded = chr(int(text[i + 1 : i + 3], 16))
                out.append(decoded if decoded in _UNRESERVED else "%" + text[i + 1 : i + 3].upper())
                i += 3
                continue
            out.append("%25")
        elif ch in safe:
            out.append(ch)
        else:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    if "." not in path:
        return path
    segments = path.split("/")
    out: list[str] = []
    for seg in segments:
        if seg == "..":
            if len(out) > 1:
                out.pop()
        elif seg != ".":
            out.append(seg)
    if segments[-1] in (".", ".."):
        out.append("")  # "/a/b/.." names the directory "/a/"
    return "/".join(out)


def _is_tracking(raw_key: str) -> bool:
    key = unquote_plus(raw_key).strip().lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _strip_tracking(query: str) -> str:
    if not query:
        return ""
    kept = []
    for piece in query.split("&"):
        if not piece:
            continue
        piece = _normalise_escapes(piece, _QUERY_SAFE)
        if not _is_tracking(piece.split("=", 1)[0]):
            kept.append(piece)
    return "&".join(kept)


# --- sites ------------------------------------------------------------------------------------

# Second-level labels under which country TLDs register names (bbc.co.uk, abc.net.au, ...).
_CC_SECOND_LEVEL = frozenset(
    "ac co com edu gen go gob gouv gov govt ltd me mil ne net nhs nic nom or org plc sch".split()
)
# Hosting platforms whose subdomains belong to different owners.
_SHARED_SUFFIXES = (
    "blogspot.com", "wordpress.com", "substack.com", "medium.com", "tumblr.com", "github.io",
    "gitlab.io", "netlify.app", "vercel.app", "pages.dev", "herokuapp.com", "appspot.com",
    "cloudfront.net", "azurewebsites.net", "wixsite.com", "squarespace.com", "cdn.ampproject.org",
)


def site_key(url: str) -> str | None:
    """The registrable-ish part of the host ("bbc.co.uk" for news.bbc.co.uk), or None if bad.

    No public-suffix list: two labels, or three when the second-level label is a known
    country-code registry label (co.uk, com.au, ...); IP literals and single labels are their
    own site; a few multi-tenant platforms (blogspot.com, github.io, ...) keep one more label.
    """
    try:
        host = urlsplit(canonical_url(url)).hostname or ""
    except (UsageError, ValueError):
        return None
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    labels = host.split(".")
    for suffix in _SHARED_SUFFIXES:
        if host == suffix or host.endswith("." + suffix):
            keep = suffix.count(".") + 2
            return ".".join(labels[-keep:])
    keep = 2
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _CC_SECOND_LEVEL:
        keep = 3
    return ".".join(labels[-keep:])


def same_site(a: str, b: str) -> bool:
    """True when both URLs are http(s) and share a ``site_key`` (www.x.com and x.com do)."""
    key_a = site_key(a)
    return key_a is not None and key_a == site_key(b)


# --- AMP ----------------------------------------------------------------------------------------

_AMP_QUERY_KEYS = frozenset({"amp", "_amp", "outputtype", "usqp", "amp_js_v", "amp_gsa",
                             "__amp_source_origin"})


def amp_variants(url: str) -> tuple[str, ...]:
    """Likely non-AMP URLs for an AMP URL, most likely first; () if ``url`` does not look AMP.

    Recognised: Google AMP cache and viewer URLs (*.cdn.ampproject.org/c/s/host/...,
    google.com/amp/s/host/...), an "amp." host, a leading or trailing "/amp" path segment,
    "*.amp.html" and "*.amp" file names, and amp/outputType=amp query parameters. Candidates
    are guesses to match against known pages, not facts: fetch and check before trusting one.
    """
    try:
        start = canonical_url(url)
    except UsageError:
        return ()
    current = _unwrap_amp_cache(start) or start
    parts = urlsplit(current)
    hosts = [parts.netloc]
    if parts.netloc.startswith("amp.") and parts.netloc.count(".") >= 2:
        bare = parts.netloc[4:]
        hosts = [bare, "www." + bare] if not bare.startswith("www.") else [bare]
    path = _strip_amp_path(parts.path)
    query = "&".join(
        p for p in parts.query.split("&")
        if p and not _is_amp_param(p)
    )
    out: list[str] = []
    for host in hosts:
        candidate = canonical_url(f"{parts.scheme}://{host}{path}" + (f"?{query}" if query else ""))
        if candidate != start and candidate not in out:
            out.append(candidate)
    return tuple(out)


def _is_amp_param(piece: str) -> bool:
    key, _, value = piece.partition("=")
    key = unquote_plus(key).lower()
    if key == "outputtype":
        return value.lower() == "amp"
    return key in _AMP_QUERY_KEYS


def _unwrap_amp_cache(url: str) -> str | None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    segments = parts.path.split("/")
    rest: list[str] | None = None
    if host.endswith(".cdn.ampproject.org") and len(segments) > 2 and segments[1] in ("c", "v"):
        rest = segments[2:]
    elif host in ("www.google.com", "google.com") and len(segments) > 2 and segments[1] == "amp":
        rest = segments[2:]
    if not rest:
        return None
    scheme = "http"
    if rest[0] == "s":
        scheme, rest = "https", rest[1:]
    if not rest or not rest[0]:
        return None
    target = f"{scheme}://{'/'.join(rest)}" + (f"?{parts.query}" if parts.query else "")
    return canonical_url(target) if is_http_url(target) else None


def _strip_amp_path(path: str) -> str:
    trailing = path.endswith("/")
    segments = [s for s in path.split("/") if s]
    if segments and segments[-1].lower() == "amp":
        segments.pop()
    elif segments and segments[-1].lower().endswith(".amp.html"):
        segments[-1] = segments[-1][: -len(".amp.html")] + ".html"
    elif segments and segments[-1].lower().endswith(".amp") and len(segments[-1]) > 4:
        segments[-1] = segments[-1][: -len(".amp")]
    if segments and segments[0].lower() == "amp":
        segments.pop(0)
    rebuilt = "/" + "/".join(segments)
    return rebuilt + "/" if trailing and segments else rebuilt


# --- identity -----------------------------------------------------------------------------------


def choose_identity(requested: str, final_url: str, canonical: str | None) -> str:
    """The page key: a trustworthy same-site rel=canonical, else the final URL after redirects.

    ``canonical`` may be relative (resolved against ``final_url``). It is ignored when it is not
    http(s), points to another site, points to the site's home page from a deeper page (a
    common template bug that would merge every article into one), or points to an AMP URL
    from a non-AMP one. A canonical on the publisher's site is accepted for a page read through
    the Google AMP cache. Raises UsageError(kind="bad_url") only when neither ``final_url`` nor
    ``requested`` is an http(s) URL.
    """
    base = canonical_url(final_url if is_http_url(final_url) else requested)
    if not canonical or not isinstance(canonical, str):
        return base
    try:
        resolved = urljoin(base, canonical.strip())
    except ValueError:
        return base
    if not is_http_url(resolved):
        return base
    candidate = canonical_url(resolved)
    base_amp = amp_variants(base)
    if not (same_site(candidate, base) or any(same_site(candidate, v) for v in base_amp)):
        return base
    cand_parts, base_parts = urlsplit(candidate), urlsplit(base)
    if cand_parts.path == "/" and not cand_parts.query and base_parts.path != "/":
        return base
    if amp_variants(candidate) and not base_amp:
        return base
    return candidate
