"""Verification computations of the seizure-count model (count_model.py), plain picklable
functions for `meditwin verify` cases and for the tests beside the twin.

- parameter recovery: median relative error of the posterior medians of rate and dispersion
  over simulated 1-year diaries, and that error against the one the posterior itself predicts;
- interval coverage: share of simulated diaries whose true long-run rate lies in the fit's 80 %
  interval (a calibrated interval covers 80 %, within a binomial tolerance);
- the fit refusing a diary of fewer than 28 reported days;
- the analytic long-run rate against a long simulation.

No published number is reproduced here: the references are properties the method must have
(calibration, consistency). The true parameters are illustrative Dravet-like values chosen by
us (a mean of about 22 convulsive seizures per 28 days with clustering), not taken from a paper.
"""

from __future__ import annotations

import numpy as np

from meditwin_desktop.core.twin import TwinInputError

from .count_model import CountParams, fit, mean_rate, mean_rate_array, simulate_days

TRUTH = CountParams(rate=0.5, dispersion=0.4, cluster=0.8)
# Ranges the coverage check draws its true parameters from (one child per diary): rate
# log-uniform 0.1-2 seizures/day after a seizure-free day, dispersion log-uniform 0.1-1.5,
# clustering uniform 0-1.2 (rate ratio 1 to 3.3). Illustrative, chosen by us.
RATE_RANGE = (0.1, 2.0)
DISPERSION_RANGE = (0.1, 1.5)
CLUSTER_RANGE = (0.0, 1.2)
MEDIAN_ABS_Z = 0.6745  # median of |Z| for a standard normal Z


def simulated_diary(params: CountParams, days: int, seed: int, missing_share: float = 0.0):
    """One simulated diary (float counts per day; a `missing_share` of days set to NaN at
    random, the first and last day always reported)."""
    rng = np.random.default_rng(seed)
    counts = simulate_days(
        np.array([params.rate]), np.array([params.dispersion]), np.array([params.cluster]),
        days, rng,
    )[0].astype(float)  # fmt: skip
    if missing_share > 0:
        drop = rng.random(days) < missing_share
        drop[[0, -1]] = False
        counts[drop] = np.nan
    return counts


def _value(params: CountParams, parameter: str) -> float:
    if parameter == "mean_rate":
        return mean_rate(params)
    return float(getattr(params, parameter))


def _draws(posterior, parameter: str) -> np.ndarray:
    if parameter == "mean_rate":
        return mean_rate_array(*posterior.draws.T)
    column = {"rate": 0, "dispersion": 1, "cluster": 2}[parameter]
    return posterior.draws[:, column]


def recovery_errors(parameter: str, diaries: int = 100, days: int = 365, seed: int = 0,
                    params: CountParams = TRUTH) -> tuple[float, float]:  # fmt: skip
    """(median relative error of the posterior median of `parameter` over `diaries`
    simulated diaries, the median error the posteriors predict: 0.6745 x the median
    posterior relative standard deviation). `parameter`: rate, dispersion, mean_rate, or
    cluster (absolute errors: rho may be 0)."""
    truth = _value(params, parameter)
    scale = 1.0 if parameter == "cluster" else truth
    errors, predicted = [], []
    for k in range(diaries):
        posterior = fit(simulated_diary(params, days, seed + k), draws=1000, seed=k, trend=False)
        values = _draws(posterior, parameter)
        errors.append(abs(float(np.median(values)) - truth) / scale)
        predicted.append(MEDIAN_ABS_Z * float(np.std(values)) / scale)
    return float(np.median(errors)), float(np.median(predicted))


def recovery_error(parameter: str, diaries: int = 100, days: int = 365, seed: int = 0) -> float:
    """Median relative error of the posterior median of `parameter` (rate, dispersion or
    mean_rate) over simulated 1-year diaries of TRUTH."""
    return recovery_errors(parameter, diaries, days, seed)[0]


def recovery_error_ratio(parameter: str, diaries: int = 100, days: int = 365,
                         seed: int = 0) -> float:  # fmt: skip
    """Observed median relative error / the one the posteriors predict (1 when the posterior
    spread matches the estimator's actual error)."""
    observed, predicted = recovery_errors(parameter, diaries, days, seed)
    return observed / predicted


def truth_from_ranges(rng: np.random.Generator) -> CountParams:
    """A true child drawn from the coverage ranges."""

    def log_uniform(bounds: tuple[float, float]) -> float:
        return float(np.exp(rng.uniform(*np.log(bounds))))

    return CountParams(log_uniform(RATE_RANGE), log_uniform(DISPERSION_RANGE),
                       float(rng.uniform(*CLUSTER_RANGE)))  # fmt: skip


def coverage(parameter: str = "mean_rate", diaries: int = 200, days: int = 365, seed: int = 0,
             missing_share: float = 0.0, level: float = 0.80) -> float:  # fmt: skip
    """Share of simulated diaries (true parameters drawn from the ranges above) whose true
    `parameter` lies within the fit's central `level` interval."""
    rng = np.random.default_rng(seed)
    tail = (1.0 - level) / 2.0 * 100.0
    inside = 0
    for k in range(diaries):
        truth = truth_from_ranges(rng)
        counts = simulated_diary(truth, days, seed * 100_003 + k, missing_share)
        posterior = fit(counts, draws=1000, seed=k, trend=False)
        low, high = np.percentile(_draws(posterior, parameter), (tail, 100.0 - tail))
        inside += low <= _value(truth, parameter) <= high
    return inside / diaries


def binomial_tolerance(diaries: int, level: float = 0.80, z: float = 2.576) -> float:
    """Half-width of the 99 % (z = 2.576) normal range of a coverage share over `diaries`."""
    return z * float(np.sqrt(level * (1.0 - level) / diaries))


def refuses_short_diary(days: int = 27) -> float:
    """1.0 when the fit refuses a diary of `days` reported days with a message naming the 28
    days needed, 0.0 when it fits it (28 days and more must be fitted), -1.0 for another
    error."""
    counts = simulated_diary(TRUTH, days, 0)
    try:
        fit(counts, draws=200, trend=False)
    except TwinInputError as error:
        return 1.0 if f"only {days} days" in str(error) and "at least 28" in str(error) else -1.0
    return 0.0


def mean_rate_simulation_error(params: CountParams = TRUTH, patients: int = 4000,
                               days: int = 2000, seed: int = 0) -> tuple[float, float]:  # fmt: skip
    """(relative difference between the analytic long-run rate and a simulation of
    `patients` x `days` days started in the stationary state, the simulation's relative
    standard error from the spread of the per-patient means)."""
    counts = simulate_days(
        np.full(patients, params.rate), np.full(patients, params.dispersion),
        np.full(patients, params.cluster), days, np.random.default_rng(seed),
    )  # fmt: skip
    per_patient = counts.mean(axis=1)
    analytic = mean_rate(params)
    standard_error = float(per_patient.std(ddof=1) / np.sqrt(patients))
    return float(per_patient.mean() / analytic - 1.0), standard_error / analytic


def mean_rate_simulation_z(patients: int = 4000, days: int = 2000, seed: int = 0) -> float:
    """(simulated - analytic long-run rate of TRUTH) in simulation standard errors: |z| < 4
    for a correct closed form (a 1 % error in the formula gives |z| of about 40 here)."""
    error, standard_error = mean_rate_simulation_error(TRUTH, patients, days, seed)
    return error / standard_error
