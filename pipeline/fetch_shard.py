"""A second fetching process for a share of the hosts, so a long re-check uses two cores.

A run of unchanged pages is bound by the one core that runs the event loop: nearly all of
its CPU is the HTTP exchange (request, framing, inflate, hash). ``ShardedFetcher`` keeps the
``Fetcher`` interface and sends the pages of the hosts given to ``assign`` to a child
process forked before any thread starts; the child runs an ordinary ``Fetcher`` (every
guard, cap and deadline is its own) and answers each fetch over a socket pair.

Everything else stays in the parent: robots.txt, the host gate (a host's slot is held in
the parent for the whole remote fetch, so per-host limits and delays are unchanged), the
retries and the single store writer. The child never writes: a kill -9 of either process
loses nothing stored, and the child dies with its parent (PR_SET_PDEATHSIG) or as soon as
the socket closes. If the child is gone, its hosts are fetched here again.

The child pays only on a free core: on a busy machine it competes with the parent for the
same one and adds its own overhead (pickling, the socket, a second event loop), so the
engine hands it hosts only when ``spare_core`` saw one that no other process used since
the fork.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import signal
import socket
import struct
import sys
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from .errors import BlockedError, FetchError, PalimpsestError
from .fetch import Fetcher
from .models import FetchResult, Target
from .politeness import HostGate
from .settings import FetchSettings
from .workers import die_with_parent

__all__ = ["REMOTE_SHARE", "ShardedFetcher", "split_hosts"]

REMOTE_SHARE = 0.75  # of the pages: the parent also runs robots, the schedule and the store side
_HEADER = struct.Struct("!I")
_GRACE = 10.0  # seconds past the fetch deadline before a silent child is given up on
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_ticks() -> tuple[int, int, float] | None:
    """(idle, total) clock ticks of the whole machine so far and this process's own CPU in
    ticks, or None off Linux."""
    try:
        with open("/proc/stat", "rb") as handle:
            values = [int(v) for v in handle.readline().split()[1:9]]
    except (OSError, ValueError, IndexError):
        return None
    idle = values[3] + values[4]  # idle + iowait
    own = os.times()
    return idle, sum(values), (own.user + own.system) * _TICKS


class _ChannelLost(Exception):
    """The child is gone; fetch here instead."""


def split_hosts(urls: Iterable[str], share: float | None = None) -> set[str]:
    """Hosts (``HostGate.host_of``) holding about ``share`` of ``urls``, busiest first."""
    share = REMOTE_SHARE if share is None else share
    counts: dict[str, int] = defaultdict(int)
    for url in urls:
        counts[HostGate.host_of(url)] += 1
    goal, taken, chosen = share * sum(counts.values()), 0, set()
    for host, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if taken + count / 2 > goal:  # nearer the goal without this host
            continue
        chosen.add(host)
        taken += count
    return chosen if len(chosen) < len(counts) else set()  # both sides get some hosts


def _frame(message) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


class _Frames(asyncio.Protocol):
    """Length-prefixed pickles in both directions; ``handle`` gets each whole message."""

    def __init__(self, handle, lost) -> None:
        self._handle, self._lost = handle, lost
        self._buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        while len(buffer) - start >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer, start)
            end = start + _HEADER.size + size
            if len(buffer) < end:
                break
            self._handle(pickle.loads(memoryview(buffer)[start + _HEADER.size:end]))
            start = end
        del buffer[:start]

    def connection_lost(self, exc) -> None:
        self._lost()


# --- the child -----------------------------------------------------------------------------


def _child_main(sock: socket.socket, settings: FetchSettings, parent: int) -> None:
    """Runs in the forked child (multiprocessing's fork start method ends the process)."""
    die_with_parent()
    if os.getppid() != parent:  # the parent died before the line above
        return
    signal.set_wakeup_fd(-1)  # the inherited one belongs to the parent's loop
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent; it closes us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    asyncio.events._set_running_loop(None)  # the parent's loop: never touched here
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(_serve(sock, settings))


async def _serve(sock: socket.socket, settings: FetchSettings) -> None:
    loop = asyncio.get_running_loop()
    closed = loop.create_future()
    fetcher = Fetcher(settings)
    tasks: set[asyncio.Task] = set()

    def handle(message) -> None:
        task = loop.create_task(_answer(fetcher, protocol, *message))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def lost() -> None:
        if not closed.done():
            closed.set_result(None)

    _, protocol = await loop.create_connection(lambda: _Frames(handle, lost), sock=sock)
    await closed  # the parent closed the socket (or died): whatever is in flight is moot
    for task in tasks:
        task.cancel()
    await fetcher.aclose()


async def _answer(fetcher: Fetcher, protocol: _Frames, ident: int, target: Target) -> None:
    try:
        result = await fetcher.fetch(target)
        if result.body_sha256 is not None and result.body_sha256 == target.last_body_sha256:
            # An equal hash skips extraction, the only use of the body: don't send 200 kB.
            result = replace(result, body=b"")
        reply = (ident, "ok", result)
    except FetchError as exc:
        reply = (ident, "fetch_error", (type(exc) is BlockedError, str(exc), exc.kind, exc.url,
                                        exc.status, exc.final_url, exc.retry_after))
    except Exception as exc:  # a bug here is reported as that page's internal error
        reply = (ident, "internal", f"{type(exc).__name__}: {exc}")
    if protocol.transport is not None and not protocol.transport.is_closing():
        protocol.transport.write(_frame(reply))


# --- the parent ----------------------------------------------------------------------------


class ShardedFetcher:
    """A ``Fetcher`` that sends the pages of assigned hosts to a forked child.

    Create it with ``start`` before any thread exists (a fork copies only the calling
    thread); it falls back to a plain local ``Fetcher`` when forking is not safe.
    """

    def __init__(self, local: Fetcher, settings: FetchSettings) -> None:
        self._local = local
        self._settings = settings
        self._remote_hosts: set[str] = set()
        self._pending: dict[int, tuple[asyncio.Future, float]] = {}  # id -> (answer, deadline)
        self._watchdog: asyncio.TimerHandle | None = None
        self._next = 0
        self._process = None  # multiprocessing.Process
        self._protocol: _Frames | None = None
        self._alive = False
        self.remote_fetches = 0  # answered by the child
        self._ticks = _cpu_ticks()  # at the fork: spare_core compares against it

    @classmethod
    async def start(cls, settings: FetchSettings) -> ShardedFetcher | None:
        """Fork the child, or return None if that is not safe here (threads running)."""
        if threading.active_count() != 1 or not hasattr(os, "fork"):
            return None
        parent_end, child_end = socket.socketpair()
        for stream in (sys.stdout, sys.stderr):  # else the child would flush a copy of them
            if stream is not None:
                stream.flush()
        process = multiprocessing.get_context("fork").Process(
            target=_child_main, args=(child_end, settings, os.getpid()),
            name="palimpsest-fetch", daemon=True,
        )
        process.start()
        child_end.close()
        self = cls(Fetcher(settings), settings)
        self._process = process
        loop = asyncio.get_running_loop()
        _, self._protocol = await loop.create_connection(
            lambda: _Frames(self._on_reply, self._on_lost), sock=parent_end
        )
        self._alive = True
        return self

    @property
    def child_pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def spare_core(self, *, at_least: float = 0.5, window: float = 0.05) -> bool:
        """Whether ``at_least`` a core went unused by other processes since the fork
        (/proc/stat, less this process's own CPU: the run may go on meanwhile).

        The child only pays on a free core: on a busy machine it competes with this process
        for the same one and adds its own overhead. Waits until ``window`` seconds have
        passed since the fork, so the sample spans a few clock ticks.
        """
        if self._ticks is None:
            return True  # no /proc/stat: assume a free core
        while True:
            now = _cpu_ticks()
            if now is None:
                return True
            idle, total = now[0] - self._ticks[0], now[1] - self._ticks[1]
            own = now[2] - self._ticks[2]
            cores = os.cpu_count() or 1
            if total >= window * cores * _TICKS:
                return min(total, idle + own) / total * cores >= at_least
            await asyncio.sleep(window / 2)

    def assign(self, hosts: Iterable[str]) -> None:
        """Fetch the pages of ``hosts`` (``HostGate.host_of`` form) in the child from now on."""
        self._remote_hosts = set(hosts) if self._alive else set()

    async def fetch(self, target: Target) -> FetchResult:
        if self._alive and HostGate.host_of(target.url) in self._remote_hosts:
            try:
                return await self._remote(target)
            except _ChannelLost:
                pass  # fetched here instead: the child did not store anything
        return await self._local.fetch(target)

    async def fetch_bytes(self, url: str, **kwargs) -> FetchResult:
        return await self._local.fetch_bytes(url, **kwargs)  # robots.txt, feeds: few

    async def _remote(self, target: Target) -> FetchResult:
        if not self._alive:
            raise _ChannelLost()
        self._next += 1
        ident = self._next
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        # The child's own deadline fires first; the watchdog only guards against a stuck
        # child (one timer for all requests: a timer each cost more than the IPC).
        self._pending[ident] = (future, loop.time() + self._settings.timeout + _GRACE)
        if self._watchdog is None:
            self._watchdog = loop.call_later(_GRACE, self._watch)
        try:
            self._protocol.transport.write(_frame((ident, target)))
            kind, payload = await future
        finally:
            self._pending.pop(ident, None)
        self.remote_fetches += 1
        if kind == "ok":
            return payload
        if kind == "fetch_error":
            blocked, message, error_kind, url, status, final_url, retry_after = payload
            if blocked:
                raise BlockedError(message, kind=error_kind, url=url, final_url=final_url)
            raise FetchError(message, kind=error_kind, url=url, status=status,
                             final_url=final_url, retry_after=retry_after)
        raise PalimpsestError(f"internal error in the fetch shard: {payload}", kind="internal")

    def _on_reply(self, message) -> None:
        ident, kind, payload = message
        future, _ = self._pending.get(ident, (None, 0.0))
        if future is not None and not future.done():
            future.set_result((kind, payload))

    def _on_lost(self) -> None:
        self._alive = False
        for future, _ in self._pending.values():
            if not future.done():
                future.set_exception(_ChannelLost())

    def _watch(self) -> None:
        self._watchdog = None
        if not self._pending or not self._alive:
            return
        loop = asyncio.get_running_loop()
        if min(deadline for _, deadline in self._pending.values()) < loop.time():
            self._give_up()  # stuck: its pages are fetched here instead
            self._on_lost()
        else:
            self._watchdog = loop.call_later(_GRACE, self._watch)

    def _give_up(self) -> None:
        """Stop using the child and make sure it is gone."""
        self._alive = False
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.abort()
        self._reap()

    def _reap(self) -> None:
        if self._process is None:
            return
        self._process.kill()  # it holds nothing: every write happens in the parent
        self._process.join()
        self._process = None

    def release(self) -> None:
        """No hosts for the child after all (a small run): let it go now."""
        self._remote_hosts = set()
        self._give_up()

    async def aclose(self) -> None:
        try:
            await self._local.aclose()
        finally:
            self._alive = False
            if self._watchdog is not None:
                self._watchdog.cancel()
            if self._protocol is not None and self._protocol.transport is not None:
                self._protocol.transport.close()  # the child exits on end of file
            self._reap()
