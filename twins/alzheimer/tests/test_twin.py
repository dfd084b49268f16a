"""The Alzheimer twin on cases: inputs read from measurements, the scenarios' analytic
properties (a therapy delays the course by exactly r (T - start)), eligibility warnings and
the bad inputs the issue names, each with a clear message."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from meditwin_desktop.core.case import Case, Measurement, Medication
from meditwin_desktop.core.twin import TwinInputError, check_result, view_of

from .. import TWIN
from ..leaspy_model import demo_model_path, example_model_path, load_model
from ..model import BUILT_IN

BIRTH = dt.date(1950, 5, 21)
TRUTH = {"xi": 0.3, "tau": 76.0, "sources": np.array([0.4, -0.6])}
FEATURES = ("MMSE", "RAVLT", "FAQ")


def _case(visits: int = 5, *, noise: bool = False, **clinical) -> Case:
    """A patient drawn from the demo model: yearly visits ending 2026-06-01, clinical units."""
    model = load_model(demo_model_path())
    dates = [dt.date(2026 - visits + 1 + n, 6, 1) for n in range(visits)]
    ages = np.array([(d - BIRTH).days / 365.25 for d in dates])
    values = model.values(ages, TRUTH["xi"], TRUTH["tau"], TRUTH["sources"])
    rng = np.random.default_rng(3)
    measurements = []
    for name in FEATURES:
        k = model.feature_index(name)
        y = values[:, k] + (rng.normal(0, model.noise_std[k], visits) if noise else 0.0)
        y = np.clip(y, 0.0, 1.0)  # a score stays on its scale
        for date, x in zip(dates, model.scaling[name].to_clinical(y), strict=True):
            measurements.append(Measurement(name, float(x), "points", date.isoformat()))
    base = {"age_y": 76, "sex": "female", "birth_date": BIRTH.isoformat(),
            "apoe_genotype": "e3/e4", "amyloid_status": "confirmed (PET)"}  # fmt: skip
    base.update(clinical)
    return Case(name="t", patient_id="t", clinical=base, measurements=measurements)


def _run(case: Case, **overrides):
    view = view_of(case)
    baseline = {k: p.value for k, p in TWIN.personalize(view).items()}
    params = TWIN.parameters_for(baseline, overrides)
    result = TWIN.simulate(params, TWIN.prepare(view), lambda *_: None, lambda: False)
    check_result(TWIN, result)
    return params, result


def test_noise_free_visits_give_back_the_truth():
    _, result = _run(_case())
    assert result.outcomes["estimated_onset_age_y"] == pytest.approx(TRUTH["tau"], abs=0.3)
    assert result.outcomes["progression_pace"] == pytest.approx(np.exp(TRUTH["xi"]), rel=0.1)
    assert result.outcomes["time_gained_y"] == 0.0
    assert any("DEMONSTRATION MODEL" in w for w in result.warnings)
    assert set(result.series) == set(FEATURES)
    mmse = result.series["MMSE"]
    assert mmse.unit == "points" and np.all(mmse.lower <= mmse.values + 1e-9)


def test_a_therapy_delays_the_course_by_its_effect_times_the_time_on_it():
    """Analytic: from the start s, the treated clock is the untreated one r (t - s) later,
    so at the horizon T the treated MMSE equals the untreated MMSE r (T - s) years earlier."""
    case = _case()
    _, none = _run(case, horizon_y=5.0)
    params, treated = _run(case, treatment="lecanemab", horizon_y=5.0)
    assert params["effect_pct"] == 27.0  # the variant default (CLARITY-AD)
    assert treated.outcomes["time_gained_y"] == pytest.approx(0.27 * 5.0, abs=1e-3)
    curve = none.series["MMSE"]
    ages, untreated = curve.time, curve.values
    horizon = ages[-1]
    delayed = np.interp(horizon - 0.27 * 5.0, ages, untreated)
    assert treated.series["MMSE"].values[-1] == pytest.approx(delayed, abs=0.02)
    assert treated.outcomes["mmse_at_horizon"] > none.outcomes["mmse_at_horizon"]
    later = treated.outcomes["years_to_milestone"]
    sooner = none.outcomes["years_to_milestone"]
    assert sooner is not None and (later is None or later > sooner)


def test_uncertainty_shrinks_with_visits():
    _, one = _run(_case(1, noise=True))
    _, five = _run(_case(5, noise=True))
    assert any("One visit only" in w for w in one.warnings)

    def sd(result):
        return float(result.notes["estimated_onset_age_y"].split("±")[1].split()[0])

    assert sd(one) > sd(five)
    assert "1 visit(s)" in one.notes["estimated_onset_age_y"]


def test_eligibility_warnings():
    case = _case(apoe_genotype="e4/e4", amyloid_status="negative")
    case.medications.append(Medication("apixaban", 5.0, "mg", "2024-01-01"))
    case.measurements.append(Measurement("MMSE", 18.0, "points", "2026-06-02"))
    _, result = _run(case, treatment="donanemab")
    text = " ".join(result.warnings)
    assert "negative" in text and "homozygous" in text and "anticoagulant" in text
    assert "outside TRAILBLAZER-ALZ 2's range 20-28" in text


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda c: c.measurements.append(Measurement("MMSE", 34, "points", "2025-01-01")),
         "MMSE 34 on 2025-01-01 is outside its scale (0-30)"),
        (lambda c: c.measurements.append(Measurement("MMSE", 25, "points", "2099-01-01")),
         "in the future"),
        (lambda c: c.measurements.append(Measurement("MMSE", 25, "points", "1949-01-01")),
         "before the date of birth"),
        (lambda c: c.measurements.append(Measurement("MMSE", 25, "points", "")),
         "has no date"),
        (lambda c: c.clinical.pop("birth_date") and c.clinical.pop("age_y"),
         "date of birth"),
    ],
)  # fmt: skip
def test_bad_inputs_get_clear_messages(change, words):
    case = _case()
    change(case)
    with pytest.raises(TwinInputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        _run(case)


def test_a_model_file_that_is_not_leaspy_logistic_is_refused(tmp_path):
    data = json.loads(example_model_path().read_text())
    data["name"] = "linear"
    path = tmp_path / "linear.json"
    path.write_text(json.dumps(data))
    with pytest.raises(TwinInputError, match="logistic"):
        _run(_case(), model_file=str(path))


def test_the_raw_leaspy_file_needs_values_in_model_space():
    """Leaspy's own example file has no scaling: points are not used, 0-1 values are."""
    case = _case()
    with pytest.raises(TwinInputError, match="0-1 space"):
        _run(case, model_file=str(example_model_path()))
    for m in case.measurements:
        scaling = load_model(demo_model_path()).scaling[m.name]
        m.value, m.unit = float(scaling.to_model(m.value)), "0-1"
    _, result = _run(case, model_file=str(example_model_path()))
    assert result.outcomes["mmse_at_horizon"] is None  # no scaling to points
    assert "0-1 space" in result.notes["mmse_at_horizon"]
    assert any("no scaling to clinical units" in w for w in result.warnings)
    assert result.outcomes["estimated_onset_age_y"] == pytest.approx(TRUTH["tau"], abs=0.3)


def test_measures_the_model_lacks_are_listed_and_ignored():
    case = _case()
    case.measurements.append(Measurement("Amyloid PET", 78.0, "CL", "2025-06-01"))
    _, result = _run(case)
    assert result.tables["ignored"].rows == [("Amyloid PET",)]
    assert result.outcomes["cdr_sb_at_horizon"] is None
    assert "no CDR-SB" in result.notes["cdr_sb_at_horizon"]


def test_built_in_model_is_the_default():
    assert TWIN.parameter("model_file").default == BUILT_IN


def test_the_therapy_starts_at_its_date_whatever_was_measured_last():
    """An amyloid PET dated after the last score does not move the therapy's start: the
    default start (the last measurement, 2026-11-01) is 0.42 y after the last score."""
    case = _case()
    case.measurements.append(Measurement("Amyloid PET", 78.0, "CL", "2026-11-01"))
    params, result = _run(case, treatment="lecanemab", horizon_y=5.0)
    assert params["treatment_start"] == "2026-11-01"
    on_treatment = 5.0 - (dt.date(2026, 11, 1) - dt.date(2026, 6, 1)).days / 365.25
    assert result.outcomes["time_gained_y"] == pytest.approx(0.27 * on_treatment, abs=1e-6)


def test_a_ratio_given_per_side_is_summed_not_averaged():
    both = _case()
    _, reference = _run(both)
    sided = _case()
    model = load_model(demo_model_path())
    ratio = model.scaling["Hippocampus volume ratio"]
    dates = sorted({m.date for m in sided.measurements})
    ages = np.array([(dt.date.fromisoformat(d) - BIRTH).days / 365.25 for d in dates])
    k = model.feature_index("Hippocampus volume ratio")
    truth = ratio.to_clinical(model.values(ages, TRUTH["xi"], TRUTH["tau"], TRUTH["sources"])[:, k])
    for date, value in zip(dates, truth, strict=True):
        for side in ("left", "right"):
            sided.measurements.append(
                Measurement("Hippocampus volume ratio", value / 2, "fraction", date, side)
            )
    _, result = _run(sided)
    assert any("left + right summed (5 date(s)" in w for w in result.warnings)
    # the sum is the model's ratio: the estimate moves by what the extra feature adds only
    assert result.outcomes["estimated_onset_age_y"] == pytest.approx(TRUTH["tau"], abs=0.3)
    assert reference.outcomes["estimated_onset_age_y"] == pytest.approx(TRUTH["tau"], abs=0.3)


def test_two_values_on_one_date_are_named():
    case = _case()
    case.measurements.append(Measurement("MMSE", 10.0, "points", "2026-06-01"))
    _, result = _run(case)
    assert any("MMSE: 2 values on 2026-06-01" in w and "10" in w for w in result.warnings)


def test_a_value_beyond_the_models_range_is_left_out_with_its_date():
    case = _case()
    case.measurements.append(Measurement("FDG PET", 2.4, "SUVR", "2025-06-01"))
    _, result = _run(case)
    assert any("FDG PET 2.4 SUVR on 2025-06-01 lies far outside the range the model covers "
               "(0.85-1.45 SUVR)" in w for w in result.warnings)  # fmt: skip


def test_a_milestone_already_passed_is_zero_years_and_says_so():
    _, result = _run(_case(), milestone_threshold=27.0)  # MMSE ~25 at the last visit
    assert result.outcomes["years_to_milestone"] == 0.0
    assert "already reached" in result.notes["years_to_milestone"]


def test_an_unmeasured_feature_is_said_to_be_the_models_course():
    case = _case()
    case.measurements = [m for m in case.measurements if m.name != "FAQ"]
    _, result = _run(case, milestone_feature="FAQ")
    assert "FAQ is not measured in this case" in result.notes["years_to_milestone"]


@pytest.mark.parametrize("change", [
    lambda d: d["hyperparameters"].update(sources_mean="x"),
    lambda d: d["parameters"].update(noise_std=["a"]),
    lambda d: d.update(hyperparameters=[1, 2]),
])  # fmt: skip
def test_a_model_file_with_odd_values_gets_a_message(tmp_path, change):
    data = json.loads(example_model_path().read_text())
    change(data)
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(data))
    with pytest.raises(TwinInputError, match=r"odd\.json"):
        load_model(path)


def test_an_age_that_contradicts_the_date_of_birth_is_flagged():
    _, result = _run(_case(age_y=60))
    assert any("does not match the date of birth 1950-05-21" in w for w in result.warnings)
    _, fine = _run(_case())
    assert not any("does not match" in w for w in fine.warnings)
