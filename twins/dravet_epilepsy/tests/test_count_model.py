"""Seizure-count model (count_model.py): NB2 daily counts with a Markov clustering term, its
Bayesian fit and simulated futures.

References and tolerances are written beside each test. The model family is that of
Troconiz et al. (J Pharmacokinet Pharmacodyn 2009;36:461-477) and Kim et al. (J Clin Pharmacol
2012;52:880-892); no published individual fit is reproduced (none was accessible as data), so
the checks are exact identities (scipy's NB pmf, brute-force marginal likelihoods), Monte Carlo
identities with tolerances from their own standard errors, and calibration of the posterior
over simulated diaries (binomial tolerance). The full-size versions are in count_checks.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import nbinom, poisson

from meditwin_desktop.core.twin import TwinInputError

from .. import count_checks as checks
from ..count_model import (
    CountParams,
    _nb_logpmf,
    fit,
    log_likelihood,
    mean_rate,
    prepare,
    simulate_days,
    stationary_seizure_day,
)


@pytest.mark.parametrize("alpha", [0.003, 0.33, 3.0])
def test_nb_logpmf_matches_scipy(alpha):
    y, mu = np.arange(60), 2.7
    ours = _nb_logpmf(y, np.full((1, 60), np.log(mu)), np.array([[alpha]]))[0]
    r = 1.0 / alpha
    np.testing.assert_allclose(ours, nbinom.logpmf(y, r, r / (r + mu)), atol=1e-9)


def test_nb_logpmf_poisson_limit():
    # alpha -> 0: NB2 -> Poisson; the difference is O(alpha y^2), here < 1e-8
    y, mu = np.arange(40), 3.1
    ours = _nb_logpmf(y, np.full((1, 40), np.log(mu)), np.array([[1e-12]]))[0]
    np.testing.assert_allclose(ours, poisson.logpmf(y, mu), atol=1e-8)


def test_mean_rate_closed_forms():
    # No clustering: the mean is lambda whatever the dispersion.
    assert mean_rate(CountParams(0.7, 0.5, 0.0)) == pytest.approx(0.7, rel=1e-12)
    # Poisson: pi1 = q0 / (q0 + e^(-lambda e^rho)), q0 = 1 - e^(-lambda)
    lam, rho = 0.4, 1.0
    q0 = 1 - np.exp(-lam)
    pi1 = q0 / (q0 + np.exp(-lam * np.exp(rho)))
    expected = lam * (1 - pi1) + lam * np.exp(rho) * pi1
    assert mean_rate(CountParams(lam, 0.0, rho)) == pytest.approx(expected, rel=1e-12)
    assert mean_rate(CountParams(0.0, 0.4, 1.0)) == 0.0


def test_mean_rate_against_long_simulation():
    # 1500 stationary patients x 1500 days: the analytic rate must lie within 4 standard
    # errors of the simulated mean (SE from the spread of per-patient means).
    for params in (checks.TRUTH, CountParams(0.05, 1.2, 1.5)):
        error, standard_error = checks.mean_rate_simulation_error(params, 1500, 1500, seed=3)
        assert abs(error) < 4 * standard_error + 1e-12


def test_simulate_days_shapes_states_and_seed():
    rng = np.random.default_rng(0)
    n = 4000
    out = simulate_days(np.full(n, 0.2), np.full(n, 0.3), np.full(n, 2.0), 5, rng,
                        np.arange(n) % 2 == 0)  # fmt: skip
    assert out.shape == (n, 5) and out.dtype.kind == "i" and out.min() >= 0
    # First day's mean: lambda e^rho after a seizure day (1.478), lambda after none (0.2);
    # 2000 draws each, NB2 SD sqrt(mu + alpha mu^2): 4 SE tolerance
    for first, mu in ((0, 0.2 * np.exp(2.0)), (1, 0.2)):
        day1 = out[first::2, 0]
        assert abs(day1.mean() - mu) < 4 * np.sqrt((mu + 0.3 * mu * mu) / day1.size)
    again = simulate_days(0.2, 0.3, 2.0, 5, np.random.default_rng(7))
    assert np.array_equal(again, simulate_days(0.2, 0.3, 2.0, 5, np.random.default_rng(7)))
    assert np.all(simulate_days(np.zeros(3), 0.5, 1.0, 10, rng) == 0)
    with pytest.raises(TwinInputError):
        simulate_days(np.array([-1.0]), 0.5, 0.0, 10, rng)


def test_stationary_probability_is_the_chain_fixed_point():
    rate, alpha, rho = 0.3, 0.8, 1.1
    pi1 = float(stationary_seizure_day(rate, alpha, rho))
    q0 = 1 - (1 + alpha * rate) ** (-1 / alpha)
    q1 = 1 - (1 + alpha * rate * np.exp(rho)) ** (-1 / alpha)
    assert pi1 == pytest.approx((1 - pi1) * q0 + pi1 * q1, rel=1e-12)


def _brute_force_gap(y_first: int, y_last: int, gap: int, p: CountParams, top: int = 80):
    """log P(y_last | y_first, `gap` unreported days between), summing over the gap's counts
    day by day (state probabilities propagated through NB pmfs truncated at `top`)."""
    r = 1 / p.dispersion

    def pmf(mu):
        return nbinom.pmf(np.arange(top), r, r / (r + mu))

    means = (p.rate, p.rate * np.exp(p.cluster))
    state = np.array([0.0, 1.0]) if y_first > 0 else np.array([1.0, 0.0])
    for _ in range(gap):
        prob_zero = state[0] * pmf(means[0])[0] + state[1] * pmf(means[1])[0]
        state = np.array([prob_zero, 1 - prob_zero])
    last = state[0] * pmf(means[0])[y_last] + state[1] * pmf(means[1])[y_last]
    return np.log(last)


@pytest.mark.parametrize("gap", [1, 3])
def test_missing_days_use_the_exact_marginal_of_the_previous_state(gap):
    p = CountParams(0.6, 0.5, 0.9)
    theta = np.array([[np.log(p.rate), np.log(p.dispersion), p.cluster]])
    base = np.r_[np.zeros(30), [2.0]]
    with_gap = np.r_[base, np.full(gap, np.nan), [3.0]]
    difference = log_likelihood(theta, prepare(with_gap)) - log_likelihood(theta, prepare(base))
    assert difference[0] == pytest.approx(_brute_force_gap(2, 3, gap, p), abs=1e-9)


def test_fit_refuses_fewer_than_28_reported_days():
    assert checks.refuses_short_diary(27) == 1.0
    assert checks.refuses_short_diary(28) == 0.0
    counts = np.r_[np.zeros(27), np.full(40, np.nan)]  # 67 days, 27 reported
    with pytest.raises(TwinInputError, match="only 27 days of diary were reported"):
        fit(counts)
    for bad in (np.r_[np.zeros(40), [-1.0]], np.r_[np.zeros(40), [1.5]], np.zeros((6, 7))):
        with pytest.raises(TwinInputError):
            fit(bad)


def test_fit_without_any_seizure():
    # 180 seizure-free days: the rate's 90 % upper bound must be well under one seizure per
    # 28 days (a Poisson-rate bound from 0 events in 180 days is 2.3/180 x 28 = 0.36 at 90 %)
    posterior = fit(np.zeros(180), draws=1000)
    assert posterior.mean_per_28d[2] < 0.5
    assert posterior.mean_per_28d[0] < posterior.mean_per_28d[1] < posterior.mean_per_28d[2]
    assert any("No convulsive seizure" in note for note in posterior.notes)
    assert posterior.draws.shape == (1000, 3) and np.all(np.isfinite(posterior.draws))


def test_fit_recovers_a_known_child_and_reports_clustering():
    # One 1-year diary of TRUTH (long-run mean 22.2/28 d): the truth must lie in the 99 %
    # posterior interval, and exp(rho) = 2.2 must be called clustering.
    counts = checks.simulated_diary(checks.TRUTH, 365, seed=11)
    posterior = fit(counts, draws=2000, seed=1)
    per_28d = 28 * checks.mean_rate_array(*posterior.draws.T)
    low, high = np.percentile(per_28d, (0.5, 99.5))
    assert low < 28 * mean_rate(checks.TRUTH) < high
    assert posterior.observed_days == 365
    assert any("clustering" in note for note in posterior.notes)
    assert not any("Trend" in note for note in posterior.notes)


def test_fit_reports_a_trend_and_missing_days():
    # The rate triples at mid-diary: a trend must be reported; missing days are counted.
    first = checks.simulated_diary(CountParams(0.3, 0.3, 0.5), 150, seed=2)
    second = checks.simulated_diary(CountParams(0.9, 0.3, 0.5), 150, seed=3)
    counts = np.r_[first, second]
    counts[40:50] = np.nan
    posterior = fit(counts, draws=500)
    assert posterior.trend_rate_ratio is not None and posterior.trend_rate_ratio > 1.5
    assert any(note.startswith("Trend detected") for note in posterior.notes)
    assert any("10 of 300 diary days were not reported" in note for note in posterior.notes)


def test_coarse_parameter_recovery():
    # 12 one-year diaries of TRUTH: the median relative error of the rate and the dispersion
    # must agree with the error the posteriors predict (0.6745 x posterior relative SD) within
    # a factor 2 (12 diaries: the sample median's own spread is about +-35 %). Full-size
    # version (100 diaries): count_checks.recovery_error_ratio.
    for parameter in ("rate", "dispersion"):
        observed, predicted = checks.recovery_errors(parameter, diaries=12, seed=100)
        assert 0.5 < observed / predicted < 2.0, (parameter, observed, predicted)


def test_coarse_interval_coverage():
    # 40 diaries (6 months) with true parameters drawn from the Dravet-like ranges: the 80 %
    # interval of the long-run rate must cover the truth in 0.80 +- 2.576 x sqrt(0.16/40)
    # (= +-0.163, 99 % binomial range). Full-size version: count_checks.coverage (200).
    share = checks.coverage("mean_rate", diaries=40, days=182, seed=5)
    assert abs(share - 0.80) <= checks.binomial_tolerance(40)


def test_clustering_not_judged_when_every_day_has_seizures():
    # 5 seizures/day, nearly Poisson: hardly any seizure-free day, so rho is not identified;
    # the long-run rate still is (within 10 % of the diary's observed mean per 28 days).
    counts = checks.simulated_diary(CountParams(5.0, 0.05, 0.0), 365, seed=1)
    posterior = fit(counts, draws=500)
    assert any(note.startswith("Clustering cannot be judged") for note in posterior.notes)
    assert not any("Strong clustering" in note for note in posterior.notes)
    assert posterior.mean_per_28d[1] == pytest.approx(np.mean(counts) * 28, rel=0.1)
