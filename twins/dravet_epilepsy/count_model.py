"""Personalised model of daily seizure counts: negative binomial with a Markov clustering term.

Model (one child, day t):

    y_t | y_{t-1}  ~  NB2(mu_t, alpha)      mean mu_t, variance mu_t + alpha * mu_t**2
    log mu_t = log lambda + rho * 1[y_{t-1} > 0]

lambda (`rate`) is the mean count after a seizure-free day, alpha (`dispersion`) the NB2
over-dispersion (alpha = 0 is Poisson) and rho (`cluster`) the log rate ratio on the day after a
seizure day. The seizure-day indicator s_t = 1[y_t > 0] is a two-state Markov chain with
P(s_t = 1 | s_{t-1} = j) = q_j = 1 - P_NB(0; lambda e^(rho j), alpha); its stationary
probability is pi_1 = q_0 / (q_0 + 1 - q_1) and the long-run mean count is
(1 - pi_1) lambda + pi_1 lambda e^rho (`mean_rate`, exact).

Family followed. Seizure-count pharmacometric models describe daily counts with a negative
binomial distribution whose mean depends on the previous day's count ("Markovian features"):
Troconiz IF, Plan EL, Miller R, Karlsson MO. Modelling overdispersion and Markovian features in
count data. J Pharmacokinet Pharmacodyn 2009;36:461-477, and, in the same family, Kim et al.,
Modeling longitudinal daily seizure frequency data from pregabalin add-on treatment, J Clin
Pharmacol 2012;52:880-892 (abstract: NB with Markovian features, a mean daily count of 0.385
"further increased depending on the seizure count on the previous day", over-dispersion 0.330).
Tharayil et al. (Epilepsia 2017;58:835-844) found on SeizureTracker diaries that a negative
binomial with one-day autocorrelation fitted children and adults best. We could not read the
full text of Troconiz 2009, so we do not claim to reproduce its exact Markov parameterisation.
Where ours differs from these population models: (1) one child, no inter-individual random
effects (the "population" is replaced by weakly informative priors); (2) the Markov term is
binary (seizure day or not) and multiplicative, one parameter rho; (3) no time or drug effect
in the fit (a linear trend is only tested and reported, see below; drug effects multiply
lambda in `simulate_days`); (4) Bayesian, not NONMEM maximum likelihood.

Missing days (NaN) break the chain. The day after a gap of k unreported days uses the exact
k-step marginal of the previous day's state given the last reported day,
P(s = 1) = pi_1 + (s_last - pi_1) d**k with d = q_1 - q_0, which tends to the stationary
probability pi_1 for long gaps (and is pi_1 itself on the diary's first day).

Priors (independent, on the unconstrained scale), weakly informative:
- log lambda ~ N(log 0.385, 2.5^2): centred on the typical mean daily count of Kim 2012 (adults
  with focal seizures: an order of magnitude, not a Dravet value), so wide that its 95 % range
  (0.003 to 52 seizures/day) holds any Dravet diary; with a diary of months the data dominate.
- log alpha ~ N(log 0.33, 1.5^2): centred on Kim 2012's typical over-dispersion (NB2 as we read
  the abstract), 95 % range 0.017 to 6.3, which spans near-Poisson to strongly over-dispersed.
- rho ~ N(0, 1): sceptical of clustering (centred on none), 95 % range of the rate ratio 0.14
  to 7.1; no published individual value was found to centre it elsewhere.

Posterior: the mode (BFGS on the log posterior, finite-difference gradient) and a Laplace
approximation (central finite-difference Hessian), then importance sampling with a multivariate
t proposal (5 degrees of freedom) at the mode with the Laplace covariance, adapted once or twice
to the weighted sample's moments when the effective sample size is low, and systematic
resampling to `draws` equally weighted draws. The likelihood is computed on sufficient
statistics (distinct pairs of count and previous state), so thousands of proposals cost little.

Trend: the fit assumes a constant rate. A log-linear trend in lambda over the diary is tested
by a likelihood-ratio test (chi-square, 1 df); a trend with p < 0.01 and a rate ratio between
the second and first halves of at least 1.5 (or at most 1/1.5) is reported in the notes, not
modelled. Clustering is only reported when at least 10 reported days follow a seizure-free
day and 10 follow a seizure day (otherwise rho is not identified by the diary).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln
from scipy.stats import chi2

from meditwin_desktop.core.twin import TwinInputError, number, tr

MIN_REPORTED_DAYS = 28
PRIOR_LOG_RATE = (float(np.log(0.385)), 2.5)  # mean, sd of log lambda (Kim 2012 centre)
PRIOR_LOG_DISPERSION = (float(np.log(0.33)), 1.5)  # mean, sd of log alpha (Kim 2012 centre)
PRIOR_CLUSTER = (0.0, 1.0)  # mean, sd of rho
PROPOSAL_DF = 5.0
TREND_P = 0.01
TREND_RATIO = 1.5
TREND_MIN_DAYS = 56
STRONG_CLUSTER_RATIO = 2.0
MIN_DAYS_PER_STATE = 10  # days after seizure-free and after seizure days to judge clustering
_SERIES_LIMIT = 0.01  # alpha * y below this: series for sum(log1p(i alpha)), i < y


@dataclass(frozen=True)
class CountParams:
    """Parameters of one child's daily count model."""

    rate: float  # lambda: mean seizures/day after a seizure-free day
    dispersion: float  # alpha >= 0 (NB2)
    cluster: float  # rho: log rate ratio on the day after a seizure day


@dataclass(frozen=True)
class Posterior:
    """Equally weighted posterior draws of (rate, dispersion, cluster), natural scale."""

    draws: np.ndarray  # (n, 3): rate, dispersion, cluster
    observed_days: int
    mean_per_28d: tuple[float, float, float]  # 10 %, 50 %, 90 % of 28 * mean_rate over draws
    notes: tuple[str, ...]
    ess: float = float("nan")  # effective sample size of the final importance sample
    trend_rate_ratio: float | None = None  # second half / first half when a trend was tested
    trend_p: float | None = None  # likelihood-ratio p value of that trend


# ----------------------------------------------------------------------------- the model


def _p_zero(mu: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """P(y = 0) under NB2(mu, alpha); Poisson at alpha = 0."""
    mu, alpha = np.asarray(mu, float), np.asarray(alpha, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p0 = np.where(alpha > 0, -np.log1p(alpha * mu) / np.where(alpha > 0, alpha, 1), -mu)
    return np.exp(log_p0)


def seizure_day_probabilities(rate, dispersion, cluster) -> tuple[np.ndarray, np.ndarray]:
    """(q0, q1): probability of a seizure day after a seizure-free day and after a seizure day
    (element-wise over arrays)."""
    rate = np.asarray(rate, float)
    q0 = 1.0 - _p_zero(rate, dispersion)
    q1 = 1.0 - _p_zero(rate * np.exp(cluster), dispersion)
    return q0, q1


def stationary_seizure_day(rate, dispersion, cluster) -> np.ndarray:
    """Long-run share of seizure days, pi_1 = q0 / (q0 + 1 - q1) (element-wise)."""
    q0, q1 = seizure_day_probabilities(rate, dispersion, cluster)
    with np.errstate(invalid="ignore", divide="ignore"):
        pi1 = q0 / (q0 + 1.0 - q1)
    return np.where(np.isfinite(pi1), pi1, 0.0)


def mean_rate_array(rate, dispersion, cluster) -> np.ndarray:
    """Long-run mean seizures/day of each parameter set (element-wise `mean_rate`)."""
    rate = np.asarray(rate, float)
    pi1 = stationary_seizure_day(rate, dispersion, cluster)
    return rate * ((1.0 - pi1) + pi1 * np.exp(cluster))


def mean_rate(params: CountParams) -> float:
    """Long-run (stationary) mean seizures/day, exact from the two-state chain."""
    _check_params(params)
    return float(mean_rate_array(params.rate, params.dispersion, params.cluster))


def _check_params(params: CountParams) -> None:
    if not (np.isfinite(params.rate) and params.rate >= 0):
        raise TwinInputError(f"The seizure rate must be a number >= 0 (got {params.rate}).")
    if not (np.isfinite(params.dispersion) and params.dispersion >= 0):
        raise TwinInputError(f"The over-dispersion must be >= 0 (got {params.dispersion}).")
    if not np.isfinite(params.cluster):
        raise TwinInputError(f"The clustering term must be a number (got {params.cluster}).")


def simulate_days(
    rate: np.ndarray,
    dispersion: np.ndarray,
    cluster: np.ndarray,
    days: int,
    rng: np.random.Generator,
    first_state: np.ndarray | None = None,
) -> np.ndarray:
    """Simulated daily counts, int array (n, days), one row per parameter set.

    `rate` (lambda, may include a drug multiplier), `dispersion` and `cluster` have shape (n,)
    (scalars broadcast). `first_state`: whether the day before the first simulated day was a
    seizure day (bool, shape (n,)); None draws it from the stationary distribution.
    NB2 draws are Poisson(mu * G) with G ~ Gamma(1/alpha, alpha) (mean 1); alpha = 0 gives G = 1.
    """
    rate, dispersion, cluster = np.broadcast_arrays(
        np.asarray(rate, float), np.asarray(dispersion, float), np.asarray(cluster, float)
    )
    rate, dispersion, cluster = (np.atleast_1d(a).ravel() for a in (rate, dispersion, cluster))
    if days < 0:
        raise TwinInputError(f"The number of days to simulate must be >= 0 (got {days}).")
    bad = ~np.isfinite(rate) | (rate < 0) | ~np.isfinite(dispersion) | (dispersion < 0)
    if np.any(bad | ~np.isfinite(cluster)):
        raise TwinInputError("Seizure-model parameters must be finite, rate and dispersion >= 0.")
    n = rate.size
    if first_state is None:
        state = rng.random(n) < stationary_seizure_day(rate, dispersion, cluster)
    else:
        state = np.broadcast_to(np.asarray(first_state, bool), (n,)).copy()
    positive = dispersion > 0
    shape = np.where(positive, 1.0 / np.where(positive, dispersion, 1.0), 1.0)
    if np.any(positive):
        gamma = rng.gamma(shape[:, None], np.where(positive, dispersion, 1.0)[:, None], (n, days))
        gamma[~positive] = 1.0
    else:
        gamma = np.ones((n, days))
    boost = np.exp(cluster)
    out = np.empty((n, days), dtype=np.int64)
    for t in range(days):
        mu = rate * np.where(state, boost, 1.0)
        out[:, t] = rng.poisson(mu * gamma[:, t])
        state = out[:, t] > 0
    return out


# ------------------------------------------------------------------------- the likelihood


@dataclass(frozen=True)
class DiaryData:
    """A diary reduced to rows of the likelihood (`prepare`)."""

    y: np.ndarray  # count of the row's day
    known: np.ndarray  # bool: previous day reported (state s known)
    state: np.ndarray  # previous day's state (known) or last reported day's state (gap)
    gap: np.ndarray  # days unreported before it (gap rows); -1: no earlier report (stationary)
    tau: np.ndarray  # (day - middle) / span, for the trend test
    weight: np.ndarray  # multiplicity of the row
    reported_days: int
    total: float  # sum of the reported counts
    days: int


def _validated(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, float)
    if counts.ndim != 1:
        raise TwinInputError("The diary's daily counts must be one value per day.")
    finite = counts[~np.isnan(counts)]
    if np.any(~np.isfinite(finite)) or np.any(finite < 0) or np.any(finite != np.round(finite)):
        raise TwinInputError(
            tr(
                "Daily seizure counts must be whole numbers >= 0 (or empty for a day not "
                "reported)."
            )
        )
    reported = len(finite)
    if reported < MIN_REPORTED_DAYS:
        raise TwinInputError(
            tr(
                "The seizure-count model cannot be fitted: only {reported} days of diary were "
                "reported; at least {min_reported_days} are needed to estimate a seizure rate. "
                "Add more diary days (or mark seizure-free days as such)."
            ).format(reported=reported, min_reported_days=MIN_REPORTED_DAYS)
        )
    return counts


def prepare(counts: np.ndarray, per_day: bool = False) -> DiaryData:
    """Rows of the likelihood from daily counts (NaN = not reported). Rows are grouped into
    distinct (count, previous state, gap) with a multiplicity unless `per_day`."""
    counts = _validated(counts)
    idx = np.flatnonzero(~np.isnan(counts))
    y = counts[idx].astype(np.int64)
    prev_idx = np.concatenate(([-1], idx[:-1]))
    known = prev_idx == idx - 1
    known[0] = False
    state = np.concatenate(([0], (y[:-1] > 0).astype(np.int64)))
    gap = np.where(known, 0, idx - prev_idx - 1)
    gap[0] = -1
    span = max(len(counts) - 1, 1)
    tau = (idx - (len(counts) - 1) / 2.0) / span
    weight = np.ones(len(y))
    if not per_day:
        keys = np.stack([y, known.astype(np.int64), state, gap], axis=1)
        keys, weight = np.unique(keys, axis=0, return_counts=True)
        y, known, state, gap = keys[:, 0], keys[:, 1].astype(bool), keys[:, 2], keys[:, 3]
        tau = np.zeros(len(y))
        weight = weight.astype(float)
    return DiaryData(y, known, state, gap, tau, weight, len(idx), float(counts[idx].sum()),
                     len(counts))  # fmt: skip


def _log_rising(y: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """sum_{i<y} log(1 + i alpha), stable as alpha -> 0 (alpha (M,1), y (R,) -> (M,R))."""
    yf = y.astype(float)[None, :]
    s1 = yf * (yf - 1) / 2.0
    s2 = (yf - 1) * yf * (2 * yf - 1) / 6.0
    series = alpha * s1 - alpha**2 * s2 / 2.0 + alpha**3 * s1**2 / 3.0
    safe = np.maximum(alpha, 1e-300)
    with np.errstate(over="ignore", invalid="ignore"):
        exact = gammaln(yf + 1.0 / safe) - gammaln(1.0 / safe) + yf * np.log(safe)
    return np.where(alpha * np.maximum(yf, 1.0) < _SERIES_LIMIT, series, exact)


def _nb_logpmf(y: np.ndarray, log_mu: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """log NB2 pmf; y (R,), log_mu (M,R), alpha (M,1) -> (M,R)."""
    mu = np.exp(log_mu)
    yf = y.astype(float)[None, :]
    return (_log_rising(y, alpha) - gammaln(yf + 1.0) + yf * log_mu
            - (yf + 1.0 / alpha) * np.log1p(alpha * mu))  # fmt: skip


def log_likelihood(theta: np.ndarray, data: DiaryData, slope: np.ndarray | None = None):
    """Log-likelihood of unconstrained parameters theta (M, 3) = (log lambda, log alpha, rho),
    optionally with a log-linear trend `slope` (M,) per unit of `data.tau`; returns (M,)."""
    theta = np.atleast_2d(np.asarray(theta, float))
    log_rate, alpha, rho = theta[:, :1], np.exp(theta[:, 1:2]), theta[:, 2:3]
    log_lam = log_rate + (0.0 if slope is None else np.asarray(slope, float)[:, None] * data.tau)
    log_lam = np.broadcast_to(log_lam, (len(theta), len(data.y)))
    lp0 = _nb_logpmf(data.y, log_lam, alpha)
    lp1 = _nb_logpmf(data.y, log_lam + rho, alpha)
    ll = np.where(data.state == 1, lp1, lp0)
    if not np.all(data.known):
        lam = np.exp(log_lam)
        p00, p01 = _p_zero(lam, alpha), _p_zero(lam * np.exp(rho), alpha)
        q0, q1 = 1.0 - p00, 1.0 - p01
        with np.errstate(invalid="ignore", divide="ignore"):
            pi1 = np.nan_to_num(q0 / (q0 + p01))
        gap = np.where(data.gap < 0, 0, data.gap)
        decay = np.where(data.gap < 0, 0.0, (q1 - q0) ** gap)
        w = np.clip(pi1 + (data.state - pi1) * decay, 1e-300, 1.0 - 1e-16)
        mix = np.logaddexp(np.log(w) + lp1, np.log1p(-w) + lp0)
        ll = np.where(data.known, ll, mix)
    return np.sum(ll * data.weight, axis=1)


def log_prior(theta: np.ndarray) -> np.ndarray:
    """Log prior density (up to a constant) of theta (M, 3)."""
    theta = np.atleast_2d(np.asarray(theta, float))
    total = 0.0
    for j, (mean, sd) in enumerate((PRIOR_LOG_RATE, PRIOR_LOG_DISPERSION, PRIOR_CLUSTER)):
        total = total - 0.5 * ((theta[:, j] - mean) / sd) ** 2
    return total


def log_posterior(theta: np.ndarray, data: DiaryData) -> np.ndarray:
    """Unnormalised log posterior of theta (M, 3); -inf where not finite."""
    value = log_likelihood(theta, data) + log_prior(theta)
    return np.where(np.isfinite(value), value, -np.inf)


# ------------------------------------------------------------------------------ the fit


def _hessian(fun, x: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """Central finite-difference Hessian of a vectorised scalar function at x."""
    d = len(x)
    eye = np.eye(d) * step
    points = [x]
    for i in range(d):
        for j in range(i, d):
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                points.append(x + si * eye[i] + sj * eye[j])
    values = fun(np.array(points))
    h = np.empty((d, d))
    k = 1
    for i in range(d):
        for j in range(i, d):
            pp, pm, mp, mm = values[k : k + 4]
            k += 4
            h[i, j] = h[j, i] = (pp - pm - mp + mm) / (4 * step * step)
    return h


def _mode(data: DiaryData) -> np.ndarray:
    mean = data.total / data.reported_days
    start = np.array([np.log(max(mean, 0.5 / data.reported_days)), PRIOR_LOG_DISPERSION[0], 0.0])

    def negative(x):
        return -float(log_posterior(x[None, :], data)[0])

    def gradient(x):
        h = 1e-5
        pts = np.concatenate([x + h * np.eye(3), x - h * np.eye(3)])
        v = -log_posterior(pts, data)
        return (v[:3] - v[3:]) / (2 * h)

    best = minimize(negative, start, jac=gradient, method="BFGS", options={"gtol": 1e-6})
    return best.x


def _t_draws(rng, loc, chol, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Multivariate t draws and their log densities (up to a shared constant)."""
    d = len(loc)
    z = rng.standard_normal((n, d))
    g = rng.chisquare(PROPOSAL_DF, n) / PROPOSAL_DF
    x = loc + (z @ chol.T) / np.sqrt(g)[:, None]
    u = np.linalg.solve(chol, (x - loc).T).T
    logq = -0.5 * (PROPOSAL_DF + d) * np.log1p(np.sum(u * u, axis=1) / PROPOSAL_DF)
    return x, logq - np.sum(np.log(np.diag(chol)))


def _positive_definite(cov: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((cov + cov.T) / 2)
    ceiling = max(PRIOR_LOG_RATE[1], PRIOR_LOG_DISPERSION[1], PRIOR_CLUSTER[1]) ** 2
    values = np.clip(values, 1e-6, ceiling)
    return (vectors * values) @ vectors.T


def _importance(data: DiaryData, mode: np.ndarray, cov: np.ndarray, draws: int, rng):
    proposals = max(8 * draws, 8000)
    loc, chol = mode, np.linalg.cholesky(_positive_definite(cov))
    for _ in range(3):
        x, logq = _t_draws(rng, loc, chol, proposals)
        logw = log_posterior(x, data) - logq
        w = np.exp(logw - np.max(logw))
        w /= w.sum()
        ess = 1.0 / np.sum(w * w)
        if ess >= min(proposals / 4, 4 * draws):
            break
        loc = w @ x
        centred = x - loc
        cov = (centred * w[:, None]).T @ centred * (PROPOSAL_DF - 2) / PROPOSAL_DF * 1.2
        chol = np.linalg.cholesky(_positive_definite(cov))
    positions = (rng.random() + np.arange(draws)) / draws
    chosen = np.minimum(np.searchsorted(np.cumsum(w), positions), proposals - 1)
    return x[rng.permutation(chosen)], float(ess)


def trend_test(data_per_day: DiaryData, mode: np.ndarray) -> tuple[float, float]:
    """Likelihood-ratio test of a log-linear trend in lambda over the diary: returns (rate
    ratio between the middles of the second and first halves, p value)."""

    def negative(x, with_slope):
        theta = x[None, :3]
        slope = np.array([x[3]]) if with_slope else None
        return -float(log_likelihood(theta, data_per_day, slope)[0])

    null = minimize(negative, mode, args=(False,), method="BFGS")
    alt = minimize(negative, np.append(null.x, 0.0), args=(True,), method="BFGS")
    statistic = max(2.0 * (null.fun - alt.fun), 0.0)
    return float(np.exp(alt.x[3] * 0.5)), float(chi2.sf(statistic, 1))


def fit(counts: np.ndarray, draws: int = 2000, seed: int = 0, trend: bool = True) -> Posterior:
    """Posterior of one child's count model from daily counts (float, NaN = not reported).

    `trend=False` skips the trend test (verification loops). Raises TwinInputError below 28
    reported days or for counts that are not whole numbers >= 0."""
    if draws < 1:
        raise TwinInputError(f"The number of posterior draws must be >= 1 (got {draws}).")
    data = prepare(counts)
    rng = np.random.default_rng(seed)
    mode = _mode(data)
    hessian = _hessian(lambda th: log_posterior(th, data), mode)
    cov = np.linalg.inv(-hessian) if np.all(np.linalg.eigvalsh(-hessian) > 0) else np.diag(
        [PRIOR_LOG_RATE[1] ** 2, PRIOR_LOG_DISPERSION[1] ** 2, PRIOR_CLUSTER[1] ** 2]
    )  # fmt: skip
    theta, ess = _importance(data, mode, cov, draws, rng)
    natural = np.column_stack([np.exp(theta[:, 0]), np.exp(theta[:, 1]), theta[:, 2]])
    per_28d = 28.0 * mean_rate_array(*natural.T)
    quantiles = tuple(float(v) for v in np.percentile(per_28d, (10.0, 50.0, 90.0)))
    notes, ratio, p = _notes(np.asarray(counts, float), data, natural, quantiles, mode, ess, trend)
    return Posterior(natural, data.reported_days, quantiles, tuple(notes), ess, ratio, p)


def _notes(counts, data: DiaryData, natural, quantiles, mode, ess, trend: bool):
    notes: list[str] = []
    n = data.reported_days
    if data.total == 0:
        upper = quantiles[2]
        notes.append(
            tr(
                "No convulsive seizure in the {n} reported days: the rate is estimated from "
                "that absence (90 % upper bound {upper} per 28 days); over-dispersion and "
                "clustering cannot be estimated and follow their priors."
            ).format(n=n, upper=_g(upper, ".2g"))
        )
    missing = data.days - n
    if missing:
        notes.append(
            tr(
                "{missing} of {days} diary days were not reported and were treated as missing "
                "(not as seizure-free)."
            ).format(missing=missing, days=data.days)
        )
    if n < 90:
        notes.append(
            tr(
                "Only {n} reported days: the seizure rate is uncertain (see its 80 % interval)."
            ).format(n=n)
        )
    ratio_draws = np.exp(natural[:, 2])
    after = [float(np.sum(data.weight[data.known & (data.state == s)])) for s in (0, 1)]
    judged = min(after) >= MIN_DAYS_PER_STATE
    if data.total > 0 and not judged:
        which = tr("a seizure-free day") if after[0] < after[1] else tr("a seizure day")
        notes.append(
            tr(
                "Clustering cannot be judged: only {after} reported days follow {which}; the "
                "clustering term (and the rate after a seizure-free day) are poorly "
                "determined, mostly by their priors; the long-run rate is not affected."
            ).format(after=number(min(after), 0), which=which)
        )
    if judged and data.total > 0 and np.mean(ratio_draws > 1.0) > 0.95:
        median = float(np.median(ratio_draws))
        low, high = np.percentile(ratio_draws, (10.0, 90.0))
        if median >= STRONG_CLUSTER_RATIO:
            notes.append(
                tr(
                    "Strong clustering: the day after a seizure day has {median} times the "
                    "seizure rate of other days (80 % interval {low} to {high})."
                ).format(median=number(median, 1), low=number(low, 1), high=number(high, 1))
            )
        else:
            notes.append(tr(
                "Mild clustering: rate ratio after a seizure day {median}."
            ).format(median=number(median, 1)))
    ratio = p = None
    if trend and data.total > 0 and n >= TREND_MIN_DAYS:
        ratio, p = trend_test(prepare(counts, per_day=True), mode)
        if p < TREND_P and (ratio >= TREND_RATIO or ratio <= 1.0 / TREND_RATIO):
            higher = tr(
                "Trend detected: the seizure rate in the second half of the diary is "
                "{ratio} times that of the first half (higher; likelihood-ratio p = {p}). "
                "The model assumes a constant rate over the diary; consider fitting the "
                "recent weeks only."
            )
            lower = tr(
                "Trend detected: the seizure rate in the second half of the diary is "
                "{ratio} times that of the first half (lower; likelihood-ratio p = {p}). "
                "The model assumes a constant rate over the diary; consider fitting the "
                "recent weeks only."
            )
            notes.append(
                (higher if ratio > 1 else lower).format(ratio=number(ratio, 1), p=_g(p, ".2g"))
            )
    if ess < 500:
        notes.append(
            tr(
                "The posterior sample is thin (effective size {ess}); intervals are rough."
            ).format(ess=number(ess, 0))
        )
    return notes, ratio, p


def _g(value, spec: str = "g") -> str:
    """`value` formatted by `spec` (a `g` format), with the language's decimal separator."""
    text = format(float(value), spec)
    return text if "e" in text else text.replace(".", number(0.5, 1)[1])
