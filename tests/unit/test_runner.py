"""The runner: processes, failures isolated, cancel within a second, timeouts, cache.

Uses the reference twin of tests/support (analytic washout C0 exp(-kT)), never a real one.
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from meditwin_desktop.core.runner import Runner, input_hash
from tests.support.reference_twin import TWIN

INPUTS = {"grid_affine": np.eye(4)}


def _params(**overrides):
    return TWIN.parameters_for({"c0": 100.0}, overrides)


@pytest.fixture
def runner():
    runner = Runner(max_parallel=2, timeout_s=60)
    yield runner
    runner.shutdown()


def test_a_run_gives_the_analytic_answer_and_reports_progress(runner):
    seen = []
    handle = runner.submit(
        TWIN,
        "baseline",
        _params(rate=0.5, duration=4.0),
        INPUTS,
        on_progress=lambda h: seen.append(h.progress),
    )
    assert handle.wait(60)
    assert handle.status == "ok", handle.error
    assert handle.result.outcomes["final"] == pytest.approx(100 * math.exp(-2.0), rel=1e-12)
    assert handle.result.outcomes["auc"] == pytest.approx(100 * (1 - math.exp(-2.0)) / 0.5)
    assert seen and seen == sorted(seen)  # progress crossed the process boundary


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("raise", "deliberate failure"),
        ("nan", "non-finite"),
        ("exit", "exit code 3"),
        ("segfault", "SIGSEGV"),
    ],
)
def test_a_failing_twin_fails_only_its_own_scenario(runner, behaviour, reason):
    bad = runner.submit(TWIN, "bad", _params(behaviour=behaviour), INPUTS)
    good = runner.submit(TWIN, "good", _params(rate=0.7), INPUTS)
    assert bad.wait(60) and good.wait(60)
    assert bad.status == "failed" and reason in bad.error
    assert good.status == "ok" and good.result.outcomes["final"] > 0


@pytest.mark.parametrize("behaviour", ["sleep", "ignore_cancel"])
def test_cancel_takes_effect_within_a_second(runner, behaviour):
    handle = runner.submit(TWIN, "slow", _params(behaviour=behaviour), INPUTS)
    deadline = time.monotonic() + 30
    while handle.status != "running" or handle.progress == 0:  # it is really computing
        assert time.monotonic() < deadline
        time.sleep(0.05)
    asked = time.monotonic()
    handle.cancel()
    assert handle.wait(5)
    assert handle.status == "cancelled"
    assert time.monotonic() - asked < 1.0 + 0.3  # grace of 1 s, then the process is killed


def test_a_run_past_its_time_limit_fails(runner):
    handle = runner.submit(TWIN, "slow", _params(behaviour="sleep"), INPUTS, timeout_s=1.0)
    assert handle.wait(30)
    assert handle.status == "failed" and "longer than its limit of 1 s" in handle.error


def test_runs_are_cached_by_twin_parameters_and_inputs(runner):
    first = runner.submit(TWIN, "a", _params(rate=0.3), INPUTS)
    assert first.wait(60) and not first.cache_hit
    again = runner.submit(TWIN, "b", _params(rate=0.3), {"grid_affine": np.eye(4)})
    assert again.done() and again.cache_hit and again.result is first.result
    other_inputs = runner.submit(TWIN, "c", _params(rate=0.3), {"grid_affine": 2 * np.eye(4)})
    assert not other_inputs.cache_hit
    other_inputs.wait(60)


def test_input_hash_sees_array_contents():
    assert input_hash({"a": np.zeros(3)}) == input_hash({"a": np.zeros(3)})
    assert input_hash({"a": np.zeros(3)}) != input_hash({"a": np.ones(3)})
    assert input_hash({"a": np.zeros(3)}) != input_hash({"a": np.zeros(3, np.float32)})


def test_parallel_runs_are_bounded(runner):
    start = time.monotonic()
    handles = [
        runner.submit(TWIN, f"s{n}", _params(work_seconds=1.0, rate=0.1 + n), INPUTS)
        for n in range(4)
    ]
    assert all(h.wait(60) for h in handles)
    assert all(h.status == "ok" for h in handles)
    assert time.monotonic() - start >= 2.0  # two at a time, one second each


def test_any_executor_can_run_scenarios():
    with ThreadPoolExecutor(2) as pool:
        runner = Runner(executor=pool)
        ok = runner.submit(TWIN, "ok", _params(rate=1.0), INPUTS)
        bad = runner.submit(TWIN, "bad", _params(behaviour="nan"), INPUTS)
        assert ok.wait(30) and bad.wait(30)
    assert ok.status == "ok" and ok.result.outcomes["final"] == pytest.approx(100 * math.exp(-4))
    assert bad.status == "failed" and "non-finite" in bad.error


def test_out_of_range_parameter_is_refused_with_its_unit():
    from meditwin_desktop.core.twin import TwinInputError

    with pytest.raises(TwinInputError, match=r"Washout rate must be between 0.01 and 10 1/h"):
        _params(rate=50)
    with pytest.raises(TwinInputError, match="has no parameter 'speed'"):
        _params(speed=1)


def _worker_pids(runner) -> set[int]:
    return {w.process.pid for w in runner._workers}


def test_workers_are_reused_between_runs(runner):
    first = runner.submit(TWIN, "a", _params(rate=0.21), INPUTS)
    assert first.wait(60) and first.status == "ok"
    pids = _worker_pids(runner)
    handles = [runner.submit(TWIN, f"s{n}", _params(rate=0.3 + n / 100), INPUTS) for n in range(20)]
    assert all(h.wait(60) and h.status == "ok" for h in handles)
    assert pids <= _worker_pids(runner)  # the first run's worker is still serving
    assert len(_worker_pids(runner)) <= 2  # 21 runs, never more processes than max_parallel


@pytest.mark.parametrize("behaviour", ["exit", "segfault", "ignore_cancel"])
def test_a_worker_lost_to_a_crash_or_kill_is_replaced(runner, behaviour):
    bad = runner.submit(TWIN, "bad", _params(behaviour=behaviour), INPUTS)
    if behaviour == "ignore_cancel":
        while bad.status != "running" or bad.progress == 0:
            time.sleep(0.05)
        bad.cancel()
    assert bad.wait(30) and bad.status in ("failed", "cancelled")
    later = [runner.submit(TWIN, f"after{n}", _params(rate=0.4 + n / 10), INPUTS) for n in range(3)]
    assert all(h.wait(60) for h in later)
    assert [h.status for h in later] == ["ok"] * 3
    assert all(w.alive for w in runner._workers)


def test_warmed_up_workers_stop_with_the_runner():
    runner = Runner(max_parallel=2)
    runner.warm_up()
    processes = [w.process for w in runner._workers]
    assert len(processes) == 2
    runner.shutdown()
    for process in processes:
        process.join(timeout=10)
        assert not process.is_alive()


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="niceness is a POSIX notion")
def test_workers_yield_to_the_window_from_their_first_instruction():
    """A spawned worker imports for ~1 s before its own code runs: it is niced from outside
    at once, so that import does not compete with the window (e.g. at Run all)."""
    import multiprocessing

    from meditwin_desktop.core.priority import BACKGROUND_NICENESS
    from meditwin_desktop.core.runner import _Worker

    worker = _Worker(multiprocessing.get_context("spawn"))
    try:
        assert os.getpriority(os.PRIO_PROCESS, worker.process.pid) >= BACKGROUND_NICENESS
    finally:
        worker.process.kill()
        worker.process.join(5)


# -- a run split into parts (Twin.split / Twin.combine) ------------------------------------
def test_a_split_run_runs_its_parts_in_workers_and_combines_them(runner):
    from tests.support.split_twin import DURATIONS
    from tests.support.split_twin import TWIN as SPLIT

    seen = []
    handle = runner.submit(SPLIT, "baseline", _params(rate=0.5), INPUTS,
                           on_progress=lambda h: seen.append(h.progress))  # fmt: skip
    assert handle.wait(60)
    assert handle.status == "ok", handle.error
    expected = sum(100 * math.exp(-0.5 * d) for d in DURATIONS)
    assert handle.result.outcomes["final"] == pytest.approx(expected, rel=1e-12)
    assert handle.result.warnings == ["3 parts"]
    assert seen and max(seen) <= 1.0
    again = runner.submit(SPLIT, "baseline", _params(rate=0.5), INPUTS)
    assert again.cache_hit and again.result.outcomes["final"] == handle.result.outcomes["final"]


def test_run_parts_gives_the_same_result_in_one_process():
    from meditwin_desktop.core.runner import execute
    from tests.support.split_twin import DURATIONS
    from tests.support.split_twin import TWIN as SPLIT

    result = execute(SPLIT, _params(rate=0.5), INPUTS)
    assert result.outcomes["final"] == pytest.approx(
        sum(100 * math.exp(-0.5 * d) for d in DURATIONS), rel=1e-12
    )


def test_a_failing_part_fails_the_whole_run_with_its_reason(runner):
    from tests.support.split_twin import TWIN as SPLIT

    params = {**_params(behaviour="raise"), "_fail_part": 1}
    handle = runner.submit(SPLIT, "bad", params, INPUTS)
    assert handle.wait(60)
    assert handle.status == "failed"
    assert "part 2 of 3" in handle.error and "deliberate failure" in handle.error


def test_cancelling_a_split_run_cancels_every_part(runner):
    from tests.support.split_twin import TWIN as SPLIT

    handle = runner.submit(SPLIT, "slow", _params(behaviour="sleep"), INPUTS)
    time.sleep(0.5)
    started = time.monotonic()
    handle.cancel()
    assert handle.wait(10)
    assert handle.status == "cancelled"
    assert time.monotonic() - started < 5  # no part ran on to its end (50 x 0.2 s)
    assert not runner.busy() or runner_idle_soon(runner)


def runner_idle_soon(runner) -> bool:
    deadline = time.monotonic() + 5
    while runner.busy() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not runner.busy()
