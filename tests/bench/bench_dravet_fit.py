"""Speed of the Dravet twin's seizure-count model (issue 21: fitting a 1-year diary and running
4 scenarios of 2,000 simulated futures each in < 2 s).

Fits a simulated 1-year diary (count_checks.TRUTH) with `count_model.fit` (mode + Laplace +
importance resampling, 2,000 draws, trend test included) and simulates 4 scenarios x 2,000
futures x 365 days with `simulate_days` (each scenario its own rate multiplier). As the
reference in the same run, the same posterior is sampled by a plain random-walk Metropolis
(8 vectorised chains, Gaussian steps scaled 2.38^2/3 x the Laplace covariance, 500 burn-in
steps per chain) run until its effective sample size (the smallest over the 3 parameters,
Geyer's initial positive sequence) reaches the importance sample's, capped at 2,000.
Prints both times, the ratio, the total against the 2 s target, and how far the two posterior
medians are apart. Then the twin as the product runs it: `TWIN.simulate` of 4 scenarios (no
add-on, fenfluramine, cannabidiol, stiripentol: each refits the diary, checks the rules,
simulates 2,000 futures of a 52-week horizon and builds its tables) on a 1-year case.
`PYTHONPATH=. python tests/bench/bench_dravet_fit.py`
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _ess(chain: np.ndarray) -> float:
    """Effective sample size of a 1-D chain (Geyer's initial positive sequence)."""
    x = chain - chain.mean()
    n = len(x)
    spectrum = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[:n] / (x @ x)
    total = 0.0
    for k in range(0, n - 1, 2):
        pair = acf[k] + acf[k + 1]
        if pair <= 0:
            break
        total += pair
    return n / max(2.0 * total - 1.0, 1.0)


def metropolis(data, mode: np.ndarray, cov: np.ndarray, target_ess: float, seed: int = 0):
    """Random-walk Metropolis draws (n, 3) of theta until min ESS >= target (8 chains)."""
    from twins.dravet_epilepsy.count_model import log_posterior

    rng = np.random.default_rng(seed)
    chains = 8
    chol = np.linalg.cholesky(cov * 2.38**2 / 3)
    x = mode + rng.standard_normal((chains, 3)) @ chol.T * 0.5
    lp = log_posterior(x, data)
    kept: list[np.ndarray] = []
    step = 0
    while True:
        proposal = x + rng.standard_normal((chains, 3)) @ chol.T
        lp_new = log_posterior(proposal, data)
        accept = np.log(rng.random(chains)) < lp_new - lp
        x[accept], lp[accept] = proposal[accept], lp_new[accept]
        step += 1
        if step > 500:
            kept.append(x.copy())
        if step > 500 and (step - 500) % 500 == 0:
            draws = np.array(kept)  # (steps, chains, 3)
            ess = min(sum(_ess(draws[:, c, j]) for c in range(chains)) for j in range(3))
            if ess >= target_ess:
                return draws.reshape(-1, 3), ess


def main() -> None:
    from twins.dravet_epilepsy import count_checks
    from twins.dravet_epilepsy.count_model import (
        _hessian,
        _mode,
        fit,
        log_posterior,
        prepare,
        simulate_days,
    )

    counts = count_checks.simulated_diary(count_checks.TRUTH, 365, seed=11)
    fit(counts, draws=200)  # warm-up (imports, caches)

    start = time.perf_counter()
    posterior = fit(counts, draws=2000, seed=0)
    fitted = time.perf_counter() - start
    rate, dispersion, cluster = posterior.draws.T
    rng = np.random.default_rng(1)
    for multiplier in (1.0, 0.35, 0.6, 1.4):  # none, and three illustrative add-on effects
        futures = simulate_days(rate * multiplier, dispersion, cluster, 365, rng)
        assert futures.shape == (2000, 365)
    total = time.perf_counter() - start

    data = prepare(counts)
    start = time.perf_counter()
    mode = _mode(data)
    cov = np.linalg.inv(-_hessian(lambda th: log_posterior(th, data), mode))
    draws, ess = metropolis(data, mode, cov, min(posterior.ess, 2000.0))
    reference = time.perf_counter() - start

    ours = np.median(posterior.draws, axis=0)
    theirs = np.median(np.column_stack([np.exp(draws[:, :2]), draws[:, 2]]), axis=0)
    print(f"fit 1-year diary (importance sampling, ESS {posterior.ess:.0f}): {fitted:.3f} s")
    print(f"fit + 4 scenarios x 2000 futures x 365 days: {total:.3f} s "
          f"(target 2 s: {total / 2.0:.2f} of it)")  # fmt: skip
    print(f"reference random-walk Metropolis to ESS {ess:.0f}: {reference:.3f} s "
          f"(ratio reference / ours {reference / fitted:.1f})")  # fmt: skip
    print("posterior medians (rate, dispersion, cluster): ours "
          f"{np.round(ours, 3)}, Metropolis {np.round(theirs, 3)}")  # fmt: skip
    whole = _twin_scenarios(counts)
    print(f"the twin: 4 scenarios (TWIN.simulate, 52-week horizon) on a 1-year diary: "
          f"{whole:.3f} s (target 2 s: {whole / 2.0:.2f} of it)")  # fmt: skip


def _twin_scenarios(counts: np.ndarray) -> float:
    """Seconds for TWIN.simulate of 4 scenarios on a case holding `counts` as its diary."""
    import datetime as dt

    from meditwin_desktop.core.case import Case, Event, Medication
    from meditwin_desktop.core.twin import view_of
    from twins.dravet_epilepsy import TWIN

    first = dt.date(2025, 1, 1)
    events = [Event(f"{first + dt.timedelta(days=n)}T07:00:00", "generalised tonic-clonic",
                    60.0, {"count": int(c)} if c > 1 else {})
              for n, c in enumerate(counts) if c > 0]  # fmt: skip
    events.append(Event(f"{first}T20:00:00", "no seizure"))
    events.append(Event(f"{first + dt.timedelta(days=len(counts) - 1)}T21:00:00", "no seizure"))
    case = Case(name="bench", patient_id="bench", events=events,
                clinical={"weight_kg": 20.0, "echocardiogram": "normal"},
                medications=[Medication("valproate", 600.0, "mg/day"),
                             Medication("clobazam", 10.0, "mg/day")])  # fmt: skip
    view = view_of(case)
    inputs = TWIN.prepare(view)
    assert len(inputs["convulsive"]) == len(counts)
    start = time.perf_counter()
    for add in ("none", "fenfluramine", "cannabidiol", "stiripentol"):
        params = TWIN.parameters_for({}, {"add_therapy": add, "horizon_weeks": 52})
        TWIN.simulate(params, inputs, lambda *_: None, lambda: False)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
