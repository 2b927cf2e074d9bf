"""Connections the fetcher keeps: one per recent host, a cap on requests in flight, and
idle hosts beyond the cap closed (hostpools.HostPools under pipeline.fetch.Fetcher)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

import pipeline.fetch
from pipeline.errors import FetchError
from pipeline.fetch import Fetcher
from pipeline.models import Target
from pipeline.settings import FetchSettings

SETTINGS = FetchSettings(allow_private_networks=True, timeout=5.0, read_timeout=3.0)
BODY = b"<!doctype html><html><head><title>t</title></head><body><p>kept</p></body></html>"


class KeepAliveSite:
    """HTTP/1.1 with keep-alive on several 127.0.0.x addresses, in the test's own loop.

    Counts the TCP connections each host accepted and closed, and the most requests any
    moment had in flight across all hosts; ``hold`` delays every answer.
    """

    def __init__(self, hosts: int, hold: float = 0.0, *, close_idle: bool = False,
                 stall: bool = False) -> None:
        self.hosts = [f"127.0.0.{i}" for i in range(1, hosts + 1)]
        self.hold = hold
        self.close_idle = close_idle  # close each connection after one answer, silently
        self.stall = stall  # send the head of the answer, then nothing
        self.accepted: dict[str, int] = dict.fromkeys(self.hosts, 0)
        self.closed: dict[str, int] = dict.fromkeys(self.hosts, 0)
        self.in_flight = self.most_in_flight = 0
        self.port = 0
        self._servers: list[asyncio.base_events.Server] = []

    async def __aenter__(self) -> KeepAliveSite:
        for host in self.hosts:
            server = await asyncio.start_server(
                lambda r, w, host=host: self._serve(host, r, w), host, self.port
            )
            self.port = server.sockets[0].getsockname()[1]
            self._servers.append(server)
        return self

    async def __aexit__(self, *exc_info) -> None:
        for server in self._servers:
            server.close()

    def url(self, index: int, path: str = "/p") -> str:
        return f"http://{self.hosts[index]}:{self.port}{path}"

    async def _serve(self, host, reader, writer) -> None:
        self.accepted[host] += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
                await asyncio.sleep(self.hold)
                self.in_flight -= 1
                if self.stall:
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                 b"Content-Length: 1000\r\n\r\n<html>")
                    await writer.drain()
                    await asyncio.sleep(30)
                if b"if-none-match:" in head.lower():
                    writer.write(b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n")
                elif head.startswith(b"GET /missing"):
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")
                else:
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
                await writer.drain()
                if self.close_idle:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed[host] += 1
            writer.close()


def run(test, hosts: int, *, hold: float = 0.0, settings: FetchSettings = SETTINGS, **site_options):
    async def go():
        async with KeepAliveSite(hosts, hold, **site_options) as site, Fetcher(settings) as fetcher:
            return await test(site, fetcher)

    return asyncio.run(go())


def test_a_connection_per_host_survives_a_round_over_many_hosts():
    # 20 hosts, at most 4 requests in flight: a pool sized by requests in flight used to
    # close each host's connection before the round came back to it.
    async def test(site, fetcher):
        for _ in range(3):
            for index in range(20):
                result = await fetcher.fetch(Target(site.url(index)))
                assert result.body == BODY
        return site

    site = run(test, 20, settings=replace(SETTINGS, concurrency=4))
    assert site.accepted == dict.fromkeys(site.hosts, 1)


def test_requests_in_flight_stay_under_the_concurrency_cap():
    async def test(site, fetcher):
        urls = [site.url(i % 6, f"/p{i}") for i in range(18)]
        results = await asyncio.gather(*(fetcher.fetch(Target(u)) for u in urls))
        assert all(r.body == BODY for r in results)
        return site

    site = run(test, 6, hold=0.05, settings=replace(SETTINGS, concurrency=2))
    assert site.most_in_flight == 2


def test_idle_hosts_beyond_the_cap_are_closed(monkeypatch):
    monkeypatch.setattr(pipeline.fetch, "_IDLE_HOSTS", 2)

    async def test(site, fetcher):
        for index in range(4):
            await fetcher.fetch(Target(site.url(index)))
        await fetcher.fetch(Target(site.url(0)))  # closed as the least recently used
        await fetcher.fetch(Target(site.url(3)))  # still open
        await asyncio.sleep(0.1)  # let the server see the closes
        return dict(site.accepted), dict(site.closed)

    accepted, closed = run(test, 4)
    assert accepted == {"127.0.0.1": 2, "127.0.0.2": 1, "127.0.0.3": 1, "127.0.0.4": 1}
    assert closed["127.0.0.1"] == 1 and closed["127.0.0.2"] == 1


def test_304s_and_small_error_pages_keep_their_connection():
    # Their unread (empty or small) bodies used to close the connection: a new TCP
    # connection for every 304 of a re-check.
    async def test(site, fetcher):
        for _ in range(3):
            result = await fetcher.fetch(Target(site.url(0), etag='"v1"'))
            assert result.not_modified and result.etag == '"v1"'
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(Target(site.url(0, "/missing")))
        assert caught.value.kind == "not_found" and caught.value.status == 404
        assert (await fetcher.fetch(Target(site.url(0)))).body == BODY
        return site

    site = run(test, 1)
    assert site.accepted == {"127.0.0.1": 1}


def test_a_connection_the_server_closed_while_idle_is_replaced_not_reused():
    async def test(site, fetcher):
        for _ in range(3):
            assert (await fetcher.fetch(Target(site.url(0)))).body == BODY
            await asyncio.sleep(0.05)  # the server's close reaches the client while idle
        return site

    site = run(test, 1, close_idle=True)
    assert site.accepted == {"127.0.0.1": 3}


def test_a_stalled_body_times_out_at_the_read_timeout():
    # Each read waits at most read_timeout, although the total deadline is far off.
    async def test(site, fetcher):
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(Target(site.url(0)))
        return caught.value

    error = run(test, 1, stall=True, settings=replace(SETTINGS, timeout=20.0, read_timeout=0.3))
    assert error.kind == "timeout" and "ReadTimeout" in str(error)
