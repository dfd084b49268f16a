"""The decoder scheduler's healing, driven by a fake pool: every interleaving is forced.

A real worker crash can surface two ways. Usually the futures in flight fail with
`BrokenProcessPool`. But `ProcessPoolExecutor` marks itself broken first and fails the
futures a moment later (its manager thread), so a crash that lands between the
scheduler's `wait` and its next `submit` makes `submit` itself raise. That window made
`test_dicom_workers_heal.py` fail now and then on a busy machine; here it is always open.
"""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from meditwin_desktop.core.imaging.dicom import schedule, workers

VICTIM = 5
FRAMES = [SimpleNamespace(path=Path(f"IM{k:05d}.dcm")) for k in range(24)]


def _decode_chunk(frames):
    return [(np.array([int(f.path.stem[2:])]), None) for f in frames]


class _Pool:
    """Runs jobs at once; a chunk holding the victim "kills a worker".

    The first crash is reported like ProcessPoolExecutor's race: the victim's future stays
    pending and the pool refuses the next `submit` (raising), failing the pending futures
    only as it does so. Later crashes fail the victim's future at once.
    """

    crashes = 0

    def __init__(self) -> None:
        self.broken = False
        self.pending: list[Future] = []

    def submit(self, fn, frames):
        if self.broken:
            try:
                raise BrokenProcessPool("A child process terminated abruptly")
            finally:
                for future in self.pending:
                    future.set_exception(BrokenProcessPool("terminated abruptly"))
        future: Future = Future()
        future.set_running_or_notify_cancel()
        if any(f is FRAMES[VICTIM] for f in frames):
            self.broken = True
            type(self).crashes += 1
            if type(self).crashes == 1:
                self.pending.append(future)  # failed only when the next submit is refused
            else:
                future.set_exception(BrokenProcessPool("terminated abruptly"))
        else:
            future.set_result(fn(frames))
        return future


@pytest.fixture
def pools(monkeypatch):
    made = [_Pool()]
    _Pool.crashes = 0
    monkeypatch.setattr(workers, "worker_count", lambda: 2)
    monkeypatch.setattr(workers, "pool", lambda: made[-1])
    monkeypatch.setattr(workers, "discard", lambda broken: None)

    def replace(broken):
        made.append(_Pool())
        return made[-1]

    monkeypatch.setattr(workers, "replace", replace)
    return made


def _run(order):
    results: dict[int, tuple] = {}

    def finish(k, stored, error):
        assert k not in results, f"frame {k} finished twice"
        results[k] = (stored, error)

    schedule.RemoteDecoder(FRAMES, order, finish, lambda: False, _decode_chunk).run()
    return results


def test_a_crash_seen_as_submit_refusing_work_heals_like_a_failed_future(pools):
    results = _run(list(range(len(FRAMES))))
    assert sorted(results) == list(range(len(FRAMES)))
    stored, error = results[VICTIM]
    assert stored is None and "crashed its process on this image 2 times" in error
    assert error.startswith(FRAMES[VICTIM].path.name)
    for k, (stored, error) in results.items():
        if k != VICTIM:
            assert error is None and stored.tolist() == [k]
    assert len(pools) == 3  # one fresh pool per crash


def test_futures_cancelled_by_another_loads_shutdown_are_sent_again_not_blamed(
    pools,
):
    class ShutDownByOthers(_Pool):
        """Leaves its first futures pending; then another load shuts it down."""

        def submit(self, fn, frames):
            if len(self.pending) == 2:
                for future in self.pending:
                    future.cancel()
                raise RuntimeError("cannot schedule new futures after shutdown")
            future: Future = Future()
            self.pending.append(future)
            return future

    pools[0] = ShutDownByOthers()
    results = _run([k for k in range(len(FRAMES)) if k != VICTIM])
    assert sorted(results) == [k for k in range(len(FRAMES)) if k != VICTIM]
    assert all(error is None and stored.tolist() == [k] for k, (stored, error) in results.items())
