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
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, max(current, niceness))
    except OSError as error:  # e.g. a sandbox that forbids it: the work runs all the same
        log.debug("could not lower the priority of a background thread: %s", error)
        return False
    return True
