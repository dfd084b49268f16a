"""Runs with uncertainty: sample a twin's uncertain inputs, summarise every outcome.

A twin declares the number parameters it is unsure of (`twin.Uncertain`: a distribution
centred on the value a run uses, with a published spread or the case's own). A run with
uncertainty is the nominal run plus `samples` runs on quasi-random draws of those
inputs, each an ordinary run (so they go to worker processes or a cluster, are cached
and can fail alone). What comes back is the nominal result with, for every number
outcome, its median and interval and the probability of meeting its clinical target
(`Result.spread`), bands around its curves, and, when asked, the first-order and total
Sobol indices of each input (`Result.sensitivity`).

Sampling: Latin hypercube (`scipy.stats.qmc.LatinHypercube`), or for sensitivity the
Saltelli (2010) design on a scrambled Sobol sequence (`scipy.stats.qmc.Sobol`), whose
indices `scipy.stats.sobol_indices` estimates (Saltelli 2010 first order, Jansen 1999
total). Seeded: the same plan gives the same samples.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats
from scipy.stats import qmc

from meditwin_desktop.core.i18n import number, tr, tr_n
from meditwin_desktop.core.twin import (
    DISTRIBUTIONS,
    Outcome,
    Result,
    Spread,
    TimeSeries,
    Twin,
    TwinInputError,
    Uncertain,
)

DEFAULT_SAMPLES = 64
SOBOL_MIN_BASE = 64  # below, Sobol indices are unreliable (the linear test: S_T 0.14 at
# 16 base samples against a true 0.8; 0.72 at 64; 0.81 at 256)
MAX_FAILED_SHARE = 0.2  # more failed samples than this and the spread is not shown


@dataclass(frozen=True)
class UncertaintyPlan:
    """How to run with uncertainty.

    `samples`: runs on sampled inputs (Latin hypercube); with `sensitivity` it is rounded
    up to a power of two n (at least `SOBOL_MIN_BASE`) and the Saltelli design takes
    n x (d + 2) runs for d inputs.
    `case_sd`: standard uncertainties from the case (`Personalized.sd`) for parameters
    declared `from_case`. `level`: the interval's probability (0.9: 5th to 95th percentile).
    """

    samples: int = DEFAULT_SAMPLES
    seed: int = 0
    level: float = 0.9
    sensitivity: bool = False
    case_sd: Mapping[str, float] = field(default_factory=dict)

    def key(self) -> dict[str, Any]:
        """What makes two plans' results differ (for the run's cache key)."""
        return {"samples": self.samples, "seed": self.seed, "level": self.level,
                "sensitivity": self.sensitivity,
                "case_sd": sorted((k, float(v)) for k, v in self.case_sd.items())}  # fmt: skip


@dataclass
class Design:
    """The sampled parameter sets of a run with uncertainty (the nominal set first)."""

    inputs: list[str]  # the uncertain parameters, in order
    runs: list[dict[str, Any]]  # runs[0] the nominal params, then one per sample
    sobol_n: int = 0  # > 0: runs[1:] are A (n), B (n), then AB_i (n each), Saltelli's design

    @property
    def samples(self) -> int:
        return len(self.runs) - 1


def sampled_inputs(twin: Twin, params: Mapping[str, Any], case_sd: Mapping[str, float] = {}
                   ) -> list[Uncertain]:  # fmt: skip
    """The twin's uncertain inputs that this run can sample (a declared number parameter
    with a spread); TwinInputError for a declaration that names no number parameter."""
    chosen = []
    for item in twin.uncertain:
        parameter = twin.parameter(item.name)
        if parameter.kind != "number":
            raise TwinInputError(
                tr("{twin}: the uncertain input '{name}' is not a number.").format(
                    twin=tr(twin.title), name=item.name))  # fmt: skip
        if item.distribution not in DISTRIBUTIONS:
            text = tr("{twin}: '{name}' has an unknown distribution '{distribution}'.")
            raise TwinInputError(
                text.format(twin=tr(twin.title), name=item.name, distribution=item.distribution)
            )
        if _distribution(item, float(params[item.name]), case_sd.get(item.name)) is not None:
            chosen.append(item)
    return chosen


def _distribution(item: Uncertain, value: float, case_sd: float | None = None):
    """A frozen scipy distribution centred on `value`, or None when the spread is zero."""
    sd, relative = item.sd, item.relative_sd
    if item.from_case and case_sd is not None and case_sd > 0:
        sd, relative = float(case_sd), None  # the case's own uncertainty comes first
    if item.distribution == "normal":
        scale = sd if sd is not None else (abs(value) * relative if relative else None)
        return stats.norm(value, scale) if scale and scale > 0 else None
    if item.distribution == "lognormal":
        if value <= 0:
            return None
        sigma = relative if relative else (sd / value if sd else None)
        return stats.lognorm(sigma, scale=value) if sigma and sigma > 0 else None
    low, high = item.low, item.high
    if low is None or high is None:
        if not relative:
            return None
        low, high = value * (1 - relative), value * (1 + relative)
        low, high = min(low, high), max(low, high)
    if high <= low:
        return None
    if item.distribution == "uniform":
        return stats.uniform(low, high - low)
    mode = min(max(value, low), high)  # triangular
    return stats.triang((mode - low) / (high - low), loc=low, scale=high - low)


def design(twin: Twin, params: Mapping[str, Any], plan: UncertaintyPlan) -> Design:
    """The nominal params and the sampled ones (seeded, reproducible)."""
    if plan.samples < 2:
        raise TwinInputError(tr("A run with uncertainty needs at least 2 samples."))
    items = sampled_inputs(twin, params, plan.case_sd)
    nominal = dict(params)
    if not items:
        return Design([], [nominal])
    dists = [_distribution(item, float(params[item.name]), plan.case_sd.get(item.name))
             for item in items]  # fmt: skip
    d = len(items)
    if plan.sensitivity:
        n = sobol_base(plan.samples)
        unit = qmc.Sobol(d=2 * d, scramble=True, seed=plan.seed).random(n)
        a, b = unit[:, :d], unit[:, d:]
        blocks = [a, b] + [np.where(np.arange(d) == i, b, a) for i in range(d)]
        unit = np.vstack(blocks)
    else:
        n = 0
        unit = qmc.LatinHypercube(d=d, seed=plan.seed).random(plan.samples)
    unit = np.clip(unit, 1e-9, 1 - 1e-9)  # ppf(0) of a normal is -inf
    columns = []  # each input's values, one array call per input (10 000 samples: ms)
    for column, (item, dist) in enumerate(zip(items, dists, strict=True)):
        parameter = twin.parameter(item.name)
        low = -math.inf if parameter.minimum is None else parameter.minimum
        high = math.inf if parameter.maximum is None else parameter.maximum
        columns.append(np.clip(dist.ppf(unit[:, column]), low, high))
    names = [item.name for item in items]
    runs = [nominal] + [
        {**nominal, **dict(zip(names, map(float, row), strict=True))}
        for row in np.column_stack(columns)
    ]
    return Design([item.name for item in items], runs, n)


def sobol_base(samples: int) -> int:
    """The base sample count n of a Saltelli design asked for `samples`: a power of two,
    at least `SOBOL_MIN_BASE`."""
    return max(SOBOL_MIN_BASE, 1 << max(1, math.ceil(math.log2(samples))))


def summarise(
    twin: Twin, plan: UncertaintyPlan, plan_design: Design, results: Sequence[Result | None]
) -> Result:
    """The nominal result (results[0]) with each outcome's spread, bands around its curves
    and, for a Saltelli design, the Sobol indices. `results[i]` is None for a failed run."""
    nominal = results[0]
    if nominal is None:
        raise TwinInputError(tr("The nominal run failed: no result to qualify."))
    samples = list(results[1:])
    failed = sum(r is None for r in samples)
    summary = Result(dict(nominal.outcomes), dict(nominal.series), nominal.fields,
                     list(nominal.warnings), dict(nominal.notes), nominal.overlays,
                     nominal.tables, nominal.charts)  # fmt: skip
    if not plan_design.inputs:
        summary.warnings.append(tr(
            "No input of this run is uncertain (none declared, or none with a spread): "
            "the outcomes are shown without an interval."))  # fmt: skip
        return summary
    ok = [r for r in samples if r is not None]
    summary.uncertainty = _method_text(twin, plan, plan_design, failed)
    if len(ok) < 2 or failed > MAX_FAILED_SHARE * len(samples):
        summary.warnings.append(tr(
            "{failed} of {count} sampled runs failed: the spread of the outcomes is not "
            "shown (the model cannot take part of the uncertain range).").format(
                failed=failed, count=len(samples)))  # fmt: skip
        return summary
    if failed:
        summary.warnings.append(
            tr_n(
                "{count} sampled run failed and is left out of the intervals.",
                "{count} sampled runs failed and are left out of the intervals.",
                failed,
            )
        )
    for outcome in twin.outcomes:
        if outcome.numeric:
            values = [r.outcomes.get(outcome.name) for r in ok]
            summary.spread[outcome.name] = outcome_spread(outcome, values, plan.level, failed)
    for name, series in nominal.series.items():
        band = _band(series, [r.series.get(name) for r in ok], plan.level)
        if band is not None:
            summary.series[name] = band
    if plan_design.sobol_n and not failed:
        summary.sensitivity = _sobol(twin, plan_design, samples)
    elif plan_design.sobol_n:
        summary.warnings.append(
            tr("The sensitivity analysis needs every sampled run: it is not shown.")
        )
    return summary


def outcome_spread(outcome: Outcome, values: Sequence[float | None], level: float = 0.9,
                   failed: int = 0) -> Spread:  # fmt: skip
    """Percentiles and the probability of meeting the target of one outcome's samples.

    None counts as the best end of the scale where the outcome says it is best
    (`absent_is_best`: 'never'); otherwise it means the outcome is undefined in that run
    ('outside the equation's validity'): such runs are left out of the percentiles and of
    the probability, and counted (`Spread.undefined`) so the reader sees it."""
    best = math.inf if outcome.better != "lower" else -math.inf
    defined = [v for v in values if v is not None or outcome.absent_is_best]
    undefined = len(values) - len(defined)
    if len(defined) < 2:
        return Spread(None, None, None, level, None, len(values), failed, undefined)
    numbers = np.array([best if v is None else float(v) for v in defined])
    tail = (1 - level) / 2
    low, median, high = (float(np.quantile(numbers, q, method="linear"))
                         if np.isfinite(numbers).all() else _rank_quantile(numbers, q)
                         for q in (tail, 0.5, 1 - tail))  # fmt: skip
    p_target = None
    if outcome.target is not None:
        met = [v is None or not outcome.off_target(float(v)) for v in defined]
        p_target = float(np.mean(met))

    def shown(x: float) -> float | None:
        return x if math.isfinite(x) else None

    return Spread(shown(median), shown(low), shown(high), level, p_target, len(values), failed,
                  undefined)  # fmt: skip


def _rank_quantile(numbers: np.ndarray, q: float) -> float:
    """A quantile of values where some are infinite ('never'): the nearest rank."""
    ordered = np.sort(numbers)
    return float(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))])


def _band(series: TimeSeries, others: list[TimeSeries | None], level: float) -> TimeSeries | None:
    """The nominal curve with the samples' percentile band (curves on the same times only)."""
    curves = [s.values for s in others
              if s is not None and np.shape(s.time) == np.shape(series.time)
              and np.allclose(s.time, series.time)]  # fmt: skip
    if len(curves) < 2 or np.ndim(series.values) != 1:
        return None
    stack = np.asarray(curves, float)
    tail = (1 - level) / 2
    with np.errstate(invalid="ignore"):
        lower, upper = np.nanquantile(stack, [tail, 1 - tail], axis=0)
    label = tr("{level} % interval over {count} sampled runs").format(
        level=number(100 * level, 0), count=len(curves)
    )
    return TimeSeries(series.label, series.unit, series.time, series.values, series.time_unit,
                      series.x_label, series.guides, series.observed_time,
                      series.observed_values, lower, upper, label)  # fmt: skip


def _sobol(twin: Twin, plan_design: Design, samples: list[Result | None]
           ) -> dict[str, dict[str, tuple[float, float]]]:  # fmt: skip
    """First-order and total Sobol indices of each number outcome, per input."""
    n, d = plan_design.sobol_n, len(plan_design.inputs)
    indices: dict[str, dict[str, tuple[float, float]]] = {}
    for outcome in twin.outcomes:
        if not outcome.numeric:
            continue
        values = np.array([np.nan if r is None or r.outcomes.get(outcome.name) is None
                           else float(r.outcomes[outcome.name]) for r in samples])  # fmt: skip
        if not np.isfinite(values).all() or np.ptp(values) == 0:
            continue  # 'never' in some runs, or no variation: no index
        f_a, f_b = values[:n][None, :], values[n : 2 * n][None, :]
        f_ab = values[2 * n :].reshape(d, 1, n)
        result = stats.sobol_indices(func={"f_A": f_a, "f_B": f_b, "f_AB": f_ab}, n=n)
        first = np.clip(np.ravel(result.first_order), 0.0, 1.0)
        total = np.clip(np.ravel(result.total_order), 0.0, 1.0)
        indices[outcome.name] = {name: (float(s), float(t)) for name, s, t in
                                 zip(plan_design.inputs, first, total, strict=True)}  # fmt: skip
    return indices


def _method_text(twin: Twin, plan: UncertaintyPlan, plan_design: Design, failed: int) -> str:
    names = ", ".join(tr(twin.parameter(name).label) for name in plan_design.inputs)
    if plan_design.sobol_n:
        how = tr("{count} runs of a Saltelli design (Sobol sequence, seed {seed})").format(
            count=plan_design.samples, seed=plan.seed
        )
    else:
        how = tr("{count} runs on a Latin hypercube (seed {seed})").format(
            count=plan_design.samples, seed=plan.seed
        )
    return tr("{how} of: {inputs}").format(how=how, inputs=names)


def uncertainty_sources(twin: Twin) -> list[tuple[str, str]]:
    """(parameter label, where its spread comes from) of each declared uncertain input."""
    return [(twin.parameter(u.name).label, u.source) for u in twin.uncertain]
