"""Speed of the Claret TGI fit (issue 19: 100 patients' series in < 2 s on one core).

Simulates `n` patients (4-8 scans each, 6-9 weeks apart, 5-FU stopped at a random day for
half of them, parameters drawn from CLARET_2009's between-patient variability with KD
around 3x the 5-FU typical value so that most series shrink then regrow, 3 mm noise), fits
each with `fit_tgi` (closed form, analytic Jacobian) and, as the reference in the same run,
fits the first `n_ref` with the same MAP objective whose model is integrated by scipy's
solve_ivp (RK45, rtol 1e-8, piecewise between the treatment edges) with a finite-difference
Jacobian. Prints both times per patient, the ratio and how far the two fits' parameters
differ.
`PYTHONPATH=. python tests/bench/bench_tgi.py`
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _cohort(n: int, seed: int = 0):
    from twins.tumor_response.tgi import CLARET_2009, Period, sld_tgi

    c = CLARET_2009
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k = int(rng.integers(4, 9))
        days = np.concatenate(([0.0], np.cumsum(rng.uniform(42.0, 63.0, k - 1))))
        stop = float(rng.uniform(100.0, 300.0)) if rng.random() < 0.5 else None
        periods = [Period(0.0, stop, "5-FU")]
        typical = ((c.kl, c.omega_kl), (3 * c.kd, c.omega_kd), (c.lam, c.omega_lam))
        kl, kd, lam = (v * np.exp(o * rng.standard_normal()) for v, o in typical)
        y = sld_tgi(days, rng.uniform(40.0, 150.0), kl, kd, lam, periods)
        out.append((days, np.maximum(y + rng.normal(0.0, 3.0, k), 1.0), periods))
    return out


def _fit_ode(days, y, periods, prior):
    """The same MAP objective as fit_tgi, with the model solved by solve_ivp."""
    from scipy.integrate import solve_ivp
    from scipy.optimize import least_squares

    sd = np.sqrt(prior.sigma_add_mm**2 + (prior.sigma_prop * y) ** 2)
    mu = np.log([y[0], prior.kl, prior.kd, prior.lam])
    om = np.array([0.5, prior.omega_kl, prior.omega_kd, prior.omega_lam])
    edges = sorted({0.0, float(days[-1])} | {p.start_day for p in periods}
                   | {p.stop_day for p in periods if p.stop_day is not None})  # fmt: skip
    edges = [e for e in edges if 0.0 <= e <= days[-1]]

    def model(theta):
        y0, kl, kd, lam = np.exp(theta)

        def rhs(t, v):
            on = sum(p.intensity for p in periods if p.start_day <= t < (p.stop_day or np.inf))
            return [(kl - kd * on * np.exp(-lam * t)) * v[0]]

        pred = np.empty_like(days)
        v = y0
        for a, b in itertools.pairwise(edges):
            inside = (days >= a) & (days <= b)
            sol = solve_ivp(rhs, (a, b), [v], rtol=1e-8, atol=1e-10, dense_output=True)
            pred[inside] = sol.sol(days[inside])[0]
            v = sol.y[0, -1]
        return pred

    def fun(theta):
        return np.concatenate(((model(theta) - y) / sd, (theta - mu) / om))

    return np.exp(least_squares(fun, mu, method="lm").x)


def bench_tgi(n: int = 100, n_ref: int = 10) -> None:
    """Print the time to fit `n` patients and the ratio to a solve_ivp-based fit."""
    from twins.tumor_response.tgi import CLARET_2009, fit_tgi

    prior = dataclasses.replace(CLARET_2009, sigma_add_mm=3.0)
    cohort = _cohort(n)
    fit_tgi(*cohort[0], prior=prior)  # warm (imports, first call)
    t0 = time.perf_counter()
    fits = [fit_tgi(d, y, p, prior=prior) for d, y, p in cohort]
    t_closed = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = [_fit_ode(d, y, p, prior) for d, y, p in cohort[:n_ref]]
    t_ode = time.perf_counter() - t0
    ours = np.array([[f.y0, f.kl, f.kd, f.lam] for f in fits[:n_ref]])
    diff = np.max(np.abs(np.log(ours / np.array(ref))))
    per_closed, per_ode = t_closed / n, t_ode / n_ref
    print(f"fit_tgi, closed form: {n} patients in {t_closed:.3f} s "
          f"({1e3 * per_closed:.2f} ms each; target < 2 s)")  # fmt: skip
    print(f"reference solve_ivp fit: {n_ref} patients in {t_ode:.3f} s "
          f"({1e3 * per_ode:.1f} ms each)")  # fmt: skip
    print(f"ratio per patient (solve_ivp / closed form): {per_ode / per_closed:.0f}x; "
          f"largest parameter difference between the two fits: {100 * diff:.2g} %")  # fmt: skip


if __name__ == "__main__":
    bench_tgi()
