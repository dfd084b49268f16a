"""Published 10-year risk equations: ACC/AHA Pooled Cohort Equations and ESC SCORE2 / SCORE2-OP.

Each function returns a probability (0-1) and checks nothing: validity ranges are in
`pce_out_of_range` and `score2_out_of_range`, applied by the model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from meditwin_desktop.core.twin import N_, number, tr

# ACC/AHA Pooled Cohort Equations: Goff DC Jr et al., 2013 ACC/AHA Guideline on the
# Assessment of Cardiovascular Risk, Circulation 2014;129(25 Suppl 2):S49-S73, Table A
# (3-decimal coefficients as printed; cross-checked against cerner/ascvd-risk-calculator and
# bcjaeger/PooledCohort). Natural logs; TC and HDL in mg/dL; SBP in mmHg.
# Keys: ln age, (ln age)^2, ln TC, ln age x ln TC, ln HDL, ln age x ln HDL, ln treated SBP,
# ln age x ln treated SBP, ln untreated SBP, ln age x ln untreated SBP, smoker,
# ln age x smoker, diabetes, mean (coefficient x value), baseline survival S0(10).
PCE = {
    ("female", "white"): {
        "age": -29.799, "age2": 4.884, "tc": 13.540, "age_tc": -3.114, "hdl": -13.578,
        "age_hdl": 3.149, "sbp_t": 2.019, "age_sbp_t": 0.0, "sbp_u": 1.957, "age_sbp_u": 0.0,
        "smoker": 7.574, "age_smoker": -1.665, "diabetes": 0.661, "mean": -29.18,
        "s0": 0.9665,
    },
    ("female", "african_american"): {
        "age": 17.114, "age2": 0.0, "tc": 0.940, "age_tc": 0.0, "hdl": -18.920,
        "age_hdl": 4.475, "sbp_t": 29.291, "age_sbp_t": -6.432, "sbp_u": 27.820,
        "age_sbp_u": -6.087, "smoker": 0.691, "age_smoker": 0.0, "diabetes": 0.874,
        "mean": 86.61, "s0": 0.9533,
    },
    ("male", "white"): {
        "age": 12.344, "age2": 0.0, "tc": 11.853, "age_tc": -2.664, "hdl": -7.990,
        "age_hdl": 1.769, "sbp_t": 1.797, "age_sbp_t": 0.0, "sbp_u": 1.764, "age_sbp_u": 0.0,
        "smoker": 7.837, "age_smoker": -1.795, "diabetes": 0.658, "mean": 61.18,
        "s0": 0.9144,
    },
    ("male", "african_american"): {
        "age": 2.469, "age2": 0.0, "tc": 0.302, "age_tc": 0.0, "hdl": -0.307,
        "age_hdl": 0.0, "sbp_t": 1.916, "age_sbp_t": 0.0, "sbp_u": 1.809, "age_sbp_u": 0.0,
        "smoker": 0.549, "age_smoker": 0.0, "diabetes": 0.645, "mean": 19.54,
        "s0": 0.8954,
    },
}  # fmt: skip

# Validity of the PCE (Goff 2013; the ranges enforced by the Cerner ASCVD app and by
# PooledCohort): (parameter, what, low, high, unit).
PCE_RANGES = (
    ("age_y", N_("age"), 40.0, 79.0, N_("y")),  # what and "y" (years): read through tr()
    ("total_chol_mg_dl", N_("total cholesterol"), 130.0, 320.0, "mg/dL"),
    ("hdl_mg_dl", N_("HDL cholesterol"), 20.0, 100.0, "mg/dL"),
    ("sbp_mmhg", N_("systolic blood pressure"), 90.0, 200.0, "mmHg"),
)

# SCORE2 (age 40-69): SCORE2 working group and ESC Cardiovascular risk collaboration,
# Eur Heart J 2021;42:2439-2454, Supplementary Methods Table 2 (the published 4-decimal
# set; identical in the authors' Stata program skkceu/stata score2risk.ado).
# Centred: cage = (age - 60)/5, csbp = (SBP - 120)/20, ctc = TC - 6, chdl = (HDL - 1.3)/0.5
# (mmol/L, mmHg); 10-year risk = 1 - S0^exp(LP), no mean subtraction.
SCORE2 = {
    "male": {
        "age": 0.3742, "smoker": 0.6012, "sbp": 0.2777, "diabetes": 0.6457, "tc": 0.1458,
        "hdl": -0.2698, "smoker_age": -0.0755, "sbp_age": -0.0255, "tc_age": -0.0281,
        "hdl_age": 0.0426, "diabetes_age": -0.0983, "s0": 0.9605,
    },
    "female": {
        "age": 0.4648, "smoker": 0.7744, "sbp": 0.3131, "diabetes": 0.8096, "tc": 0.1002,
        "hdl": -0.2606, "smoker_age": -0.1088, "sbp_age": -0.0277, "tc_age": -0.0226,
        "hdl_age": 0.0613, "diabetes_age": -0.1272, "s0": 0.9776,
    },
}  # fmt: skip

# SCORE2 regional recalibration (scale1, scale2): same paper, Supplementary Methods Table 3
# (4 decimals). risk = 1 - exp(-exp(scale1 + scale2 ln(-ln(1 - uncalibrated)))).
SCORE2_SCALES = {
    ("male", "low"): (-0.5699, 0.7476),
    ("male", "moderate"): (-0.1565, 0.8009),
    ("male", "high"): (0.3207, 0.9360),
    ("male", "very_high"): (0.5836, 0.8294),
    ("female", "low"): (-0.7380, 0.7019),
    ("female", "moderate"): (-0.3143, 0.7701),
    ("female", "high"): (0.5710, 0.9369),
    ("female", "very_high"): (0.9412, 0.8329),
}

# SCORE2-OP (age >= 70): SCORE2-OP working group and ESC Cardiovascular risk collaboration,
# Eur Heart J 2021;42:2455-2467, Supplementary Methods (published 4-decimal coefficients;
# full-precision values in skkceu/stata score2oprisk.ado differ by up to 0.26 pp).
# Centred: cage = age - 73, csbp = SBP - 150, ctc = TC - 6, chdl = HDL - 1.4 (no divisors);
# risk = 1 - S0^exp(LP - mean LP).
SCORE2_OP = {
    "male": {
        "age": 0.0634, "diabetes": 0.4245, "diabetes_age": -0.0174, "smoker": 0.3524,
        "smoker_age": -0.0247, "sbp": 0.0094, "sbp_age": -0.0005, "tc": 0.0850,
        "tc_age": 0.0073, "hdl": -0.3564, "hdl_age": 0.0091, "mean": 0.0929, "s0": 0.7576,
    },
    "female": {
        "age": 0.0789, "diabetes": 0.6010, "diabetes_age": -0.0107, "smoker": 0.4921,
        "smoker_age": -0.0255, "sbp": 0.0102, "sbp_age": -0.0004, "tc": 0.0605,
        "tc_age": -0.0009, "hdl": -0.3040, "hdl_age": 0.0154, "mean": 0.2288, "s0": 0.8082,
    },
}  # fmt: skip

# SCORE2-OP regional recalibration (2 decimals, as published; same paper).
SCORE2_OP_SCALES = {
    ("male", "low"): (-0.34, 1.19),
    ("male", "moderate"): (0.01, 1.25),
    ("male", "high"): (0.08, 1.15),
    ("male", "very_high"): (0.05, 0.70),
    ("female", "low"): (-0.52, 1.01),
    ("female", "moderate"): (-0.10, 1.10),
    ("female", "high"): (0.38, 1.09),
    ("female", "very_high"): (0.38, 0.69),
}

SCORE2_AGES = (40.0, 69.0)  # SCORE2 (Eur Heart J 2021;42:2439)
SCORE2_OP_AGES = (70.0, 89.0)  # SCORE2-OP (Eur Heart J 2021;42:2455)
# No published input range for SCORE2 lipids and blood pressure was found; this twin applies
# the PCE ranges (in mmol/L: TC 3.36-8.28, HDL 0.52-2.59). The SCORE2 charts span SBP 100-179
# mmHg and non-HDL cholesterol 3.0-6.9 mmol/L.
SCORE2_LIPID_SBP_RANGES = PCE_RANGES[1:]


def pce_10y_risk(
    sex: str,
    race: str,
    age: float,
    tc_mg_dl: float,
    hdl_mg_dl: float,
    sbp_mmhg: float,
    bp_treated: bool,
    smoker: bool,
    diabetes: bool,
) -> float:
    """10-year hard ASCVD risk (0-1); race 'other' uses the white equations (Goff 2013)."""
    c = PCE[(sex, "african_american" if race == "african_american" else "white")]
    la, ltc, lhdl, lsbp = math.log(age), math.log(tc_mg_dl), math.log(hdl_mg_dl), math.log(sbp_mmhg)
    total = c["age"] * la + c["age2"] * la * la
    total += c["tc"] * ltc + c["age_tc"] * la * ltc + c["hdl"] * lhdl + c["age_hdl"] * la * lhdl
    if bp_treated:
        total += c["sbp_t"] * lsbp + c["age_sbp_t"] * la * lsbp
    else:
        total += c["sbp_u"] * lsbp + c["age_sbp_u"] * la * lsbp
    total += (c["smoker"] + c["age_smoker"] * la) * float(smoker) + c["diabetes"] * float(diabetes)
    return 1.0 - c["s0"] ** math.exp(total - c["mean"])


def recalibrate(uncalibrated: float, scales: tuple[float, float]) -> float:
    """SCORE2 regional recalibration of a 10-year risk (0-1)."""
    scale1, scale2 = scales
    return 1.0 - math.exp(-math.exp(scale1 + scale2 * math.log(-math.log(1.0 - uncalibrated))))


def _linear_predictor(c: dict[str, float], cage, csbp, ctc, chdl, smoker, diabetes) -> float:
    """The 11-term SCORE2 / SCORE2-OP linear predictor on centred variables."""
    smk, dm = float(smoker), float(diabetes)
    return (
        c["age"] * cage
        + c["smoker"] * smk
        + c["sbp"] * csbp
        + c["diabetes"] * dm
        + c["tc"] * ctc
        + c["hdl"] * chdl
        + c["smoker_age"] * smk * cage
        + c["sbp_age"] * csbp * cage
        + c["tc_age"] * ctc * cage
        + c["hdl_age"] * chdl * cage
        + c["diabetes_age"] * dm * cage
    )


def score2_10y_risk(
    sex: str,
    region: str,
    age: float,
    tc_mmol_l: float,
    hdl_mmol_l: float,
    sbp_mmhg: float,
    smoker: bool,
    diabetes: bool = False,
) -> float:
    """10-year CVD risk (0-1): SCORE2 below age 70, SCORE2-OP from 70, region-recalibrated."""
    if age < 70.0:
        c = SCORE2[sex]
        lp = _linear_predictor(
            c, (age - 60.0) / 5.0, (sbp_mmhg - 120.0) / 20.0, tc_mmol_l - 6.0,
            (hdl_mmol_l - 1.3) / 0.5, smoker, diabetes,
        )  # fmt: skip
        return recalibrate(1.0 - c["s0"] ** math.exp(lp), SCORE2_SCALES[(sex, region)])
    c = SCORE2_OP[sex]
    lp = _linear_predictor(
        c, age - 73.0, sbp_mmhg - 150.0, tc_mmol_l - 6.0, hdl_mmol_l - 1.4, smoker, diabetes
    )
    uncalibrated = 1.0 - c["s0"] ** math.exp(lp - c["mean"])
    return recalibrate(uncalibrated, SCORE2_OP_SCALES[(sex, region)])


def general(value: float) -> str:
    """`value` as f"{value:g}" writes it, with the decimal separator of the language."""
    return f"{value:g}".replace(".", number(0.5, 1)[1])


def _outside(values: Mapping[str, float], ranges: tuple) -> list[str]:
    """'what value unit is outside low-high unit' for each value out of its range."""
    return [
        tr("{what} {value} {unit} is outside {low}-{high} {unit}").format(
            what=tr(what),
            value=general(values[name]),
            unit=tr(unit) if unit == "y" else unit,
            low=general(low),
            high=general(high),
        )
        for name, what, low, high, unit in ranges
        if not low <= values[name] <= high
    ]


def pce_out_of_range(values: Mapping[str, float]) -> list[str]:
    """Why the PCE does not apply to these inputs (lipids in mg/dL; empty when it does)."""
    return _outside(values, PCE_RANGES)


def score2_out_of_range(values: Mapping[str, float], diabetes: bool) -> list[str]:
    """Why SCORE2 / SCORE2-OP does not apply (lipids in mg/dL; empty when it does)."""
    age = values["age_y"]
    reasons = []
    if not SCORE2_AGES[0] <= age <= SCORE2_OP_AGES[1]:
        reasons.append(
            tr("age {age} y is outside 40-89 y (SCORE2 40-69, SCORE2-OP 70-89)").format(
                age=general(age)
            )
        )
    elif age < 70.0 and diabetes:
        reasons.append(
            tr("SCORE2 is not for people with diabetes (SCORE2-Diabetes is not modelled)")
        )
    return reasons + _outside(values, SCORE2_LIPID_SBP_RANGES)
