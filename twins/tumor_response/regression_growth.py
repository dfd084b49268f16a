"""Stein regression–growth models fitted to a patient's tumour burden over time.

f(t) = SLD(t) / SLD(0), t in days from the baseline scan; rates per day.

    d      f = exp(-d t)                                  decay only
    g      f = exp(g t)                                   growth only
    gd     f = exp(-d t) + exp(g t) - 1                   decay of the sensitive part + growth
    gdphi  f = phi exp(-d t) + (1 - phi) exp(g t)         phi = fraction that regresses

Sources: Stein WD et al., Oncologist 2008;13:1046-1054 (the models); Stein WD, Gulley JL,
Schlom J et al., Clin Cancer Res 2011;17:907-917 (g as the indicator of efficacy);
Wilkerson J et al., Lancet Oncol 2017;18:143-154. The model choice follows the published
implementation, the R package `tumgr` (J. Wilkerson, function `gdrate`, MIT licence,
github.com/wilkersj/tumgr, R/gdrate.R):
- every model is fitted by nonlinear least squares on f with each parameter bounded to
  [0, 1] (phi too), only when the series has more points than the model has parameters;
- a model is eligible when the fit converged and *every* parameter's t-test p-value (estimate
  / standard error, n - k degrees of freedom) is below `pval` (0.10 in the package's example);
- among the eligible models the smallest AIC wins; no eligible model = "not fit";
- a series of 2 points whose last value is within 20 % of the first is not analysed.
`phi` follows tumgr and Stein 2008: the fraction of the tumour that regresses (it
multiplies exp(-d t)). Differences from tumgr, on purpose: t starts at 0 on the baseline
(tumgr uses day 1 for the baseline, i.e. shifts time by one day), and tumgr reports, for
gdphi, g * sqrt(1 - phi) as "g"; here `g` is the fitted rate itself.

Few points (< 4) or no eligible model: a maximum a posteriori (MAP) fit of the gd model with
log-normal population priors on g and d (`POPULATION_PRIOR`, source stated there) and a
fixed residual SD on f; its uncertainty is the Laplace approximation (inverse Hessian of the
negative log posterior, Gauss-Newton) in (log g, log d).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import least_squares
from scipy.special import stdtr

from meditwin_desktop.core.twin import TwinInputError, number, tr


def _num(value: float, spec: str = "g") -> str:
    """`value` formatted by `spec` (as an f-string would), with the language's decimal
    separator: the numbers of the notes the user reads."""
    return format(value, spec).replace(".", number(0.5, 1)[1])

MODELS = ("gdphi", "gd", "d", "g")
N_PARAMS = {"gdphi": 3, "gd": 2, "d": 1, "g": 1}
PARAM_NAMES = {"gdphi": ("phi", "g", "d"), "gd": ("g", "d"), "d": ("d",), "g": ("g",)}
COV_NAMES = {
    "gdphi": ("logit_phi", "log_g", "log_d"),
    "gd": ("log_g", "log_d"),
    "d": ("log_d",),
    "g": ("log_g",),
}
UPPER = 1.0  # tumgr's upper bound on every parameter (rates per day, phi)
TUMGR_PVAL = 0.10  # tumgr README example: gdrate(sampleData, 0.10, FALSE)
MIN_POINTS_LEAST_SQUARES = 4  # below this, with a prior, the MAP fit is used
_TINY = 1e-12
_LOG_RATE_MIN = math.log(1e-7)  # MAP search box for log rates: 1e-7 to 1 per day


@dataclass(frozen=True)
class GrowthPrior:
    """Population prior for MAP fits: log-normal g and d (median, SD of the natural log),
    and the residual SD on f assumed when the series is too short to estimate it."""

    g_median: float
    g_sd_log: float
    d_median: float
    d_sd_log: float
    source: str
    sigma_f: float = 0.08


# The tumgr README publishes gdrate(sampleData, 0.10) summary statistics (g: N 35, median
# 0.00137/day, IQR 0.000779-0.003975; d: N 53, median 0.020427/day, IQR 0.014466-0.034447).
# sampleData is the control arm (docetaxel) of ASCENT-2, androgen-independent prostate
# cancer (Project Data Sphere). SD of log = ln(Q3/Q1) / 1.349 (normal IQR). No published
# colorectal-specific median g/d was found by this helper: prostate is a stated surrogate.
# sigma_f = 0.08 (8 % of the baseline SLD, i.e. ~5-8 mm on a 60-100 mm SLD) is an
# assumption for measurement noise, not a published value.
POPULATION_PRIOR = GrowthPrior(
    g_median=0.00137,
    g_sd_log=math.log(0.003975 / 0.000779) / 1.349,
    d_median=0.020427,
    d_sd_log=math.log(0.034447 / 0.014466) / 1.349,
    source=(
        "tumgr README (Wilkerson, CRAN tumgr 0.0.4): gdrate(sampleData, 0.10) medians and "
        "IQRs of g and d; ASCENT-2 docetaxel control arm, prostate cancer (surrogate: no "
        "colorectal value found)"
    ),
)


@dataclass(frozen=True)
class GrowthFit:
    """A fitted regression–growth model; rates per day, `cov` over `names` (log/logit)."""

    model: str
    g: float | None
    d: float | None
    phi: float | None
    cov: np.ndarray | None
    names: tuple[str, ...]
    sigma: float
    n: int
    method: str
    note: str


@dataclass(frozen=True)
class Projection:
    """Predicted f (SLD / baseline SLD) at `days`: median and band of the mean prediction
    over parameter draws (parameter uncertainty only, no measurement noise)."""

    days: np.ndarray
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    note: str = ""


def f_model(
    model: str,
    t: np.ndarray | Sequence[float] | float,
    g: float | np.ndarray | None = None,
    d: float | np.ndarray | None = None,
    phi: float | np.ndarray | None = None,
) -> np.ndarray:
    """The model's f at days `t` (parameters broadcast with `t`)."""
    t = np.asarray(t, dtype=float)
    if model == "d":
        return np.exp(-_req(d, "d") * t)
    if model == "g":
        return np.exp(_req(g, "g") * t)
    if model == "gd":
        return np.exp(-_req(d, "d") * t) + np.exp(_req(g, "g") * t) - 1.0
    if model == "gdphi":
        p = _req(phi, "phi")
        return p * np.exp(-_req(d, "d") * t) + (1.0 - p) * np.exp(_req(g, "g") * t)
    raise ValueError(f"unknown model {model!r}; one of {MODELS}")


def _req(value, name: str):
    if value is None:
        raise ValueError(f"parameter {name} is needed")
    return value


def _components(model: str, t: np.ndarray, g, d, phi) -> tuple[np.ndarray, np.ndarray]:
    """(regressing part, growing part) of f; f = sum. For gd the growing part is exp(gt)-1."""
    zero = np.zeros(np.broadcast(t, *(x for x in (g, d, phi) if x is not None)).shape)
    if model == "d":
        return np.exp(-d * t) + zero, zero
    if model == "g":
        return zero, np.exp(g * t) + zero
    if model == "gd":
        return np.exp(-d * t) + zero, np.exp(g * t) - 1.0 + zero
    return phi * np.exp(-d * t) + zero, (1.0 - phi) * np.exp(g * t) + zero


def _jac(model: str, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """d f / d params (natural parameters, order PARAM_NAMES[model])."""
    if model == "d":
        return (-t * np.exp(-x[0] * t))[:, None]
    if model == "g":
        return (t * np.exp(x[0] * t))[:, None]
    if model == "gd":
        return np.column_stack([t * np.exp(x[0] * t), -t * np.exp(-x[1] * t)])
    phi, g, d = x
    eg, ed = np.exp(g * t), np.exp(-d * t)
    return np.column_stack([ed - eg, (1.0 - phi) * t * eg, -phi * t * ed])


def _predict(model: str, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    kw = dict(zip(PARAM_NAMES[model], x, strict=True))
    return f_model(model, t, **kw)


def _starts(model: str, t: np.ndarray, f: np.ndarray) -> list[np.ndarray]:
    """tumgr's start (0.00511 per rate, phi 0.9) plus one from the data."""
    pos = f > 0
    tl = max(float(t[-1]), 1.0)
    g0 = float(np.clip(math.log(max(f[-1], 1e-3)) / tl, 1e-4, 0.5)) if f[-1] > 1 else 0.002
    k = int(np.argmin(np.where(pos, f, np.inf))) if pos.any() else len(f) - 1
    d0 = -math.log(max(min(f[k], 0.99), 1e-3)) / max(float(t[k]), 1.0) if k > 0 else 0.02
    d0 = float(np.clip(d0, 1e-4, 0.5))
    if model == "d":
        return [np.array([d0])]
    if model == "g":
        return [np.array([g0])]
    if model == "gd":
        return [np.array([0.00511, 0.00511]), np.array([g0, d0])]
    return [np.array([0.9, 0.00511, 0.00511]), np.array([0.8, g0, d0])]


@dataclass
class _LS:
    model: str
    x: np.ndarray
    rss: float
    converged: bool
    cov: np.ndarray | None  # natural parameters
    pvalues: np.ndarray
    aic: float
    unscaled: np.ndarray | None = None  # (J'J)^-1: the covariance per unit residual variance


def _least_squares(model: str, t: np.ndarray, f: np.ndarray) -> _LS:
    k = N_PARAMS[model]
    best = None
    lower, upper = np.zeros(k), np.full(k, UPPER)

    def residuals(x: np.ndarray) -> np.ndarray:
        return _predict(model, x, t) - f

    def jacobian(x: np.ndarray) -> np.ndarray:
        return _jac(model, x, t)

    tol = {"xtol": 1.5e-8, "ftol": 1.5e-8, "gtol": 1e-10}  # tumgr: ftol = ptol = sqrt(eps)
    for x0 in _starts(model, t, f):
        # Unbounded Levenberg-Marquardt first (fast); when it leaves tumgr's box [0, 1] or
        # fails, the bounded trust-region fit decides (same minimum when it lies inside).
        with np.errstate(over="ignore", invalid="ignore"):
            sol = least_squares(residuals, x0, jac=jacobian, method="lm", max_nfev=400, **tol)
        inside = np.all(np.isfinite(sol.x)) and np.all((sol.x >= 0) & (sol.x <= UPPER))
        if k == 1 and sol.status > 0 and np.isfinite(sol.x[0]) and not inside:
            # one parameter: the bounded optimum of a unimodal fit is the nearer bound
            x = np.clip(sol.x, 0.0, UPPER)
            sol.x, sol.cost, sol.status = x, 0.5 * float(np.sum(residuals(x) ** 2)), 1
            inside = True
        if not (sol.status > 0 and inside and np.isfinite(sol.cost)):
            sol = least_squares(
                residuals,
                x0,
                jac=jacobian,
                bounds=(lower, upper),
                method="dogbox",
                x_scale="jac",
                max_nfev=200,
                **tol,
            )
        if best is None or sol.cost < best.cost:
            best = sol
    assert best is not None
    n = len(t)
    rss = float(2.0 * best.cost)
    df = n - k
    jac = _jac(model, best.x, t)
    cov = unscaled = None
    pvalues = np.ones(k)
    try:
        jtj_inv = np.linalg.inv(jac.T @ jac)
        if np.all(np.isfinite(jtj_inv)) and np.all(np.diag(jtj_inv) >= 0):
            unscaled = jtj_inv
            cov = jtj_inv * (rss / df)
            se = np.sqrt(np.diag(cov))
            with np.errstate(divide="ignore", invalid="ignore"):
                tval = np.where(se > 0, np.abs(best.x) / se, np.where(best.x > 0, np.inf, 0.0))
            pvalues = 2.0 * stdtr(df, -tval)
    except np.linalg.LinAlgError:
        pass
    aic = n * math.log(max(rss, _TINY) / n) + 2 * k
    return _LS(model, best.x, rss, bool(best.status > 0), cov, pvalues, aic, unscaled)


def _floored(r: _LS, n: int, noise_floor: float) -> _LS:
    """`r` judged with a residual variance of at least `noise_floor`**2 (see fit_growth)."""
    k = N_PARAMS[r.model]
    rss = max(r.rss, (n - k) * noise_floor**2)
    aic = n * math.log(max(r.rss, n * noise_floor**2, _TINY) / n) + 2 * k
    if r.unscaled is None:
        return replace(r, aic=aic)
    cov = r.unscaled * (rss / (n - k))
    se = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        tval = np.where(se > 0, np.abs(r.x) / se, np.where(r.x > 0, np.inf, 0.0))
    return replace(r, cov=cov, pvalues=2.0 * stdtr(n - k, -tval), aic=aic)


def _log_cov(model: str, x: np.ndarray, cov: np.ndarray | None) -> np.ndarray | None:
    """Delta method: natural-parameter covariance -> (logit phi, log g, log d) order of
    COV_NAMES (phi first for gdphi, as PARAM_NAMES)."""
    if cov is None:
        return None
    xs = np.maximum(x, _TINY)
    scale = 1.0 / xs
    if model == "gdphi":
        p = float(np.clip(x[0], _TINY, 1 - _TINY))
        scale[0] = 1.0 / (p * (1.0 - p))
    return cov * np.outer(scale, scale)


def _check(days, f) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(days, dtype=float).ravel()
    y = np.asarray(f, dtype=float).ravel()
    if t.shape != y.shape:
        raise TwinInputError(tr("The growth fit needs one value of f per day."))
    if len(t) < 2:
        raise TwinInputError(
            tr(
                "The growth fit needs at least two dated measurements (the baseline and one "
                "follow-up); {count} given."
            ).format(count=len(t))
        )
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(y))):
        raise TwinInputError(
            tr("The growth fit got a day or a tumour size that is not a number.")
        )
    if np.any(y < 0):
        raise TwinInputError(tr("A tumour size is negative; sizes are 0 or more."))
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    if np.any(np.diff(t) == 0):
        dup = t[1:][np.diff(t) == 0][0]
        raise TwinInputError(
            tr("Two measurements on day {day}: give one tumour size per study date.").format(
                day=_num(dup)
            )
        )
    return t, y


def fit_growth(
    days: Sequence[float] | np.ndarray,
    f: Sequence[float] | np.ndarray,
    *,
    prior: GrowthPrior | None = POPULATION_PRIOR,
    selection: str = "tumgr",
    pval: float = TUMGR_PVAL,
    noise_floor: float = 0.0,
) -> GrowthFit:
    """Fit the regression–growth family to f = SLD/SLD(baseline) at `days` (0 = baseline).

    selection "tumgr": the published selection (see the module docstring); when the series has
    fewer than 4 points or no model has all parameters significant, the MAP gd fit with
    `prior` is returned (or, with prior=None, the lowest-AIC converged least-squares fit, its
    note saying that tumgr would not retain it). selection "map": always the MAP gd fit.
    `noise_floor` (on f, default 0: tumgr's own selection) is the measurement noise: with as
    many parameters as points but one, a least-squares fit can pass almost exactly through
    the scans and its residuals would claim a certainty no measurement has, and an AIC that
    rewards it. With a floor, each model's residual SD, p-values and AIC use at least the
    floor (a fit closer to the scans than their noise is no better: the fewer parameters
    then win), and the reported covariance too.
    f = 0 (a complete response) is allowed. Raises TwinInputError for < 2 points,
    non-finite values, negative f or two values on one day; unsorted days are sorted.
    """
    if selection not in ("tumgr", "map"):
        raise ValueError(f"selection must be 'tumgr' or 'map', not {selection!r}")
    t, y = _check(days, f)
    n = len(t)
    if selection == "map":
        if prior is None:
            raise ValueError("selection 'map' needs a prior")
        return _map_fit(t, y, prior, "MAP requested")

    two_close = n == 2 and y[0] > 0 and 0.8 < y[1] / y[0] < 1.2
    fits: list[_LS] = []
    if not two_close:
        for model in MODELS:
            if n > N_PARAMS[model]:
                fits.append(_least_squares(model, t, y))
    if noise_floor > 0:
        fits = [_floored(r, n, noise_floor) for r in fits]
    eligible = [r for r in fits if r.converged and np.all(r.pvalues < pval)]
    chosen = min(eligible, key=lambda r: r.aic) if eligible else None

    if chosen is not None and (n >= MIN_POINTS_LEAST_SQUARES or prior is None):
        others = ", ".join(
            f"{r.model} (AIC {_num(r.aic, '.1f')})" for r in eligible if r is not chosen
        )
        note = tr(
            "{model}: every parameter significant (p < {p}) and the lowest AIC ({aic})"
        ).format(model=chosen.model, p=_num(pval), aic=_num(chosen.aic, ".1f")) + (
            tr(" among {others}").format(others=others)
            if others
            else tr("; no other model had all parameters significant")
        )
        return _from_ls(chosen, t, y, note, noise_floor)

    if prior is not None:
        if n < MIN_POINTS_LEAST_SQUARES:
            why = tr("only {count} points").format(count=n)
        elif two_close:
            why = tr("2 points within 20 % of each other")
        else:
            why = tr("no model has every parameter significant (p < {p})").format(p=_num(pval))
        return _map_fit(t, y, prior, why)

    if two_close:
        raise TwinInputError(
            tr(
                "Two measurements within 20 % of each other carry no rate (tumgr does not "
                "analyse them); add a follow-up or use the population prior."
            )
        )
    converged = [r for r in fits if r.converged] or fits
    best = min(converged, key=lambda r: r.aic)
    return _from_ls(
        best,
        t,
        y,
        tr(
            "no model has every parameter significant (p < {p}); tumgr would report "
            "'not fit': lowest-AIC fit {model} shown"
        ).format(p=_num(pval), model=best.model),
    )


def _from_ls(
    r: _LS, t: np.ndarray, y: np.ndarray, note: str, noise_floor: float = 0.0
) -> GrowthFit:
    values = dict(zip(PARAM_NAMES[r.model], (float(v) for v in r.x), strict=True))
    df = max(len(t) - N_PARAMS[r.model], 1)
    sigma = math.sqrt(r.rss / df)
    cov = r.cov
    if r.unscaled is not None and noise_floor > sigma:
        cov = r.unscaled * noise_floor**2
        note += tr("; uncertainty from a measurement noise of {noise} (on f), larger than "
                   "the fit's residual SD {sigma}").format(
            noise=_num(noise_floor, ".3g"), sigma=_num(sigma, ".2g"))  # fmt: skip
    return GrowthFit(
        model=r.model,
        g=values.get("g"),
        d=values.get("d"),
        phi=values.get("phi"),
        cov=_log_cov(r.model, r.x, cov),
        names=COV_NAMES[r.model],
        sigma=sigma,
        n=len(t),
        method="least squares (tumgr selection)",
        note=note,
    )


def _map_fit(t: np.ndarray, y: np.ndarray, prior: GrowthPrior, why: str) -> GrowthFit:
    mu = np.log([prior.g_median, prior.d_median])
    sd = np.array([prior.g_sd_log, prior.d_sd_log])
    s = prior.sigma_f

    def residuals(u: np.ndarray) -> np.ndarray:
        g, d = np.exp(u)
        model = np.exp(-d * t) + np.exp(g * t) - 1.0
        return np.concatenate([(model - y) / s, (u - mu) / sd])

    def jacobian(u: np.ndarray) -> np.ndarray:
        g, d = np.exp(u)
        top = np.column_stack([g * t * np.exp(g * t), -d * t * np.exp(-d * t)]) / s
        return np.vstack([top, np.diag(1.0 / sd)])

    best = None
    for u0 in (mu, mu + np.array([1.0, -1.0]), mu + np.array([-1.0, 1.0])):
        sol = least_squares(
            residuals,
            np.clip(u0, _LOG_RATE_MIN, 0.0),
            jac=jacobian,
            bounds=(_LOG_RATE_MIN, 0.0),
            method="trf",
            xtol=1e-12,
            ftol=1e-12,
        )
        if best is None or sol.cost < best.cost:
            best = sol
    assert best is not None
    jac = jacobian(best.x)
    try:
        cov = np.linalg.inv(jac.T @ jac)
    except np.linalg.LinAlgError:
        cov = None
    g, d = (float(v) for v in np.exp(best.x))
    rms = float(np.sqrt(np.mean((f_model("gd", t, g=g, d=d) - y) ** 2)))
    return GrowthFit(
        model="gd",
        g=g,
        d=d,
        phi=None,
        cov=cov,
        names=COV_NAMES["gd"],
        sigma=rms,
        n=len(t),
        method=f"MAP with population prior (n={len(t)} points)",
        note=tr(
            "{why}: gd model with the population prior (g median {g}/day, "
            "d median {d}/day; {source}); residual SD on f taken as {sigma}"
        ).format(
            why=why,
            g=_num(prior.g_median),
            d=_num(prior.d_median),
            source=prior.source,
            sigma=_num(prior.sigma_f),
        ),
    )


def sample_params(fit: GrowthFit, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """`n` draws of the fit's parameters from its approximate posterior: a normal in the
    (logit phi, log g, log d) coordinates of `fit.cov` (the fit itself repeated when no
    covariance). Keys: the model's parameters ("g", "d", "phi"); rates clipped to [0, 1]/day.
    """
    names = PARAM_NAMES[fit.model]
    point = {"g": fit.g, "d": fit.d, "phi": fit.phi}
    center = []
    for name in names:
        v = float(point[name])  # type: ignore[arg-type]
        if name == "phi":
            p = min(max(v, 1e-9), 1 - 1e-9)
            center.append(math.log(p / (1 - p)))
        else:
            center.append(math.log(max(v, _TINY)))
    center_arr = np.array(center)
    if fit.cov is None or not np.all(np.isfinite(fit.cov)):
        z = np.tile(center_arr, (n, 1))
    else:
        cov = 0.5 * (fit.cov + fit.cov.T)
        # order of cov: COV_NAMES, which lists the same parameters as PARAM_NAMES
        z = rng.multivariate_normal(center_arr, cov, size=n, method="eigh")
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(names):
        if name == "phi":
            out[name] = 1.0 / (1.0 + np.exp(-z[:, i]))
        else:
            out[name] = np.clip(np.exp(np.minimum(z[:, i], 0.0)), 0.0, UPPER)
    return out


def project(
    fit: GrowthFit,
    days: Sequence[float] | np.ndarray,
    *,
    stop_day: float | None = None,
    switch_day: float | None = None,
    switch_d: float | None = None,
    switch_d_sd_log: float = 0.0,
    stop_mode: str = "freeze",
    prior: GrowthPrior = POPULATION_PRIOR,
    draws: int = 400,
    seed: int = 0,
    quantiles: tuple[float, float, float] = (0.05, 0.5, 0.95),
) -> Projection:
    """Predicted f at `days` under a scenario, with a band from parameter draws.

    Scenarios (the fitted model splits f into a regressing part R(t) and a growing part G(t):
    d: R = exp(-dt); g: G = exp(gt); gd: R = exp(-dt), G = exp(gt) - 1; gdphi: R = phi
    exp(-dt), G = (1 - phi) exp(gt)):
    - continue: the fitted model.
    - stop at `stop_day` (treatment holiday, "the decay stops, growth resumes"): after ts the
      growing part continues as fitted; the regressing part stops regressing: frozen at R(ts)
      (stop_mode "freeze", the default) or regrowing at the fitted g, R(ts) exp(g (t - ts))
      (stop_mode "regrow": off treatment the sensitive cells proliferate like the rest; an
      assumption, the models do not identify it). Model "d" has no growth rate: the tumour
      then regrows at the population prior's median g (said in the note); model "g" has no
      regressing part (stopping changes nothing).
    - switch at `switch_day` to a regimen with decay rate `switch_d` (/day, log-normal with
      `switch_d_sd_log` when > 0): the tumour present at ts starts a new gd course,
      f(t) = f(ts) (exp(-switch_d (t - ts)) + exp(g (t - ts)) - 1). Assumption: the new drug
      regresses the whole tumour present at the switch with its own rate, while a resistant
      part emerges again at the patient's fitted g (the prior's median g for model "d").
    Band: quantiles of the mean prediction over `draws` parameter draws (`sample_params`);
    residual (measurement) noise is not added. The median is the 0.5-quantile of the draws.
    """
    if stop_day is not None and switch_day is not None:
        raise TwinInputError(tr("Choose one scenario: stop or switch, not both at once."))
    if switch_day is not None and (switch_d is None or not switch_d >= 0):
        raise TwinInputError(
            tr("A switch needs the new regimen's decay rate d (per day, >= 0).")
        )
    if stop_mode not in ("freeze", "regrow"):
        raise ValueError("stop_mode is 'freeze' or 'regrow'")
    t = np.asarray(days, dtype=float).ravel()
    rng = np.random.default_rng(seed)
    p = sample_params(fit, draws, rng)
    notes = []
    g = p.get("g")
    if g is None and (stop_day is not None or switch_day is not None):
        g = np.full(draws, prior.g_median)
        notes.append(
            tr(
                "model 'd' has no growth rate: after the change the tumour grows at the "
                "population median g {g}/day ({source})"
            ).format(g=_num(prior.g_median), source=prior.source)
        )
    d = p.get("d")
    phi = p.get("phi")
    tt = t[None, :]
    col = lambda a: None if a is None else a[:, None]  # noqa: E731
    curves = f_model(fit.model, tt, g=col(p.get("g")), d=col(d), phi=col(phi))
    curves = np.broadcast_to(curves, (draws, len(t))).copy()

    if stop_day is not None:
        ts = float(stop_day)
        after = t > ts
        if fit.model == "g":
            notes.append(tr("model 'g' has no regressing part: stopping changes nothing"))
        elif np.any(after):
            reg_ts, _ = _components(fit.model, np.array([ts]), col(g), col(d), col(phi))
            _, grow = _components(fit.model, tt[:, after], col(g), col(d), col(phi))
            if fit.model == "d":
                grow = reg_ts * (np.exp(col(g) * (tt[:, after] - ts)) - 1.0)
                frozen = reg_ts
            elif stop_mode == "regrow":
                frozen = reg_ts * np.exp(col(g) * (tt[:, after] - ts))
            else:
                frozen = reg_ts
            curves[:, after] = frozen + grow
    if switch_day is not None:
        ts = float(switch_day)
        after = t > ts
        if np.any(after):
            f_ts = f_model(fit.model, np.array([ts]), g=col(p.get("g")), d=col(d), phi=col(phi))
            if switch_d_sd_log > 0:
                d_new = switch_d * np.exp(switch_d_sd_log * rng.standard_normal(draws))
            else:
                d_new = np.full(draws, float(switch_d))
            dt = tt[:, after] - ts
            curves[:, after] = f_ts * (np.exp(-col(d_new) * dt) + np.exp(col(g) * dt) - 1.0)
    low, mid, high = np.quantile(curves, quantiles, axis=0)
    return Projection(t, mid, low, high, "; ".join(notes))
