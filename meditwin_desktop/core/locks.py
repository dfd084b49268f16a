"""Advisory file locks between processes: shared for readers and writers of a case,
exclusive for the collector that deletes what no revision references any more.

POSIX: `fcntl.flock` (released by the kernel when a process dies, even by SIGKILL).
Windows: `msvcrt.locking` has no shared mode, so every lock there is exclusive (correct,
with less concurrency).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


class LockBusy(Exception):  # noqa: N818 - reads as a state
    """The lock is held by another process (non-blocking attempt)."""


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


def _acquire(fd: int, exclusive: bool, blocking: bool) -> None:
    if fcntl is not None:
        flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, flags | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            raise LockBusy from None
        return
    while True:  # pragma: no cover - Windows
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return
        except OSError:
            if not blocking:
                raise LockBusy from None
            time.sleep(0.05)


@contextmanager
def file_lock(path: Path, *, exclusive: bool = False, blocking: bool = True) -> Iterator[None]:
    """Hold a lock on `path` (created if missing) for the block; LockBusy when
    `blocking` is False and another process holds a conflicting lock."""
    fd = _open(Path(path))
    try:
        _acquire(fd, exclusive, blocking)
        yield
    finally:
        os.close(fd)  # closing releases the lock
