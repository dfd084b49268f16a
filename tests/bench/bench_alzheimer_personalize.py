"""Speed of the Alzheimer twin's MAP personalisation (issue 20: 200 patients in < 10 s).

Personalises the 200 synthetic patients of Leaspy's example data (leaspy 2.1.0
datasets/data/alzheimer.csv, 1975 visits, 7 features) with Leaspy's example model, using
`personalize` (exact gradient and Hessian, trust-exact, two starts, Laplace covariance) and,
as the reference in the same run, scipy's Powell (no gradient) on the same objective from the
prior mode with the options Leaspy 2.1.0's `scipy_minimize` uses without a jacobian
(xtol 1e-4, ftol 1e-4, maxiter 200, standardised variables). Prints both times, the ratio,
how far the two estimates are apart and from Leaspy's published individual parameters.
`PYTHONPATH=. python tests/bench/bench_alzheimer_personalize.py`
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _powell(model, obs) -> np.ndarray:
    from scipy.optimize import minimize

    from twins.alzheimer.personalization import _Problem

    problem = _Problem(model, np.asarray(obs.ages, float), np.asarray(obs.values, float))
    res = minimize(
        problem.fun,
        np.zeros(2 + model.source_dimension),
        method="Powell",
        options={"xtol": 1e-4, "ftol": 1e-4, "maxiter": 200},
    )
    return problem.natural(res.x)


def main(n: int = 200) -> None:
    from twins.alzheimer.leaspy_checks import example_patients
    from twins.alzheimer.leaspy_model import example_model_path, load_model
    from twins.alzheimer.personalization import personalize_many

    model = load_model(example_model_path())
    _, obs, published = example_patients()
    obs, published = obs[:n], published[:n]

    t0 = time.perf_counter()
    ours = personalize_many(model, obs)
    t_ours = time.perf_counter() - t0
    est = np.array([p.mean for p in ours])

    t0 = time.perf_counter()
    ref = np.array([_powell(model, o) for o in obs])
    t_ref = time.perf_counter() - t0

    d_ref = np.abs(est - ref)
    d_pub = np.abs(est - published)
    ms_ours, ms_ref = 1e3 * t_ours / n, 1e3 * t_ref / n
    verdict = "OK" if t_ours < 10 else "SLOW"
    print(f"patients: {n}  (Leaspy example data, {sum(len(o.ages) for o in obs)} visits)")
    print(f"personalize (exact grad+Hessian, Laplace): {t_ours:6.2f} s  ({ms_ours:.1f} ms/patient)")
    print(f"reference Powell, no gradient, no cov.:    {t_ref:6.2f} s  ({ms_ref:.1f} ms/patient)")
    print(f"ratio reference / ours: {t_ref / t_ours:.1f}x   target < 10 s for 200: {verdict}")
    print(f"converged: {sum(p.converged for p in ours)}/{n}")
    for label, d in (("vs Powell", d_ref), ("vs Leaspy published", d_pub)):
        tau_med, tau_p90 = np.median(d[:, 1]), np.percentile(d[:, 1], 90)
        print(
            f"{label:>20}: median |dtau| {tau_med:.2e} y, p90 {tau_p90:.2e}; "
            f"median |dxi| {np.median(d[:, 0]):.2e}; median |dsources| {np.median(d[:, 2:]):.2e}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
