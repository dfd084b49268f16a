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
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from meditwin_desktop.core.twin import (
    N_,
    Cancelled,
    Result,
    Table,
    TimeSeries,
    TwinInputError,
    number,
    tr,
)

from .inputs import DAYS_PER_YEAR, MODEL_SPACE, ages_text, by_feature, normal_name
from .leaspy_model import LeaspyModel, demo_model_path, load_model
from .personalization import Individual, Observations, personalize, sample
from .treatment import THERAPIES, TIME_SAVED, disease_clock, eligibility, time_gained

BUILT_IN = "built-in demonstration model"
BAND = N_("approximate 90 % interval of the personalised parameters (Laplace)")
UNMEASURED = N_("the model's course for this patient's parameters, not a measured trend")
DRAWS = 400  # Laplace draws for the bands (seeded)
STEP_Y = 0.05
# milestone features: the direction of worsening and the threshold's source
MILESTONES = {
    "MMSE": ("below", N_("MMSE 20 or less: moderate Alzheimer's disease (MMSE 10-20: NICE "
                         "technology appraisal TA217, 2011)")),
    "CDR-SB": ("above", N_("CDR-SB 4.5 or more: mild dementia (O'Bryant SE et al., Arch "
                           "Neurol 2008;65:1091-1095)")),
    "FAQ": ("above", N_("FAQ 9 or more: a commonly used cut-off for functional impairment "
                        "(the scale: Pfeffer RI et al., J Gerontol 1982;37:323-329)")),
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
            tr(
                "The disease-course model file '{name}' cannot be read ({error}): choose the "
                "JSON written by Leaspy's save."
            ).format(name=path.name, error=error.strerror or error)
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
    return summed, tr("{feature}: left + right summed ({count} date(s) with both sides)").format(
        feature=feature, count=len(summed)
    )


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
                tr(
                    "{feature}: the model gives no scaling to clinical units, so its values "
                    "must be in the model's 0-1 space (unit '0-1'); the case has {units}: "
                    "not used"
                ).format(feature=feature, units=", ".join(units))
            )
            continue
        if scaling is not None and units - {scaling.unit, MODEL_SPACE}:
            notes.append(tr("{feature}: the model's scaling is in {unit}, the case's values in "
                            "{units}: not used").format(
                feature=feature, unit=scaling.unit, units=", ".join(sorted(units))))  # fmt: skip
            continue
        values = []
        for row in items:
            y = row["value"] if row["unit"] == MODEL_SPACE else scaling.to_model(row["value"])
            if not MODEL_RANGE[0] <= y <= MODEL_RANGE[1]:
                covers = (f"{_g(min(scaling.at_0, scaling.at_1))}-"
                          f"{_g(max(scaling.at_0, scaling.at_1))} {scaling.unit}" if scaling
                          else "0-1")  # fmt: skip
                notes.append(tr("{feature} {value} {unit} on {date} lies far outside the range "
                                "the model covers ({covers}): not used").format(
                    feature=feature, value=_g(row["value"]), unit=row["unit"],
                    date=row["date"][:10], covers=covers))  # fmt: skip
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
                shown = ", ".join(_g(float(v), ".3g") for v in _clinical(
                    model, k, np.array([y for _, y in same]))[0])  # fmt: skip
                notes.append(tr("{feature}: {count} values on {date} ({shown}) averaged: check "
                                "for a typing error").format(
                    feature=model.features[k], count=len(same), date=date,
                    shown=shown))  # fmt: skip
    return Observations(ages=ages, values=table), notes


def _g(value: float, spec: str = "g") -> str:
    """`value` formatted by `spec` (a `g` format), with the language's decimal separator."""
    text = format(float(value), spec)
    return text if "e" in text else text.replace(".", number(0.5, 1)[1])


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


def shifted(individual: Individual, params: Mapping[str, Any]) -> Individual:
    """The personalised course moved by `onset_shift_y` (added to tau) and `pace_factor`
    (times e^xi): what a run with uncertainty samples, within the fit's own SDs."""
    shift = float(params.get("onset_shift_y") or 0.0)
    factor = float(params.get("pace_factor") or 1.0)
    if shift == 0.0 and factor == 1.0:
        return individual
    return replace(individual, tau=individual.tau + shift, xi=individual.xi + math.log(factor))


def simulate(params: Mapping[str, Any], inputs: Mapping[str, Any], progress, cancelled) -> Result:
    """One scenario: personalise, project, outcomes, curves and tables."""
    model, digest = model_of(params)
    found, unused, ignored = _feature_values(model, inputs["measurements"])
    if not found:
        measured = sorted({row["name"] for row in inputs["measurements"]}) or [tr("nothing")]
        raise TwinInputError(
            tr("None of the model's features ({features}) is measured in the case (it has: "
               "{measured}). Add the visits' scores in the Measurements view, named as the "
               "model names them.").format(
                features=", ".join(model.features), measured=", ".join(measured)) + (
                " " + "; ".join(unused) if unused else "")
        )  # fmt: skip
    observed, duplicates = observations(model, found)
    unused += duplicates
    progress(0.1, tr("personalising"))
    individual = shifted(personalize(model, observed), params)
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
                tr(
                    "The treatment start {start} is before the last visit ({last}): a therapy "
                    "is projected from now on."
                ).format(start=params["treatment_start"], last=last_date)
            )
        effect = float(params["effect_pct"]) / 100.0
    progress(0.4, tr("projecting"))
    best, runs = _curves(model, individual, ages, start, effect or 0.0)
    if cancelled():
        raise Cancelled()
    result = Result(outcomes={})
    result.outcomes["estimated_onset_age_y"] = float(individual.tau)
    result.outcomes["progression_pace"] = float(np.exp(individual.xi))
    used = ", ".join(model.features[k] for k in sorted(found))
    how_many = tr("from {visits} visit(s), {values} value(s) of {features} feature(s): "
                  "{used}").format(visits=individual.n_visits, values=individual.n_values,
                                   features=len(found), used=used)  # fmt: skip
    result.notes["estimated_onset_age_y"] = tr("±{sd} y (1 SD) {how_many}").format(
        sd=number(individual.sd("tau"), 1), how_many=how_many)  # fmt: skip
    pace_sd = float(np.exp(individual.xi) * individual.sd("xi"))
    result.notes["progression_pace"] = tr("±{sd} (1 SD); 1 = the population's pace").format(
        sd=number(pace_sd, 2))
    _feature_outcomes(result, model, found, ages, best, horizon)
    _milestone(result, params, model, found, ages, best, last_age, horizon)
    result.outcomes["time_gained_y"] = time_gained(horizon, start, effect or 0.0)
    if therapy is not None:
        result.notes["time_gained_y"] = tr(
            "{therapy} from {start}, {effect} % slower; the untreated course reaches this stage "
            "that much earlier ({source})"
        ).format(therapy=therapy.code, start=params["treatment_start"],
                 effect=_g(params["effect_pct"]), source=TIME_SAVED)
    result.series = _series(model, found, ages, best, runs, params)
    result.tables = _tables(model, individual, found, ages, best, horizon, digest, params)
    if ignored:
        result.tables["ignored"] = Table(
            tr("Case measures the model does not have (not used)"), (tr("measure"),),
            [(name,) for name in ignored])  # fmt: skip
    result.warnings = _warnings(model, individual, unused, inputs, therapy, params)
    progress(1.0, tr("done"))
    return result


def _feature_outcomes(result, model, found, ages, best, horizon) -> None:
    at = int(np.argmin(np.abs(ages - horizon)))
    for name, feature in FEATURE_OUTCOMES.items():
        k = model.feature_index(feature)
        if k is None:
            result.outcomes[name] = None
            result.notes[name] = tr("the model has no {feature}").format(feature=feature)
            continue
        value, unit = _clinical(model, k, best[at, k])
        if unit != "points":
            result.outcomes[name] = None
            result.notes[name] = tr("the model gives {feature} in its 0-1 space only ({value}; "
                                    "no scaling to points)").format(
                feature=feature, value=number(float(value), 3))  # fmt: skip
            continue
        result.outcomes[name] = float(value)
        if k not in found:
            result.notes[name] = tr("{feature} is not measured in this case: {why}").format(
                feature=feature, why=tr(UNMEASURED))


def _milestone(result, params, model, found, ages, best, last_age, horizon) -> None:
    feature = str(params["milestone_feature"])
    threshold = float(params["milestone_threshold"])
    direction, source = MILESTONES[feature]
    name = "years_to_milestone"
    k = model.feature_index(feature)
    if k is None:
        result.outcomes[name] = None
        result.notes[name] = tr("the model has no {feature}: choose another milestone").format(
            feature=feature)
        return
    values, unit = _clinical(model, k, best[:, k])
    if unit == MODEL_SPACE:
        result.outcomes[name] = None
        result.notes[name] = tr("{feature} has no scaling to clinical units in this model").format(
            feature=feature)
        return
    future = ages >= last_age - 1e-9  # the grid holds the last visit's age exactly
    worse_down = direction == "below"
    # in clinical units: "below" (MMSE) crosses downwards; a scaling may invert the axis
    crossed = _crossing(ages[future], values[future], threshold, below=worse_down)
    sign = "<=" if worse_down else ">="
    unmeasured = "" if k in found else "; " + tr(
        "{feature} is not measured in this case: {why}").format(feature=feature, why=tr(UNMEASURED))
    if crossed is None:
        result.outcomes[name] = None
        result.notes[name] = tr("{feature} {sign} {threshold} not reached within the "
                                "{horizon}-year horizon{unmeasured}").format(
            feature=feature, sign=sign, threshold=_g(threshold), horizon=_g(horizon - last_age),
            unmeasured=unmeasured)  # fmt: skip
        return
    result.outcomes[name] = max(crossed - last_age, 0.0)
    if crossed <= last_age + 1e-9:
        result.notes[name] = tr("{feature} {sign} {threshold} already reached at the last "
                                "visit (fitted course){unmeasured}").format(
            feature=feature, sign=sign, threshold=_g(threshold), unmeasured=unmeasured)  # fmt: skip
        return
    result.notes[name] = tr("{feature} {sign} {threshold} from the last visit; {source}"
                            "{unmeasured}").format(feature=feature, sign=sign,
                                                   threshold=_g(threshold), source=tr(source),
                                                   unmeasured=unmeasured)


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
            guides = ((tr("milestone"), float(params["milestone_threshold"])),)
        out[name] = TimeSeries(
            label=name, unit=unit, time=ages, values=values, time_unit="years", x_label=tr("age"),
            observed_time=observed_ages, observed_values=observed,
            lower=np.minimum(lower, upper), upper=np.maximum(lower, upper), band_label=tr(BAND),
            guides=guides,
        )  # fmt: skip
    return out


def _tables(model, individual: Individual, found, ages, best, horizon, digest, params):
    at = int(np.argmin(np.abs(ages - horizon)))
    names = [tr("xi (log pace)"), tr("tau (years)")] + [
        tr("source {n}").format(n=n + 1) for n in range(len(individual.sources))
    ]
    values = [individual.xi, individual.tau, *individual.sources]
    keys = ["xi", "tau"] + [f"sources_{n}" for n in range(len(individual.sources))]
    parameters = Table(
        tr("Individual parameters (MAP, Laplace SD)"),
        (tr("parameter"), tr("value"), "SD", tr("population mean"), tr("population SD")),
        [(name, number(value, 3), number(individual.sd(key), 3), pop_mean, pop_sd)
         for name, value, key, (pop_mean, pop_sd) in zip(
             names, values, keys,
             [(number(model.xi_mean, 3), number(model.xi_std, 3)),
              (number(model.tau_mean, 2), number(model.tau_std, 2))]
             + [(_g(mean), _g(model.sources_std)) for mean in model.sources_mean],
             strict=True)],
    )  # fmt: skip
    rows = []
    for k, feature in enumerate(model.features):
        value, unit = _clinical(model, k, best[at, k])
        count = len(found.get(k, []))
        data = tr("measured") if count else tr("not measured: the model's course for this patient")
        rows.append((feature, count, _g(float(value), ".4g"), unit, data))
    features = Table(
        tr("Features at the horizon (age {age})").format(age=number(horizon, 1)),
        (tr("feature"), tr("values used"), tr("predicted"), tr("unit"), tr("data")),
        rows,
    )
    file = str(params.get("model_file") or BUILT_IN)
    about = Table(
        tr("Disease-course model"),
        (tr("item"), tr("value")),
        [(tr("model"), model.label or tr("Leaspy logistic model")), (tr("file"), Path(file).name),
         ("SHA-256", digest[:16]), (tr("licence"), model.licence or tr("not stated")),
         (tr("source"), model.source or tr("not stated")),
         (tr("features"), ", ".join(model.features)),
         (tr("sources (space shifts)"), str(len(individual.sources)))],
    )  # fmt: skip
    return {"parameters": parameters, "features": features, "model": about}


def _warnings(model, individual, unused, inputs, therapy, params) -> list[str]:
    out = []
    if model.demonstration:
        out.append(tr("DEMONSTRATION MODEL: {label}.").format(label=model.label))
    if not model.scaling:
        out.append(
            tr(
                "The model file has no scaling to clinical units: the case's values must be "
                "in the model's 0-1 space (unit '0-1') and results are shown in it."
            )
        )
    if individual.n_visits == 1:
        out.append(tr("One visit only: the time shift and pace are mostly the population's, "
                      "with wide uncertainty; repeated visits narrow it."))  # fmt: skip
    if abs(individual.tau - model.tau_mean) > 3.0 * model.tau_std:
        out.append(
            tr(
                "The estimated onset age {tau} is more than 3 SD from the model population's "
                "({mean} ± {sd} y): the course is extrapolated beyond the population the model "
                "was fitted on."
            ).format(tau=number(individual.tau, 1), mean=number(model.tau_mean, 1),
                     sd=number(model.tau_std, 1))
        )
    if not individual.converged:
        out.append(tr("The personalisation did not converge ({message}): read the "
                      "individual parameters with caution.").format(
            message=individual.message))  # fmt: skip
    out += [tr("Not used: {note}.").format(note=note) for note in unused]
    if inputs.get("ages_from", "").startswith(("no date of birth", "the age in the clinical")):
        text = ages_text(inputs["ages_from"])
        out.append(text[0].upper() + text[1:] + ".")
    if therapy is not None:
        out.append(
            tr(
                "{therapy}: modelled as a {effect} % slowing of the disease course from "
                "{start}, assumed to persist beyond the trial's 18 months ({source})."
            ).format(therapy=tr(therapy.label), effect=_g(float(params["effect_pct"])),
                     start=params["treatment_start"], source=therapy.effect_source)
        )
        out += eligibility(
            therapy, last_mmse=inputs.get("last_mmse"),
            amyloid_status=inputs.get("amyloid_status", ""),
            amyloid_pet=inputs.get("amyloid_pet", []), apoe=inputs.get("apoe", ""),
            anticoagulated=bool(inputs.get("anticoagulated")),
        )  # fmt: skip
    return out
