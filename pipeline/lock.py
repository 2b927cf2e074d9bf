"""The run lock: one `archive run` at a time per archive; the kernel frees it if we die.

flock belongs to the open file, so a child that inherits the descriptor (a forked extraction
worker) would keep holding the lock after a ``kill -9`` of the run. Forked children close
every held lock descriptor at once (``os.register_at_fork``), so only the run holds it.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from .errors import PalimpsestError

_HELD: set[int] = set()  # descriptors of locks this process holds


def _close_in_child() -> None:
    for fd in list(_HELD):
        try:
            os.close(fd)  # closing (not unlocking) leaves the parent's lock in place
        except OSError:
            pass
    _HELD.clear()


os.register_at_fork(after_in_child=_close_in_child)


class RunLock:
    """An flock on ``<db>.lock``. A killed holder loses it at once, so no stale locks."""

    def __init__(self, db_path: Path) -> None:
        db_path = Path(db_path)
        self.path = db_path.with_name(db_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self, *, wait: bool, timeout: float | None = None) -> bool:
        """Take the lock; False when another process holds it (after ``timeout`` if waiting).

        Raises PalimpsestError(kind="lock") when the lock file cannot be made or written
        (disk full, read-only directory).
        """
        try:
            return self._acquire(wait=wait, timeout=timeout)
        except OSError as exc:
            raise PalimpsestError(
                f"{self.path}: cannot take the run lock ({exc.strerror or exc})", kind="lock"
            ) from exc

    def _acquire(self, *, wait: bool, timeout: float | None) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait or (deadline is not None and time.monotonic() > deadline):
                    os.close(fd)
                    return False
                time.sleep(0.2)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        _HELD.add(fd)
        return True

    def holder(self) -> str | None:
        """The pid written by the holder, for the "another run is active" line."""
        try:
            return self.path.read_text().strip() or None
        except OSError:
            return None

    def release(self) -> None:
        if self._fd is not None:
            _HELD.discard(self._fd)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()
