"""Comparison with clinical meaning (`core.comparison`, `core.units`): outcomes judged
against their declared targets, "best" only beyond the clinical resolution, clinical
rounding, one unit system, on the three clinical twins' own declarations."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from meditwin_desktop.core.case import Run
from meditwin_desktop.core.comparison import (
    MET,
    NEAR,
    OFF,
    STATE_COLOURS,
    best_scenarios,
    cell_text,
    comparison_table,
    outcome_heading,
    plot_bars,
    plot_series,
    ruled_out,
    state_text,
    target_mark,
    target_state,
    target_text,
    value_text,
)
from meditwin_desktop.core.twin import Result, TimeSeries
from meditwin_desktop.core.units import DEFAULT_SYSTEM, in_system, system_unit, user_system
from twins.cardiometabolic import TWIN as CARDIO
from twins.hlhs_norwood import TWIN as NORWOOD
from twins.liver_ablation import TWIN as LIVER


def _run(name: str, outcomes: dict, series: dict | None = None) -> Run:
    result = Result(dict(outcomes), series=series or {})
    return Run("t", "1", name, {}, "", "ok", None, dict(outcomes), 0, "", "", "", result)


def _outcome(twin, name):
    return next(o for o in twin.outcomes if o.name == name)


def test_every_outcome_of_the_clinical_twins_has_a_precision_and_sourced_targets():
    for twin in (CARDIO, NORWOOD, LIVER):
        for outcome in twin.outcomes:
            assert outcome.precision is not None, f"{twin.id}.{outcome.name}: no precision"
            if outcome.target is not None:
                assert outcome.target.source, f"{twin.id}.{outcome.name}: target unsourced"
                assert outcome.resolution > 0, f"{twin.id}.{outcome.name}: no resolution"


def test_saturation_after_norwood_is_a_range_not_higher_is_better():
    sao2, qp_qs = _outcome(NORWOOD, "sao2_pct"), _outcome(NORWOOD, "qp_qs")
    assert sao2.better == "none" and qp_qs.better == "none"
    assert "Barnea" in sao2.target.source and "Barnea" in qp_qs.target.source
    assert [target_state(sao2, v) for v in (80, 92, 74, 60)] == [MET, OFF, NEAR, OFF]
    runs = [_run("BT 3.5", {"sao2_pct": 80.0}), _run("BT 4.0", {"sao2_pct": 90.0})]
    assert best_scenarios(NORWOOD, runs)["sao2_pct"] == set()  # no star for 90 %


def test_a_trivial_pressure_difference_gets_no_star_and_reads_as_zero():
    runs = [
        _run("Baseline", {"aortic_diastolic_mmhg": 40.31}),
        _run("BT 4.0", {"aortic_diastolic_mmhg": 40.22}),  # the Δ -0.09 mmHg
        _run("Sano 5", {"aortic_diastolic_mmhg": 46.0}),
    ]
    outcome = _outcome(NORWOOD, "aortic_diastolic_mmhg")
    assert best_scenarios(NORWOOD, runs)["aortic_diastolic_mmhg"] == {"Sano 5"}
    assert best_scenarios(NORWOOD, runs[:2])["aortic_diastolic_mmhg"] == set()
    assert cell_text(outcome, runs[1], runs[0]) == "40 (Δ 0)"
    assert cell_text(outcome, runs[2], runs[0]) == "46 (Δ +6)"
    shown = [_run("Baseline", {"ejection_fraction_pct": 48.4}),
             _run("BT", {"ejection_fraction_pct": 45.6})]  # fmt: skip
    ejection = _outcome(NORWOOD, "ejection_fraction_pct")
    assert cell_text(ejection, shown[1], shown[0]) == "46 (Δ -2)"  # as read: 48 -> 46
    # exactly one resolution ahead is still the same: "exceeds" means more than
    tied = [_run("a", {"aortic_diastolic_mmhg": 42.0}), _run("b", {"aortic_diastolic_mmhg": 40.0})]
    assert best_scenarios(NORWOOD, tied)["aortic_diastolic_mmhg"] == set()


def test_a_resection_leaving_21_percent_is_red_and_collects_no_stars():
    flr = _outcome(LIVER, "flr_pct")
    assert flr.limit and flr.target.low == 30.0 and "Adams" in flr.target.source
    ablation = _run("Ablation", {"flr_pct": 62.0, "tumor_coverage_pct": 96.0,
                                 "min_margin_mm": 2.0})  # fmt: skip
    resection = _run("Resection", {"flr_pct": 21.0, "tumor_coverage_pct": 100.0,
                                   "min_margin_mm": 10.0})  # fmt: skip
    assert target_state(flr, 21.0) == OFF
    assert ruled_out(LIVER, [ablation, resection]) == {"Resection": ["Future liver remnant"]}
    best = best_scenarios(LIVER, [ablation, resection])
    assert all("Resection" not in names for names in best.values())
    assert best["flr_pct"] == set()  # nobody left to compare the ablation with
    # a second plan that keeps enough liver competes as usual
    wedge = _run("Wedge", {"flr_pct": 45.0, "tumor_coverage_pct": 100.0, "min_margin_mm": 8.0})
    best = best_scenarios(LIVER, [ablation, resection, wedge])
    assert best["min_margin_mm"] == {"Wedge"} and best["flr_pct"] == {"Ablation"}
    assert best_scenarios(LIVER, [ablation, wedge], stale={"Wedge"})["flr_pct"] == set()


def test_amber_is_borderline_within_one_resolution_green_is_met_as_shown():
    flr = _outcome(LIVER, "flr_pct")
    states = [target_state(flr, v) for v in (30.0, 29.6, 29.0, 28.6, 28.4, None)]
    assert states == [MET, MET, NEAR, NEAR, OFF, None]  # 29.6 shows as 30, 28.6 as 29
    assert target_state(_outcome(LIVER, "ablation_volume_ml"), 12.0) is None  # no target


def test_clinical_rounding_nnt_whole_people_and_no_false_precision():
    nnt = _outcome(CARDIO, "nnt_10y")
    assert value_text(nnt, 17.1528) == "17"
    assert value_text(nnt, None) == nnt.absent
    margin = _outcome(LIVER, "min_margin_mm")
    assert value_text(margin, 4.96) == "5.0" and target_state(margin, 4.96) == MET


def test_one_unit_system_for_lipids_in_table_bars_and_curves():
    ldl = _outcome(CARDIO, "ldl_on_treatment_mg_dl")
    burden = _outcome(CARDIO, "ldl_burden_at_40_mmol_y")
    assert DEFAULT_SYSTEM == "mg/dL"  # as the clinical form stores them
    assert system_unit("mg/dL", ldl.label, "mmol/L") == "mmol/L"
    assert system_unit("mmol/L-years", burden.label, "mg/dL") == "mg/dL-years"
    assert system_unit("mmHg", "Mean aortic pressure", "mg/dL") == "mmHg"
    assert in_system(160.0, "mmol/L-years", burden.label, "mg/dL")[0] == pytest.approx(6186.4)
    assert outcome_heading(ldl, "mmol/L") == (
        "LDL-C on treatment [mmol/L] (lower is better; target <= 1.81 mmol/L)"
    )
    assert outcome_heading(burden, "mg/dL").startswith("LDL-C burden at 40 [mg/dL-years]")
    runs = [_run("Baseline", {ldl.name: 240.0}), _run("Statin", {ldl.name: 96.7})]
    assert cell_text(ldl, runs[1], runs[0], "mmol/L") == "2.50 ↑ (Δ -3.71)"
    assert cell_text(ldl, runs[1], runs[0], "mg/dL") == "97 ↑ (Δ -143)"
    axes = Figure().add_subplot(111)
    assert plot_bars(axes, ldl, runs, system="mmol/L", best={"Statin"})
    assert [p.get_height() for p in axes.patches[:2]] == pytest.approx([6.207, 2.501], 1e-3)
    assert "★ 2.50 ↑" in [t.get_text() for t in axes.texts]
    assert axes.get_ylabel() == "mmol/L"
    curve = TimeSeries("Cumulative LDL-C burden", "mmol/L-years", [0, 1], [0.0, 160.0],
                       guides=(("CHD threshold", 160.0),))  # fmt: skip
    axes = Figure().add_subplot(111)
    plot_series(axes, [_run("Baseline", {}, {"burden": curve})], "burden", system="mg/dL")
    assert axes.get_ylabel() == "mg/dL-years" and axes.lines[0].get_ydata()[1] > 6000


def test_bars_take_the_colour_of_their_target_state():
    flr = _outcome(LIVER, "flr_pct")
    runs = [_run("A", {"flr_pct": 62.0}), _run("B", {"flr_pct": 29.0}), _run("C", {"flr_pct": 21})]
    axes = Figure().add_subplot(111)
    plot_bars(axes, flr, runs)
    colours = [to_hex(p.get_facecolor()) for p in axes.patches[:3]]
    assert colours == [STATE_COLOURS[MET], STATE_COLOURS[NEAR], STATE_COLOURS[OFF]]


def test_the_csv_table_shows_rounded_values_beside_the_full_ones():
    nnt = _outcome(CARDIO, "nnt_10y")
    runs = [_run("Baseline", {nnt.name: None}), _run("Statin", {nnt.name: 17.1528})]
    headings, rows = comparison_table(CARDIO, runs, system="mmol/L")
    row = next(r for r in rows if r[0] == nnt.label and r[2] == "Statin")
    shown = dict(zip(headings, row, strict=True))
    assert shown["Shown"] == "17" and shown["Value"] == pytest.approx(17.1528)
    assert shown["Unit"] == "people"


def test_the_report_follows_the_unit_system_chosen_in_the_window(tmp_path, monkeypatch):
    """The window keeps the choice in settings.ini (QSettings, INI format); the report and
    the command line read it there without Qt, through the functions' default."""
    monkeypatch.setenv("MEDITWIN_HOME", str(tmp_path))
    ldl = _outcome(CARDIO, "ldl_on_treatment_mg_dl")
    assert user_system() == DEFAULT_SYSTEM == "mg/dL"  # nothing chosen yet
    assert outcome_heading(ldl).startswith("LDL-C on treatment [mg/dL]")
    (tmp_path / "data" / "settings.ini").write_text(
        "[General]\nlayout=1 x 3\n\n[units]\nsystem=mmol/L\n"
    )
    assert user_system() == "mmol/L"
    assert outcome_heading(ldl).startswith("LDL-C on treatment [mmol/L]")
    assert value_text(ldl, 96.7) == "2.50"
    (tmp_path / "data" / "settings.ini").write_text("[units]\nsystem=furlongs\n")
    assert user_system() == "mg/dL"  # an unknown choice falls back to the default


def test_clinical_values_and_parameters_read_in_the_unit_system():
    from meditwin_desktop.core.units import system_text

    assert system_text(240.0, "mg/dL", "LDL cholesterol (untreated)", "mmol/L") == (
        "6.21",
        "mmol/L",
    )
    assert system_text(240.0, "mg/dL", "LDL cholesterol (untreated)", "mg/dL") is None
    assert system_text(160.0, "mmol/L-years", "LDL-C burden threshold", "mg/dL") == (
        "6186",
        "mg/dL-years",
    )
    assert system_text(84.0, "kg", "Weight", "mmol/L") is None
    assert system_text(None, "mg/dL", "LDL", "mmol/L") is None


def test_the_clinical_resolution_is_said_in_the_shown_unit():
    from meditwin_desktop.core.comparison import resolution_text

    ldl = _outcome(CARDIO, "ldl_on_treatment_mg_dl")
    assert resolution_text(ldl, "mg/dL") == "5 mg/dL"
    assert resolution_text(ldl, "mmol/L") == "0.129 mmol/L"
    assert resolution_text(_outcome(NORWOOD, "aortic_diastolic_mmhg"), None) == "2 mmHg"
    assert resolution_text(_outcome(NORWOOD, "ejection_fraction_pct")) == ""


def test_targets_are_judged_in_the_unit_on_screen():
    """LDL-C 70.45 mg/dL reads 1.82 mmol/L: beside '<= 1.81 mmol/L' it must not be green
    (it was: the target was judged on 70 mg/dL, the value rounded in mg/dL)."""
    ldl = _outcome(CARDIO, "ldl_on_treatment_mg_dl")
    assert target_text(ldl, "mmol/L") == "<= 1.81 mmol/L"
    assert value_text(ldl, 70.45, system="mmol/L") == "1.82"
    assert target_state(ldl, 70.45, "mmol/L") != MET
    assert target_mark(ldl, 70.45, "mmol/L") == "↑"
    assert state_text(ldl, 70.45, "mmol/L").startswith(("Above", "Borderline: above"))
    assert target_state(ldl, 70.45, "mg/dL") == MET  # reads 70, meets '<= 70 mg/dL'
    assert target_mark(ldl, 70.45, "mg/dL") == ""
