"""The tumour-response twin's run: RECIST at each scan, the fitted tumour dynamics and the
projected sum of diameters under one scenario (continue, holiday, switch, local treatment).

Time is in days from the baseline scan (the first scan with diameters); diameters in mm.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from meditwin_desktop.core.twin import (
    N_,
    Cancelled,
    Chart,
    Result,
    Table,
    TimeSeries,
    TwinInputError,
    number,
    tr,
)

from . import dynamics
from .inputs import UNKNOWN_ORGAN as UNKNOWN
from .inputs import looks_like_node
from .recist import PD_ABSOLUTE_MM, PD_INCREASE_PCT, PR_DECREASE_PCT, Lesion, assess, recist_table

CATEGORIES = (N_("CR"), N_("PR"), N_("SD"), N_("PD"), N_("NE"))  # codes, shown through tr()
BAND = N_("90 % interval of the fitted parameters")
GRID_STEP_DAYS = 2.0


def _general(value: float) -> str:
    """`value` as f"{value:g}" writes it, with the decimal separator of the language."""
    return f"{value:g}".replace(".", number(0.5, 1)[1])


def _days(date: str, baseline: dt.date) -> float:
    return float((dt.date.fromisoformat(date[:10]) - baseline).days)


def _timeline(inputs: Mapping[str, Any]):
    lesions = [
        Lesion(name, item["organ"], item["node"], dict(item["values"]))
        for name, item in inputs["lesions"].items()
    ]
    return assess(
        lesions,
        inputs["dates"],
        new_lesion_dates=inputs.get("new_lesion_dates", ()),
        nontarget_progression_dates=inputs.get("nontarget_progression_dates", ()),
    )


def _observed(inputs: Mapping[str, Any], timeline) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Days and SLD of the evaluable visits (NE visits left out, with why)."""
    baseline = dt.date.fromisoformat(timeline.points[0].date)
    days, sld, left = [], [], []
    for point in timeline.points:
        if point.sld_mm is None:
            if point.date in inputs["dates"]:
                left.append(
                    tr("{date} (not every target lesion measured)").format(date=point.date)
                )
            continue
        days.append(_days(point.date, baseline))
        sld.append(point.sld_mm)
    return np.array(days), np.array(sld), left


def _time_to_progression(
    grid: np.ndarray, median: np.ndarray, last_day: float, nadir: float
) -> float | None:
    """Days after the last scan until the projected SLD meets RECIST PD (>= 20 % and >= 5 mm
    over the nadir so far, the projected nadir included); None when not within the grid."""
    after = grid > last_day
    running = np.minimum.accumulate(np.concatenate([[nadir], median[after]]))[:-1]
    values = median[after]
    increase = values - running
    hit = (increase >= PD_INCREASE_PCT / 100 * running - 1e-9) & (increase >= PD_ABSOLUTE_MM)
    if not hit.any():
        return None
    return float(grid[after][np.argmax(hit)] - last_day)


def remeasured(inputs: Mapping[str, Any], params: Mapping[str, Any]) -> Mapping[str, Any]:
    """The inputs with every diameter of the baseline (first) and the last scan changed by
    `baseline_scan_error_pct` and `last_scan_error_pct` (a run with uncertainty samples
    them: the scan-to-scan measurement noise; 0 leaves the measurements as they are)."""
    dates = inputs.get("dates") or []
    factors: dict[str, float] = {}
    for scans, name in ((dates[:1], "baseline_scan_error_pct"),
                        (dates[-1:], "last_scan_error_pct")):  # fmt: skip
        error = float(params.get(name) or 0.0)
        for day in scans:
            factors[day] = factors.get(day, 1.0) * (1.0 + error / 100.0)
    if all(f == 1.0 for f in factors.values()):
        return inputs
    lesions = {name: {**item, "values": {d: v * factors.get(d, 1.0)
                                         for d, v in item["values"].items()}}
               for name, item in inputs["lesions"].items()}  # fmt: skip
    return {**inputs, "lesions": lesions}


def simulate(params: Mapping[str, Any], inputs: Mapping[str, Any], progress, cancelled) -> Result:
    """RECIST, the fits and the projection of one scenario (see README.md)."""
    inputs = remeasured(inputs, params)
    timeline = _timeline(inputs)
    baseline_date = dt.date.fromisoformat(timeline.points[0].date)
    days, sld, left_out = _observed(inputs, timeline)
    last_day = _days(inputs["dates"][-1], baseline_date)
    horizon = last_day + float(params["horizon_days"])
    targets = list(timeline.targets)
    warnings: list[str] = []
    notes: dict[str, str] = {}
    if left_out:
        warnings.append(
            tr("Left out of the fit (RECIST: not evaluable): {visits}").format(
                visits="; ".join(left_out)
            )
        )
    for name in targets:
        item = inputs["lesions"][name]
        if not item["node"] and looks_like_node(item["organ"]):
            warnings.append(tr("'{name}' looks like a lymph node but is measured by its "
                               "longest diameter: RECIST follows nodes by their short "
                               "axis.").format(name=name))  # fmt: skip
    if inputs.get("set_aside"):
        warnings.append(
            tr(
                "{lesions}: both diameters given; RECIST follows a lymph node by its short "
                "axis and any other lesion by its longest diameter (the other set aside)."
            ).format(lesions=", ".join(inputs["set_aside"]))
        )
    if len(inputs.get("units", ())) > 1:
        warnings.append(tr("Diameters were given in {units}: all converted to mm.").format(
            units=", ".join(inputs["units"])))  # fmt: skip
    unnamed = [n for n, item in inputs["lesions"].items() if item["organ"].startswith(UNKNOWN)]
    if unnamed:
        warnings.append(
            tr(
                "{count} lesion(s) name no organ ('organ: name'): each counts as an organ "
                "of its own for RECIST's 2-per-organ rule; name the organ to apply it."
            ).format(count=len(unnamed))
        )
    category = timeline.last.category
    outcomes: dict[str, Any] = {
        "recist_last": category if category in CATEGORIES else None,
        "nadir_sld_mm": timeline.nadir_mm,
    }
    if outcomes["recist_last"] is None:
        notes["recist_last"] = tr("only the baseline scan: no response to assess yet")
    tables = {"recist": _recist_table(timeline)}
    if inputs.get("volumes"):
        tables["volumes"] = _volume_table(inputs["volumes"])
    charts = _charts(inputs, timeline, baseline_date)
    series: dict[str, TimeSeries] = {}
    progress(0.1, tr("Fitting the tumour dynamics"))
    if cancelled():
        raise Cancelled()
    scenario = dynamics.Scenario.from_params(params, baseline_date, last_day, targets)
    try:
        fits = dynamics.fit_all(days, sld, inputs, baseline_date, params["model"], targets)
    except TwinInputError as error:  # too few scans, no treatment period...
        fits = None
        why = str(error)
        for name in ("growth_rate_g_per_day", "decay_rate_d_per_day", "sld_mm_at_horizon",
                     "sld_change_pct_at_horizon", "time_to_progression_days"):  # fmt: skip
            outcomes[name] = None
            notes[name] = why
        warnings.append(tr("No projection: {why}").format(why=why))
    if fits is not None:
        progress(0.5, tr("Projecting the scenario"))
        grid = np.unique(np.concatenate([np.arange(0.0, horizon, GRID_STEP_DAYS), [horizon],
                                         days]))  # fmt: skip
        projection = dynamics.project(fits, grid, scenario, inputs, baseline_date)
        warnings += projection.warnings
        outcomes["growth_rate_g_per_day"] = fits.stein.g
        outcomes["decay_rate_d_per_day"] = fits.stein.d
        if fits.stein.g is None:
            notes["growth_rate_g_per_day"] = tr("no regrowth in the data ({note})").format(
                note=fits.stein.note
            )
        if fits.stein.d is None:
            notes["decay_rate_d_per_day"] = tr("no regression in the data ({note})").format(
                note=fits.stein.note
            )
        if fits.stein.method.startswith("MAP"):
            for name in ("growth_rate_g_per_day", "decay_rate_d_per_day"):
                notes.setdefault(name, tr("from the population prior as much as the scans: "
                                          "{note}").format(note=fits.stein.note))  # fmt: skip
        at_horizon = float(np.interp(horizon, grid, projection.median))
        outcomes["sld_mm_at_horizon"] = at_horizon
        outcomes["sld_change_pct_at_horizon"] = float(100.0 * (at_horizon - sld[0]) / sld[0])
        progressed = category == "PD" and days[-1] == last_day
        # after a progression the next one is judged from a new baseline (a new line of
        # therapy is assessed against the scan it starts from)
        reference = float(sld[-1]) if progressed else float(min(sld))
        ttp = _time_to_progression(grid, projection.median, last_day, reference)
        outcomes["time_to_progression_days"] = ttp
        if ttp is None:
            notes["time_to_progression_days"] = tr(
                "no RECIST progression predicted within the horizon "
                "({days} days after the last scan)"
            ).format(days=_general(params["horizon_days"]))
        elif progressed:
            notes["time_to_progression_days"] = tr(
                "the last scan is already PD: the next progression is judged against it as a "
                "new baseline ({reference} mm), as for a new line of therapy"
            ).format(reference=number(reference))
        elif category == "PD":
            notes["time_to_progression_days"] = tr("already PD at the last scan")
        _flag_projection(outcomes, notes, warnings, category, grid, projection, days, sld,
                         scenario, inputs, float(params["horizon_days"]), last_day)  # fmt: skip
        series["sld"] = TimeSeries(
            tr("Sum of target-lesion diameters (SLD)"), "mm", grid, projection.median, "days",
            tr("days since baseline"), _guides(sld), days, sld, projection.low,
            projection.high, tr(BAND),
        )  # fmt: skip
        for name, curve in projection.lesions.items():
            observed = inputs["lesions"][name]["values"]
            when = sorted(observed)
            series[_lesion_key(name)] = TimeSeries(
                tr("Lesion {name}").format(name=name), "mm", grid, curve, "days",
                tr("days since baseline"), (),
                np.array([_days(d, baseline_date) for d in when]),
                np.array([observed[d] for d in when]),
            )  # fmt: skip
        tables["fit"] = dynamics.fit_table(fits)
        warnings += fits.warnings
    progress(1.0, tr("Done"))
    return Result(outcomes, series, warnings=warnings, notes=notes, tables=tables,
                  charts=charts)  # fmt: skip


PROJECTED = ("sld_mm_at_horizon", "sld_change_pct_at_horizon", "time_to_progression_days")


def _flag_projection(
    outcomes: dict[str, Any], notes: dict[str, str], warnings: list[str], category: str,
    grid: np.ndarray, projection, days: np.ndarray, sld: np.ndarray, scenario,
    inputs: Mapping[str, Any], horizon_days: float, last_day: float,
) -> None:  # fmt: skip
    """Say where a projected number must not be read as it stands: a complete response
    (the models cannot regrow from nothing), a fit that misses the last scan, a horizon
    beyond the follow-up, a sum without a locally treated lesion."""
    if category == "CR":
        for name in PROJECTED:
            outcomes[name] = None
            notes[name] = tr("complete response at the last scan: these models cannot "
                             "project regrowth from no measurable disease")  # fmt: skip
        warnings.append(tr("Complete response at the last scan: the fitted curve is shown, "
                           "no projected number is given."))  # fmt: skip
        return
    miss = abs(float(np.interp(days[-1], grid, projection.median)) - float(sld[-1]))
    if miss > dynamics.MISFIT_MM:
        for name in PROJECTED:
            notes.setdefault(name, tr("the fitted curve misses the last scan by {miss} mm: "
                                      "read the projection with care").format(
                miss=number(miss)))  # fmt: skip
    if horizon_days > max(last_day, 1.0):
        warnings.append(tr("The horizon ({horizon} days) is longer than the follow-up the "
                           "fit rests on ({follow_up} days): an extrapolation.").format(
            horizon=_general(horizon_days), follow_up=_general(last_day)))  # fmt: skip
    if float(np.max(projection.high)) > 400.0:
        warnings.append(tr("The projection's band passes 400 mm of summed diameters, far "
                           "beyond the scans: read it as 'continued growth', not a "
                           "number."))  # fmt: skip
    if scenario.local_lesion is not None:
        notes["sld_change_pct_at_horizon"] = tr(
            "'{lesion}' treated locally leaves the sum; the change is against "
            "the baseline sum, which includes it"
        ).format(lesion=scenario.local_lesion)


def _lesion_key(name: str) -> str:
    """'lesion liver tumour 1' for 'liver: tumour 1' (a key that makes a file name)."""
    return "lesion " + re.sub(r"[^\w]+", " ", name).strip()


def _guides(sld: np.ndarray) -> tuple[tuple[str, float], ...]:
    nadir = float(min(sld))
    pd_level = max(nadir * (1 + PD_INCREASE_PCT / 100), nadir + PD_ABSOLUTE_MM)
    return (
        (tr("PR: -30 % from baseline"), float(sld[0]) * (1 - PR_DECREASE_PCT / 100)),
        (tr("PD: +20 % and +5 mm over the nadir"), pd_level),
    )


def _recist_table(timeline) -> Table:
    rows = [
        (date, day, _round(sld), _round(base), _round(nadir), tr(category), rule)
        for date, day, sld, base, nadir, category, rule in recist_table(timeline)
    ]
    excluded = [(name, "", None, None, None, tr("not a target"), why)
                for name, why in timeline.excluded.items()]  # fmt: skip
    return Table(
        tr("RECIST 1.1 per scan"),
        (tr("Date"), tr("Day"), tr("SLD"), tr("Change from baseline"), tr("Change from nadir"),
         tr("Category"), tr("Rule")),
        rows + excluded,
        ("", "days", "mm", "%", "%", "", ""),
    )


def _volume_table(volumes: Mapping[str, Mapping[str, float]]) -> Table:
    """Lesion volumes from the segmentations, one column per date (shown, not fitted)."""
    dates = sorted({d for per in volumes.values() for d in per})
    rows = [(name, *(_round(per.get(d)) for d in dates)) for name, per in volumes.items()]
    return Table(tr("Lesion volumes (segmentation)"), (tr("Lesion"), *dates), rows,
                 ("", *("mL" for _ in dates)))  # fmt: skip


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _charts(inputs: Mapping[str, Any], timeline, baseline_date: dt.date) -> dict[str, Chart]:
    """Waterfall (each target lesion's best change from baseline) and spider plot (each
    target lesion's change from baseline over time), from the measurements."""
    names = list(timeline.targets)
    if not names:
        return {}
    best, lines, all_days = [], {}, sorted({_days(d, baseline_date) for d in inputs["dates"]})
    for name in names:
        values = inputs["lesions"][name]["values"]
        first = values.get(timeline.points[0].date)
        change = np.full(len(all_days), np.nan)
        for date, value in values.items():
            if first:
                change[all_days.index(_days(date, baseline_date))] = 100 * (value - first) / first
        later = change[1:][np.isfinite(change[1:])]
        best.append(float(later.min()) if later.size else np.nan)
        lines[name] = change
    guides = ((tr("+20 % (per lesion; RECIST judges the sum)"), 20.0), ("-30 %", -30.0))
    order = sorted(range(len(names)), key=lambda n: (np.isnan(best[n]), -np.nan_to_num(best[n])))
    return {  # a waterfall runs from the largest growth down to the deepest shrinkage
        "waterfall": Chart(tr("Best change per target lesion (waterfall)"), "bars",
                           tuple(names[n] for n in order),
                           {tr("best change from baseline"): np.array([best[n] for n in order])},
                           "%", tr("target lesion"), "", guides),
        "spider": Chart(tr("Change per target lesion over time (spider plot)"), "lines",
                        np.array(all_days), lines, "%", tr("days since baseline"), "days",
                        guides),
    }  # fmt: skip
