"""Per-host politeness through the real CLI: one request at a time per host, spaced by the
delay (raised by Crawl-delay, capped), while different hosts proceed in parallel.
Times are taken on the server side."""

from __future__ import annotations

import asyncio
import json

from pipeline.cli import main
from pipeline.politeness import HostGate
from tests.runsite import Reply, article_html, site, write_config  # noqa: F401

SLACK = 0.05  # timer granularity between the client's clock and the server's log


def serve_articles(site, host: int, count: int, delay: float = 0.2) -> list[str]:
    urls = []
    for index in range(count):
        path = f"/h{host}/story-{index}"
        site.route(host, path, Reply(200, article_html(f"Story {host} {index}"), delay=delay))
        urls.append(site.url(host, path))
    return urls


def gaps(hits) -> list[float]:
    hits = sorted(hits, key=lambda h: h.start)
    return [b.start - a.end for a, b in zip(hits, hits[1:])]


def test_one_request_per_host_at_a_time_spaced_and_hosts_in_parallel(site, tmp_path, capsys):
    urls = [url for host in range(3) for url in serve_articles(site, host, 4)]
    config = write_config(tmp_path, pages=urls, fetch={"per_host_delay": 0.5})
    assert main(["--config", str(config), "run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["new_versions"] == 12
    for host in range(3):
        hits = site.hits(host)
        assert len(hits) == 5  # robots.txt + 4 articles
        assert min(gaps(hits)) >= 0.5 - SLACK  # never concurrent, and spaced by the delay
    everything = sorted(site.hits(), key=lambda h: h.start)
    in_flight = max(
        sum(1 for other in everything if other.start <= hit.start < other.end)
        for hit in everything
    )
    assert in_flight >= 2  # different hosts were served at the same time


def test_crawl_delay_raises_the_spacing_up_to_the_cap(site, tmp_path):
    site.route(0, "/robots.txt", Reply(200, "User-agent: *\nCrawl-delay: 1.2\n",
                                       {"Content-Type": "text/plain"}))
    site.route(1, "/robots.txt", Reply(200, "User-agent: *\nCrawl-delay: 3600\n",
                                       {"Content-Type": "text/plain"}))
    urls = serve_articles(site, 0, 3, delay=0) + serve_articles(site, 1, 3, delay=0)
    config = write_config(tmp_path, pages=urls,
                          fetch={"per_host_delay": 0.1, "crawl_delay_cap": 0.6})
    assert main(["--config", str(config), "run", "--max-runtime", "60"]) == 0
    # Host 0 asked for 1.2 s but the cap is 0.6 s; host 1 asked for an hour: capped too.
    for host in (0, 1):
        spacing = gaps(site.hits(host))
        assert len(spacing) == 3 and min(spacing) >= 0.6 - SLACK
        assert max(spacing) < 10  # the cap held: nobody waited an hour


def test_host_gate_pause_holds_back_the_whole_host():
    async def scenario():
        gate = HostGate(concurrency=1, delay=0.0, total=4)
        loop = asyncio.get_running_loop()
        starts = {}

        async def request(url):
            async with gate.slot(url):
                starts[url] = loop.time()

        t0 = loop.time()
        gate.pause("http://a.test/x", 0.5)
        await asyncio.gather(request("http://a.test/y"), request("http://b.test/z"))
        return starts["http://a.test/y"] - t0, starts["http://b.test/z"] - t0

    paused, other = asyncio.run(scenario())
    assert paused >= 0.5 - SLACK
    assert other < 0.5  # another host is not held back
