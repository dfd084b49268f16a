"""Atomic file writes: write to a temporary file beside the target, fsync, rename, fsync
the folder (so the rename itself survives a power cut).

The target's folder must exist: a missing folder is a mistake to report, not to hide.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a new or renamed file in it) to disk; no-op where the OS
    cannot open folders (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (e.g. network shares) refuse fsync on a folder
    finally:
        os.close(fd)


@contextmanager
def atomic_path(target: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path; on success it replaces `target` in one rename."""
    target = Path(target)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix or ".tmp", dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_path, target)
        fsync_dir(target.parent)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_atomic(target: Path, write: Callable[[Path], None], suffix: str = "") -> None:
    """Call `write(tmp_path)` and move the result onto `target` atomically."""
    with atomic_path(target, suffix) as tmp:
        write(tmp)


def write_text_atomic(target: Path, text: str) -> None:
    """Write a text file atomically (UTF-8)."""
    write_atomic(target, lambda p: p.write_text(text, encoding="utf-8"))
