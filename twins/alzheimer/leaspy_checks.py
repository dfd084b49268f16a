"""Checks of the Leaspy model and the MAP personalisation, each returning one number, for the
twin's `meditwin verify` cases and the tests.

- `equations_max_error`: `LeaspyModel.values` against an independent scalar implementation of
  the classic form y = 1 / (1 + g exp(-metric (v0 rt + w))) (Schiratti et al. 2017; Leaspy
  2.1.0 models/logistic.py), max absolute difference.
- `leaspy_agreement`: MAP individual parameters of Leaspy's 200 synthetic example patients
  (leaspy 2.1.0 datasets/data/alzheimer.csv) with Leaspy's example model, against the
  individual parameters Leaspy publishes for them (datasets/individual_parameters/
  alzheimer-individual_parameters.csv). Leaspy's documentation does not say which algorithm
  wrote that file; it is a MAP of the same objective as `scipy_minimize` (our objective at our
  estimate is never above its value at the published one, and they agree to ~1e-4): a
  mean-posterior (MCMC) estimate would differ by about a posterior sd (median 0.44 y for tau).
- `recovery_error`, `tau_sd_median`: patients simulated from the model's own priors and noise.
"""

from __future__ import annotations

import csv
import math
from functools import lru_cache

import numpy as np

from .leaspy_model import DATA, LeaspyModel, example_model_path, load_model
from .personalization import Observations, personalize, personalize_many

PARAMETERS = ("xi", "tau", "sources")


def _classic(model: LeaspyModel, age: float, xi: float, tau: float, sources) -> list[float]:
    rt = math.exp(xi) * (age - tau)
    out = []
    for k in range(model.n_features):
        w = sum(float(sources[j]) * model.mixing_matrix[j, k] for j in range(len(sources)))
        g = math.exp(model.log_g[k])
        metric = (g + 1.0) ** 2 / g
        out.append(1.0 / (1.0 + g * math.exp(-metric * (math.exp(model.log_v0[k]) * rt + w))))
    return out


def equations_max_error(n: int = 50, seed: int = 0) -> float:
    """Max |values - scalar classic form| over n random (xi, tau, sources, 5 ages)."""
    model = load_model(example_model_path())
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(n):
        xi = rng.normal(model.xi_mean, model.xi_std)
        tau = rng.normal(model.tau_mean, model.tau_std)
        s = rng.normal(0.0, 1.0, model.source_dimension)
        ages = rng.uniform(tau - 25.0, tau + 25.0, 5)
        got = model.values(ages, xi, tau, s)
        ref = np.array([_classic(model, a, xi, tau, s) for a in ages])
        worst = max(worst, float(np.abs(got - ref).max()))
    return worst


@lru_cache(maxsize=1)
def example_patients() -> tuple[tuple[str, ...], tuple[Observations, ...], np.ndarray]:
    """Leaspy's example data: ids, observations (0-1 space) and the published (xi, tau,
    sources_0, sources_1) per patient, in the data file's order."""
    with open(DATA / "alzheimer_example_data.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    visits: dict[str, list[list[float]]] = {}
    for r in rows[1:]:
        visits.setdefault(r[0], []).append([float(v) if v else math.nan for v in r[1:]])
    with open(DATA / "alzheimer_example_individual_parameters.csv", newline="") as fh:
        published = {r[0]: [float(v) for v in r[1:]] for r in list(csv.reader(fh))[1:]}
    ids = tuple(visits)
    obs = []
    for i in ids:
        a = np.array(visits[i])
        obs.append(Observations(a[:, 0], a[:, 1:]))
    return ids, tuple(obs), np.array([published[i] for i in ids])


def _statistic(diff: np.ndarray, parameter: str, statistic: str) -> float:
    """median, p90 or max of |differences| of "xi", "tau" or "sources" (pooled)."""
    col = {"xi": diff[:, 0], "tau": diff[:, 1], "sources": diff[:, 2:].ravel()}[parameter]
    if statistic == "median":
        return float(np.median(col))
    if statistic == "p90":
        return float(np.percentile(col, 90))
    return float(np.max(col))


@lru_cache(maxsize=4)
def _agreement(n_patients: int) -> np.ndarray:
    model = load_model(example_model_path())
    _, obs, published = example_patients()
    ind = personalize_many(model, obs[:n_patients])
    est = np.array([[p.xi, p.tau, *p.sources] for p in ind])
    return np.abs(est - published[:n_patients])


def leaspy_agreement(parameter: str, statistic: str = "median", n_patients: int = 200) -> float:
    """|ours - Leaspy's published| for "xi", "tau" (years) or "sources" (all sources pooled):
    statistic "median", "p90" or "max" over the first n_patients of the example data."""
    return _statistic(_agreement(n_patients), parameter, statistic)


@lru_cache(maxsize=2)
def _replay(n_patients: int) -> np.ndarray:
    from scipy.optimize import minimize

    from .personalization import _Problem

    model = load_model(example_model_path())
    _, obs, published = example_patients()
    est = []
    for o in obs[:n_patients]:
        problem = _Problem(model, np.asarray(o.ages, float), np.asarray(o.values, float))
        z0 = np.zeros(2 + model.source_dimension)
        res = minimize(
            problem.fun, z0, jac=problem.jac, method="BFGS", options={"gtol": 1e-2, "maxiter": 200}
        )
        est.append(problem.natural(res.x))
    return np.abs(np.array(est) - published[:n_patients])


def leaspy1_replay(parameter: str, statistic: str = "median", n_patients: int = 200) -> float:
    """As `leaspy_agreement`, for a replay of Leaspy 1.x's default scipy_minimize (BFGS,
    exact gradient, gtol 1e-2, from the prior mode) on our objective: how exactly we
    reproduce the published file, i.e. evidence of which algorithm wrote it."""
    return _statistic(_replay(n_patients), parameter, statistic)


def simulate(
    model: LeaspyModel, n_patients: int, n_visits: int, seed: int
) -> tuple[list[Observations], np.ndarray]:
    """Patients drawn from the model's priors, yearly visits from a first visit within
    (-6, +4) years of their tau, gaussian noise of the model's noise_std; returns the
    observations and the true (xi, tau, sources...)."""
    rng = np.random.default_rng(seed)
    ns = model.source_dimension
    obs, truth = [], []
    for _ in range(n_patients):
        xi = rng.normal(model.xi_mean, model.xi_std)
        tau = rng.normal(model.tau_mean, model.tau_std)
        s = rng.normal(model.sources_mean, model.sources_std, ns)
        ages = tau + rng.uniform(-6.0, 4.0) + np.arange(n_visits, dtype=float)
        y = model.values(ages, xi, tau, s) + rng.normal(0.0, 1.0, (n_visits, model.n_features)) * (
            model.noise_std
        )
        obs.append(Observations(ages, y))
        truth.append([xi, tau, *s])
    return obs, np.array(truth)


def recovery_error(parameter: str, n_patients: int = 60, seed: int = 1) -> float:
    """Median |MAP - truth| of "xi" or "tau" (years) for simulated patients, 5 yearly visits."""
    model = load_model(example_model_path())
    obs, truth = simulate(model, n_patients, 5, seed)
    est = np.array([[p.xi, p.tau] for p in personalize_many(model, obs)])
    j = {"xi": 0, "tau": 1}[parameter]
    return float(np.median(np.abs(est[:, j] - truth[:, j])))


def tau_sd_median(n_visits: int, n_patients: int = 40, seed: int = 2) -> float:
    """Median Laplace sd of tau (years) over simulated patients using their first n_visits
    (the same patients for every n_visits: 6 yearly visits simulated, the first kept)."""
    model = load_model(example_model_path())
    obs, _ = simulate(model, n_patients, 6, seed)
    sds = [
        personalize(model, Observations(o.ages[:n_visits], o.values[:n_visits])).sd("tau")
        for o in obs
    ]
    return float(np.median(sds))


def tau_sd_ratio(many: int, few: int) -> float:
    """Median SD of tau with `many` visits over that with `few` (below 1: it shrinks)."""
    return tau_sd_median(many) / tau_sd_median(few)
