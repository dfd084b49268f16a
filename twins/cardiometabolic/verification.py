"""Verification cases of the cardiometabolic twin, run by `meditwin verify` on an installation.

The published values and tolerances of tests/validation/test_cardiometabolic.py: the PCE
worked example (Goff 2013), SCORE2 and SCORE2-OP examples, a hand-scored DLCN case, the
LDL burden by hand, the combined therapy and the CTT relation. Lipids in the references are
in mmol/L; the twin takes mg/dL (x 38.67). Each `compute` runs the twin's own model.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from meditwin_desktop.core.twin import VerificationCase

MG_DL_PER_MMOL_L = 38.67
GOFF = (
    "Goff DC Jr et al., 2013 ACC/AHA risk guideline, Table A worked example: age 55, TC 213, "
    "HDL 50 mg/dL, SBP 120 mmHg untreated, non-smoker, no diabetes; tolerance 0.1 pp"
)
SCORE2_TABLE_4 = (
    "SCORE2, Eur Heart J 2021;42:2439, Supplementary Methods Table 4: age 50, smoker, SBP 140 "
    "mmHg, TC 6.3, HDL 1.4 mmol/L; tolerance 0.01 pp (the table's precision)"
)
SCORE2_OP = (
    "SCORE2-OP, Eur Heart J 2021;42:2455, Supplementary Methods example: age 75, smoker, SBP "
    "140 mmHg, TC 5.5, HDL 1.3 mmol/L, low-risk region; tolerance 0.1 pp"
)


def _quiet(fraction: float, message: str) -> None:
    """No progress display."""


def _never() -> bool:
    return False


def _outcome(name: str, inputs: dict[str, Any] | None = None, **overrides: Any) -> float:
    from . import TWIN
    from .model import simulate

    params = TWIN.parameters_for({}, overrides)
    return float(simulate(params, inputs or {}, _quiet, _never).outcomes[name])


def pce(sex: str, race: str) -> float:
    """10-year ASCVD risk (%) of the Goff 2013 worked example."""
    return _outcome("pce_10y_risk_pct", sex=sex, race=race, age_y=55, total_chol_mg_dl=213,
                    hdl_mg_dl=50, sbp_mmhg=120)  # fmt: skip


def pce_diabetic_smoker() -> float:
    """10-year ASCVD risk (%): white man, 54 y, smoker, diabetes, TC 170, HDL 50, SBP 157."""
    return _outcome("pce_10y_risk_pct", age_y=54, smoker=True, diabetes=True,
                    total_chol_mg_dl=170, hdl_mg_dl=50, sbp_mmhg=157)  # fmt: skip


def score2(sex: str, region: str, age: float, tc: float, hdl: float) -> float:
    """10-year CVD risk (%) of a smoker with SBP 140 mmHg, lipids in mmol/L."""
    return _outcome("score2_10y_risk_pct", sex=sex, region=region, age_y=age, smoker=True,
                    sbp_mmhg=140, total_chol_mg_dl=tc * MG_DL_PER_MMOL_L,
                    hdl_mg_dl=hdl * MG_DL_PER_MMOL_L)  # fmt: skip


def dlcn_points() -> float:
    """DLCN score: LDL-C 8.6 mmol/L, tendon xanthomas and corneal arcus before 45."""
    exam = {"tendon_xanthomas": True, "corneal_arcus_before_45": True}
    return _outcome("dlcn_points", exam, ldl_mg_dl=8.6 * MG_DL_PER_MMOL_L,
                    total_chol_mg_dl=10.5 * MG_DL_PER_MMOL_L,
                    hdl_mg_dl=1.2 * MG_DL_PER_MMOL_L)  # fmt: skip


def burden(name: str) -> float:
    """LDL burden outcome: LDL-C 5.0 mmol/L from birth, high-intensity statin from 30 y."""
    return _outcome(name, ldl_mg_dl=5.0 * MG_DL_PER_MMOL_L, therapy="statin_high",
                    therapy_start_age_y=30, age_y=50)  # fmt: skip


def combined_ldl() -> float:
    """LDL-C on high-intensity statin + ezetimibe + PCSK9 antibody from 250 mg/dL."""
    return _outcome("ldl_on_treatment_mg_dl", ldl_mg_dl=250.0, total_chol_mg_dl=320,
                    therapy="statin_high_ezetimibe_pcsk9i")  # fmt: skip


def ctt_rrr() -> float:
    """Relative risk reduction (%) when a high-intensity statin halves LDL-C 2.0 mmol/L."""
    return _outcome("rrr_pct", therapy="statin_high", ldl_mg_dl=2.0 * MG_DL_PER_MMOL_L,
                    age_y=55, total_chol_mg_dl=213, hdl_mg_dl=50, sbp_mmhg=120)  # fmt: skip


def _pce_case(who: str, sex: str, race: str, expected: float) -> VerificationCase:
    return VerificationCase(f"PCE worked example, {who}", "10-year ASCVD risk (PCE)", "%",
                            expected, 0.1, GOFF, partial(pce, sex, race))  # fmt: skip


def _score2_case(sex: str, region: str, expected: float) -> VerificationCase:
    return VerificationCase(
        f"SCORE2 Table 4, {'man' if sex == 'male' else 'woman'}, {region.replace('_', ' ')} "
        "risk region", "10-year CVD risk (SCORE2)", "%", expected, 0.01, SCORE2_TABLE_4,
        partial(score2, sex, region, 50, 6.3, 1.4),
    )  # fmt: skip


REGIONS = ("low", "moderate", "high", "very_high")

VERIFICATION = (
    _pce_case("white woman", "female", "white", 2.1),
    _pce_case("African-American woman", "female", "african_american", 3.0),
    _pce_case("white man", "male", "white", 5.3),
    _pce_case("African-American man", "male", "african_american", 6.1),
    VerificationCase(
        "PCE, diabetic smoker", "10-year ASCVD risk (PCE)", "%", 20.8, 0.1,
        "bcjaeger/PooledCohort test case (tests/testthat/test-predict_10yr_ascvd_risk.R): "
        "white man, 54 y, smoker, diabetes, TC 170, HDL 50 mg/dL, SBP 157 mmHg untreated; "
        "tolerance 0.1 pp", pce_diabetic_smoker,
    ),
    *(_score2_case("male", r, v) for r, v in zip(REGIONS, (6.31, 8.11, 8.81, 15.06),
                                                   strict=True)),
    *(_score2_case("female", r, v) for r, v in zip(REGIONS, (4.33, 5.23, 7.13, 14.13),
                                                     strict=True)),
    VerificationCase(
        "SCORE2-OP example, man", "10-year CVD risk (SCORE2-OP)", "%", 18.6, 0.1, SCORE2_OP,
        partial(score2, "male", "low", 75, 5.5, 1.3),
    ),
    VerificationCase(
        "SCORE2-OP example, woman", "10-year CVD risk (SCORE2-OP)", "%", 15.2, 0.1, SCORE2_OP,
        partial(score2, "female", "low", 75, 5.5, 1.3),
    ),
    VerificationCase(
        "DLCN hand-scored case", "Dutch Lipid Clinic Network score", "points", 14.0, 0.0,
        "Nordestgaard BG et al., Eur Heart J 2013;34:3478, Table 1 (highest score per group): "
        "LDL-C 8.6 mmol/L 8 + tendon xanthomas 6 (corneal arcus, same group); exact",
        dlcn_points,
    ),
    VerificationCase(
        "LDL burden at 40 by hand", "LDL-C burden at 40 y", "mmol/L-years", 175.0, 1e-9,
        "Integral of LDL-C over age: 5 x 30 + 2.5 x 10 (5.0 mmol/L, halved by a statin from "
        "30 y); tolerance 1e-9 relative", partial(burden, "ldl_burden_at_40_mmol_y"),
        relative=True,
    ),
    VerificationCase(
        "Age at the burden threshold by hand", "age at 160 mmol/L-years", "years", 34.0, 1e-9,
        "30 + (160 - 150) / 2.5 (same case); tolerance 1e-9 relative",
        partial(burden, "age_burden_threshold_y"), relative=True,
    ),
    VerificationCase(
        "Combined lipid-lowering therapy", "LDL-C on statin + ezetimibe + PCSK9 antibody "
        "from 250 mg/dL", "mg/dL", 250.0 * 0.5 * 0.76 * 0.4, 1e-9,
        "High-intensity statin 50% (AHA/ACC 2018 Table 3), ezetimibe a further 24% and PCSK9 "
        "antibody a further 60% (ESC/EAS 2019), multiplied; tolerance 1e-9 relative",
        combined_ldl, relative=True,
    ),
    VerificationCase(
        "CTT: risk per mmol/L of LDL-C", "relative risk reduction, LDL-C 2.0 -> 1.0 mmol/L",
        "%", 22.0, 1e-9,
        "Cholesterol Treatment Trialists' Collaboration, Lancet 2010;376:1670: RR 0.78 per "
        "1.0 mmol/L; tolerance 1e-9 relative", ctt_rrr, relative=True,
    ),
)  # fmt: skip
