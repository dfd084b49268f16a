"""The tumour-response twin end to end on small synthetic follow-ups: declaration, RECIST
beside the fits, the scenarios' order, and every bad input the issue names (one scan,
duplicated or missing measurements, mixed units, a change dated before the last scan)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from meditwin_desktop.core.case import Case, Event, Measurement, Medication
from meditwin_desktop.core.twin import TwinInputError, check_result
from meditwin_desktop.core.twin_check import check_twin

from .. import TWIN, personalize, prepare, simulate

DATES = ("2026-01-05", "2026-03-02", "2026-04-27", "2026-06-22")  # baseline, weeks 8, 16, 24
G, D = 0.004, 0.02  # per day: PR at weeks 8 and 16, PD at 24 (as the demo)
LESIONS = {"liver: tumour 1": 30.0, "liver: tumour 2": 16.0}


def _diameter(d0: float, date: str) -> float:
    t = (dt.date.fromisoformat(date) - dt.date.fromisoformat(DATES[0])).days
    return d0 * (np.exp(-D * t) + np.exp(G * t) - 1)


def _case(dates=DATES, lesions=LESIONS, unit="mm", therapy=True) -> Case:
    case = Case(name="follow-up")
    scale = 0.1 if unit == "cm" else 1.0
    for name, d0 in lesions.items():
        for date in dates:
            case.measurements.append(Measurement("longest diameter", _diameter(d0, date) * scale,
                                                 unit, date, name, "typed"))  # fmt: skip
    if therapy:
        case.medications.append(Medication("FOLFOX", 1.0, "cycle", DATES[0]))
    return case


def _run(case: Case, **overrides):
    baseline = {k: v.value for k, v in personalize(case).items()}
    params = TWIN.parameters_for(baseline, overrides)
    result = simulate(params, prepare(case), lambda *a: None, lambda: False)
    check_result(TWIN, result)
    return result


def test_the_declaration_conforms_to_the_contract():
    report = check_twin(TWIN)
    assert report.ok, report.problems
    assert {o.name for o in TWIN.outcomes} >= {
        "growth_rate_g_per_day", "decay_rate_d_per_day", "sld_mm_at_horizon",
        "sld_change_pct_at_horizon", "time_to_progression_days", "nadir_sld_mm",
        "recist_last",
    }  # fmt: skip


def test_recist_and_the_rates_of_a_noiseless_follow_up():
    result = _run(_case())
    assert result.outcomes["recist_last"] == "PD"
    categories = [row[5] for row in result.tables["recist"].rows[:4]]
    assert categories == ["baseline", "PR", "PR", "PD"]  # week 16: -33 % from baseline
    # noiseless data of the gd model: the rates come back (tumgr selects gd)
    assert result.outcomes["growth_rate_g_per_day"] == pytest.approx(G, rel=1e-3)
    assert result.outcomes["decay_rate_d_per_day"] == pytest.approx(D, rel=1e-3)
    assert result.outcomes["nadir_sld_mm"] == pytest.approx(sum(
        _diameter(d0, DATES[1]) for d0 in LESIONS.values()))  # fmt: skip
    series = result.series["sld"]
    assert series.lower is not None and np.all(series.lower <= series.values + 1e-9)
    assert np.all(series.upper >= series.values - 1e-9)
    assert set(result.charts) == {"waterfall", "spider"}
    assert result.charts["waterfall"].lines["best change from baseline"][0] == pytest.approx(
        100 * (_diameter(30.0, DATES[1]) / 30.0 - 1)
    )
    assert {"lesion liver tumour 1", "lesion liver tumour 2"} <= set(result.series)
    assert result.series["lesion liver tumour 1"].label == "Lesion liver: tumour 1"


def test_the_scenarios_order_as_the_model_says():
    case = _case()
    go_on = _run(case).outcomes["sld_mm_at_horizon"]
    holiday = _run(case, therapy="stop").outcomes["sld_mm_at_horizon"]
    switch = _run(case, therapy="switch").outcomes["sld_mm_at_horizon"]
    ablate = _run(case, local_lesion="1").outcomes["sld_mm_at_horizon"]
    assert holiday >= go_on  # the regressing part stops regressing
    assert switch < go_on  # a new kill term
    assert ablate < go_on - 20  # the 30 mm lesion leaves the sum
    assert _run(case).outcomes == _run(case).outcomes  # deterministic (seeded bands)


def test_a_single_scan_shows_recist_and_refuses_the_fit_with_the_reason():
    result = _run(_case(dates=DATES[:1]))
    assert result.outcomes["recist_last"] is None
    assert "only the baseline" in result.notes["recist_last"]
    assert result.outcomes["growth_rate_g_per_day"] is None
    assert "at least two scans" in result.notes["growth_rate_g_per_day"]
    assert "sld" not in result.series


def test_a_lesion_missing_at_one_scan_makes_it_not_evaluable_and_leaves_it_out_of_the_fit():
    case = _case()
    case.measurements = [m for m in case.measurements
                         if not (m.target == "liver: tumour 2" and m.date == DATES[2])]  # fmt: skip
    result = _run(case)
    assert [row[5] for row in result.tables["recist"].rows[:4]] == ["baseline", "PR", "NE", "PD"]
    assert any("Left out of the fit" in w and DATES[2] in w for w in result.warnings)


def test_centimetres_are_converted_and_implausible_values_refused():
    assert _run(_case(unit="cm")).outcomes["nadir_sld_mm"] == pytest.approx(
        _run(_case()).outcomes["nadir_sld_mm"])  # fmt: skip
    case = _case()
    case.measurements[0].value = 4000.0  # micrometres typed as mm
    with pytest.raises(TwinInputError, match="not a plausible diameter"):
        prepare(case)


def test_duplicated_measurements_and_unnamed_lesions_get_a_clear_message():
    case = _case()
    extra = Measurement("longest diameter", 33.0, "mm", DATES[1], "liver: tumour 1", "ruler")
    case.measurements.append(extra)
    with pytest.raises(TwinInputError, match="two longest diameters on 2026-03-02"):
        prepare(case)
    case.measurements[-1] = Measurement("longest diameter", 33.0, "mm", DATES[1], "", "ruler")
    with pytest.raises(TwinInputError, match="names no lesion"):
        prepare(case)


def test_a_change_before_the_last_scan_and_a_missing_lesion_number_are_refused():
    case = _case()
    with pytest.raises(TwinInputError, match="before the last scan"):
        _run(case, therapy="stop", change_date="2026-02-01")
    with pytest.raises(TwinInputError, match="has 2 target lesion"):
        _run(case, local_lesion="4")


def test_a_new_lesion_is_progression_whatever_the_diameters():
    case = _case(dates=DATES[:2])
    case.events.append(Event("2026-03-02", "new lesion", note="segment II"))
    result = _run(case)
    assert result.outcomes["recist_last"] == "PD"
    assert "new lesion" in result.tables["recist"].rows[1][6]


def test_without_treatment_periods_tgi_falls_back_to_stein_and_says_so():
    case = _case(therapy=False)
    result = _run(case, model="tgi")
    assert result.outcomes["sld_mm_at_horizon"] == _run(case).outcomes["sld_mm_at_horizon"]
    assert any("treatment periods" in w for w in result.warnings)
    assert any("Stein model instead" in w for w in result.warnings)
    holiday = _run(case, therapy="stop")  # nothing recorded to stop: said
    assert any("No treatment is recorded as ongoing" in w for w in holiday.warnings)


def test_a_complete_response_gives_no_projected_number():
    case = Case(name="cr")
    for name, values in (("liver: a", (40, 10, 0)), ("liver: b", (20, 5, 0))):
        for date, value in zip(DATES, values, strict=False):
            case.measurements.append(Measurement("longest diameter", float(value), "mm", date,
                                                 name, "typed"))  # fmt: skip
    result = _run(case)
    assert result.outcomes["recist_last"] == "CR"
    for name in ("sld_mm_at_horizon", "time_to_progression_days"):
        assert result.outcomes[name] is None and "complete response" in result.notes[name]


def test_unnamed_organs_and_mixed_units_are_said():
    case = Case(name="csv")
    for name, d0 in (("T1", 40.0), ("T2", 30.0), ("T3", 25.0)):
        for n, date in enumerate(DATES[:3]):
            unit, scale = ("cm", 0.1) if n == 1 else ("mm", 1.0)
            case.measurements.append(Measurement("longest diameter", d0 * scale * (1 - 0.1 * n),
                                                 unit, date, name, "CSV"))  # fmt: skip
    result = _run(case)
    assert result.tables["recist"].rows[0][2] == pytest.approx(95.0)  # all three: targets
    assert any("name no organ" in w for w in result.warnings)
    assert any("cm, mm: all converted to mm" in w for w in result.warnings)


def test_local_treatment_is_said_beside_the_change_it_makes():
    result = _run(_case(), local_lesion="1")
    assert "treated locally leaves the sum" in result.notes["sld_change_pct_at_horizon"]
    series = result.series["sld"]
    last = np.searchsorted(series.time, 168.0)
    assert series.values[last] == pytest.approx(series.observed_values[-1], abs=1.0)


def test_both_diameters_of_a_lesion_are_read_as_recist_reads_them():
    """A CSV with a long-axis and a short-axis column gives both for every lesion: a liver
    metastasis is followed by its longest diameter, a lymph node by its short axis."""
    case = _case()
    for m in list(case.measurements):
        case.measurements.append(Measurement("short axis", m.value * 0.6, "mm", m.date,
                                             m.target, "CSV"))  # fmt: skip
    for date, long, short in zip(DATES, (30, 25, 22, 28), (18, 12, 9, 14), strict=True):
        case.measurements += [Measurement("longest diameter", long, "mm", date,
                                          "lymph node: hilar", "CSV"),
                              Measurement("short axis", short, "mm", date,
                                          "lymph node: hilar", "CSV")]  # fmt: skip
    result = _run(case)
    baseline = result.tables["recist"].rows[0]
    assert baseline[2] == pytest.approx(30.0 + 16.0 + 18.0)  # two longest + the node's short
    assert any("both diameters given" in w for w in result.warnings)
