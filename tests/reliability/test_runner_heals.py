"""The twin runner heals: a worker lost between runs costs the run nothing, a failure of
the runner's own thread fails its runs with a reason and a new thread serves the next,
and runs that would not fit in memory together wait or are refused (issue 16, point 5).

Uses the reference twin of tests/support (analytic washout), never a real one.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time

import numpy as np
import pytest

from meditwin_desktop.core import runner as runner_module
from meditwin_desktop.core.runner import Runner
from tests.support.reference_twin import TWIN, memory_of_duration

INPUTS = {"grid_affine": np.eye(4)}


def _params(**overrides):
    return TWIN.parameters_for({"c0": 100.0}, overrides)


def _wait_for(predicate, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def runner():
    runner = Runner(max_parallel=1, timeout_s=60)
    yield runner
    runner.shutdown()


def test_a_worker_killed_while_idle_does_not_fail_the_next_run(runner):
    runner.warm_up()
    [worker] = runner._workers
    os.kill(worker.process.pid, signal.SIGKILL)  # e.g. the out-of-memory killer
    handle = runner.submit(TWIN, "after the kill", _params(rate=0.31), INPUTS)
    assert handle.wait(60)
    assert handle.status == "ok", handle.error


def test_a_run_sent_to_a_worker_that_dies_before_beginning_it_is_requeued(runner):
    runner.warm_up()
    [worker] = runner._workers
    os.kill(worker.process.pid, signal.SIGSTOP)  # alive, but it will never read the run
    handle = runner.submit(TWIN, "requeued", _params(rate=0.32), INPUTS)
    _wait_for(lambda: handle.status == "running")
    time.sleep(0.2)
    os.kill(worker.process.pid, signal.SIGKILL)
    assert handle.wait(60)
    assert handle.status == "ok", handle.error
    assert handle._starts == 2  # the second start, on a fresh worker, ran it


def test_a_run_whose_workers_keep_dying_before_it_begins_fails_with_the_reason(runner, monkeypatch):
    monkeypatch.setattr(runner_module, "_MAX_STARTS", 1)
    runner.warm_up()
    [worker] = runner._workers
    os.kill(worker.process.pid, signal.SIGSTOP)
    handle = runner.submit(TWIN, "lost", _params(rate=0.33), INPUTS)
    _wait_for(lambda: handle.status == "running")
    os.kill(worker.process.pid, signal.SIGKILL)
    assert handle.wait(60)
    assert handle.status == "failed" and "SIGKILL" in handle.error


def test_a_failure_of_the_runner_thread_fails_its_runs_and_a_new_thread_serves_on(
    runner, monkeypatch
):
    original = Runner._start_queued
    calls = []

    def broken_once(self):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("deliberate bug in the runner")
        return original(self)

    monkeypatch.setattr(Runner, "_start_queued", broken_once)
    first = runner.submit(TWIN, "first", _params(rate=0.34), INPUTS)
    assert first.wait(30)
    assert first.status == "failed"
    assert "background runner failed" in first.error and "deliberate bug" in first.error
    second = runner.submit(TWIN, "second", _params(rate=0.35), INPUTS)
    assert second.wait(60)
    assert second.status == "ok", second.error


HUNGRY = dataclasses.replace(TWIN, memory_estimate=memory_of_duration)  # 100 MB per hour


def test_runs_that_do_not_fit_together_wait_for_memory():
    runner = Runner(max_parallel=2, timeout_s=60, memory_budget=300e6)
    try:
        messages, moments = [], {}

        def second_progress(handle):
            messages.append((handle.progress, handle.message))
            if handle.progress > 0:
                moments.setdefault("second computing", time.monotonic())

        params = HUNGRY.parameters_for({"c0": 100.0}, {"duration": 2.0, "work_seconds": 1.0})
        first = runner.submit(
            HUNGRY,
            "first",
            params,
            INPUTS,
            on_done=lambda h: moments.setdefault("first done", time.monotonic()),
        )
        second = runner.submit(
            HUNGRY, "second", {**params, "rate": 0.6}, INPUTS, on_progress=second_progress
        )
        _wait_for(lambda: first.status == "running")
        time.sleep(0.3)
        assert second.status == "queued"  # a second worker is free, but not the memory
        assert any("waiting for memory" in text and "200 MB" in text for _, text in messages)
        assert first.wait(60) and second.wait(60)
        assert first.status == second.status == "ok"
        assert moments["second computing"] > moments["first done"]  # never side by side
    finally:
        runner.shutdown()


def test_a_run_larger_than_the_whole_budget_is_refused_with_a_clear_reason():
    runner = Runner(max_parallel=2, timeout_s=60, memory_budget=300e6)
    try:
        params = HUNGRY.parameters_for({"c0": 100.0}, {"duration": 4.0})
        handle = runner.submit(HUNGRY, "too big", params, INPUTS)
        assert handle.done() and handle.status == "failed"
        assert "would need about 400 MB" in handle.error
        assert "300 MB" in handle.error and "coarser" in handle.error
        assert not runner.busy()
    finally:
        runner.shutdown()


def test_the_default_budget_is_a_share_of_the_available_memory():
    available = runner_module.available_memory()
    assert available is not None and available > 0
    runner = Runner(max_parallel=1)
    assert runner.memory_budget == pytest.approx(0.7 * available, rel=0.2)
    runner.shutdown()
