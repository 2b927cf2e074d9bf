"""TLS fails closed: untrusted, wrong-host or expired certificates are kind "tls", never retried."""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime, timedelta

import pytest
import trustme

from pipeline.errors import FetchError
from pipeline.fetch import Fetcher
from pipeline.models import FetchResult, Target
from pipeline.settings import FetchSettings
from tests.faultserver import FaultServer

SETTINGS = FetchSettings(allow_private_networks=True, timeout=3.0, connect_timeout=2.0)
PAGE = b"<!doctype html><html><body><p>over TLS</p></body></html>"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server(ca: trustme.CA, *identities: str, **cert_kwargs) -> FaultServer:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*identities, **cert_kwargs).configure_cert(server_ctx)
    server = FaultServer(hosts=("127.0.0.1",), ssl_context=server_ctx)
    server.route("/", lambda ex: ex.respond(200, PAGE))
    return server


def _trusting(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


def _fetch(url: str, **kwargs) -> FetchResult:
    async def go():
        async with Fetcher(SETTINGS, **kwargs) as fetcher:
            return await fetcher.fetch(Target(url))

    return asyncio.run(go())


def test_trusted_certificate_succeeds(ca):
    with _server(ca, "127.0.0.1") as server:
        result = _fetch(server.url("/"), verify=_trusting(ca))
    assert result.body == PAGE
    assert result.final_url.startswith("https://")


@pytest.mark.parametrize(
    ("identities", "cert_kwargs", "trusted"),
    [
        pytest.param(("127.0.0.1",), {}, False, id="untrusted_ca_self_signed"),
        pytest.param(("news.example",), {}, True, id="wrong_host"),
        pytest.param(("127.0.0.1",),
                     {"not_before": datetime.now(UTC) - timedelta(days=30),
                      "not_after": datetime.now(UTC) - timedelta(days=1)}, True, id="expired"),
    ],
)
def test_bad_certificate_fails_closed(ca, identities, cert_kwargs, trusted):
    with _server(ca, *identities, **cert_kwargs) as server:
        kwargs = {"verify": _trusting(ca)} if trusted else {}
        with pytest.raises(FetchError) as info:
            _fetch(server.url("/"), **kwargs)
        assert info.value.kind == "tls"
        # One handshake, refused; no second attempt without verification.
        assert server.connections == 1
        assert server.seen == []  # no HTTP request ever reached the server


@pytest.mark.parametrize("verify", [False], ids=["verify_false"])
def test_verification_cannot_be_disabled(verify):
    with pytest.raises(ValueError):
        Fetcher(SETTINGS, verify=verify)


def test_context_without_hostname_check_refused(ca):
    ctx = _trusting(ca)
    ctx.check_hostname = False
    with pytest.raises(ValueError):
        Fetcher(SETTINGS, verify=ctx)
    ctx.verify_mode = ssl.CERT_NONE
    with pytest.raises(ValueError):
        Fetcher(SETTINGS, verify=ctx)
