"""Verification of the cardiometabolic / FH twin (twins/cardiometabolic) against published values.

Each test names its reference and tolerance. The model is run directly (no worker process).
Lipids in the references are in mmol/L; the twin takes mg/dL (x 38.67, as the platform does).
"""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pytest
from meditwin_twins.cardiometabolic import MG_DL_PER_MMOL_L, TWIN, personalize, prepare
from meditwin_twins.cardiometabolic.lipids import dlcn_category, dlcn_groups
from meditwin_twins.cardiometabolic.model import simulate

from meditwin_desktop.core.twin import Cancelled, TwinInputError, check_result, names

STABLE_PARAMETERS = [
    "age_y", "sex", "race", "region", "smoker", "diabetes", "total_chol_mg_dl", "hdl_mg_dl",
    "ldl_mg_dl", "sbp_mmhg", "bp_treated", "therapy", "therapy_start_age_y",
    "burden_threshold_mmol_y", "ctt_rr_per_mmol_l",
]  # fmt: skip
STABLE_OUTCOMES = [
    "pce_10y_risk_pct", "score2_10y_risk_pct", "ldl_on_treatment_mg_dl",
    "ldl_burden_at_40_mmol_y", "ldl_burden_at_60_mmol_y", "age_burden_threshold_y",
    "arr_10y_pct", "rrr_pct", "nnt_10y", "dlcn_points",
]  # fmt: skip
THERAPIES = [
    "none", "statin_moderate", "statin_high", "statin_high_ezetimibe",
    "statin_high_ezetimibe_pcsk9i",
]  # fmt: skip
GOFF_EXAMPLE = {"age_y": 55, "total_chol_mg_dl": 213, "hdl_mg_dl": 50, "sbp_mmhg": 120}
GROUPS = {
    ("female", "white"): 0, ("female", "african_american"): 1, ("male", "white"): 2,
    ("male", "african_american"): 3,
}  # fmt: skip


def mg(mmol_l: float) -> float:
    return mmol_l * MG_DL_PER_MMOL_L


def _run(inputs: dict | None = None, **overrides):
    params = TWIN.parameters_for({}, overrides)
    result = simulate(params, inputs or {}, lambda f, m: None, lambda: False)
    check_result(TWIN, result)
    return result


def _score2(sex, region, age, smoker, sbp, tc, hdl, **more) -> float | None:
    """SCORE2 / SCORE2-OP through the twin, lipids given in mmol/L."""
    result = _run(
        sex=sex, region=region, age_y=age, smoker=smoker, sbp_mmhg=sbp,
        total_chol_mg_dl=mg(tc), hdl_mg_dl=mg(hdl), **more,
    )  # fmt: skip
    return result.outcomes["score2_10y_risk_pct"]


# --- Pooled Cohort Equations ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("smoker", "bp_treated", "expected"),
    [
        (False, False, (2.1, 3.0, 5.3, 6.1)),  # Goff 2013 Table A worked example
        (False, True, (2.8, 4.6, 6.3, 9.9)),  # PooledCohort tests: treated SBP 120
        (True, False, (5.0, 5.9, 10.0, 10.3)),  # PooledCohort tests: smoker
    ],
)
def test_pce_worked_example_of_the_2013_guideline(smoker, bp_treated, expected):
    """Goff DC Jr et al., 2013 ACC/AHA risk guideline, Table A worked example: age 55, TC 213,
    HDL 50 mg/dL, SBP 120 mmHg untreated, non-smoker, no diabetes -> 2.1 / 3.0 / 5.3 / 6.1 %
    (white women, African-American women, white men, African-American men). The treated-SBP
    (2.8 / 4.6 / 6.3 / 9.9) and smoker (5.0 / 5.9 / 10.0 / 10.3) variants are the test cases
    of bcjaeger/PooledCohort (tests/testthat/test-predict_10yr_ascvd_risk.R). Tolerance 0.1
    percentage point. White men: exact arithmetic with the Table A coefficients gives 5.38%
    (the printed 5.3% comes from the table's rounded intermediate sums; PooledCohort expects
    5.4), inside the tolerance."""
    for (sex, race), index in GROUPS.items():
        result = _run(sex=sex, race=race, smoker=smoker, bp_treated=bp_treated, **GOFF_EXAMPLE)
        assert result.outcomes["pce_10y_risk_pct"] == pytest.approx(expected[index], abs=0.1)


def test_pce_diabetic_smoker_and_race_other():
    """PooledCohort test case: white man, 54 y, smoker, TC 170, HDL 50 mg/dL, untreated SBP
    157 mmHg, diabetes -> 20.8%; tolerance 0.1 pp (measured 20.85). Race 'other' uses the
    white equations (Goff 2013), identical to 1e-12, with a warning."""
    case = dict(age_y=54, smoker=True, total_chol_mg_dl=170, hdl_mg_dl=50, sbp_mmhg=157)
    white = _run(diabetes=True, **case)
    assert white.outcomes["pce_10y_risk_pct"] == pytest.approx(20.8, abs=0.1)
    other = _run(diabetes=True, race="other", **case)
    assert other.outcomes["pce_10y_risk_pct"] == pytest.approx(
        white.outcomes["pce_10y_risk_pct"], rel=1e-12
    )
    assert any("white equations" in w for w in other.warnings)
    assert not any("white equations" in w for w in white.warnings)


@pytest.mark.parametrize(
    ("override", "what"),
    [
        ({"age_y": 39}, "age 39 y"),
        ({"age_y": 80}, "age 80 y"),
        ({"total_chol_mg_dl": 330}, "total cholesterol 330 mg/dL"),
        ({"hdl_mg_dl": 15}, "HDL cholesterol 15 mg/dL"),
        ({"sbp_mmhg": 210}, "systolic blood pressure 210 mmHg"),
    ],
)
def test_pce_outside_its_validity_is_absent_with_a_warning_naming_the_input(override, what):
    """Goff 2013 validity: age 40-79 y, TC 130-320 mg/dL, HDL 20-100 mg/dL, SBP 90-200 mmHg.
    Outside: no value (shown as the outcome's `absent` text) and a warning naming the input."""
    result = _run(**{**GOFF_EXAMPLE, **override})
    assert result.outcomes["pce_10y_risk_pct"] is None
    assert any(w.startswith("PCE not computed") and what in w for w in result.warnings)
    outcome = next(o for o in TWIN.outcomes if o.name == "pce_10y_risk_pct")
    assert outcome.format(None) == "outside validity (age 40-79; see warnings)"


# --- SCORE2 and SCORE2-OP ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sex", "expected"),
    [("male", (6.31, 8.11, 8.81, 15.06)), ("female", (4.33, 5.23, 7.13, 14.13))],
)
def test_score2_supplementary_table_4_example(sex, expected):
    """SCORE2 (Eur Heart J 2021;42:2439), Supplementary Methods Table 4: age 50, smoker, SBP
    140 mmHg, TC 6.3, HDL 1.4 mmol/L, no diabetes, low / moderate / high / very high region.
    Published 4-decimal coefficients. Tolerance 0.01 pp, the table's precision (measured
    within 0.005 pp; the table rounds each step to 4 decimals)."""
    for region, value in zip(("low", "moderate", "high", "very_high"), expected, strict=True):
        assert _score2(sex, region, 50, True, 140, 6.3, 1.4) == pytest.approx(value, abs=0.01)


def test_score2_abstract_example():
    """SCORE2 abstract: 50-year-old smoker, SBP 140 mmHg, TC 5.5, HDL 1.3 mmol/L: 5.9% (men,
    low-risk region) to 14.0% (men, very high), 4.2% (women, low) to 13.7% (women, very
    high). Tolerance 0.1 pp (measured 5.91, 14.05, 4.22, 13.70)."""
    for sex, low, very_high in (("male", 5.9, 14.0), ("female", 4.2, 13.7)):
        assert _score2(sex, "low", 50, True, 140, 5.5, 1.3) == pytest.approx(low, abs=0.1)
        assert _score2(sex, "very_high", 50, True, 140, 5.5, 1.3) == pytest.approx(
            very_high, abs=0.1
        )


@pytest.mark.parametrize(
    ("sex", "age", "smoker", "sbp", "tc", "hdl", "region", "expected"),
    [
        ("male", 45, False, 110, 5.0, 2.0, "low", 1.1),
        ("female", 45, True, 140, 5.0, 2.0, "very_high", 6.0),
        ("male", 48, True, 160, 8.0, 2.0, "high", 10.0),
        ("male", 75, True, 140, 5.5, 1.3, "low", 18.6),  # SCORE2-OP paper example
        ("female", 75, True, 140, 5.5, 1.3, "low", 15.2),  # SCORE2-OP paper example
        ("male", 75, False, 140, 5.5, 1.3, "low", 13.3),
        ("female", 75, False, 110, 5.0, 2.0, "low", 6.1),
        ("male", 75, True, 140, 5.5, 1.3, "moderate", 23.9),
        ("female", 75, True, 140, 5.5, 1.3, "moderate", 20.0),
        ("male", 75, True, 140, 6.0, 1.3, "high", 29.2),
        ("female", 75, True, 110, 5.0, 2.0, "high", 19.0),
        ("male", 75, True, 140, 6.0, 1.3, "very_high", 40.8),
        ("female", 75, True, 140, 6.0, 1.3, "very_high", 46.2),
    ],
)
def test_score2_and_score2_op_published_test_vectors(
    sex, age, smoker, sbp, tc, hdl, region, expected
):
    """SCORE2-OP (Eur Heart J 2021;42:2455), Supplementary Methods example: 75-year-old
    smoker, SBP 140 mmHg, TC 5.5, HDL 1.3 mmol/L, low-risk region -> men 18.6%, women 15.2%
    (estimateCVRisk expects 18.56 / 15.16). The other rows are the test cases of the R package
    RiskScorescvd (tests/testthat/test-SCORE2_func.R, checked there against heartscore.org).
    Published 4-decimal coefficients and 2-decimal SCORE2-OP scales. Tolerance 0.1 pp."""
    assert _score2(sex, region, age, smoker, sbp, tc, hdl) == pytest.approx(expected, abs=0.1)


def test_score2_validity_refusals_and_the_switch_to_score2_op():
    """SCORE2 covers 40-69 y (Eur Heart J 2021;42:2439), SCORE2-OP 70-89 y (ibid. 2455);
    SCORE2 is not for people with diabetes. Age 39 and 90: no value and a warning naming the
    age; 69 uses SCORE2, 70 SCORE2-OP (named in the risk-reduction warning); diabetes at 60:
    no SCORE2, the PCE still computed."""
    young = _run(age_y=39)
    assert young.outcomes["score2_10y_risk_pct"] is None
    assert any(w.startswith("SCORE2 not computed") and "age 39 y" in w for w in young.warnings)
    assert young.outcomes["arr_10y_pct"] is None and young.outcomes["nnt_10y"] is None
    old = _run(age_y=90)
    assert old.outcomes["score2_10y_risk_pct"] is None
    assert any("SCORE2-OP not computed" in w and "age 90 y" in w for w in old.warnings)
    at_69, at_70 = _run(age_y=69), _run(age_y=70)
    assert any("Risk reduction by SCORE2:" in w for w in at_69.warnings)
    assert any("Risk reduction by SCORE2-OP:" in w for w in at_70.warnings)
    assert at_70.outcomes["score2_10y_risk_pct"] is not None
    diabetic = _run(age_y=60, diabetes=True)
    assert diabetic.outcomes["score2_10y_risk_pct"] is None
    assert diabetic.outcomes["pce_10y_risk_pct"] is not None
    assert any("not for people with diabetes" in w for w in diabetic.warnings)
    assert any("Risk reduction by the PCE" in w for w in diabetic.warnings)
    assert _run(age_y=75, diabetes=True).outcomes["score2_10y_risk_pct"] is not None


# --- Dutch Lipid Clinic Network ------------------------------------------------------------


def test_dlcn_hand_scored_cases_take_the_highest_score_per_group():
    """Nordestgaard 2013, Table 1 (one score per group, the highest applicable): LDL-C 8.6
    mmol/L (8) + tendon xanthomas (6) + corneal arcus (4, same group: capped at 6) = 14,
    definite; both family-history items (1, 2) give 2, both clinical-history items (2, 1)
    give 2; every criterion together gives 2 + 2 + 6 + 8 + 8 = 26. Exact integers."""
    exam = {"tendon_xanthomas": True, "corneal_arcus_before_45": True}
    result = _run(exam, ldl_mg_dl=mg(8.6), total_chol_mg_dl=mg(10.5), hdl_mg_dl=mg(1.2))
    assert result.outcomes["dlcn_points"] == 14.0
    assert any("score 14" in w and "definite familial" in w for w in result.warnings)
    everything = {
        **exam, "family_history_premature_chd": True, "family_history_xanthomas": True,
        "personal_premature_chd": True, "personal_premature_vascular": True,
        "fh_genotype": "LDLR",
    }  # fmt: skip
    groups = dlcn_groups(8.6, everything)
    assert groups == {
        "family history": 2, "clinical history": 2, "physical examination": 6, "LDL-C": 8,
        "DNA": 8,
    }  # fmt: skip
    assert sum(groups.values()) == 26
    assert dlcn_groups(3.0, {"fh_genotype": "negative"})["DNA"] == 0
    assert sum(dlcn_groups(3.9, {}).values()) == 0


@pytest.mark.parametrize(
    ("ldl_mmol_l", "points"),
    [(3.99, 0), (4.0, 1), (4.99, 1), (5.0, 3), (6.49, 3), (6.5, 5), (8.49, 5), (8.5, 8)],
)
def test_dlcn_ldl_bands(ldl_mmol_l, points):
    """Nordestgaard 2013, Table 1 LDL-C bands, read as half-open intervals [4.0, 5.0) 1 point,
    [5.0, 6.5) 3, [6.5, 8.5) 5, >= 8.5 mmol/L 8 (the ESC/EAS 2019 Table 12 reading). Exact."""
    assert dlcn_groups(ldl_mmol_l, {})["LDL-C"] == points


def test_dlcn_category_boundaries_and_the_fh_warning():
    """Categories (Nordestgaard 2013; ESC/EAS 2019 Table 12): definite > 8, probable 6-8,
    possible 3-5, unlikely < 3. Probable or definite FH adds the warning that the risk
    equations are not validated in FH (ESC/EAS 2019); possible FH does not."""
    expected = {
        0: "unlikely", 2: "unlikely", 3: "possible", 5: "possible", 6: "probable",
        8: "probable", 9: "definite", 26: "definite",
    }  # fmt: skip
    assert {points: dlcn_category(points) for points in expected} == expected
    family = {"family_history_premature_chd": True}
    probable = _run(family, ldl_mg_dl=mg(6.6), total_chol_mg_dl=mg(8.3))  # 5 + 1 = 6
    assert probable.outcomes["dlcn_points"] == 6.0
    assert any("probable familial" in w for w in probable.warnings)
    assert any("not validated in familial" in w for w in probable.warnings)
    possible = _run(family, ldl_mg_dl=mg(5.1), total_chol_mg_dl=mg(7.0))  # 3 + 1 = 4
    assert possible.outcomes["dlcn_points"] == 4.0
    assert any("possible familial" in w for w in possible.warnings)
    assert not any("not validated in familial" in w for w in possible.warnings)
    alone = _run(ldl_mg_dl=mg(4.5))  # empty inputs: LDL alone, 1 point
    assert alone.outcomes["dlcn_points"] == 1.0
    assert any("LDL-C alone" in w for w in alone.warnings)


def test_prepare_reads_the_dlcn_findings_and_refuses_an_unknown_genotype():
    """prepare: missing findings are False / unknown, 'yes' / True flags are read, the
    genotype is matched case-insensitively; a causative variant scores 8 (DNA group)."""
    case = SimpleNamespace(
        clinical={"tendon_xanthomas": "yes", "fh_genotype": "apob", "smoker": True}, image=None
    )
    inputs = prepare(case)
    assert inputs["tendon_xanthomas"] is True and inputs["family_history_xanthomas"] is False
    assert inputs["fh_genotype"] == "APOB"
    assert inputs["reference"] == {"smoker": True}
    assert _run(inputs, ldl_mg_dl=mg(3.0)).outcomes["dlcn_points"] == 14.0  # 6 + 8
    assert prepare(SimpleNamespace(clinical={}, image=None))["fh_genotype"] == "unknown"
    with pytest.raises(TwinInputError, match="genotype 'LDL-R'"):
        prepare(SimpleNamespace(clinical={"fh_genotype": "LDL-R"}, image=None))


# --- LDL burden ----------------------------------------------------------------------------


def test_ldl_burden_hand_calculation():
    """Burden = integral of LDL-C over age (mmol/L-years). LDL-C 5.0 mmol/L from birth, a
    high-intensity statin (-50%) from 30 y: at 40 y 5 x 30 + 2.5 x 10 = 175, at 60 y
    5 x 30 + 2.5 x 30 = 225; 160 is reached at 30 + (160 - 150) / 2.5 = 34.0 y. The curve over
    0-100 y carries the threshold as a guide. Tolerance 1e-9 relative."""
    result = _run(ldl_mg_dl=mg(5.0), therapy="statin_high", therapy_start_age_y=30, age_y=50)
    outcomes = result.outcomes
    assert outcomes["ldl_burden_at_40_mmol_y"] == pytest.approx(175.0, rel=1e-9)
    assert outcomes["ldl_burden_at_60_mmol_y"] == pytest.approx(225.0, rel=1e-9)
    assert outcomes["age_burden_threshold_y"] == pytest.approx(34.0, rel=1e-9)
    series = result.series["ldl_burden"]
    assert (series.time_unit, series.x_label, series.unit) == ("years", "age", "mmol/L-years")
    assert series.guides == (("CHD threshold", 160.0),)
    assert series.time[0] == 0.0 and series.time[-1] == 100.0
    assert np.interp(60.0, series.time, series.values) == pytest.approx(225.0, rel=1e-9)
    assert np.all(np.diff(series.values) >= 0)
    untreated = _run(ldl_mg_dl=mg(8.0), therapy_start_age_y=55)  # crossed before therapy
    assert untreated.outcomes["age_burden_threshold_y"] == pytest.approx(20.0, rel=1e-9)


def test_ldl_burden_never_reaching_the_threshold():
    """LDL-C 1.5 mmol/L for life: 1.5 x 100 = 150 < 160 mmol/L-years by age 100 (the model
    horizon), so no age is given ('never (before 100)'); a threshold of 140 is reached at
    140 / 1.5 = 93.3 y. Tolerance 1e-9 relative."""
    never = _run(ldl_mg_dl=mg(1.5), total_chol_mg_dl=150)
    assert never.outcomes["age_burden_threshold_y"] is None
    outcome = next(o for o in TWIN.outcomes if o.name == "age_burden_threshold_y")
    assert outcome.format(None) == "never (before 100)"
    lower = _run(ldl_mg_dl=mg(1.5), total_chol_mg_dl=150, burden_threshold_mmol_y=140)
    assert lower.outcomes["age_burden_threshold_y"] == pytest.approx(140 / 1.5, rel=1e-9)


# --- Therapy -------------------------------------------------------------------------------


def test_combined_therapy_lowers_ldl_multiplicatively():
    """Multiplicative combination of the average LDL-C lowering (high-intensity statin 50%,
    AHA/ACC 2018 Table 3 / ESC 2019; ezetimibe a further 24%, ESC 2019 21-27%; PCSK9
    antibody a further 60%, ESC 2019): remaining 0.5 x 0.76 x 0.4 = 0.152 (84.8% lower),
    statin + ezetimibe 0.38 (62% lower), moderate statin 0.6. Tolerance 1e-9 relative."""
    ldl = 250.0
    remaining = {
        "none": 1.0, "statin_moderate": 0.6, "statin_high": 0.5, "statin_high_ezetimibe": 0.38,
        "statin_high_ezetimibe_pcsk9i": 0.152,
    }  # fmt: skip
    for therapy, fraction in remaining.items():
        result = _run(ldl_mg_dl=ldl, therapy=therapy, total_chol_mg_dl=320)
        assert result.outcomes["ldl_on_treatment_mg_dl"] == pytest.approx(ldl * fraction, rel=1e-9)


def test_ctt_one_mmol_lower_ldl_multiplies_risk_by_0_78():
    """CTT Collaboration, Lancet 2010;376:1670: major vascular events RR 0.78 per 1.0 mmol/L
    LDL-C lowering. LDL-C 2.0 mmol/L halved by a high-intensity statin from now: both
    equations' risks x 0.78, RRR 22%, NNT = 100 / ARR. Therapy starting in 5 years covers
    half the 10-year window: x 0.78^0.5. Tolerance 1e-9 relative. NNT = 100 / ARR rounded up
    to whole people (Altman, BMJ 1998;317:1309)."""
    base = dict(GOFF_EXAMPLE, ldl_mg_dl=mg(2.0))
    off = _run(**base).outcomes
    on = _run(therapy="statin_high", **base).outcomes
    for name in ("pce_10y_risk_pct", "score2_10y_risk_pct"):
        assert on[name] == pytest.approx(off[name] * 0.78, rel=1e-9)
    assert on["rrr_pct"] == pytest.approx(22.0, rel=1e-9)
    assert on["arr_10y_pct"] == pytest.approx(off["score2_10y_risk_pct"] * 0.22, rel=1e-9)
    assert on["nnt_10y"] == math.ceil(100.0 / on["arr_10y_pct"])
    later = _run(therapy="statin_high", therapy_start_age_y=60, **base).outcomes
    assert later["pce_10y_risk_pct"] == pytest.approx(
        off["pce_10y_risk_pct"] * math.sqrt(0.78), rel=1e-9
    )
    assert off["nnt_10y"] is None and off["arr_10y_pct"] == 0.0


def test_more_intensive_therapy_never_raises_risk_or_burden():
    """Monotonicity: along none -> moderate statin -> high statin -> + ezetimibe -> + PCSK9
    antibody, risk, LDL-C and burden never rise, the threshold age never falls (never = 100+)
    and the absolute risk reduction never falls."""
    base = dict(age_y=45, ldl_mg_dl=190, total_chol_mg_dl=280, hdl_mg_dl=45, sbp_mmhg=135)
    runs = [_run(therapy=t, therapy_start_age_y=45, **base).outcomes for t in THERAPIES]
    for lower, higher in itertools.pairwise(runs):
        for name in (
            "pce_10y_risk_pct", "score2_10y_risk_pct", "ldl_on_treatment_mg_dl",
            "ldl_burden_at_60_mmol_y",
        ):  # fmt: skip
            assert higher[name] <= lower[name], name
        assert higher["arr_10y_pct"] >= lower["arr_10y_pct"]
        assert (higher["age_burden_threshold_y"] or 101.0) >= (
            lower["age_burden_threshold_y"] or 101.0
        )
    assert runs[-1]["pce_10y_risk_pct"] < runs[0]["pce_10y_risk_pct"]


def test_stopping_smoking_and_lowering_blood_pressure_lower_risk():
    """Through the equations' own coefficients: a smoker who stops (scenario smoker=False)
    has lower PCE and SCORE2 risk; against the case's own smoking (from prepare) that is a
    positive risk reduction and a finite NNT. SBP 160 -> 130 mmHg lowers both risks."""
    inputs = prepare(SimpleNamespace(clinical={"smoker": True, "sbp_mmhg": 160}, image=None))
    smoking = _run(inputs, smoker=True, sbp_mmhg=160).outcomes
    stopped = _run(inputs, smoker=False, sbp_mmhg=160)
    for name in ("pce_10y_risk_pct", "score2_10y_risk_pct"):
        assert stopped.outcomes[name] < smoking[name]
    assert stopped.outcomes["arr_10y_pct"] == pytest.approx(
        smoking["score2_10y_risk_pct"] - stopped.outcomes["score2_10y_risk_pct"], rel=1e-9
    )
    assert stopped.outcomes["nnt_10y"] > 0
    assert any("case's own blood pressure" in w for w in stopped.warnings)
    controlled = _run(inputs, smoker=True, sbp_mmhg=130).outcomes
    for name in ("pce_10y_risk_pct", "score2_10y_risk_pct"):
        assert controlled[name] < smoking[name]


# --- Declaration and personalisation -------------------------------------------------------


def test_declaration_names_units_and_a_default_run_pass_the_contract():
    """The TWIN declaration: stable parameter and outcome names, every parameter with a
    label, source and (numbers) a unit and range; flags default False and accept 'true' /
    'false'; a default run passes check_result; simulate honours cancellation."""
    assert (TWIN.id, TWIN.specialty, TWIN.version) == ("cardiometabolic", "cardiology", "1.2")
    assert names(TWIN.parameters) == STABLE_PARAMETERS
    assert names(TWIN.outcomes) == STABLE_OUTCOMES
    for p in TWIN.parameters:
        assert p.label and p.source, p.name
        if p.kind == "number":
            assert p.unit and p.minimum is not None and p.maximum is not None, p.name
        if p.kind == "flag":
            assert p.default is False
            assert p.validate("true") is True and p.validate("false") is False
    assert {o.name for o in TWIN.outcomes if o.optional} == {
        "pce_10y_risk_pct", "score2_10y_risk_pct", "age_burden_threshold_y", "arr_10y_pct",
        "rrr_pct", "nnt_10y",
    }  # fmt: skip
    check_result(TWIN, simulate(TWIN.parameters_for({}, {}), {}, lambda f, m: None, lambda: False))
    assert TWIN.parameter("therapy").choices == tuple(THERAPIES)
    with pytest.raises(Cancelled):
        simulate(TWIN.parameters_for({}, {}), {}, lambda f, m: None, lambda: True)
    assert MG_DL_PER_MMOL_L == 38.67


def test_personalize_takes_the_clinical_form_and_starts_therapy_now():
    """personalize: each parameter present in case.clinical under its own name, provenance
    'from the clinical form'; therapy starts at the current age unless given. A case missing
    a required value is flagged by Twin.missing."""
    clinical = {
        "age_y": 48, "sex": "female", "total_chol_mg_dl": 290, "hdl_mg_dl": 55,
        "ldl_mg_dl": 210, "sbp_mmhg": 128, "smoker": True, "region": "low",
        "tendon_xanthomas": True,
    }  # fmt: skip
    case = SimpleNamespace(clinical=clinical, image=None, labels=None)
    values = personalize(case)
    assert {k: v.value for k, v in values.items()} == {
        **{k: v for k, v in clinical.items() if k != "tendon_xanthomas"},
        "therapy_start_age_y": 48,
    }
    assert values["sex"].provenance == "from the clinical form"
    assert "starts now" in values["therapy_start_age_y"].provenance
    assert TWIN.missing(case) == []
    baseline = {k: v.value for k, v in values.items()}
    result = simulate(
        TWIN.parameters_for(baseline, {}), prepare(case), lambda f, m: None, lambda: False
    )
    check_result(TWIN, result)
    assert result.outcomes["dlcn_points"] == 9.0  # 6 (xanthomas) + 3 (LDL 5.4 mmol/L)
    given = personalize(SimpleNamespace(clinical={"age_y": 48, "therapy_start_age_y": 30}))
    assert given["therapy_start_age_y"].value == 30
    incomplete = SimpleNamespace(clinical={"age_y": 48}, image=None, labels=None)
    assert any("ldl_mg_dl" in reason for reason in TWIN.missing(incomplete))
