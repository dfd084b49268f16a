"""One scenario of the Dravet twin: the child's count model fitted to the diary, the add-on
therapy's effect drawn per simulated future, the regimen's rules, outcomes, curves and tables.

Every scenario of a case draws the same posterior and the same standard-normal patient
responses (a seed), so differences between scenarios are the therapies', not the noise's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
from scipy.stats import norm

from meditwin_desktop.core.twin import (
    Cancelled,
    Result,
    Table,
    TimeSeries,
    TwinInputError,
    number,
    tr,
)

from . import count_model
from .effects import SODIUM_CHANNEL_BLOCKERS, WORSENING, maintenance_dose, therapy_effect, trial_se
from .rules import FINTEPLA_SMPC, NO_ADD_ON, THERAPIES, check_regimen, drug_code
from .trials import ARMS, MEDIAN, short_citation

DAYS_PER_YEAR = 365.25
WORSENING_FOLD = round(math.exp(WORSENING.mu), 6)  # 1.5: the assumed median worsening
INTERVAL = (10.0, 90.0)  # the 80 % interval shown
ECHO_CONTRAINDICATIONS = ("valvular heart disease", "pulmonary arterial hypertension")


def _baseline_per_28d(counts: np.ndarray) -> float:
    reported = counts[~np.isnan(counts)]
    return float(reported.sum() / len(reported) * 28.0)


def _weekly_observed(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convulsive seizures per week over the diary, weeks ending on its last day (time in
    weeks from that day); a week with fewer than 4 reported days is left out, one with 4 to 6
    is scaled to 7 days."""
    weeks = len(counts) // 7
    times, values = [], []
    for w in range(weeks):
        chunk = counts[len(counts) - 7 * (w + 1) : len(counts) - 7 * w]
        reported = chunk[~np.isnan(chunk)]
        if len(reported) >= 4:
            times.append(-(w + 0.5))
            values.append(reported.sum() * 7.0 / len(reported))
    order = np.argsort(times)
    return np.asarray(times)[order], np.asarray(values)[order]


def _current(inputs: Mapping[str, Any]) -> list[tuple[str, float | None]]:
    return [(m["name"], m["mg_kg_day"]) for m in inputs["medications"]]


def add_on_dose(params: Mapping[str, Any]) -> float | None:
    """The add-on's dose in mg/kg/day; None for the label's maintenance dose (a dose of 0) or
    a drug the twin takes no dose for (the sodium-channel blockers)."""
    code = str(params["add_therapy"])
    dose = float(params["dose_mg_kg_day"])
    if code == NO_ADD_ON or not THERAPIES[code].doses or dose == 0.0:
        return None
    return dose


def _therapy_multipliers(
    params: Mapping[str, Any], z: np.ndarray, on_stiripentol: bool
) -> tuple[np.ndarray, Any]:
    """Each future's rate multiplier and the effect used. With the placebo-arm response
    counted, no add-on gets the placebo arm's (the trial of the child's regimen: with or
    without stiripentol) and a drug its whole arm's; without it, no add-on keeps the rate
    (multiplier 1) and a drug gets its added effect only."""
    code = str(params["add_therapy"])
    placebo = bool(params["placebo_response"])
    if code == NO_ADD_ON and not placebo:
        return np.ones_like(z), None
    drug = "placebo" if code == NO_ADD_ON else code
    effect = therapy_effect(drug, add_on_dose(params), on_stiripentol, placebo)
    effect = _within_uncertainty(effect, params, drug, on_stiripentol)
    return np.exp(effect.mu + effect.sigma * z), effect


def _within_uncertainty(effect, params: Mapping[str, Any], drug: str, on_stiripentol: bool):
    """The effect moved where a run with uncertainty samples it: a trial arm by
    `effect_se_shift` standard errors of its estimate (positive: stronger), a sodium-channel
    blocker's assumed worsening to `scb_worsening_fold` (the median child's rate multiplier)."""
    if drug in SODIUM_CHANNEL_BLOCKERS:
        fold = float(params.get("scb_worsening_fold") or WORSENING_FOLD)
        return effect if fold == WORSENING_FOLD else replace(effect, mu=math.log(fold))
    shift = float(params.get("effect_se_shift") or 0.0)
    se = trial_se(drug, add_on_dose(params), on_stiripentol) if shift else 0.0
    return replace(effect, mu=effect.mu - shift * se) if se else effect


def therapy_text(params: Mapping[str, Any], on_stiripentol: bool) -> str:
    """The add-on as the board reads it: 'fenfluramine 0.4 mg/kg/day (the label's dose with
    stiripentol)', 'no add-on'."""
    code = str(params["add_therapy"])
    if code == NO_ADD_ON:
        return tr("no add-on")
    if not THERAPIES[code].doses:
        return code
    dose = add_on_dose(params)
    if dose is not None:
        return tr("{code} {dose} mg/kg/day").format(code=code, dose=_g(dose))
    label = maintenance_dose(code, on_stiripentol)
    on = tr(" with stiripentol") if on_stiripentol and code == "fenfluramine" else ""
    return tr(
        "{code} {label} mg/kg/day (the label's maintenance dose{on})"
    ).format(code=code, label=_g(label), on=on)


def _echo_rules(code: str, echo: str) -> tuple[list[str], list[str]]:
    """(contraindications, monitoring) of fenfluramine from the last echocardiogram."""
    if code != "fenfluramine":
        return [], []
    if echo in ECHO_CONTRAINDICATIONS:
        return [tr(
            "Fenfluramine with {echo} on the last echocardiogram: contraindicated ({value}, "
            "section 4.3)"
        ).format(echo=tr(echo), value=FINTEPLA_SMPC.split(',')[0])], []  # fmt: skip
    if echo != "normal":
        return [], [tr(
            "No normal echocardiogram recorded: one is needed before fenfluramine starts "
            "(enter its result in the Clinical panel)"
        )]  # fmt: skip
    return [], []


def simulate(params: Mapping[str, Any], inputs: Mapping[str, Any], progress, cancelled) -> Result:
    """One scenario: fit, rules, simulated futures, outcomes, curves and tables."""
    counts = np.array([np.nan if v is None else v for v in inputs["convulsive"]], float)
    code = str(params["add_therapy"])
    if code != NO_ADD_ON and (code not in THERAPIES or not THERAPIES[code].add_on):
        known = ", ".join(c for c, t in THERAPIES.items() if t.add_on)
        raise TwinInputError(tr(
            "The twin cannot add '{code}': it knows {known}."
        ).format(code=code, known=known))
    rules = check_regimen(code, add_on_dose(params), inputs["weight_kg"], _current(inputs),
                          inputs["age_y"])  # fmt: skip
    echo_contra, echo_monitoring = _echo_rules(code, inputs["echocardiogram"])
    contraindications = [*rules.contraindications, *echo_contra]
    progress(0.05, tr("fitting the seizure-count model"))
    futures, seed = int(params["futures"]), int(params["seed"])
    posterior = count_model.fit(counts, draws=futures, seed=seed)
    if cancelled():
        raise Cancelled()
    progress(0.5, tr("simulating future diaries"))
    z = np.random.default_rng(seed).standard_normal(len(posterior.draws))
    multipliers, effect = _therapy_multipliers(params, z, rules.on_stiripentol)
    days = round(float(params["horizon_weeks"]) * 7)
    rate, dispersion, cluster = posterior.draws.T
    reported = np.flatnonzero(~np.isnan(counts))
    last_state = None
    if len(reported) and reported[-1] == len(counts) - 1:
        last_state = np.full(len(rate), counts[-1] > 0)
    simulated = count_model.simulate_days(
        rate * multipliers, dispersion, cluster, days, np.random.default_rng(seed + 1),
        last_state,
    )  # fmt: skip
    if cancelled():
        raise Cancelled()
    progress(0.9, tr("outcomes"))
    result = Result(outcomes={})
    _outcomes(result, simulated, counts, inputs)
    result.outcomes["contraindications"] = float(len(contraindications))
    if contraindications:
        result.notes["contraindications"] = "; ".join(contraindications)
    result.series["weekly"] = _weekly_series(simulated, counts)
    monitoring = [*rules.monitoring, *echo_monitoring]
    treated = therapy_text(params, rules.on_stiripentol)
    result.notes["convulsive_seizures_per_28d"] = tr("{therapy}: {note}").format(
        therapy=treated, note=result.notes["convulsive_seizures_per_28d"]
    )
    _tables(result, posterior, rules, effect, treated, code, inputs, counts, contraindications,
            monitoring)  # fmt: skip
    _warnings(result, posterior, rules, inputs, counts, contraindications, monitoring)
    return result


def _outcomes(
    result: Result, simulated: np.ndarray, counts: np.ndarray, inputs: Mapping[str, Any]
) -> None:
    days = simulated.shape[1]
    per_28d = simulated.sum(axis=1) / days * 28.0
    baseline = _baseline_per_28d(counts)
    out, notes = result.outcomes, result.notes
    median = float(np.median(per_28d))
    out["convulsive_seizures_per_28d"] = median
    low, high = np.percentile(per_28d, INTERVAL)
    out["convulsive_seizures_per_28d_low"] = float(low)
    out["convulsive_seizures_per_28d_high"] = float(high)
    notes["convulsive_seizures_per_28d"] = (
        tr(
            "median of the simulated futures over {weeks} weeks; 80 % between {low} and "
            "{high}; mean {mean}; the diary's rate was {baseline}"
        ).format(
            weeks=days // 7,
            low=number(low, 1),
            high=number(high, 1),
            mean=number(per_28d.mean(), 1),
            baseline=number(baseline, 1),
        )
    )
    if baseline > 0:
        out["p_responder_50_pct"] = float(np.mean(per_28d <= 0.5 * baseline) * 100.0)
    else:
        out["p_responder_50_pct"] = None
        notes["p_responder_50_pct"] = tr(
            "no convulsive seizure in the diary: no reduction to measure"
        )
    window = min(28, days)
    out["p_seizure_free_28d_pct"] = float(np.mean(simulated[:, :window].sum(axis=1) == 0) * 100)
    out["days_with_seizures_per_28d"] = float(np.mean((simulated > 0).sum(axis=1) / days * 28))
    timed, prolonged = inputs["timed_convulsive"], inputs["prolonged_convulsive"]
    if timed:
        share = (prolonged + 0.5) / (timed + 1.0)  # Jeffreys posterior mean of the share
        out["prolonged_seizures_per_year"] = median / 28.0 * DAYS_PER_YEAR * share
        notes["prolonged_seizures_per_year"] = (
            tr(
                "{prolonged} of {timed} timed convulsive seizures in the diary lasted over 5 "
                "min; the add-on is assumed not to change how long seizures last"
            ).format(prolonged=prolonged, timed=timed)
        )
    else:
        out["prolonged_seizures_per_year"] = None
        notes["prolonged_seizures_per_year"] = tr("the diary gives no seizure durations")


def _weekly_series(simulated: np.ndarray, counts: np.ndarray) -> TimeSeries:
    weeks = simulated.shape[1] // 7
    weekly = simulated[:, : weeks * 7].reshape(len(simulated), weeks, 7).sum(axis=2)
    low, high = np.percentile(weekly, INTERVAL, axis=0)
    observed_time, observed = _weekly_observed(counts)
    return TimeSeries(
        tr("Convulsive seizures per week"), tr("seizures"), np.arange(weeks) + 0.5,
        np.median(weekly, axis=0), time_unit="weeks",
        x_label=tr("weeks from the end of the diary"),
        observed_time=observed_time, observed_values=observed, lower=low, upper=high,
        band_label=tr("80 % of simulated futures"),
    )  # fmt: skip


def _number(value: float, unit: str = "") -> str:
    """A trial number as shown ('not confirmed' where the twin found no source for it)."""
    return tr("not confirmed") if math.isnan(value) else f"{_g(value)}{unit}"


def _evidence_rows(code: str) -> list[tuple]:
    """The pivotal trials of `code`, their placebo arms beside them."""
    trials = {a.trial for a in ARMS if a.drug == code}
    rows = []
    for a in ARMS:
        if a.trial not in trials:
            continue
        reduction = _number(a.median_reduction_pct)
        if a.reduction_statistic != MEDIAN and not math.isnan(a.median_reduction_pct):
            reduction += tr(" (model estimate, not a median)")
        arm = a.drug if a.dose_mg_kg_day is None else tr("{drug} {dose} mg/kg/day").format(
            drug=a.drug, dose=_g(a.dose_mg_kg_day))
        rows.append((short_citation(a.source), arm, a.co_medication, a.n,
                     _number(a.baseline_median_per_28d), reduction,
                     _number(round(a.responders_50_pct, 1))))  # fmt: skip
    return rows


def _tables(
    result: Result,
    posterior,
    rules,
    effect,
    treated: str,
    code: str,
    inputs: Mapping[str, Any],
    counts: np.ndarray,
    contraindications: list[str],
    monitoring: list[str],
) -> None:
    reported = int(np.sum(~np.isnan(counts)))
    rows = [
        (tr("Diary period"), tr("{start} to {end} ({days} days)").format(
            start=inputs["start"], end=inputs["end"], days=len(counts))),
        (tr("Days reported"), tr("{reported} (days without an entry counted as {how})").format(
            reported=reported, how=tr(inputs["unrecorded_days"]))),
        (tr("Convulsive seizures"), f"{int(np.nansum(counts))}"),
        (tr("Convulsive seizures per 28 days"), number(_baseline_per_28d(counts), 1)),
        (tr("Status epilepticus"),
         ", ".join(t[:10] for t in inputs["status_events"]) or tr("none")),
        (tr("Seizures with rescue medication"), str(inputs["rescue_events"])),
        (tr("Repeated entries left out"), str(inputs["duplicates"])),
    ]  # fmt: skip
    rows += [(tr("Note"), note) for note in inputs["shown_diary_notes"]]
    result.tables["diary"] = Table(tr("Seizure diary"), (tr("Item"), tr("Value")), rows)
    result.tables["regimen"] = Table(
        tr("Current regimen"), (tr("Drug"), tr("Dose"), "mg/kg/day", tr("Known to the twin")),
        [(m["name"], f"{_g(m['dose'])} {m['unit']}",
          "" if m["mg_kg_day"] is None else _g(m["mg_kg_day"], ".2g"),
          tr("yes") if drug_code(m["name"]) else tr("no: interactions not checked"))
         for m in inputs["medications"]] or [(tr("none recorded"), "", "", "")],
    )  # fmt: skip
    rate, dispersion, cluster = posterior.draws.T
    low, mid, high = posterior.mean_per_28d
    model_rows = [
        (name, *(_g(v, ".3g") for v in np.percentile(values, (50.0, *INTERVAL))), unit)
        for name, values, unit in (
            (tr("Rate after a seizure-free day"), rate * 28.0, tr("per 28 days")),
            (tr("Over-dispersion (alpha)"), dispersion, ""),
            (tr("Clustering (rate ratio after a seizure day)"), np.exp(cluster), "x"),
        )
    ]
    model_rows.append((tr("Mean convulsive seizures"), _g(mid, ".3g"), _g(low, ".3g"),
                       _g(high, ".3g"), tr("per 28 days")))  # fmt: skip
    result.tables["count_model"] = Table(
        tr("Seizure-count model (posterior median and 80 % interval)"),
        (tr("Parameter"), tr("Median"), "10 %", "90 %", tr("Unit")), model_rows,
    )  # fmt: skip
    if code != NO_ADD_ON and _evidence_rows(code):
        result.tables["evidence"] = Table(
            tr("Trial evidence for this add-on"),
            (tr("Trial"), tr("Arm"), tr("With"), tr("Patients"), tr("Baseline median per 28 d"),
             tr("Median reduction %"), tr("Responders >= 50 % (%)")),
            _evidence_rows(code),
        )  # fmt: skip
    if effect is not None:
        result.tables["effect"] = Table(
            tr("Effect used (each child's rate multiplied by a lognormal factor)"),
            (tr("Therapy"), tr("Median reduction %"), tr("Children with >= 50 % fewer seizures %"),
             tr("Children with more seizures %"), tr("Source")),
            [(treated, number((1 - np.exp(effect.mu)) * 100, 0),
              number(_share_below(effect, 0.5) * 100, 0),
              number((1 - _share_below(effect, 1.0)) * 100, 0), effect.source)],
        )  # fmt: skip
    rule_rows = [(tr("contraindication"), text) for text in contraindications]
    rule_rows += [(tr("monitoring"), text) for text in monitoring]
    rule_rows += [(tr("interaction"), text) for text in rules.interactions]
    rule_rows += [(tr("warning"), text) for text in rules.warnings]
    if rule_rows:
        result.tables["rules"] = Table(
            tr("Rules for this regimen"), (tr("Kind"), tr("Rule")), rule_rows
        )


def _share_below(effect, multiplier: float) -> float:
    """P(M <= multiplier) of a lognormal effect."""
    if effect.sigma <= 0:
        return float(np.exp(effect.mu) <= multiplier)
    return float(norm.cdf((np.log(multiplier) - effect.mu) / effect.sigma))


def _warnings(
    result: Result,
    posterior,
    rules,
    inputs: Mapping[str, Any],
    counts: np.ndarray,
    contraindications: list[str],
    monitoring: list[str],
) -> None:
    warnings = result.warnings
    warnings += [tr("CONTRAINDICATED: {text}").format(text=text) for text in contraindications]
    if inputs["status_events"]:
        dates = ", ".join(t[:10] for t in inputs["status_events"])
        warnings.append(
            tr(
                "Status epilepticus in the diary ({dates}): check that the child's written "
                "emergency (rescue) plan is up to date and with the family and the school "
                "(Wirrell EC et al. Epilepsia 2022;63:1761-1777)."
            ).format(dates=dates)
        )
    warnings += [*monitoring, *rules.interactions, *rules.warnings]
    if inputs["weight_kg"] is None:
        warnings.append(
            tr(
                "No weight in the Clinical panel: doses in mg/day cannot be read per kg and "
                "the labels' daily maxima (mg/day) are not checked."
            )
        )
    others = np.nansum(np.array([np.nan if v is None else v for v in inputs["all_seizures"]],
                                float)) - np.nansum(counts)  # fmt: skip
    if others > 0:
        warnings.append(
            tr(
                "{others} non-convulsive seizures in the diary (myoclonic, absence, focal...) "
                "are not modelled: the trials' endpoint, and these outcomes, are convulsive "
                "seizures."
            ).format(others=number(others, 0))
        )
    warnings += list(posterior.notes)


def _g(value, spec: str = "g") -> str:
    """`value` formatted by `spec` (a `g` format), with the language's decimal separator."""
    text = format(float(value), spec)
    return text if "e" in text else text.replace(".", number(0.5, 1)[1])
