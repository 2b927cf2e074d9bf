"""Frozen settings objects, one per stage. config.py fills them from config.toml."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_USER_AGENT = (
    "palimpsest/0.1 (news archiver; +https://github.com/palimpsest-archive/palimpsest)"
)


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 60.0  # total deadline per URL, redirects and body included
    connect_timeout: float = 10.0
    read_timeout: float = 20.0  # longest silence between two reads
    max_bytes: int = 10 * 1024 * 1024  # body cap after decompression
    max_redirects: int = 10
    retries: int = 2  # extra attempts after a transient failure
    retry_after_cap: float = 60.0  # longest Retry-After we wait for inside a run
    allow_private_networks: bool = False
    concurrency: int = 32  # requests in flight, all hosts
    per_host_concurrency: int = 1
    per_host_delay: float = 1.0  # seconds between requests to one host
    obey_robots: bool = True
    robots_max_age: float = 3600.0  # seconds a stored robots.txt is used by later runs; 0: ask each run
    crawl_delay_cap: float = 60.0


@dataclass(frozen=True)
class ExtractSettings:
    workers: int = 0  # extraction processes; 0 means one per core
    timeout: float = 30.0  # per page; a page that takes longer is an extract_timeout error
