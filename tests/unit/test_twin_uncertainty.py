"""Every shipped twin declares its uncertain inputs (issue 24, point 1), the conformance check
reports a broken declaration, and a run with uncertainty of the fast twins gives intervals.

The runs are in-process (core.uncertainty.design + run_parts + summarise, as a worker would
run them) on the demo cases, or, where a demo case would first write the whole demo library
(about 15 s), on the same patient without its images: the Alzheimer visits and the Dravet
diary as the demo draws them, a tumour follow-up shaped as the demo's (PR, then PD). The
retinal twin (about 6 s for its first run) and the liver and VT twins (seconds to minutes per
run) are left to `meditwin run ... --uncertainty` by hand (README of each twin).

With 16 Latin-hypercube samples the 5-95 % interval of an outcome that rises or falls with
every sampled input contains the nominal run's value (the inputs' centre) unless the samples
are very lopsided; the assertions are on such outcomes only.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from importlib.metadata import entry_points

import pytest

from meditwin_desktop.core.case import Case, Event, Measurement, Medication
from meditwin_desktop.core.twin import Uncertain, run_parts, view_of
from meditwin_desktop.core.twin_check import CheckReport, _uncertain, check_twin
from meditwin_desktop.core.uncertainty import UncertaintyPlan, design, summarise
from meditwin_desktop.demo.case import DEMO_CASES, demo_case

SHIPPED = (
    "liver_ablation", "hlhs_norwood", "vt_ablation", "cardiometabolic", "tumor_response",
    "alzheimer", "dravet_epilepsy", "retina_microcirculation",
)  # fmt: skip


def _twin(name: str):
    [entry] = [e for e in entry_points(group="meditwin.twins") if e.name == name]
    return entry.load()


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_twin_declares_two_or_more_sourced_uncertain_inputs(name):
    twin = _twin(name)
    assert len(twin.uncertain) >= 2, name
    for item in twin.uncertain:
        assert twin.parameter(item.name).kind == "number"
        assert len(item.source) > 20, (name, item.name)  # a citation, not a word
    report = CheckReport(twin.id, twin.version)
    _uncertain(twin, report)
    assert not report.problems, report.problems


def test_a_broken_declaration_is_reported_by_check_twin():
    twin = _twin("cardiometabolic")
    broken = replace(twin, uncertain=(
        Uncertain("no_such_parameter", "normal", sd=1.0, source="a paper"),
        Uncertain("therapy", "normal", sd=1.0, source="a paper"),  # a choice
        Uncertain("ldl_mg_dl", "gamma", sd=1.0, source="a paper"),
        Uncertain("hdl_mg_dl", "normal", source="a paper"),  # no spread
        Uncertain("total_chol_mg_dl", "uniform", low=200.0, high=150.0, source="a paper"),
        Uncertain("age_y", "triangular", sd=2.0, source="a paper"),  # no low-high
        Uncertain("sbp_mmhg", "normal", sd=-5.0, source="a paper"),
        Uncertain("ctt_rr_per_mmol_l", "normal", sd=0.01, source=" "),
        Uncertain("ctt_rr_per_mmol_l", "normal", sd=0.01, source="CTT 2010"),
    ))  # fmt: skip
    problems = "\n".join(check_twin(broken).problems)
    for expected in (
        "uncertain input 'no_such_parameter': no parameter of that name",
        "uncertain input 'therapy': a choice parameter, not a number",
        "uncertain input 'ldl_mg_dl': unknown distribution 'gamma'",
        "uncertain input 'hdl_mg_dl': no spread",
        "uncertain input 'total_chol_mg_dl': low must be below high",
        "uncertain input 'age_y': a triangular distribution needs low < high",
        "uncertain input 'sbp_mmhg': sd must be a finite number >= 0",
        "uncertain input 'ctt_rr_per_mmol_l': no source",
        "uncertain input 'ctt_rr_per_mmol_l': declared twice",
    ):
        assert expected in problems, expected
    assert not [p for p in check_twin(twin).problems if "uncertain" in p]


def test_surprising_declarations_get_notes_not_problems():
    twin = _twin("hlhs_norwood")
    odd = replace(twin, uncertain=(
        Uncertain("ventricle_edv_ml", "lognormal", relative_sd=0.2, source="a paper"),
        Uncertain("pvr_scale", "triangular", low=1.5, high=5.0, source="a paper"),
        Uncertain("svr_scale", "lognormal", relative_sd=0.2, from_case=True, source="a paper"),
    ))  # fmt: skip
    report = CheckReport(odd.id, odd.version)
    _uncertain(odd, report)
    notes = "\n".join(report.notes)
    assert not report.problems
    assert "'ventricle_edv_ml': lognormal around the default 0" in notes
    assert "'pvr_scale': its range passes the parameter's" in notes
    assert "'pvr_scale': the default 1 lies outside low-high" in notes
    assert "'svr_scale': relative_sd takes precedence over the case's sd" in notes


# -- runs with uncertainty on the fast twins --------------------------------------------------


def _tumour_case() -> Case:
    """Two liver metastases on FOLFOX, shrinking then regrowing (PR, PR, PD), as the demo:
    Stein's regression-growth with d = 0.02/day, g = 0.004/day."""
    dates = ("2026-01-05", "2026-03-02", "2026-04-27", "2026-06-22")
    case = Case(name="follow-up")
    for name, d0 in {"liver: tumour 1": 30.0, "liver: tumour 2": 16.0}.items():
        for date in dates:
            t = (dt.date.fromisoformat(date) - dt.date.fromisoformat(dates[0])).days
            value = d0 * (math.exp(-0.02 * t) + math.exp(0.004 * t) - 1)
            case.measurements.append(Measurement("longest diameter", round(value, 1), "mm",
                                                 date, name, "typed"))  # fmt: skip
    case.medications.append(Medication("FOLFOX", 1.0, "cycle", dates[0]))
    return case


def _alzheimer_case() -> Case:
    """The demo's memory-clinic patient: her visits' scores, without the MRI and EEG."""
    from meditwin_desktop.demo import alzheimer_visits as visits

    spec = DEMO_CASES["alzheimer-mci"]
    return Case(name="mci", clinical=dict(spec["clinical"]),
                measurements=[*visits.visit_values(), visits.AMYLOID])  # fmt: skip


def _dravet_case() -> Case:
    """The demo's Dravet child: her diary and medications, without the EEG."""
    from meditwin_desktop.demo import dravet_diary as diary

    spec = DEMO_CASES["dravet-child"]
    events: list[Event] = diary.diary_events()
    return Case(name="dravet", clinical=dict(spec["clinical"]), events=events,
                medications=[Medication(**m) for m in spec["medications"]])  # fmt: skip


def _run_with_uncertainty(twin, case, samples: int = 16, **overrides):
    view = view_of(case)
    baseline = twin.personalize(view)
    inputs = twin.prepare(view)
    params = twin.parameters_for({k: p.value for k, p in baseline.items()}, overrides)
    plan = UncertaintyPlan(samples=samples, seed=7,
                           case_sd={k: p.sd for k, p in baseline.items() if p.sd})  # fmt: skip
    sampled = design(twin, params, plan)
    results = [run_parts(twin, run, inputs, lambda *a: None, lambda: False)
               for run in sampled.runs]  # fmt: skip
    return sampled, summarise(twin, plan, sampled, results)


FAST = {  # twin: (case, overrides, outcomes monotone in every sampled input)
    "cardiometabolic": (lambda: demo_case("fh-patient"), {"therapy": "statin_high"},
                        ("ldl_on_treatment_mg_dl", "ldl_burden_at_60_mmol_y")),
    "hlhs_norwood": (lambda: demo_case("neonate-hlhs"), {}, ("svo2_pct", "do2_ml_min_m2")),
    "tumor_response": (_tumour_case, {}, ("sld_mm_at_horizon",)),
    "alzheimer": (_alzheimer_case, {"treatment": "lecanemab"},
                  ("mmse_at_horizon", "time_gained_y")),
    "dravet_epilepsy": (_dravet_case, {"add_therapy": "fenfluramine", "futures": 500.0},
                        ("convulsive_seizures_per_28d", "p_responder_50_pct")),
}  # fmt: skip


@pytest.mark.parametrize("name", FAST)
def test_a_run_with_uncertainty_gives_intervals_around_the_nominal_value(name):
    twin = _twin(name)
    make_case, overrides, monotone = FAST[name]
    sampled, result = _run_with_uncertainty(twin, make_case(), **overrides)
    declared = {u.name for u in twin.uncertain}
    assert set(sampled.inputs) <= declared and len(sampled.inputs) >= 2, sampled.inputs
    assert "16 runs on a Latin hypercube" in result.uncertainty
    for outcome in monotone:
        nominal, spread = result.outcomes[outcome], result.spread[outcome]
        assert spread.samples == 16 and spread.failed == 0
        assert spread.low < spread.high, (outcome, spread)
        assert spread.low <= nominal <= spread.high, (outcome, nominal, spread)


def test_the_fitted_twins_give_their_fits_sd_to_the_run():
    """Alzheimer: the personalisation's Laplace SDs of tau and xi reach the plan (from_case)."""
    twin = _twin("alzheimer")
    baseline = twin.personalize(view_of(_alzheimer_case()))
    tau, xi = baseline["onset_shift_y"], baseline["pace_factor"]
    assert tau.value == 0.0 and 0.0 < tau.sd < 8.4  # tighter than the population prior
    assert xi.value == 1.0 and 0.0 < xi.sd < 0.61
    hlhs = _twin("hlhs_norwood").personalize(view_of(demo_case("neonate-hlhs")))
    assert hlhs["svr_scale"].sd == pytest.approx(9.8 / 52.6, abs=0.002)  # a cuff MAP's error


def test_sampling_the_measured_scans_moves_recist_inputs_not_the_plain_run():
    """Tumour: a 0 % measurement error is the plain run; +10 % on the last scan raises the
    projected sum (the declared error is used, not ignored)."""
    twin = _twin("tumor_response")
    case = _tumour_case()
    view = view_of(case)
    baseline = {k: p.value for k, p in twin.personalize(view).items()}
    inputs = twin.prepare(view)

    def sld(**overrides):
        params = twin.parameters_for(baseline, overrides)
        return run_parts(twin, params, inputs, lambda *a: None,
                         lambda: False).outcomes["sld_mm_at_horizon"]  # fmt: skip

    plain = sld()
    assert sld(last_scan_error_pct=0.0) == plain
    assert sld(last_scan_error_pct=10.0) > plain + 1.0
