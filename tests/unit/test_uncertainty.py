"""Runs with uncertainty against analytic answers (tests/support/uncertain_twin.py).

- linear = 2 x1 + x2, x1 ~ N(10, 1), x2 ~ N(5, 1): N(25, 5), so the 5-95 % interval is
  25 -+ 1.645 sqrt(5) = 21.32 to 28.68 and P(linear <= 27) = Phi(2 / sqrt 5) = 0.814;
  Sobol first-order and total indices 0.8 (x1) and 0.2 (x2).
- Ishigami (a = 7, b = 0.1): S1 = 0.3139, 0.4424, 0; ST = 0.5576, 0.4424, 0.2437
  (Saltelli et al. 2008, Global Sensitivity Analysis: The Primer, sec. 4.2).
Tolerances (about 3 standard errors): 2000 Latin hypercube samples give the 5th and 95th
percentiles within 0.3 (standard error sqrt(0.05 x 0.95 / 2000) / density = 0.11), the
median within 0.2 and the probability within 0.03;
a Saltelli design of n = 1024 gives indices within ~0.02 (seen: 0.005); 0.03 allowed.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import stats

from meditwin_desktop.core.case_document import _result, _result_document
from meditwin_desktop.core.runner import Runner
from meditwin_desktop.core.twin import Outcome, Target, run_parts
from meditwin_desktop.core.uncertainty import UncertaintyPlan, design, outcome_spread, summarise
from tests.support.memory_store import MemoryStore
from tests.support.uncertain_twin import TWIN

SD = math.sqrt(5.0)


def _run_here(plan: UncertaintyPlan, **overrides):
    params = TWIN.parameters_for({}, overrides)
    sampled = design(TWIN, params, plan)
    results = []
    for run in sampled.runs:
        try:
            results.append(run_parts(TWIN, run, {}, lambda *a: None, lambda: False))
        except ValueError:
            results.append(None)
    return sampled, summarise(TWIN, plan, sampled, results)


def test_intervals_and_target_probability_match_the_normal_answer():
    sampled, result = _run_here(UncertaintyPlan(samples=2000, seed=3))
    assert sampled.samples == 2000 and sampled.inputs == ["x1", "x2", "u1", "u2", "u3"]
    spread = result.spread["linear"]
    assert result.outcomes["linear"] == 25.0  # the nominal run's value stays the value
    assert spread.median == pytest.approx(25.0, abs=0.2)
    assert spread.low == pytest.approx(25 - 1.6449 * SD, abs=0.3)
    assert spread.high == pytest.approx(25 + 1.6449 * SD, abs=0.3)
    assert spread.p_target == pytest.approx(stats.norm.cdf(2 / SD), abs=0.03)
    assert result.spread["ishigami"].p_target is None  # no target, no probability
    band = result.series["ramp"]  # x1 t: 10 t -+ 1.645 t
    assert band.lower[-1] == pytest.approx(10 - 1.6449, abs=0.15)
    assert band.upper[-1] == pytest.approx(10 + 1.6449, abs=0.15)
    assert "2000" in band.band_label and "2000 runs" in result.uncertainty


def test_sobol_indices_match_the_analytic_ones():
    sampled, result = _run_here(UncertaintyPlan(samples=1000, seed=1, sensitivity=True))
    assert sampled.sobol_n == 1024 and sampled.samples == 1024 * 7
    linear, ishigami = result.sensitivity["linear"], result.sensitivity["ishigami"]
    assert linear["x1"] == pytest.approx((0.8, 0.8), abs=0.03)
    assert linear["x2"] == pytest.approx((0.2, 0.2), abs=0.03)
    assert linear["u1"] == pytest.approx((0.0, 0.0), abs=0.03)
    assert ishigami["u1"] == pytest.approx((0.3139, 0.5576), abs=0.03)
    assert ishigami["u2"] == pytest.approx((0.4424, 0.4424), abs=0.03)
    assert ishigami["u3"] == pytest.approx((0.0, 0.2437), abs=0.03)


def test_the_same_seed_gives_the_same_samples_and_another_seed_others():
    params = TWIN.parameters_for({}, {})
    first = design(TWIN, params, UncertaintyPlan(samples=16, seed=5)).runs
    again = design(TWIN, params, UncertaintyPlan(samples=16, seed=5)).runs
    other = design(TWIN, params, UncertaintyPlan(samples=16, seed=6)).runs
    assert first == again and first != other
    assert first[0] == params  # the nominal run first


def test_samples_stay_within_the_parameter_range():
    params = TWIN.parameters_for({}, {"x1": 99.5})  # range ends at 100; sd 1
    runs = design(TWIN, params, UncertaintyPlan(samples=200, seed=0)).runs
    assert max(run["x1"] for run in runs) <= 100.0
    assert min(run["x1"] for run in runs) < 99.5  # still sampled below


def test_failed_samples_are_counted_and_too_many_hide_the_spread():
    # x1 > 11.5 fails: P = 1 - Phi(1.5) = 6.7 % of the runs, left out and said so
    _, result = _run_here(UncertaintyPlan(samples=200, seed=2), fail_above=11.5)
    spread = result.spread["linear"]
    assert 5 <= spread.failed <= 22 and spread.samples == 200 - spread.failed
    assert any("left out of the intervals" in w for w in result.warnings)
    # x1 > 10 fails half of them: no spread at all rather than a biased one
    _, result = _run_here(UncertaintyPlan(samples=200, seed=2), fail_above=10.0)
    assert not result.spread
    assert any("not shown" in w for w in result.warnings)


def test_never_counts_at_the_best_end_where_absent_is_best():
    outcome = Outcome("t", "Time to threshold", "y", "higher", absent="never",
                      absent_is_best=True, target=Target(low=10.0))  # fmt: skip
    spread = outcome_spread(outcome, [5.0, 12.0, None, None, None], level=0.5)
    assert spread.median is None  # "never" in most runs
    assert spread.low == 12.0
    assert spread.p_target == pytest.approx(4 / 5)


def test_a_run_with_uncertainty_in_workers_and_on_an_executor():
    plan = UncertaintyPlan(samples=24, seed=4)
    params = TWIN.parameters_for({}, {})
    runner = Runner(max_parallel=2, timeout_s=60)
    seen = []
    try:
        handle = runner.submit(TWIN, "s", params, {}, uncertainty=plan,
                               on_progress=lambda h: seen.append(h.progress))  # fmt: skip
        assert handle.wait(60) and handle.status == "ok", handle.error
        plain = runner.submit(TWIN, "s", params, {})
        assert plain.wait(60) and plain.key != handle.key  # not the plain run's cache entry
    finally:
        runner.shutdown()
    expected = _run_here(plan)[1]
    assert handle.result.spread["linear"] == expected.spread["linear"]
    assert seen and max(seen) == pytest.approx(1.0)
    with ThreadPoolExecutor(2) as pool:
        runner = Runner(executor=pool)
        on_pool = runner.submit(TWIN, "s", params, {}, uncertainty=plan)
        assert on_pool.wait(60) and on_pool.status == "ok", on_pool.error
    assert on_pool.result.spread == handle.result.spread


def test_a_cancelled_run_with_uncertainty_ends_cancelled():
    runner = Runner(max_parallel=1, timeout_s=60)
    try:
        handle = runner.submit(TWIN, "s", TWIN.parameters_for({}, {}), {},
                               uncertainty=UncertaintyPlan(samples=400))  # fmt: skip
        handle.cancel()
        assert handle.wait(10)
        assert handle.status == "cancelled"
    finally:
        runner.shutdown()


def test_a_failing_nominal_run_fails_the_run_with_its_reason():
    runner = Runner(max_parallel=2, timeout_s=60)
    try:
        params = TWIN.parameters_for({}, {"x1": 20.0, "fail_above": 15.0})
        handle = runner.submit(TWIN, "s", params, {}, uncertainty=UncertaintyPlan(samples=8))
        assert handle.wait(60)
        assert handle.status == "failed" and "beyond what this model takes" in handle.error
    finally:
        runner.shutdown()


def test_spread_and_sensitivity_are_saved_with_the_run():
    _, result = _run_here(UncertaintyPlan(samples=16, seed=1, sensitivity=True))
    store = MemoryStore()
    again = _result(_result_document(result, store), store)
    assert again.spread == result.spread
    assert again.sensitivity == result.sensitivity
    assert again.uncertainty == result.uncertainty
    assert np.allclose(again.series["ramp"].upper, result.series["ramp"].upper)


def test_the_case_s_own_uncertainty_comes_first_where_the_twin_allows_it():
    from dataclasses import replace

    from meditwin_desktop.core.twin import Uncertain
    from meditwin_desktop.core.uncertainty import _distribution

    declared = Uncertain("x1", "lognormal", relative_sd=0.1, from_case=True, source="t")
    assert _distribution(declared, 10.0).std() == pytest.approx(10 * math.sqrt(
        (math.exp(0.01) - 1) * math.exp(0.01)), rel=1e-9)  # fmt: skip  # sigma 0.1
    from_case = _distribution(declared, 10.0, case_sd=3.0)  # sigma 0.3
    assert from_case.std() == pytest.approx(10 * math.sqrt(
        (math.exp(0.09) - 1) * math.exp(0.09)), rel=1e-9)  # fmt: skip
    ignored = replace(declared, from_case=False)
    assert _distribution(ignored, 10.0, case_sd=3.0).std() == pytest.approx(
        _distribution(declared, 10.0).std())
    normal = Uncertain("x1", "normal", sd=1.0, from_case=True, source="t")
    assert _distribution(normal, 10.0, case_sd=2.0).std() == pytest.approx(2.0)


def test_runs_where_an_outcome_is_undefined_are_left_out_and_counted():
    from meditwin_desktop.core.comparison import interval_text

    outcome = Outcome("risk", "10-year risk", "%", "lower", absent="outside validity",
                      target=Target(high=7.5), precision=1)  # fmt: skip
    spread = outcome_spread(outcome, [5.0, 6.0, 7.0, None, 9.0], level=0.5)
    assert spread.undefined == 1 and spread.samples == 5
    assert (spread.low, spread.median, spread.high) == (5.75, 6.5, 7.5)  # of the 4 defined
    assert spread.p_target == pytest.approx(3 / 4)
    assert interval_text(outcome, spread) == "5.8–7.5, n/a in 1 of 5"
    nothing = outcome_spread(outcome, [None, None, 4.0], level=0.5)
    assert nothing.median is None and nothing.undefined == 2
    assert interval_text(outcome, nothing) == "n/a in 2 of 3 sampled runs"
