"""Worker processes end when the application that started them is gone.

A worker blocked on its job queue or busy in a long simulation would otherwise outlive
an application that crashed or was killed (a `multiprocessing` queue's child holds both
ends of its pipe, so it never sees end-of-file). A daemon thread in the worker polls
the parent's process id; when the parent has gone the worker is re-parented and exits.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

_started = False


def exit_with_parent(poll_s: float = 0.5) -> None:
    """In a worker process: exit at once (no clean-up) once the parent process is gone."""
    global _started
    if _started or multiprocessing.parent_process() is None:
        return  # already watching, or not a worker (the application must outlive its shell)
    _started = True
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent:
                os._exit(70)

    threading.Thread(target=watch, name="meditwin-parent-watch", daemon=True).start()
