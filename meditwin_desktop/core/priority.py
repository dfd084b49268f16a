"""Background work yields the CPU to the GUI: lower scheduling priority for worker threads.

When every core is busy (a region grow on one core, software OpenGL composing the
window on the others), the kernel shares time evenly between threads, and a repaint
that needs 10 ms of CPU stretches to 80. A worker at niceness 10 gets about a tenth
of the weight of a normal thread under Linux's scheduler, so the GUI thread, the
X server and the OpenGL rasteriser run first and the work still uses every idle
cycle. Linux sets niceness per thread (`setpriority` on the thread id); elsewhere
this is a no-op.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

BACKGROUND_NICENESS = 10


def lower_thread_priority(niceness: int = BACKGROUND_NICENESS) -> bool:
    """Make the calling thread yield to normal-priority ones; True if it took effect."""
    if not sys.platform.startswith("linux"):
        return False
    return _lower(threading.get_native_id(), niceness)


def lower_process_priority(niceness: int = BACKGROUND_NICENESS) -> bool:
    """Lower every thread of this process (a worker process: numpy's BLAS pool and other
    threads started at import keep their own niceness under Linux); elsewhere `os.nice`."""
    if not sys.platform.startswith("linux"):
        try:
            os.nice(max(niceness - os.nice(0), 0))
        except (AttributeError, OSError):  # Windows has no os.nice
            return False
        return True
    threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    return all([_lower(tid, niceness) for tid in threads])


def _lower(tid: int, niceness: int) -> bool:
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, max(current, niceness))
    except OSError as error:  # a sandbox that forbids it, a thread that just ended
        log.debug("could not lower the priority of thread %s: %s", tid, error)
        return False
    return True


def lower_priority_of(pid: int | None, niceness: int = BACKGROUND_NICENESS) -> bool:
    """Lower a child process's priority from outside, as soon as it exists (Linux: its
    main thread, whose niceness the threads it starts inherit); True if it took effect."""
    if pid is None or not hasattr(os, "setpriority"):
        return False
    return _lower(pid, niceness)
