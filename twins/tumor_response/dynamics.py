"""The twin's tumour dynamics: fit the patient's sum of diameters (and each lesion) with the
Stein regression-growth family and the Claret TGI model, then project one scenario.

Scenarios (README.md):
- continue: the current treatment periods go on as recorded (an ongoing one to the horizon);
- holiday (stop): every treatment stops on the change date. Stein: the regressing component
  stops decaying, the growing one goes on (`regression_growth.project`); TGI: no more kill
  term, the tumour grows at the patient's KL;
- switch: the current treatment stops and the new regimen starts on the change date, with
  its published kill-rate prior (`regimens.REGIMENS`, with its source). TGI: the new
  regimen's own KD and resistance clock. Stein: the tumour present at the switch starts a new
  regression-growth course, its regression rate d taken as the regimen's TGI kill rate KD at
  onset (in both models the initial net log-rate is growth minus kill: -d + g and -KD + KL);
  the patient's g goes on (`regression_growth.project`);
- local treatment of a target lesion (ablation, resection, radiotherapy) on a date: that
  lesion's projected diameter leaves the sum from then on (its own fit, same model).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from meditwin_desktop.core.twin import N_, Table, TwinInputError, number, tr

from . import regression_growth as rg
from . import tgi
from .regimens import REGIMENS, find_regimen

DRAWS = 400
SEED = 20261207
# The TGI prior as this twin uses it: the published residual SD (14.9 mm, readers across a
# phase III trial) would pull a patient's fit onto the population curve; one reader measuring
# on one workstation is nearer 3 mm (our choice, see README.md). The Stein fits' bands
# assume no less noise than that either (a fit through 4 scans with 3 parameters would
# otherwise claim none).
READER_NOISE_MM = 3.0
TGI_PRIOR = replace(tgi.CLARET_2009, sigma_add_mm=READER_NOISE_MM)
MISFIT_MM = 5.0  # RECIST's own measurement noise: a fit missing the scans by more is flagged
BEFORE_LAST_SCAN = {  # what the user reads when a scenario's date is before the last scan
    "change_date": N_(
        "The date of the change ({date}) is before the last scan ({last}): a scenario "
        "changes what happens from the last scan on."
    ),
    "local_date": N_(
        "The date of the local treatment ({date}) is before the last scan ({last}): a "
        "scenario changes what happens from the last scan on."
    ),
}


@dataclass(frozen=True)
class Scenario:
    """One scenario in days since the baseline scan."""

    therapy: str  # "continue", "stop" or "switch"
    change_day: float
    new_regimen: str
    local_lesion: str | None
    local_day: float
    model: str  # "stein" or "tgi"

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], baseline: dt.date, last_day: float, targets: Sequence[str]
    ) -> Scenario:
        """From the twin's parameters; TwinInputError for a date before the last scan or a
        target lesion number the case does not have."""

        def day(name: str) -> float:
            value = float((dt.date.fromisoformat(str(params[name])) - baseline).days)
            if value < last_day:
                last = baseline + dt.timedelta(days=last_day)
                raise TwinInputError(
                    tr(BEFORE_LAST_SCAN[name]).format(date=params[name], last=last.isoformat())
                )
            return value

        local = str(params["local_lesion"])
        lesion = None
        if local != "none":
            rank = int(local)
            if rank > len(targets):
                raise TwinInputError(
                    tr(
                        "Local treatment of target lesion {rank}: the case has "
                        "{count} target lesion(s) ({lesions})."
                    ).format(
                        rank=rank, count=len(targets), lesions=", ".join(targets) or tr("none")
                    )
                )
            lesion = targets[rank - 1]
        therapy = str(params["therapy"])
        return cls(
            therapy,
            day("change_date") if therapy != "continue" else last_day,
            str(params["new_regimen"]),
            lesion,
            day("local_date") if lesion else last_day,
            str(params["model"]),
        )


@dataclass(frozen=True)
class Fits:
    """The patient's fits: Stein on the SLD always, TGI when there are treatment periods."""

    stein: rg.GrowthFit
    tgi: tgi.TgiFit | None
    periods: tuple[tgi.Period, ...]
    sld0: float
    model: str  # the model the projection uses: "stein" or "tgi"
    warnings: list[str] = field(default_factory=list)
    lesions: dict[str, Any] = field(default_factory=dict)  # name -> (days, mm) of its scans


@dataclass(frozen=True)
class Projected:
    """The scenario's SLD (median, band) and each target lesion's median, in mm."""

    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    lesions: dict[str, np.ndarray]
    warnings: list[str]


def periods_of(treatments: Sequence[Mapping[str, Any]], baseline: dt.date) -> list[tgi.Period]:
    """The case's treatment periods in days since the baseline scan."""
    periods = []
    for item in treatments:
        start = float((dt.date.fromisoformat(item["start"]) - baseline).days)
        stop = (float((dt.date.fromisoformat(item["stop"]) - baseline).days)
                if item["stop"] else None)  # fmt: skip
        periods.append(tgi.Period(start, stop, item["regimen"].strip().casefold()))
    return periods


def fit_all(
    days: np.ndarray,
    sld: np.ndarray,
    inputs: Mapping[str, Any],
    baseline: dt.date,
    model: str,
    targets: Sequence[str] = (),
) -> Fits:
    """Fit the SLD series; TwinInputError when it cannot be (fewer than two evaluable scans,
    the TGI model asked for without treatment periods...)."""
    if len(days) < 2:
        raise TwinInputError(
            tr(
                "fitting the tumour dynamics needs at least two scans with every target lesion "
                "measured (this case has {count}); RECIST is shown all the same"
            ).format(count=len(days))
        )
    stein = rg.fit_growth(days, sld / sld[0], noise_floor=READER_NOISE_MM / sld[0])
    periods = tuple(periods_of(inputs.get("treatments", ()), baseline))
    warnings: list[str] = []
    fitted = None
    if periods:
        try:
            fitted = tgi.fit_tgi(days, sld, periods, prior=TGI_PRIOR)
        except TwinInputError as error:
            warnings.append(tr("TGI model not fitted ({error}).").format(error=error))
    elif model == "tgi":
        warnings.append(tr("The TGI model needs the treatment periods (Medications: regimen, "
                           "start, stop): none recorded."))  # fmt: skip
    if fitted is not None and "not converge" in fitted.note:
        warnings.append(tr("TGI fit: {note}").format(note=fitted.note))
    chosen = "tgi" if model == "tgi" and fitted is not None else "stein"
    if model == "tgi" and chosen != "tgi":
        warnings.append(tr("The projection uses the Stein model instead."))
    if chosen == "tgi" and fitted is not None:
        miss = float(np.sqrt(np.mean((tgi.sld_tgi(days, fitted.y0, fitted.kl, fitted.kd,
                                                  fitted.lam, periods) - sld) ** 2)))  # fmt: skip
        if miss > MISFIT_MM:
            warnings.append(
                tr(
                    "The TGI fit misses this patient's scans by {miss} mm (root mean square): "
                    "its population prior outweighs the data; the Stein projection follows them."
                ).format(miss=number(miss, 1))
            )
    if chosen == "tgi" and not any(find_regimen(p.regimen) for p in periods):
        warnings.append(
            tr(
                "The TGI kill rate was fitted to this patient with the population prior of "
                "{source} (no published prior for {regimens})."
            ).format(
                source=TGI_PRIOR.source, regimens=", ".join(sorted({p.regimen for p in periods}))
            )
        )
    return Fits(stein, fitted, periods, float(sld[0]), chosen, warnings,
                _lesion_series(inputs, baseline, targets))  # fmt: skip


def _lesion_series(
    inputs: Mapping[str, Any], baseline: dt.date, targets: Sequence[str]
) -> dict[str, Any]:
    """Each target lesion's scans (days, mm): the lesions the sum is made of."""
    out = {}
    for name, item in inputs["lesions"].items():
        if name not in targets:
            continue
        dates = sorted(item["values"])
        days = np.array([(dt.date.fromisoformat(d) - baseline).days for d in dates], float)
        out[name] = (days, np.array([item["values"][d] for d in dates], float))
    return out


def scenario_periods(
    periods: Sequence[tgi.Period], scenario: Scenario
) -> tuple[list[tgi.Period], list[str]]:
    """The treatment periods of a scenario (see the module docstring) and its caveats."""
    if scenario.therapy == "continue":
        return list(periods), []
    at = scenario.change_day
    kept = []
    for p in periods:
        if p.start_day >= at:
            continue  # planned after the change: replaced by the scenario
        stop = at if p.stop_day is None or p.stop_day > at else p.stop_day
        kept.append(tgi.Period(p.start_day, stop, p.regimen, p.intensity))
    if scenario.therapy == "stop":
        return kept, []
    regimen = REGIMENS.get(scenario.new_regimen)
    if regimen is None:
        raise TwinInputError(
            tr("No published kill rate for the regimen '{regimen}'.").format(
                regimen=scenario.new_regimen
            )
        )
    kept.append(tgi.Period(at, None, scenario.new_regimen))
    return kept, [tr("Switch to {regimen}: kill rate {rate}/day from {source}.").format(
        regimen=tr(regimen.label), rate=f"{regimen.kd_per_day:.4g}".replace(".", number(0.5, 1)[1]),
        source=regimen.kd_source)]  # fmt: skip


def _stein_curve(fit: rg.GrowthFit, grid: np.ndarray, scenario: Scenario, draws: int):
    if scenario.therapy == "switch":
        regimen = REGIMENS.get(scenario.new_regimen)
        if regimen is None:
            raise TwinInputError(
                tr("No published kill rate for the regimen '{regimen}'.").format(
                    regimen=scenario.new_regimen
                )
            )
        return rg.project(
            fit, grid, switch_day=scenario.change_day, switch_d=regimen.kd_per_day,
            switch_d_sd_log=TGI_PRIOR.omega_kd, draws=draws, seed=SEED,
        )  # fmt: skip
    stop = scenario.change_day if scenario.therapy == "stop" else None
    return rg.project(fit, grid, stop_day=stop, draws=draws, seed=SEED)


def project(
    fits: Fits, grid: np.ndarray, scenario: Scenario, inputs: Mapping[str, Any], baseline
) -> Projected:
    """The scenario's projected SLD and target-lesion curves on `grid` (days)."""
    warnings: list[str] = []
    use_tgi = fits.model == "tgi"
    if use_tgi and fits.tgi is None:
        raise TwinInputError(
            tr("the TGI model needs the treatment periods (Medications: regimen, start, stop)")
        )
    periods, caveats = scenario_periods(fits.periods, scenario)
    warnings += caveats + _mismatch(fits.periods, scenario)
    if use_tgi:
        curve = tgi.project_tgi(fits.tgi, grid, periods, draws=DRAWS, seed=SEED, prior=TGI_PRIOR)
        median, low, high = curve.median, curve.low, curve.high
    else:
        curve = _stein_curve(fits.stein, grid, scenario, DRAWS)
        if curve.note:
            warnings.append(curve.note)
        median, low, high = (np.asarray(x) * fits.sld0 for x in (curve.median, curve.low,
                                                                    curve.high))  # fmt: skip
    lesions = _lesion_curves(fits, grid, scenario, use_tgi, warnings)
    if scenario.local_lesion is not None:
        removed = lesions.get(scenario.local_lesion)
        if removed is None:
            raise TwinInputError(
                tr(
                    "the lesion '{lesion}' has too few measurements for its own "
                    "fit: its local treatment cannot be projected"
                ).format(lesion=scenario.local_lesion)
            )
        after = grid > scenario.local_day  # the scan of that day was measured with it
        cut = np.where(after, removed, 0.0)
        median, low, high = (np.maximum(x - cut, 0.0) for x in (median, low, high))
        lesions[scenario.local_lesion] = np.where(after, 0.0, removed)
        warnings.append(tr("Local treatment of '{lesion}': its projected diameter leaves the "
                           "sum from that date (assumed complete, no local "
                           "recurrence).").format(lesion=scenario.local_lesion))  # fmt: skip
    return Projected(median, low, high, lesions, warnings)


def _mismatch(periods: Sequence[tgi.Period], scenario: Scenario) -> list[str]:
    """Warnings when the scenario does not match the recorded treatment periods."""
    at = scenario.change_day
    ongoing = [p for p in periods if p.start_day <= at and (p.stop_day is None
                                                            or p.stop_day > at)]  # fmt: skip
    if scenario.therapy in ("stop", "switch") and not ongoing:
        return [tr("No treatment is recorded as ongoing on the date of the change: the "
                   "holiday stops the regression the scans show, as if a therapy caused "
                   "it.")]  # fmt: skip
    if scenario.therapy == "continue" and periods and not ongoing:
        return [tr("Every recorded treatment had stopped by the last scan: 'continue' extends "
                   "the course the scans show.")]  # fmt: skip
    return []


def _lesion_curves(
    fits: Fits, grid: np.ndarray, scenario: Scenario, use_tgi: bool, warnings: list[str]
) -> dict[str, np.ndarray]:
    """Each lesion's own fit (same model) projected under the scenario (median only)."""
    curves: dict[str, np.ndarray] = {}
    periods = scenario_periods(fits.periods, scenario)[0] if use_tgi else []
    for name, (days, values) in fits.lesions.items():
        if len(values) < 2 or values[0] <= 0:
            warnings.append(
                tr("Lesion '{name}': too few measurements for a curve of its own.").format(
                    name=name
                )
            )
            continue
        try:
            if use_tgi:
                fit = tgi.fit_tgi(days, values, fits.periods, prior=TGI_PRIOR)
                curves[name] = tgi.project_tgi(
                    fit, grid, periods, draws=100, seed=SEED, prior=TGI_PRIOR
                ).median
            else:
                fit = rg.fit_growth(days, values / values[0],
                                    noise_floor=READER_NOISE_MM / values[0])  # fmt: skip
                curves[name] = np.asarray(_stein_curve(fit, grid, scenario, 100).median) * values[0]
        except (TwinInputError, ValueError, FloatingPointError) as error:
            warnings.append(
                tr("Lesion '{name}': no curve of its own ({error}).").format(
                    name=name, error=error
                )
            )
    return curves


def _interval(value: float, sd: float | None, scale: str) -> tuple[float | None, float | None]:
    """The 90 % interval of a parameter whose log (or logit) is normal with SD `sd`."""
    if sd is None or not np.isfinite(sd):
        return None, None
    z = 1.645 * sd
    if scale == "log":
        return value * float(np.exp(-z)), value * float(np.exp(z))
    if scale == "logit":
        centre = np.log(value / (1 - value)) if 0 < value < 1 else 0.0
        return float(1 / (1 + np.exp(-(centre - z)))), float(1 / (1 + np.exp(-(centre + z))))
    return value - z, value + z


METHOD_WORDS = {  # the fits' methods (codes the model reads) as the table shows them
    "least squares (tumgr selection)": N_("least squares (tumgr selection)"),
    "MAP (log-normal priors) + Laplace covariance": N_(
        "MAP (log-normal priors) + Laplace covariance"
    ),
}


def _method_text(method: str) -> str:
    """A fit's method in the user's language."""
    found = re.fullmatch(r"MAP with population prior \(n=(\d+) points\)", method)
    if found:
        return tr("MAP with population prior (n={count} points)").format(count=found.group(1))
    return tr(METHOD_WORDS[method]) if method in METHOD_WORDS else method


def fit_table(fits: Fits) -> Table:
    """Both models' parameters with their 90 % intervals (Laplace approximation)."""
    rows: list[tuple[Any, ...]] = []
    stein = fits.stein
    sds = _sds(stein.cov, stein.names)
    for key, value in (("g", stein.g), ("d", stein.d), ("phi", stein.phi)):
        if value is None:
            continue
        sd, scale = sds.get(key, (None, ""))
        low, high = _interval(value, sd, scale)
        unit = "" if key == "phi" else "/day"
        rows.append(
            (f"Stein ({stein.model})", key, value, low, high, unit, _method_text(stein.method))
        )
    if fits.tgi is not None:
        t = fits.tgi
        sds = _sds(t.cov, t.names)
        for key, value, unit in (("y0", t.y0, "mm"), ("kl", t.kl, "/day"), ("kd", t.kd, "/day"),
                                 ("lam", t.lam, "/day")):  # fmt: skip
            sd, scale = sds.get(key, (None, ""))
            low, high = _interval(value, sd, scale)
            rows.append(("Claret TGI", key, value, low, high, unit, _method_text(t.method)))
    return Table(
        tr("Fitted tumour dynamics"),
        (tr("Model"), tr("Parameter"), tr("Value"), "5 %", "95 %", tr("Unit"), tr("Method")),
        rows,
    )


def _sds(cov: np.ndarray | None, names: Sequence[str]) -> dict[str, tuple[float, str]]:
    """Parameter -> (SD, its scale: 'log', 'logit' or '') from a covariance of
    (log-, logit-)parameters."""
    if cov is None:
        return {}
    out = {}
    for n, name in enumerate(names):
        scale, _, key = (
            name.partition("_") if name.startswith(("log_", "logit_")) else ("", "", name)
        )
        out[key] = (float(np.sqrt(max(cov[n, n], 0.0))), scale)
    return out
