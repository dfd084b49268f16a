"""Therapy effects: the distribution across children of the multiplier of the seizure rate.

Each child's true multiplier is lognormal, log M ~ N(mu, sigma^2) (M < 1: fewer seizures).
(mu, sigma) per trial arm are calibrated by simulating the trial (virtual_trials.py: the
trial's baseline period, inclusion threshold and treatment period, the twin's count noise) so
that the virtual trial reproduces the arm's confirmed statistics (`calibrate()`):

- an arm with a responder rate and at least one other confirmed statistic gets its own
  (mu, sigma), fitted to all of them: Lagae 2019 fenfluramine 0.7 mg/kg/d (median reduction,
  >= 50 % responders, median frequency on treatment), Nabbout 2020 placebo and fenfluramine
  0.4 mg/kg/d (>= 25, 50 and 75 % responders), Devinsky 2017 placebo and cannabidiol
  20 mg/kg/d (>= 50 % responders, median frequency on treatment);
- every other arm gets mu only, fitted to its statistic(s), with sigma the mean of the fitted
  sigmas of its kind (an assumption): the drug arms Lagae 2019 fenfluramine 0.2 mg/kg/d and
  STICLO stiripentol take the mean of the three fitted drug arms; the placebo arms of Lagae 2019
  and STICLO the mean of the two fitted placebo arms;
- GWPCARE2 (Miller 2020) publishes model estimates only: not calibrated.

An arm's effect (`arm_effect`) is the whole arm's response, placebo response included. Its
drug-specific part (`drug_effect`, used when the placebo response is left out) treats the arm
as the product of two independent lognormal factors, drug x placebo response: mu_drug =
mu_arm - mu_placebo and sigma_drug = sqrt(sigma_arm^2 - sigma_placebo^2) (0 if negative), with
the placebo arm of the same trial, except STICLO, whose drug part is divided by the mean
placebo response of the three larger trials (see POOLED_PLACEBO_TRIALS).

Doses between studied doses use the nearest studied dose below; above the highest studied dose
the highest (never extrapolated); below the lowest studied dose there is no trial evidence and
the twin refuses (TwinInputError).

Sodium-channel blockers worsen Dravet seizures (direction: Guerrini R et al. Epilepsia
1998;39:508-512, lamotrigine aggravation; Wirrell EC et al. Epilepsia 2022;63:1761-1777,
international consensus: avoid sodium-channel blockers). No trial measured by how much: the
magnitude here, a median 1.5-fold rate (sigma 0.4), is an ASSUMPTION stated as such.

The constants below come from `calibrate()` (run `python -m meditwin_twins.dravet_epilepsy.effects`
to regenerate them); the twin never calibrates at run time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from meditwin_desktop.core.twin import TwinInputError, number, tr

from .trials import ARMS, TrialArm, arm, placebo_of, short_citation


@dataclass(frozen=True)
class Effect:
    """Lognormal distribution of the rate multiplier across children."""

    mu: float
    sigma: float
    source: str

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """`n` multipliers of the seizure rate (< 1 = fewer seizures)."""
        return np.exp(self.mu + self.sigma * rng.standard_normal(n))

    @property
    def median_multiplier(self) -> float:
        """The median child's multiplier."""
        return math.exp(self.mu)


# arm key -> (mu, sigma): output of calibrate() with its defaults (n=8000, seed
# virtual_trials.CALIBRATION_SEED, the cohort settings of virtual_trials.py); 2026-12-07
CALIBRATED: dict[str, tuple[float, float]] = {
    "lagae2019_placebo": (-0.1825, 0.4551),
    "lagae2019_fenfluramine_0.2": (-0.415, 1.1471),
    "lagae2019_fenfluramine_0.7": (-1.2977, 1.3586),
    "nabbout2020_placebo": (-0.0735, 0.0612),
    "nabbout2020_fenfluramine_0.4": (-0.7625, 0.9844),
    "devinsky2017_placebo": (-0.0, 0.8489),
    "devinsky2017_cannabidiol_20": (-0.5684, 1.0984),
    "chiron2000_placebo": (0.5706, 0.4551),
    "chiron2000_stiripentol_50": (-1.2422, 1.1471),
}

SODIUM_CHANNEL_BLOCKERS = ("carbamazepine", "oxcarbazepine", "phenytoin", "lamotrigine")
WORSENING = Effect(
    math.log(1.5), 0.4,
    "Direction: Guerrini R et al. Epilepsia 1998;39:508-512 (lamotrigine aggravates seizures in "
    "severe myoclonic epilepsy of infancy); Wirrell EC et al. Epilepsia 2022;63:1761-1777 "
    "(international consensus: sodium-channel blockers are to be avoided in Dravet syndrome). "
    "Magnitude (median 1.5-fold rate, sigma 0.4): an ASSUMPTION, no trial measured it",
)  # fmt: skip
DRUGS = ("placebo", "fenfluramine", "cannabidiol", "stiripentol", *SODIUM_CHANNEL_BLOCKERS)


def arm_effect(key: str) -> Effect:
    """The calibrated effect of a whole arm (placebo response included)."""
    item = arm(key)
    mu, sigma = CALIBRATED[key]
    cited = short_citation(item.source)
    return Effect(mu, sigma, tr(
        "{cited} (whole arm, placebo response included)"
    ).format(cited=cited))


# STICLO's placebo arm (20 children, 1 responder over a 1-month window; its baseline and
# inclusion threshold unconfirmed) fixes its placebo response poorly: calibrated alone it
# implies a median 1.9-fold worsening under placebo. The drug-specific part of stiripentol
# therefore divides by the mean placebo response of the three larger trials instead (a choice,
# stated as such; with it stiripentol's drug part is close to fenfluramine 0.7 mg/kg/d's, as
# in the network meta-analysis of Guerrini R et al. Epilepsia Open 2024;9:689-703).
POOLED_PLACEBO_TRIALS = ("lagae2019", "nabbout2020", "devinsky2017")
POOLED_PLACEBO_FOR = ("chiron2000",)


def placebo_response(item: TrialArm) -> tuple[float, float]:
    """(mu, sigma) of the placebo response the drug part of `item` is divided by."""
    if item.trial in POOLED_PLACEBO_FOR:
        pairs = [CALIBRATED[f"{t}_placebo"] for t in POOLED_PLACEBO_TRIALS]
        return float(np.mean([p[0] for p in pairs])), float(np.mean([p[1] for p in pairs]))
    return CALIBRATED[placebo_of(item).key]


def drug_effect(key: str) -> Effect:
    """The drug-specific part of an arm: arm / placebo of the same trial (independent
    lognormal factors: mu_arm - mu_placebo, sqrt(sigma_arm^2 - sigma_placebo^2))."""
    item = arm(key)
    mu, sigma = CALIBRATED[key]
    mu_placebo, sigma_placebo = placebo_response(item)
    spread = math.sqrt(max(sigma**2 - sigma_placebo**2, 0.0))
    pooled = tr(" (pooled placebo of three trials)") if item.trial in POOLED_PLACEBO_FOR else ""
    cited = short_citation(item.source)
    return Effect(mu - mu_placebo, spread, tr(
        "{cited} (drug-specific: arm / placebo{pooled})"
    ).format(cited=cited, pooled=pooled))


def _studied(drug: str, on_stiripentol: bool) -> tuple[list[float], dict[float, str]]:
    """The doses (mg/kg/day) the twin has a trial arm for, and each one's arm key; the last
    is the label's maintenance dose (with stiripentol for fenfluramine)."""
    if drug == "fenfluramine":
        keys = {0.2: "lagae2019_fenfluramine_0.2", 0.4: "nabbout2020_fenfluramine_0.4",
                0.7: "lagae2019_fenfluramine_0.7"}  # fmt: skip
        return ([0.2, 0.4] if on_stiripentol else [0.2, 0.7]), keys
    if drug == "cannabidiol":
        return [10.0], {10.0: "devinsky2017_cannabidiol_20"}
    return [50.0], {50.0: "chiron2000_stiripentol_50"}  # stiripentol


def maintenance_dose(drug: str, on_stiripentol: bool) -> float:
    """The label's maintenance dose in mg/kg/day, the one a dose of None stands for:
    fenfluramine 0.7 (0.4 with stiripentol), cannabidiol 10, stiripentol 50."""
    return _studied(drug, on_stiripentol)[0][-1]


def _studied_key(drug: str, dose: float | None, on_stiripentol: bool) -> tuple[str, str]:
    """(arm key, note on the dose used) for a drug at a dose."""
    if drug == "placebo":
        return ("nabbout2020_placebo" if on_stiripentol else "lagae2019_placebo"), ""
    studied, keys = _studied(drug, on_stiripentol)
    if dose is None:
        dose = studied[-1]
    if dose < studied[0] - 1e-9:
        raise TwinInputError(
            tr(
                "{drug} {dose} mg/kg/day is below the lowest dose studied in the trials "
                "({studied} mg/kg/day): the twin has no trial effect for it"
            ).format(drug=drug, dose=_g(dose), studied=_g(studied[0]))
        )
    chosen = max(s for s in studied if s <= dose + 1e-9)
    note = ""
    if drug == "cannabidiol":
        note = (
            tr(
                "; 10-20 mg/kg/day use the 20 mg/kg/day effect of GWPCARE1: GWPCARE2 (Miller "
                "2020) found 10 and 20 mg/kg/day alike (49 % vs 46 % model-estimated reduction)"
            )
        )
    elif drug == "fenfluramine" and on_stiripentol and chosen == 0.2:
        note = tr(
            "; 0.2 mg/kg/day with stiripentol: the Study 1 arm (without stiripentol) is used"
        )
    elif abs(chosen - dose) > 1e-9:
        note = tr(
            "; {dose} mg/kg/day uses the nearest studied dose below ({chosen})"
        ).format(dose=_g(dose), chosen=_g(chosen))
    return keys[chosen], note


def therapy_effect(
    drug: str,
    dose_mg_kg_day: float | None,
    on_stiripentol: bool,
    with_placebo_response: bool = True,
) -> Effect:
    """The effect of adding `drug` (a code, or a name rules.drug_code knows) at a dose (None =
    the label's maintenance dose): the whole arm's response, or with
    `with_placebo_response=False` the drug-specific part. TwinInputError for an unknown drug
    or a dose below the studied ones."""
    if drug not in DRUGS:  # a name as typed: 'Fintepla', 'Diacomit', 'Lamictal'...
        from .rules import drug_code

        drug = drug_code(drug) or drug
    if drug in SODIUM_CHANNEL_BLOCKERS:
        return WORSENING
    if drug not in DRUGS:
        raise TwinInputError(
            tr(
                "the twin has no trial effect for '{drug}'; known: {drugs}"
            ).format(drug=drug, drugs=', '.join(DRUGS))
        )
    if drug == "placebo" and not with_placebo_response:
        return Effect(0.0, 0.0, tr("no drug"))
    key, note = _studied_key(drug, dose_mg_kg_day, on_stiripentol)
    found = arm_effect(key) if with_placebo_response or drug == "placebo" else drug_effect(key)
    return Effect(found.mu, found.sigma, found.source + note) if note else found


# Standard error of each drug arm's log effect, from the trial's 95 % CI of the placebo-
# adjusted effect: SE = (log(1 - low) - log(1 - high)) / 3.92 for a % reduction (CI low-high).
# A run with uncertainty moves the arm's mu by `effect_se_shift` of these (model.py).
TRIAL_SE = {
    # Lagae 2019: 0.7 mg/kg/d 62.3 % (47.7-72.8) fewer convulsive seizures than placebo
    "lagae2019_fenfluramine_0.7": 0.167,
    # Lagae 2019: 0.2 mg/kg/d 32.4 % (6.2-51.3)
    "lagae2019_fenfluramine_0.2": 0.167,
    # Nabbout 2020: 0.4 mg/kg/d with stiripentol 54.0 % (35.6-67.2)
    "nabbout2020_fenfluramine_0.4": 0.172,
    # Devinsky 2017: adjusted median difference -22.8 points (-41.1 to -5.4) on a -38.9 %
    # median change: 9.1 points, / (1 - 0.389) on the log scale
    "devinsky2017_cannabidiol_20": 0.149,
    # Chiron 2000 (STICLO, 41 children): no CI of the effect published; assumed, twice the
    # larger trials' (about 0.15 for some 40 children per arm: this trial had 20 per arm)
    "chiron2000_stiripentol_50": 0.30,
}


def trial_se(drug: str, dose_mg_kg_day: float | None, on_stiripentol: bool) -> float:
    """The standard error of the log effect of the trial arm `therapy_effect` uses (0 for
    placebo, an unknown drug or a sodium-channel blocker: their sizes are not trial
    estimates)."""
    if drug not in DRUGS or drug == "placebo" or drug in SODIUM_CHANNEL_BLOCKERS:
        return 0.0
    key, _ = _studied_key(drug, dose_mg_kg_day, on_stiripentol)
    return TRIAL_SE.get(key, 0.0)


def _solve(fn, target: float, lo: float, hi: float, iters: int = 22) -> float:
    """x in [lo, hi] with fn(x) = target for a monotone fn (bisection); the nearer bound when
    the target lies outside fn's range there."""
    f_lo, f_hi = fn(lo) - target, fn(hi) - target
    if (f_lo > 0) == (f_hi > 0):
        return lo if abs(f_lo) <= abs(f_hi) else hi
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        f_mid = fn(mid) - target
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def calibrate(n: int = 8000, seed: int | None = None) -> dict[str, tuple[float, float]]:
    """(mu, sigma) per arm of trials.ARMS, by simulating each trial (common random numbers).

    An arm with a responder rate and a second confirmed statistic (median reduction, median
    frequency during treatment, another responder threshold) gets its own (mu, sigma): least
    squares in percentage points (a frequency counts as % of the baseline median), Nelder-Mead.
    An arm with one statistic gets mu only, with the mean sigma of the fitted arms of its kind
    (drug or placebo: an assumption). Arms whose only statistic is a model estimate (GWPCARE2)
    are not calibrated.
    """
    from scipy.optimize import minimize

    from . import virtual_trials as vt

    seed = vt.CALIBRATION_SEED if seed is None else seed

    def fit(item: TrialArm, sigma: float | None) -> tuple[float, float, float]:
        lam, per28 = vt.cohort(item, n, np.random.default_rng(seed))
        z = np.random.default_rng(seed + 1).standard_normal(lam.shape[0])
        target = vt.published(item)
        scale = {k: (100.0 / vt._target_median(item) if k == "treatment_median" else 1.0)
                 for k in target}  # fmt: skip

        def loss(x: np.ndarray) -> float:
            mu, s = float(x[0]), abs(float(x[1])) if sigma is None else sigma
            if not (-5.0 <= mu <= 3.0 and s <= 3.0):  # outside any plausible effect
                return 1e9
            during = vt.treatment_frequency(lam, np.exp(mu + s * z), item.maintenance_days,
                                            np.random.default_rng(seed + 2))  # fmt: skip
            got = vt.all_statistics(per28, during)
            return sum((scale[k] * (got[k] - v)) ** 2 for k, v in target.items())

        if sigma is None:
            best = min((minimize(loss, np.array([m0, 0.8]), method="Nelder-Mead",
                                 options={"xatol": 1e-3, "fatol": 1e-3, "maxiter": 200})
                        for m0 in (-1.0, 0.0)), key=lambda r: r.fun)  # fmt: skip
            return float(best.x[0]), abs(float(best.x[1])), float(best.fun)
        grid = np.linspace(-4.0, 2.0, 121)
        m0 = float(grid[int(np.argmin([loss(np.array([g])) for g in grid]))])
        best = minimize(loss, np.array([m0]), method="Nelder-Mead",
                        options={"xatol": 1e-3, "fatol": 1e-3})  # fmt: skip
        return float(best.x[0]), sigma, float(best.fun)

    def spread_informed(item: TrialArm) -> bool:
        found = vt.published(item)
        return any(k.startswith("responders") for k in found) and len(found) >= 2

    usable = [a for a in ARMS if vt.published(a)]
    out: dict[str, tuple[float, float]] = {}
    for item in usable:
        if spread_informed(item):
            mu, sigma, _ = fit(item, None)
            out[item.key] = (round(mu, 4), round(sigma, 4))
    for kind in ("placebo", "drug"):
        fitted = [out[a.key][1] for a in usable if a.key in out
                  and (a.drug == "placebo") == (kind == "placebo")]  # fmt: skip
        default = float(np.mean(fitted))
        for item in usable:
            if item.key not in out and (item.drug == "placebo") == (kind == "placebo"):
                mu, _, _ = fit(item, default)
                out[item.key] = (round(mu, 4), round(default, 4))
    return {a.key: out[a.key] for a in usable}


if __name__ == "__main__":  # pragma: no cover - regenerates CALIBRATED
    import pprint

    pprint.pprint(calibrate(), sort_dicts=False)


def _g(value, spec: str = "g") -> str:
    """`value` formatted by `spec` (a `g` format), with the language's decimal separator."""
    text = format(float(value), spec)
    return text if "e" in text else text.replace(".", number(0.5, 1)[1])
