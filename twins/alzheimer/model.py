"""The Alzheimer twin's run: the Leaspy model file loaded, the case's measurements matched to
its features, the patient personalised (MAP of xi, tau, sources with their Laplace
uncertainty) and the course projected under one scenario (no treatment or an anti-amyloid
therapy from a date).

Time is the patient's age in years; features are in the model's 0-1 space inside and in
clinical units (the model's scaling block) at the edges.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from meditwin_desktop.core.twin import Cancelled, Result, Table, TimeSeries, TwinInputError

from .inputs import DAYS_PER_YEAR, MODEL_SPACE, by_feature, normal_name
from .leaspy_model import LeaspyModel, demo_model_path, load_model
from .personalization import Individual, Observations, personalize, sample
from .treatment import THERAPIES, TIME_SAVED, disease_clock, eligibility, time_gained

BUILT_IN = "built-in demonstration model"
BAND = "approximate 90 % interval of the personalised parameters (Laplace)"
UNMEASURED = "the model's course for this patient's parameters, not a measured trend"
DRAWS = 400  # Laplace draws for the bands (seeded)
STEP_Y = 0.05
# milestone features: the direction of worsening and the threshold's source
MILESTONES = {
    "MMSE": ("below", "MMSE 20 or less: moderate Alzheimer's disease (MMSE 10-20: NICE "
                      "technology appraisal TA217, 2011)"),
    "CDR-SB": ("above", "CDR-SB 4.5 or more: mild dementia (O'Bryant SE et al., Arch Neurol "
                        "2008;65:1091-1095)"),
    "FAQ": ("above", "FAQ 9 or more: a commonly used cut-off for functional impairment "
                     "(the scale: Pfeffer RI et al., J Gerontol 1982;37:323-329)"),
}  # fmt: skip
# features with an outcome of their own (stable names): outcome name -> feature
FEATURE_OUTCOMES = {"mmse_at_horizon": "MMSE", "cdr_sb_at_horizon": "CDR-SB",
                    "adas_cog13_at_horizon": "ADAS-Cog 13"}  # fmt: skip


def model_of(params: Mapping[str, Any]) -> tuple[LeaspyModel, str]:
    """The model a run uses, and its file's SHA-256 (the report says which file ran)."""
    text = str(params.get("model_file") or BUILT_IN).strip()
    path = demo_model_path() if text in ("", BUILT_IN) else Path(text)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        raise TwinInputError(
            f"The disease-course model file '{path.name}' cannot be read "
            f"({error.strerror or error}): choose the JSON written by Leaspy's save."
        ) from None
    return load_model(path), digest


SIDES = {"left", "right"}
MODEL_RANGE = (-0.5, 1.5)  # a value further out of the model's 0-1 space is not this model's


def _both_sides(feature: str, items: list[dict[str, Any]]) -> tuple[list[dict], str]:
    """The rows of a feature as the model reads them: both sides together. Untargeted rows
    (both hippocampi) first; else left + right summed on the dates with both (a ratio or a
    volume of one side is half of what the model means); other targets as they are."""
    untargeted = [row for row in items if not row["target"]]
    if untargeted:
        return untargeted, ""
    if {row["target"].lower() for row in items} != SIDES:
        return items, ""
    by_date: dict[str, dict[str, dict]] = {}
    for row in items:
        by_date.setdefault(row["date"][:10], {})[row["target"].lower()] = row
    summed = [dict(sides["left"], value=sides["left"]["value"] + sides["right"]["value"],
                   target="") for sides in by_date.values() if set(sides) == SIDES]  # fmt: skip
    return summed, f"{feature}: left + right summed ({len(summed)} date(s) with both sides)"


def _feature_values(
    model: LeaspyModel, rows: list[dict[str, Any]]
) -> tuple[dict[int, list[tuple[float, float, str]]], list[str], list[str]]:
    """{feature index: [(age, model value, date)]}, notes on what was not used or combined,
    and the case's measures the model does not have."""
    grouped = by_feature(rows)
    found: dict[int, list[tuple[float, float, str]]] = {}
    notes = []
    for k, feature in enumerate(model.features):
        items, note = _both_sides(feature, grouped.get(normal_name(feature), []))
        notes += [note] if note else []
        if not items:
            continue
        scaling = model.scaling.get(feature)
        units = {row["unit"] for row in items}
        if scaling is None and units != {MODEL_SPACE}:
            notes.append(
                f"{feature}: the model gives no scaling to clinical units, so its values must "
                f"be in the model's 0-1 space (unit '0-1'); the case has {', '.join(units)}: "
                "not used"
            )
            continue
        if scaling is not None and units - {scaling.unit, MODEL_SPACE}:
            notes.append(f"{feature}: the model's scaling is in {scaling.unit}, the case's "
                         f"values in {', '.join(sorted(units))}: not used")  # fmt: skip
            continue
        values = []
        for row in items:
            y = row["value"] if row["unit"] == MODEL_SPACE else scaling.to_model(row["value"])
            if not MODEL_RANGE[0] <= y <= MODEL_RANGE[1]:
                covers = (f"{min(scaling.at_0, scaling.at_1):g}-{max(scaling.at_0, scaling.at_1):g}"
                          f" {scaling.unit}" if scaling else "0-1")  # fmt: skip
                notes.append(f"{feature} {row['value']:g} {row['unit']} on {row['date'][:10]} "
                             f"lies far outside the range the model covers ({covers}): not "
                             "used")  # fmt: skip
                continue
            values.append((row["age"], float(y), row["date"][:10]))
        if values:
            found[k] = values
    known = {normal_name(f) for f in model.features}
    if normal_name("Hippocampus volume ratio") in known:  # the ratio's own parts
        known |= {normal_name("Hippocampal volume"), normal_name("Intracranial volume")}
    ignored = sorted({row["name"] for row in rows if normal_name(row["name"]) not in known})
    return found, notes, ignored


def observations(model: LeaspyModel, found: Mapping[int, list]) -> tuple[Observations, list[str]]:
    """One row per visit date, NaN = not measured; two values of a feature on one date are
    averaged, with a note naming them."""
    dates = sorted({date for values in found.values() for _, _, date in values})
    ages = np.zeros(len(dates))
    table = np.full((len(dates), len(model.features)), np.nan)
    notes = []
    for k, values in found.items():
        for date in dates:
            same = [(age, y) for age, y, d in values if d == date]
            if same:
                ages[dates.index(date)] = same[0][0]
                table[dates.index(date), k] = float(np.mean([y for _, y in same]))
            if len(same) > 1:
                shown = ", ".join(f"{float(v):.3g}" for v in _clinical(
                    model, k, np.array([y for _, y in same]))[0])  # fmt: skip
                notes.append(f"{model.features[k]}: {len(same)} values on {date} ({shown}) "
                             "averaged: check for a typing error")  # fmt: skip
    return Observations(ages=ages, values=table), notes


def _clinical(model: LeaspyModel, k: int, y: np.ndarray) -> tuple[np.ndarray, str]:
    scaling = model.scaling.get(model.features[k])
    if scaling is None:
        return np.asarray(y, dtype=float), MODEL_SPACE
    return np.asarray(scaling.to_clinical(np.asarray(y, dtype=float)), dtype=float), scaling.unit


def _curves(model, individual, ages, start, effect) -> tuple[np.ndarray, np.ndarray]:
    """The MAP course and the Laplace draws' courses, (len(ages), n_features) and
    (DRAWS, len(ages), n_features), in model space."""
    rt = disease_clock(ages, individual.xi, individual.tau, start, effect)
    best = model.values_at_rt(rt, individual.sources)
    draws = sample(individual, DRAWS, seed=20)
    runs = np.empty((DRAWS, len(ages), len(model.features)))
    for n, (xi, tau, *sources) in enumerate(draws):
        runs[n] = model.values_at_rt(disease_clock(ages, xi, tau, start, effect), sources)
    return best, runs


def _crossing(ages: np.ndarray, values: np.ndarray, threshold: float, below: bool) -> float | None:
    """The first age at which `values` passes `threshold` (linear between grid points)."""
    past = values <= threshold if below else values >= threshold
    if not past.any():
        return None
    n = int(np.argmax(past))
    if n == 0:
        return float(ages[0])  # already there at the first age
    a, b = values[n - 1], values[n]
    return float(ages[n - 1] + (ages[n] - ages[n - 1]) * (threshold - a) / (b - a))


def _age_at(date: str, inputs: Mapping[str, Any]) -> float:
    """The age at an ISO date, on the visits' age scale (from any dated row: its age and
    date fix the scale, the date of birth or the age at the last visit)."""
    anchor_date, anchor_age = inputs["age_anchor"]
    days = (dt.date.fromisoformat(date[:10]) - dt.date.fromisoformat(anchor_date[:10])).days
    return float(anchor_age) + days / DAYS_PER_YEAR


def simulate(params: Mapping[str, Any], inputs: Mapping[str, Any], progress, cancelled) -> Result:
    """One scenario: personalise, project, outcomes, curves and tables."""
    model, digest = model_of(params)
    found, unused, ignored = _feature_values(model, inputs["measurements"])
    if not found:
        measured = sorted({row["name"] for row in inputs["measurements"]}) or ["nothing"]
        raise TwinInputError(
            f"None of the model's features ({', '.join(model.features)}) is measured in the "
            f"case (it has: {', '.join(measured)}). Add the visits' scores in the "
            "Measurements view, named as the model names them." + (
                " " + "; ".join(unused) if unused else "")
        )  # fmt: skip
    observed, duplicates = observations(model, found)
    unused += duplicates
    progress(0.1, "personalising")
    individual = personalize(model, observed)
    if cancelled():
        raise Cancelled()
    last_age = float(observed.ages.max())
    last_date = max(date for values in found.values() for _, _, date in values)
    horizon = last_age + float(params["horizon_y"])
    grid = np.arange(float(observed.ages.min()) - 1.0, horizon, STEP_Y)
    ages = np.unique(np.concatenate([grid, [last_age, horizon]]))  # both exactly on the grid
    therapy = THERAPIES.get(str(params["treatment"]))
    start = effect = None
    if therapy is not None:
        start = _age_at(str(params["treatment_start"]), inputs)
        if start < last_age - 1e-6:
            raise TwinInputError(
                f"The treatment start {params['treatment_start']} is before the last visit "
                f"({last_date}): a therapy is projected from now on."
            )
        effect = float(params["effect_pct"]) / 100.0
    progress(0.4, "projecting")
    best, runs = _curves(model, individual, ages, start, effect or 0.0)
    if cancelled():
        raise Cancelled()
    result = Result(outcomes={})
    result.outcomes["estimated_onset_age_y"] = float(individual.tau)
    result.outcomes["progression_pace"] = float(np.exp(individual.xi))
    used = ", ".join(model.features[k] for k in sorted(found))
    how_many = (f"from {individual.n_visits} visit(s), {individual.n_values} value(s) of "
                f"{len(found)} feature(s): {used}")  # fmt: skip
    result.notes["estimated_onset_age_y"] = (
        f"±{individual.sd('tau'):.1f} y (1 SD) {how_many}")  # fmt: skip
    pace_sd = float(np.exp(individual.xi) * individual.sd("xi"))
    result.notes["progression_pace"] = f"±{pace_sd:.2f} (1 SD); 1 = the population's pace"
    _feature_outcomes(result, model, found, ages, best, horizon)
    _milestone(result, params, model, found, ages, best, last_age, horizon)
    result.outcomes["time_gained_y"] = time_gained(horizon, start, effect or 0.0)
    if therapy is not None:
        result.notes["time_gained_y"] = (
            f"{therapy.code} from {params['treatment_start']}, {params['effect_pct']:g} % "
            f"slower; the untreated course reaches this stage that much earlier ({TIME_SAVED})"
        )
    result.series = _series(model, found, ages, best, runs, params)
    result.tables = _tables(model, individual, found, ages, best, horizon, digest, params)
    if ignored:
        result.tables["ignored"] = Table(
            "Case measures the model does not have (not used)", ("measure",),
            [(name,) for name in ignored])  # fmt: skip
    result.warnings = _warnings(model, individual, unused, inputs, therapy, params)
    progress(1.0, "done")
    return result


def _feature_outcomes(result, model, found, ages, best, horizon) -> None:
    at = int(np.argmin(np.abs(ages - horizon)))
    for name, feature in FEATURE_OUTCOMES.items():
        k = model.feature_index(feature)
        if k is None:
            result.outcomes[name] = None
            result.notes[name] = f"the model has no {feature}"
            continue
        value, unit = _clinical(model, k, best[at, k])
        if unit != "points":
            result.outcomes[name] = None
            result.notes[name] = (f"the model gives {feature} in its 0-1 space only "
                                  f"({float(value):.3f}; no scaling to points)")  # fmt: skip
            continue
        result.outcomes[name] = float(value)
        if k not in found:
            result.notes[name] = f"{feature} is not measured in this case: {UNMEASURED}"


def _milestone(result, params, model, found, ages, best, last_age, horizon) -> None:
    feature = str(params["milestone_feature"])
    threshold = float(params["milestone_threshold"])
    direction, source = MILESTONES[feature]
    name = "years_to_milestone"
    k = model.feature_index(feature)
    if k is None:
        result.outcomes[name] = None
        result.notes[name] = f"the model has no {feature}: choose another milestone"
        return
    values, unit = _clinical(model, k, best[:, k])
    if unit == MODEL_SPACE:
        result.outcomes[name] = None
        result.notes[name] = f"{feature} has no scaling to clinical units in this model"
        return
    future = ages >= last_age - 1e-9  # the grid holds the last visit's age exactly
    worse_down = direction == "below"
    # in clinical units: "below" (MMSE) crosses downwards; a scaling may invert the axis
    crossed = _crossing(ages[future], values[future], threshold, below=worse_down)
    sign = "<=" if worse_down else ">="
    unmeasured = "" if k in found else f"; {feature} is not measured in this case: {UNMEASURED}"
    if crossed is None:
        result.outcomes[name] = None
        result.notes[name] = (f"{feature} {sign} {threshold:g} not reached within the "
                              f"{horizon - last_age:g}-year horizon{unmeasured}")  # fmt: skip
        return
    result.outcomes[name] = max(crossed - last_age, 0.0)
    if crossed <= last_age + 1e-9:
        result.notes[name] = (f"{feature} {sign} {threshold:g} already reached at the last visit "
                              f"(fitted course){unmeasured}")  # fmt: skip
        return
    result.notes[name] = f"{feature} {sign} {threshold:g} from the last visit; {source}{unmeasured}"


def _series(model, found, ages, best, runs, params) -> dict[str, TimeSeries]:
    low, high = np.percentile(runs, [5.0, 95.0], axis=0)
    feature = str(params["milestone_feature"])
    out = {}
    for k in sorted(found, key=lambda k: (model.features[k] != feature, k)):
        name = model.features[k]
        values, unit = _clinical(model, k, best[:, k])
        lower, _ = _clinical(model, k, low[:, k])
        upper, _ = _clinical(model, k, high[:, k])
        observed_ages = np.array([age for age, _, _ in found[k]])
        observed, _ = _clinical(model, k, np.array([y for _, y, _ in found[k]]))
        guides = ()
        if name == feature:
            guides = (("milestone", float(params["milestone_threshold"])),)
        out[name] = TimeSeries(
            label=name, unit=unit, time=ages, values=values, time_unit="years", x_label="age",
            observed_time=observed_ages, observed_values=observed,
            lower=np.minimum(lower, upper), upper=np.maximum(lower, upper), band_label=BAND,
            guides=guides,
        )  # fmt: skip
    return out


def _tables(model, individual: Individual, found, ages, best, horizon, digest, params):
    at = int(np.argmin(np.abs(ages - horizon)))
    names = ["xi (log pace)", "tau (years)"] + [
        f"source {n + 1}" for n in range(len(individual.sources))
    ]
    values = [individual.xi, individual.tau, *individual.sources]
    keys = ["xi", "tau"] + [f"sources_{n}" for n in range(len(individual.sources))]
    parameters = Table(
        "Individual parameters (MAP, Laplace SD)",
        ("parameter", "value", "SD", "population mean", "population SD"),
        [(name, f"{value:.3f}", f"{individual.sd(key):.3f}", pop_mean, pop_sd)
         for name, value, key, (pop_mean, pop_sd) in zip(
             names, values, keys,
             [(f"{model.xi_mean:.3f}", f"{model.xi_std:.3f}"),
              (f"{model.tau_mean:.2f}", f"{model.tau_std:.2f}")]
             + [(f"{mean:g}", f"{model.sources_std:g}") for mean in model.sources_mean],
             strict=True)],
    )  # fmt: skip
    rows = []
    for k, feature in enumerate(model.features):
        value, unit = _clinical(model, k, best[at, k])
        count = len(found.get(k, []))
        data = "measured" if count else "not measured: the model's course for this patient"
        rows.append((feature, count, f"{float(value):.4g}", unit, data))
    features = Table(
        f"Features at the horizon (age {horizon:.1f})",
        ("feature", "values used", "predicted", "unit", "data"),
        rows,
    )
    file = str(params.get("model_file") or BUILT_IN)
    about = Table(
        "Disease-course model",
        ("item", "value"),
        [("model", model.label or "Leaspy logistic model"), ("file", Path(file).name),
         ("SHA-256", digest[:16]), ("licence", model.licence or "not stated"),
         ("source", model.source or "not stated"),
         ("features", ", ".join(model.features)),
         ("sources (space shifts)", str(len(individual.sources)))],
    )  # fmt: skip
    return {"parameters": parameters, "features": features, "model": about}


def _warnings(model, individual, unused, inputs, therapy, params) -> list[str]:
    out = []
    if model.demonstration:
        out.append(f"DEMONSTRATION MODEL: {model.label}.")
    if not model.scaling:
        out.append(
            "The model file has no scaling to clinical units: the case's values must be "
            "in the model's 0-1 space (unit '0-1') and results are shown in it."
        )
    if individual.n_visits == 1:
        out.append("One visit only: the time shift and pace are mostly the population's, "
                   "with wide uncertainty; repeated visits narrow it.")  # fmt: skip
    if abs(individual.tau - model.tau_mean) > 3.0 * model.tau_std:
        out.append(
            f"The estimated onset age {individual.tau:.1f} is more than 3 SD from the "
            f"model population's ({model.tau_mean:.1f} ± {model.tau_std:.1f} y): the "
            "course is extrapolated beyond the population the model was fitted on."
        )
    if not individual.converged:
        out.append(f"The personalisation did not converge ({individual.message}): read the "
                   "individual parameters with caution.")  # fmt: skip
    out += [f"Not used: {note}." for note in unused]
    if inputs.get("ages_from", "").startswith(("no date of birth", "the age in the clinical")):
        out.append(inputs["ages_from"][0].upper() + inputs["ages_from"][1:] + ".")
    if therapy is not None:
        out.append(
            f"{therapy.label}: modelled as a {float(params['effect_pct']):g} % slowing of the "
            f"disease course from {params['treatment_start']}, assumed to persist beyond the "
            f"trial's 18 months ({therapy.effect_source})."
        )
        out += eligibility(
            therapy, last_mmse=inputs.get("last_mmse"),
            amyloid_status=inputs.get("amyloid_status", ""),
            amyloid_pet=inputs.get("amyloid_pet", []), apoe=inputs.get("apoe", ""),
            anticoagulated=bool(inputs.get("anticoagulated")),
        )  # fmt: skip
    return out
