"""Background threads and worker processes run at a lower priority than the GUI."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from meditwin_desktop.core.priority import (
    BACKGROUND_NICENESS,
    lower_process_priority,
    lower_thread_priority,
)

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's"
)


@linux_only
def test_a_lowered_thread_yields_and_the_caller_keeps_its_priority():
    seen = {}

    def work():
        seen["ok"] = lower_thread_priority()
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == {"ok": True, "nice": max(before, BACKGROUND_NICENESS)}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


@linux_only
def test_a_worker_process_lowers_all_its_threads():
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        niceness = pool.apply(_lower_and_read_all_threads)
    assert len(niceness) >= 2  # the pool's own threads besides the main one
    assert all(n >= BACKGROUND_NICENESS for n in niceness), niceness


def _lower_and_read_all_threads() -> list[int]:
    threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()
    lower_process_priority()
    return [os.getpriority(os.PRIO_PROCESS, int(t)) for t in os.listdir("/proc/self/task")]
