"""The Claret tumour-growth-inhibition (TGI) model: closed form, MAP fit and projections.

Model (Claret L, Girard P, Hoff PM, et al. J Clin Oncol 2009;27:4103-4108):
    dy/dt = KL*y - KD*exp(-lambda*(t - tau_r))*E(t)*y,    y(0) = y0
y = sum of longest diameters (SLD, mm), t in days on the caller's axis (day 0 = the day
y0 refers to, e.g. the baseline scan), E(t) = dose intensity of the regimen given at t
(0-1, 1 = the regimen's standard full-dose schedule, rest weeks included: the cycle-
averaged exposure, not the daily on/off pattern).

Closed form for piecewise-constant exposure (periods [a_p, b_p) of regimen r(p) with
intensity I_p):
    ln y(t) = ln y0 + KL*t - sum_p KD_r * I_p * [J_p(t) - J_p(0)]
    J_p(t) = integral from a_p to clip(t, a_p, b_p) of exp(-lambda_r*(s - tau_r)) ds
           = exp(-lambda_r*(a_p - tau_r)) * (1 - exp(-lambda_r*d)) / lambda_r,  d = clip - a_p

Resistance clock (our decision; Claret 2009 had one drug per patient, t from its start):
each regimen has its own clock tau_r = the first start of that regimen. A treatment holiday
does NOT reset it (resistance acquired is assumed kept: the conservative reading of
exp(-lambda*t) as time since treatment start); a switch to a new regimen starts the new
regimen's own clock at its first start. Overlapping periods (combination given as two
entries) add their kill terms. Before any treatment the tumour grows at KL.

Fit: maximum a posteriori (MAP) of the log-parameters (log y0, log KL, log KD, log lambda)
with log-normal priors at the population typical values and the between-patient SDs as
prior SDs (y0 centred on the first measurement, SD 0.5 on the log scale), residual error
sd = sqrt(sigma_add^2 + (sigma_prop*SLD)^2); covariance by the Laplace (Gauss-Newton)
approximation at the mode. Projection: draws of the log-parameters from that normal;
the band is the model curve's uncertainty (not the spread of future measurements).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from meditwin_desktop.core.twin import TwinInputError, number, tr

from .regimens import REGIMENS, WEEK, find_regimen


def _num(value: float) -> str:
    """`value` as f"{value:g}" writes it, with the language's decimal separator."""
    return f"{value:g}".replace(".", number(0.5, 1)[1])


@dataclass(frozen=True)
class Period:
    """A treatment period: regimen code, from `start_day` to `stop_day` (None = ongoing).

    `intensity`: the fraction of the regimen's standard dose actually given (0-1).
    """

    start_day: float
    stop_day: float | None
    regimen: str
    intensity: float = 1.0

    def __post_init__(self) -> None:
        if not np.isfinite(self.start_day):
            raise TwinInputError(
                tr("Treatment period '{regimen}' has no start day.").format(regimen=self.regimen)
            )
        if self.stop_day is not None and self.stop_day < self.start_day:
            raise TwinInputError(
                tr(
                    "Treatment period '{regimen}' stops (day {stop}) before it starts "
                    "(day {start}): check the dates."
                ).format(regimen=self.regimen, stop=_num(self.stop_day), start=_num(self.start_day))
            )
        if not 0.0 <= self.intensity <= 1.0:
            raise TwinInputError(
                tr("Dose intensity of '{regimen}' must be between 0 and 1 (got {value}).").format(
                    regimen=self.regimen, value=_num(self.intensity)
                )
            )


@dataclass(frozen=True)
class TgiPrior:
    """Population typical values (per day), between-patient SDs (log scale) and source."""

    kl: float
    kd: float
    lam: float
    omega_kl: float
    omega_kd: float
    omega_lam: float
    sigma_prop: float
    source: str
    sigma_add_mm: float = 2.0  # additive residual error SD, mm


# Claret 2009's 5-FU phase III estimates as reproduced in PumasAI-Labs/Pumas-NLME-Handson-2025
# (Day2/03-Solutions/TGI_model/TGI_model_solution.jl, commit a419ac2e; a secondary source,
# NOT checked against the paper, whose table was not accessible to us): KL 0.015 /week,
# KD 0.058 /(g week) x the cycle-averaged daily dose (see regimens.py), lambda 0.042 /week,
# IIV variances 0.556 / 0.540 / 0.450 (SD = square root), additive residual SD 14.9 mm.
CLARET_2009 = TgiPrior(
    kl=0.015 / WEEK,
    kd=REGIMENS["5-FU"].kd_per_day,
    lam=0.042 / WEEK,
    omega_kl=0.556**0.5,
    omega_kd=0.540**0.5,
    omega_lam=0.450**0.5,
    sigma_prop=0.0,
    source=(
        "Claret 2009 (J Clin Oncol 27:4103) 5-FU TGI estimates as reproduced in "
        "PumasAI-Labs/Pumas-NLME-Handson-2025 (secondary source, unverified against the paper)"
    ),
    sigma_add_mm=14.9,
)

NAMES = ("log_y0", "log_kl", "log_kd", "log_lam")


@dataclass(frozen=True)
class TgiFit:
    """A patient's MAP fit: parameters per day, covariance of `names` (log-parameters)."""

    y0: float
    kl: float
    kd: float
    lam: float
    cov: np.ndarray | None
    names: tuple[str, ...]
    method: str
    note: str
    n: int
    regimens: tuple[str, ...] = ()  # regimen codes (casefolded) the fitted KD/lambda are for


@dataclass(frozen=True)
class Projection:
    """Predicted SLD (mm) on `days`: median and band (low, high quantiles)."""

    days: np.ndarray
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray


# ---------------------------------------------------------------------------- closed form


def _phi(x: np.ndarray) -> np.ndarray:
    """(1 - exp(-x)) / x, exact at 0."""
    small = np.abs(x) < 1e-8
    xs = np.where(small, 1.0, x)
    return np.where(small, 1.0 - 0.5 * x, -np.expm1(-xs) / xs)


def _clocks(periods: Sequence[Period]) -> dict[str, float]:
    """Each regimen's resistance clock origin: its first start day."""
    tau: dict[str, float] = {}
    for p in periods:
        key = p.regimen.strip().casefold()
        tau[key] = min(tau.get(key, np.inf), float(p.start_day))
    return tau


def _segment(t: np.ndarray, p: Period, tau: float, lam: np.ndarray | float) -> np.ndarray:
    """J_p(t) - J_p(0): the resistance-weighted exposure time of period p between 0 and t."""
    a = float(p.start_day)
    b = np.inf if p.stop_day is None else float(p.stop_day)
    lam = np.asarray(lam, dtype=float)

    def j(x: np.ndarray) -> np.ndarray:
        d = np.clip(x, a, b) - a
        return np.exp(-lam * (a - tau)) * d * _phi(lam * d)

    return j(t) - j(np.zeros_like(t))


def _as_map(value: float | np.ndarray | Mapping[str, float], keys: Sequence[str]) -> dict:
    if isinstance(value, Mapping):
        lower = {str(k).strip().casefold(): v for k, v in value.items()}
        missing = [k for k in keys if k not in lower]
        if missing:
            raise TwinInputError(
                tr("No kill-rate parameter given for regimen(s) {missing}.").format(
                    missing=missing
                )
            )
        return {k: lower[k] for k in keys}
    return dict.fromkeys(keys, value)


def sld_tgi(
    days: np.ndarray | Sequence[float],
    y0: float | np.ndarray,
    kl: float | np.ndarray,
    kd: float | np.ndarray | Mapping[str, float],
    lam: float | np.ndarray | Mapping[str, float],
    periods: Sequence[Period],
) -> np.ndarray:
    """SLD (mm) on `days` by the closed form; `kd`/`lam` scalar or per regimen code.

    Parameters broadcast against `days` (e.g. shape (m, 1) for m parameter draws).
    """
    t = np.asarray(days, dtype=float)
    tau = _clocks(periods)
    kd_r = _as_map(kd, list(tau))
    lam_r = _as_map(lam, list(tau))
    log_y = np.log(y0) + np.asarray(kl) * t
    for p in periods:
        if p.intensity == 0.0:
            continue
        key = p.regimen.strip().casefold()
        log_y = log_y - np.asarray(kd_r[key]) * p.intensity * _segment(t, p, tau[key], lam_r[key])
    return np.exp(log_y)


def _exposure(t: np.ndarray, periods: Sequence[Period], lam: float) -> np.ndarray:
    """Sum over periods of I_p*(J_p(t) - J_p(0)) with one lambda for every regimen."""
    tau = _clocks(periods)
    total = np.zeros_like(t)
    for p in periods:
        if p.intensity:
            total += p.intensity * _segment(t, p, tau[p.regimen.strip().casefold()], lam)
    return total


# ---------------------------------------------------------------------------- fit


def _check_series(days, sld_mm) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(days, dtype=float).ravel()
    y = np.asarray(sld_mm, dtype=float).ravel()
    if t.shape != y.shape:
        raise TwinInputError(tr("Each measurement needs one date and one SLD value."))
    if t.size < 2:
        raise TwinInputError(
            tr(
                "The TGI fit needs at least two dated SLD measurements (baseline and one "
                "follow-up); this case has {count}."
            ).format(count=t.size)
        )
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(y))):
        raise TwinInputError(tr("An SLD value or its date is missing."))
    if np.any(np.diff(t) <= 0):
        raise TwinInputError(
            tr(
                "Measurement dates must be in order with no date repeated: check the "
                "studies' dates."
            )
        )
    if y[0] <= 0:
        raise TwinInputError(
            tr(
                "The baseline SLD is zero or negative: the TGI model needs a measurable "
                "tumour burden at baseline."
            )
        )
    if np.any(y < 0):
        raise TwinInputError(tr("An SLD value is negative: check the measurements."))
    return t, y


def fit_tgi(
    days: np.ndarray | Sequence[float],
    sld_mm: np.ndarray | Sequence[float],
    periods: Sequence[Period],
    *,
    prior: TgiPrior = CLARET_2009,
) -> TgiFit:
    """MAP fit of the TGI model to one patient's SLD series; Laplace covariance.

    One KD and one lambda are fitted for all regimens in `periods` (each with its own
    resistance clock); the prior is `prior` whatever the regimen (say so to the user).
    """
    t, y = _check_series(days, sld_mm)
    periods = tuple(periods)
    if not any(p.intensity > 0 for p in periods):
        raise TwinInputError(
            tr(
                "The TGI model needs the patient's treatment periods (regimen, start, stop): "
                "none is recorded."
            )
        )
    sd = np.maximum(np.sqrt(prior.sigma_add_mm**2 + (prior.sigma_prop * y) ** 2), 1e-3)
    mu = np.array([np.log(y[0]), np.log(prior.kl), np.log(prior.kd), np.log(prior.lam)])
    om = np.array([0.5, prior.omega_kl, prior.omega_kd, prior.omega_lam])
    h = 1e-5

    def model(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y0, kl, kd, lam = np.exp(theta)
        a = _exposure(t, periods, lam)
        pred = y0 * np.exp(kl * t - kd * a)
        return pred, a

    def fun(theta: np.ndarray) -> np.ndarray:
        pred, _ = model(theta)
        return np.concatenate(((pred - y) / sd, (theta - mu) / om))

    def jac(theta: np.ndarray) -> np.ndarray:
        pred, a = model(theta)
        _, kl, kd, lam = np.exp(theta)
        da = _exposure(t, periods, lam * np.exp(h)) - _exposure(t, periods, lam * np.exp(-h))
        dlogy = np.column_stack((np.ones_like(t), kl * t, -kd * a, -kd * da / (2.0 * h)))
        return np.vstack(((pred / sd)[:, None] * dlogy, np.diag(1.0 / om)))

    res = least_squares(fun, mu, jac=jac, method="lm")
    theta = res.x
    jm = jac(theta)
    try:
        cov = np.linalg.inv(jm.T @ jm)
    except np.linalg.LinAlgError:
        cov = None
    regimens = tuple(sorted(_clocks(periods)))
    note = (
        f"MAP of {t.size} SLD measurements with {prior.source}. One kill rate and one "
        f"resistance rate fitted for {', '.join(regimens)}."
    )
    if not res.success:
        note += f" The optimiser did not converge ({res.message}); treat with caution."
    y0, kl, kd, lam = (float(v) for v in np.exp(theta))
    return TgiFit(
        y0=y0,
        kl=kl,
        kd=kd,
        lam=lam,
        cov=cov,
        names=NAMES,
        method="MAP (log-normal priors) + Laplace covariance",
        note=note,
        n=int(t.size),
        regimens=regimens,
    )


# ---------------------------------------------------------------------------- projection


def project_tgi(
    fit: TgiFit,
    days: np.ndarray | Sequence[float],
    periods: Sequence[Period],
    *,
    draws: int = 400,
    seed: int = 0,
    quantiles: tuple[float, float, float] = (0.05, 0.5, 0.95),
    prior: TgiPrior = CLARET_2009,
) -> Projection:
    """SLD (mm) on `days` under the scenario's `periods`: median and band.

    Regimens the patient was fitted on use the patient's fitted KD and lambda (with their
    uncertainty); a regimen new to the patient uses its published prior (`REGIMENS`, with
    the between-patient SD of `prior`); a regimen without one is refused.
    """
    t = np.asarray(days, dtype=float).ravel()
    periods = tuple(periods)
    rng = np.random.default_rng(seed)
    theta = np.log([fit.y0, fit.kl, fit.kd, fit.lam])
    if fit.cov is None:
        th = np.tile(theta, (draws, 1))
    else:
        th = rng.multivariate_normal(theta, fit.cov, size=draws, method="cholesky")
    y0, kl, kd_fit, lam_fit = (np.exp(th[:, i])[:, None] for i in range(4))
    kd: dict[str, np.ndarray] = {}
    lam: dict[str, np.ndarray] = {}
    for key in _clocks(periods):
        if key in fit.regimens:
            kd[key], lam[key] = kd_fit, lam_fit
            continue
        reg = find_regimen(key)
        if reg is None:
            raise TwinInputError(
                tr(
                    "No published TGI kill rate for regimen '{regimen}': the TGI model cannot "
                    "project a switch to it."
                ).format(regimen=key)
            )
        z = rng.standard_normal((draws, 2))
        kd[key] = (reg.kd_per_day * np.exp(prior.omega_kd * z[:, 0]))[:, None]
        lam0 = prior.lam if reg.lam_per_day is None else reg.lam_per_day
        lam[key] = (lam0 * np.exp(prior.omega_lam * z[:, 1]))[:, None]
    curves = sld_tgi(t[None, :], y0, kl, kd, lam, periods)
    q = np.quantile(curves, list(quantiles), axis=0)
    return Projection(days=t, median=q[1], low=q[0], high=q[2])


def time_to_growth(
    y0: float,
    kl: float,
    kd: float | Mapping[str, float],
    lam: float | Mapping[str, float],
    periods: Sequence[Period],
    horizon_days: float,
    *,
    step_days: float = 1.0,
) -> float | None:
    """Day of the SLD nadir (when regrowth starts) within the horizon; None if still shrinking.

    The time to tumour growth (TTG) of Claret et al. J Clin Oncol 2013;31:2110-2114.
    """
    grid = np.arange(0.0, horizon_days + step_days, step_days)
    curve = sld_tgi(grid, y0, kl, kd, lam, periods)
    i = int(np.argmin(curve))
    return None if i == grid.size - 1 else float(grid[i])
