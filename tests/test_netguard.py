"""SSRF guard: non-public addresses in every spelling are refused before any connection."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import BlockedError
from pipeline.fetch import Fetcher
from pipeline.models import Target
from pipeline.netguard import check_url, is_forbidden_ip, parse_host_ip
from pipeline.settings import FetchSettings
from tests.faultserver import fault_server  # noqa: F401  (pytest fixture)

GUARDED = FetchSettings(timeout=3.0, connect_timeout=1.0, read_timeout=1.0)

FORBIDDEN_V4 = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
]
FORBIDDEN_V6 = ["::1/128", "::/128", "fc00::/7", "fe80::/10", "ff00::/8", "2001:db8::/32", "100::/64"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.1/",
        "http://0x7f000001/",
        "http://0x7f.0.0.1/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://017700000001/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::1]/",
        "http://[0:0:0:0:0:0:0:1]/",
        "http://[::]/",
        "http://0.0.0.0/",
        "http://0/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1%25eth0]/",
        "http://10.1.2.3:8080/",
        "http://192.168.1.1/",
        "http://172.31.255.255/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[2002:7f00:1::]/",  # 6to4 wrapping 127.0.0.1
        "http://[64:ff9b::a00:1]/",  # NAT64 wrapping 10.0.0.1
        "http://localhost/",
        "http://LOCALHOST./",
        "http://api.localhost/",
        "https://user:pw@127.0.0.1:443/",
    ],
)
def test_forbidden_spellings_refused(url):
    with pytest.raises(BlockedError) as info:
        check_url(url, allow_private=False)
    assert info.value.kind == "blocked_address"


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/", "data:text/html,hi", "gopher://x/",
            "javascript:alert(1)", "example.org/no-scheme", "http:///nohost", "http://a:bad/"],
)
def test_non_http_refused(url):
    with pytest.raises(BlockedError) as info:
        check_url(url, allow_private=True)
    assert info.value.kind == "blocked_scheme"


@pytest.mark.parametrize(
    "url", ["https://example.org/a", "http://93.184.216.34/", "http://[2606:4700::1111]/",
            "http://[::ffff:8.8.8.8]/", "https://news.example.co.uk:8443/x?y=1"],
)
def test_public_allowed(url):
    check_url(url, allow_private=False)


def test_allow_private_opts_out():
    check_url("http://127.0.0.1:8080/", allow_private=True)
    check_url("http://[::1]/", allow_private=True)


@pytest.mark.parametrize(
    ("spelling", "ip"),
    [("127.1", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("2130706433", "127.0.0.1"),
     ("0177.0.0.1", "127.0.0.1"), ("10.1", "10.0.0.1"), ("192.168.257", "192.168.1.1"),
     ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"), ("example.org", None), ("1.2.3.4.5", None),
     ("256.0.0.1", None), ("0x", "0.0.0.0")],
)
def test_parse_host_ip(spelling, ip):
    parsed = parse_host_ip(spelling)
    assert parsed == (ipaddress.ip_address(ip) if ip else None)


# -- property tests over the ranges and spellings -------------------------------------------
def _v4_in(network: str):
    net = ipaddress.IPv4Network(network)
    return st.integers(int(net.network_address), int(net.broadcast_address)).map(
        ipaddress.IPv4Address
    )


def _v6_in(network: str):
    net = ipaddress.IPv6Network(network)
    return st.integers(int(net.network_address), int(net.broadcast_address)).map(
        ipaddress.IPv6Address
    )


def _spell_v4(ip: ipaddress.IPv4Address, style: int) -> str:
    n, octets = int(ip), ip.packed
    if style == 0:
        return str(ip)
    if style == 1:
        return str(n)
    if style == 2:
        return hex(n)
    if style == 3:
        return ".".join("0%o" % o for o in octets)
    if style == 4:
        return f"{octets[0]}.{n & 0xFFFFFF}"
    if style == 5:
        return f"[::ffff:{ip}]"
    if style == 6:
        return "[::ffff:%x:%x]" % (n >> 16, n & 0xFFFF)
    return f"[{ipaddress.IPv6Address((0x2002 << 112) | (n << 80))}]"  # 6to4


forbidden_v4 = st.one_of(*[_v4_in(n) for n in FORBIDDEN_V4])
forbidden_v6 = st.one_of(*[_v6_in(n) for n in FORBIDDEN_V6])


@settings(max_examples=400, deadline=None)
@given(ip=forbidden_v4, style=st.integers(0, 7), port=st.sampled_from(["", ":80", ":8443"]))
def test_property_forbidden_v4_in_any_spelling(ip, style, port):
    host = _spell_v4(ip, style)
    assert is_forbidden_ip(ip)
    with pytest.raises(BlockedError):
        check_url(f"http://{host}{port}/path", allow_private=False)


@settings(max_examples=200, deadline=None)
@given(ip=forbidden_v6)
def test_property_forbidden_v6(ip):
    assert is_forbidden_ip(ip)
    with pytest.raises(BlockedError):
        check_url(f"https://[{ip}]/", allow_private=False)


@settings(max_examples=400, deadline=None)
@given(ip=st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address))
def test_property_v4_agrees_with_ranges(ip):
    in_range = any(ip in ipaddress.IPv4Network(n) for n in FORBIDDEN_V4) or str(ip) in (
        "255.255.255.255", "192.88.99.1",
    ) or ip in ipaddress.IPv4Network("192.88.99.0/24")
    assert is_forbidden_ip(ip) == in_range
    # The mapped IPv6 form is judged by the IPv4 address it carries.
    assert is_forbidden_ip(ipaddress.IPv6Address(f"::ffff:{ip}")) == in_range


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60))
def test_property_check_url_only_raises_blocked(text):
    for url in (text, f"http://{text}/", f"http://[{text}]/"):
        try:
            check_url(url, allow_private=False)
        except BlockedError:
            pass


# -- the guard inside the fetcher -------------------------------------------------------------
def _fetch(settings: FetchSettings, url: str, **kwargs):
    async def go():
        async with Fetcher(settings, **kwargs) as fetcher:
            return await fetcher.fetch(Target(url))

    return asyncio.run(go())


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1", "0x7f000001", "2130706433", "[::ffff:127.0.0.1]"])
def test_fetcher_refuses_before_connecting(fault_server, host):
    fault_server.route("/", lambda ex: ex.respond(200, b"<html>secret</html>"))
    with pytest.raises(BlockedError) as info:
        _fetch(GUARDED, f"http://{host}:{fault_server.port}/")
    assert info.value.kind == "blocked_address"
    assert fault_server.connections == 0


@pytest.mark.parametrize(
    "location", ["http://127.0.0.1/admin", "http://0x7f000001/", "http://[::1]:8080/",
                 "http://169.254.169.254/latest/meta-data/", "http://localhost/"],
)
def test_redirect_hop_to_private_refused(location):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": location})

    with pytest.raises(BlockedError) as info:
        _fetch(GUARDED, "http://news.example/a", transport=httpx.MockTransport(handler))
    assert info.value.kind == "blocked_address"
    assert seen == ["http://news.example/a"]  # the private hop was never requested


def _fake_dns(monkeypatch, answers: dict[str, list[str]]):
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in answers:
            return [
                (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (ip, int(port)) if ":" not in ip else (ip, int(port), 0, 0))
                for ip in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_dns_rebinding_checked_at_connect_time(fault_server, monkeypatch):
    """A public-looking name that resolves to loopback passes check_url but not connect."""
    fault_server.route("/", lambda ex: ex.respond(200, b"<html>secret</html>"))
    _fake_dns(monkeypatch, {"rebind.test": ["127.0.0.1"]})
    url = f"http://rebind.test:{fault_server.port}/"
    check_url(url, allow_private=False)  # nothing to see before resolution
    with pytest.raises(BlockedError) as info:
        _fetch(GUARDED, url)
    assert info.value.kind == "blocked_address"
    assert fault_server.connections == 0


def test_dns_answer_mixing_public_and_private_refused(fault_server, monkeypatch):
    _fake_dns(monkeypatch, {"mixed.test": ["93.184.216.34", "127.0.0.1"]})
    with pytest.raises(BlockedError):
        _fetch(GUARDED, f"http://mixed.test:{fault_server.port}/")
    assert fault_server.connections == 0


def test_resolved_name_reaches_loopback_when_opted_in(fault_server, monkeypatch):
    """Control for the rebinding test: the same name works once private networks are allowed."""
    fault_server.route("/", lambda ex: ex.respond(200, b"<html><p>local mirror</p></html>"))
    _fake_dns(monkeypatch, {"mirror.test": ["127.0.0.1"]})
    result = _fetch(
        FetchSettings(allow_private_networks=True, timeout=3.0),
        f"http://mirror.test:{fault_server.port}/",
    )
    assert "local mirror" in result.text
    assert fault_server.seen[0].headers["host"] == f"mirror.test:{fault_server.port}"
