"""Speed of the tumour-response fits (issue 19: fitting 100 patients' series < 2 s).

`bench_stein`: 100 seeded synthetic series (4-8 scans every 6-8 weeks, 2.5 mm noise on an
80 mm baseline SLD, generating models mixed: d, g, gd, gdphi) fitted with the Stein
regression–growth family and the tumgr selection (`fit_growth`: all four models, their
t-tests and AIC; MAP with the population prior where it applies). Reference, same data, same
run: `scipy.optimize.curve_fit` of the gd model only (one unbounded Levenberg-Marquardt fit
per series, numeric Jacobian) - the cost of a single model fit, not of the selection.
`PYTHONPATH=. python tests/bench/bench_tumor_fits.py` (or `./dev.sh bench`).
"""

from __future__ import annotations

import contextlib
import time
import warnings

import numpy as np


def _series(n: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    from meditwin_twins.tumor_response.regression_growth import f_model

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        scans = int(rng.integers(4, 9))
        t = np.cumsum(np.r_[0.0, rng.integers(42, 57, scans - 1)]).astype(float)
        model = ("d", "g", "gd", "gdphi")[i % 4]
        g = float(np.exp(rng.normal(np.log(0.003), 0.5)))
        d = float(np.exp(rng.normal(np.log(0.02), 0.5)))
        phi = float(rng.uniform(0.5, 0.95))
        sld = f_model(model, t, g=g, d=d, phi=phi) * 80.0 + rng.normal(0.0, 2.5, scans)
        sld = np.clip(sld, 0.0, None)
        sld[0] = max(sld[0], 1.0)
        out.append((t, sld / sld[0]))
    return out


def bench_stein(n: int = 100) -> dict[str, float]:
    """Time `fit_growth` on `n` series and curve_fit(gd) on the same; print and return."""
    from meditwin_twins.tumor_response.regression_growth import f_model, fit_growth
    from scipy.optimize import curve_fit

    data = _series(n)
    fit_growth(*data[0])  # warm imports and caches
    start = time.perf_counter()
    fits = [fit_growth(t, f) for t, f in data]
    stein = time.perf_counter() - start

    def gd(t, g, d):
        return f_model("gd", t, g=g, d=d)

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t, f in data:
            with contextlib.suppress(RuntimeError):
                curve_fit(gd, t, f, p0=(0.00511, 0.00511), maxfev=2000)
    reference = time.perf_counter() - start
    methods = {}
    for fit in fits:
        key = fit.model if fit.method.startswith("least") else "MAP gd"
        methods[key] = methods.get(key, 0) + 1
    print(
        f"Stein fit_growth, {n} series (4-8 points): {stein:.3f} s "
        f"({1e3 * stein / n:.1f} ms each; target < 2 s in all)"
    )
    print(f"reference curve_fit gd only, same series: {reference:.3f} s")
    print(f"ratio fit_growth / curve_fit(gd): {stein / reference:.1f}")
    print(f"chosen: {dict(sorted(methods.items()))}")
    return {"stein_s": stein, "reference_s": reference, "ratio": stein / reference}


if __name__ == "__main__":
    bench_stein()
