"""A shared pool of worker processes for DICOM header parsing and compressed decoding.

pydicom's parsing and the JPEG/JPEG 2000 decoders hold Python's GIL, so threads do not
run them in parallel; processes do. The pool uses the `spawn` start method (safe beside
Qt), is created on first use and kept for later loads; `warm_up()` starts it ahead of
time (the GUI does so at start-up). Starting it costs about 0.6 s (each worker imports
pydicom and numpy), more than reading a few hundred headers here, so the loader only
sends work that needs it: compressed frames whose decoder holds the GIL, and headers of
large series once the pool is running. `MEDITWIN_DICOM_WORKERS=0` disables it.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor

from meditwin_desktop.core.parent_watch import exit_with_parent

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def worker_count() -> int:
    """How many worker processes to use (0: work in the calling process)."""
    configured = os.environ.get("MEDITWIN_DICOM_WORKERS")
    if configured is not None:
        return max(0, int(configured))
    cores = os.cpu_count() or 1
    return min(cores, 8) if cores > 1 else 0


def pool() -> ProcessPoolExecutor | None:
    """The shared pool, created on first call; None when disabled or single-core."""
    global _pool
    with _lock:
        if _pool is None and worker_count() > 0:
            _pool = ProcessPoolExecutor(
                worker_count(),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=exit_with_parent,
            )
            atexit.register(shutdown)
        return _pool


def discard(broken: ProcessPoolExecutor) -> None:
    """Stop `broken` (a worker died, or it was shut down) if it is still the shared pool.

    Loads share the pool: when several see it break, the first replaces it, and the others
    must not shut down the replacement another load has just started.
    """
    global _pool
    with _lock:
        if _pool is broken and _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None


def replace(broken: ProcessPoolExecutor) -> ProcessPoolExecutor | None:
    """A working pool in place of `broken`: a fresh one, or the one another load started."""
    discard(broken)
    return pool()


def running() -> bool:
    """Whether the pool has been started (by `warm_up()` or an earlier load)."""
    with _lock:
        return _pool is not None


def _ready() -> bool:
    # importing what the jobs use makes the first real job as fast as the others
    from meditwin_desktop.core.imaging.dicom import assemble, pixels  # noqa: F401

    return True


def warm_up() -> list[Future]:
    """Start the workers and import the decoders in them, without waiting."""
    executor = pool()
    return [executor.submit(_ready) for _ in range(worker_count())] if executor else []


def shutdown() -> None:
    """Stop the workers (pending jobs are cancelled)."""
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
