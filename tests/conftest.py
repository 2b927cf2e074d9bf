"""Shared test fixtures. Tests reach loopback only: any other address fails loudly."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _assert_loopback(address) -> None:
    if isinstance(address, tuple) and address:
        host = address[0]
        try:
            ip = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            raise AssertionError(f"test tried to connect to unresolved host {host!r}") from None
        if not ip.is_loopback and not (
            isinstance(ip, ipaddress.IPv6Address)
            and ip.ipv4_mapped is not None
            and ip.ipv4_mapped.is_loopback
        ):
            raise AssertionError(f"test tried to reach non-loopback address {host}")


def _guarded_connect(self, address):
    _assert_loopback(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _assert_loopback(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """Every socket a test opens must go to 127.0.0.0/8 or ::1."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    yield


@pytest.fixture(scope="session")
def httpserver_listen_address():
    """pytest-httpserver on an IPv4 loopback address with a free port."""
    return ("127.0.0.1", 0)
