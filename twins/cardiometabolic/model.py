"""10-year cardiovascular risk, familial hypercholesterolaemia score and lifetime LDL burden.

`simulate(params, inputs, progress, cancelled)`: parameters in their declared units (mg/dL,
mmHg, years); inputs from `prepare` (the DLCN findings and the patient's own blood
pressure and smoking, the reference for the risk reduction), or empty.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from meditwin_desktop.core.twin import N_, Cancelled, Result, TimeSeries, TwinInputError, tr

from . import lipids
from .risk_equations import (
    general,
    pce_10y_risk,
    pce_out_of_range,
    score2_10y_risk,
    score2_out_of_range,
)

# Cholesterol (total, LDL, HDL): mg/dL = mmol/L x 38.67 (molar mass of cholesterol
# 386.65 g/mol; the factor used by the SCORE2 authors' Stata program, 1/0.02586, and by
# RiskScorescvd).
MG_DL_PER_MMOL_L = 38.67
HORIZON_Y = 100.0  # the LDL burden is followed from birth to this age
LIFESTYLE = ("sbp_mmhg", "smoker", "bp_treated")  # what a scenario may change in the equations
# what the user reads of the DLCN: its groups (lipids.dlcn_groups) and one whole sentence
# per category (French agrees the category with its noun)
DLCN_GROUP_WORDS = {
    "family history": N_("family history"),
    "clinical history": N_("clinical history"),
    "physical examination": N_("physical examination"),
    "LDL-C": N_("LDL-C"),
    "DNA": N_("DNA"),
}
DLCN_SENTENCES = {
    "definite": N_(
        "Dutch Lipid Clinic Network score {points} ({detail}): definite familial "
        "hypercholesterolaemia."
    ),
    "probable": N_(
        "Dutch Lipid Clinic Network score {points} ({detail}): probable familial "
        "hypercholesterolaemia."
    ),
    "possible": N_(
        "Dutch Lipid Clinic Network score {points} ({detail}): possible familial "
        "hypercholesterolaemia."
    ),
    "unlikely": N_(
        "Dutch Lipid Clinic Network score {points} ({detail}): unlikely familial "
        "hypercholesterolaemia."
    ),
}


def mmol_l(mg_dl: float) -> float:
    """Cholesterol in mmol/L from mg/dL."""
    return mg_dl / MG_DL_PER_MMOL_L


def equation_risks(params: Mapping[str, Any], ratio: float = 1.0) -> dict[str, float | None]:
    """10-year risk (%) by 'pce' and 'score2' for `params`, times a CTT risk ratio; None
    where the equation is not valid for these inputs."""
    pce = score2 = None
    if not pce_out_of_range(params):
        pce = pce_10y_risk(
            params["sex"], params["race"], params["age_y"], params["total_chol_mg_dl"],
            params["hdl_mg_dl"], params["sbp_mmhg"], params["bp_treated"], params["smoker"],
            params["diabetes"],
        )  # fmt: skip
    if not score2_out_of_range(params, params["diabetes"]):
        score2 = score2_10y_risk(
            params["sex"], params["region"], params["age_y"],
            mmol_l(params["total_chol_mg_dl"]), mmol_l(params["hdl_mg_dl"]),
            params["sbp_mmhg"], params["smoker"], params["diabetes"],
        )  # fmt: skip
    return {
        "pce": None if pce is None else 100.0 * pce * ratio,
        "score2": None if score2 is None else 100.0 * score2 * ratio,
    }


def score2_name(age_y: float) -> str:
    """'SCORE2' below age 70, 'SCORE2-OP' from 70."""
    return "SCORE2" if age_y < 70.0 else "SCORE2-OP"


def validity_warnings(params: Mapping[str, Any]) -> list[str]:
    """Which input puts each equation outside its validity."""
    warnings = []
    pce = pce_out_of_range(params)
    if pce:
        warnings.append(tr("PCE not computed: {reasons}.").format(reasons="; ".join(pce)))
    score2 = score2_out_of_range(params, params["diabetes"])
    if score2:
        warnings.append(
            tr("{equation} not computed: {reasons}.").format(
                equation=score2_name(params["age_y"]), reasons="; ".join(score2)
            )
        )
    if params["race"] == "other" and not pce:
        warnings.append(
            tr(
                "PCE for race 'other' uses the white equations (Goff 2013); it may over- or "
                "underestimate risk."
            )
        )
    return warnings


def reference_params(params: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The same patient with no therapy and the case's own blood pressure and smoking."""
    reference = dict(params, therapy="none")
    reference.update({k: v for k, v in inputs.get("reference", {}).items() if k in LIFESTYLE})
    return reference


def risk_reduction(
    treated: Mapping[str, float | None], untreated: Mapping[str, float | None]
) -> tuple[str | None, float | None, float | None]:
    """(equation, absolute reduction pp, relative reduction %): SCORE2 when valid, else PCE."""
    for equation in ("score2", "pce"):
        on, off = treated[equation], untreated[equation]
        if on is not None and off is not None:
            return equation, off - on, 100.0 * (off - on) / off
    return None, None, None


def dlcn(ldl_mg_dl: float, findings: Mapping[str, Any]) -> tuple[int, list[str]]:
    """DLCN points and the warnings naming the category (and FH's consequence for risk)."""
    genotype = findings.get("fh_genotype", "unknown")
    if genotype not in lipids.GENOTYPES:
        raise TwinInputError(
            tr("FH genotype '{genotype}' is not one of {known}.").format(
                genotype=genotype, known=", ".join(lipids.GENOTYPES)
            )
        )
    groups = lipids.dlcn_groups(mmol_l(ldl_mg_dl), findings)
    points = sum(groups.values())
    category = lipids.dlcn_category(points)
    detail = ", ".join(
        f"{tr(DLCN_GROUP_WORDS.get(group, group))} {p}" for group, p in groups.items() if p
    )
    warnings = [
        tr(DLCN_SENTENCES[category]).format(
            points=points, detail=detail or tr("no criterion met")
        )
    ]
    if not any(findings.get(key) for _, key, _ in lipids.DLCN_FINDINGS) and genotype == "unknown":
        warnings.append(
            tr("DLCN from LDL-C alone: no family history, examination or DNA recorded.")
        )
    if category in ("probable", "definite"):
        warnings.append(
            tr(
                "Probable or definite FH: SCORE2 and the PCE are not validated in familial "
                "hypercholesterolaemia and underestimate its risk; treat as high risk "
                "(ESC/EAS 2019)."
            )
        )
    return points, warnings


def burden_series(
    untreated: float, treated: float, start_age_y: float, threshold: float
) -> TimeSeries:
    """Cumulative LDL-C over age 0-100 (breakpoint at the start of therapy included)."""
    ages = np.linspace(0.0, HORIZON_Y, 201)
    if 0.0 < start_age_y < HORIZON_Y:
        ages = np.union1d(ages, [start_age_y])
    return TimeSeries(
        tr("Cumulative LDL-C burden"),
        "mmol/L-years",
        ages,
        lipids.ldl_burden(ages, untreated, treated, start_age_y),
        time_unit="years",
        x_label=tr("age"),
        guides=((tr("CHD threshold"), threshold),),
    )


def lipid_warnings(params: Mapping[str, Any]) -> list[str]:
    """Inconsistent lipids, and therapy that starts after the 10-year window."""
    warnings = []
    non_hdl = params["total_chol_mg_dl"] - params["hdl_mg_dl"]
    if params["ldl_mg_dl"] > non_hdl:
        warnings.append(
            tr(
                "LDL-C {ldl} mg/dL exceeds total minus HDL cholesterol ({non_hdl} mg/dL): "
                "check the lipid values."
            ).format(ldl=general(params["ldl_mg_dl"]), non_hdl=general(non_hdl))
        )
    if params["therapy"] != "none" and params["therapy_start_age_y"] >= params["age_y"] + 10:
        warnings.append(
            tr("Therapy starts after the coming 10 years: no effect on 10-year risk.")
        )
    return warnings


def simulate(
    params: Mapping[str, Any],
    inputs: Mapping[str, Any],
    progress: Callable[[float, str], None],
    cancelled: Callable[[], bool],
) -> Result:
    """Risk equations with the CTT effect of therapy, DLCN score and lifetime LDL burden."""
    if cancelled():
        raise Cancelled()
    age, start = params["age_y"], params["therapy_start_age_y"]
    untreated = mmol_l(params["ldl_mg_dl"])
    treated = untreated * lipids.ldl_fraction_remaining(params["therapy"])
    ratio = lipids.ctt_risk_ratio(
        untreated - treated, lipids.fraction_of_window_treated(age, start),
        params.get("ctt_rr_per_mmol_l"),
    )
    risks = equation_risks(params, ratio)
    reference = equation_risks(reference_params(params, inputs))
    equation, arr, rrr = risk_reduction(risks, reference)
    warnings = validity_warnings(params) + lipid_warnings(params)
    if equation is not None:
        name = score2_name(age) if equation == "score2" else tr("the PCE")
        if "reference" in inputs:
            text = tr(
                "Risk reduction by {equation}: against no therapy with the case's own blood "
                "pressure and smoking."
            )
        else:
            text = tr(
                "Risk reduction by {equation}: against no therapy with the same blood "
                "pressure and smoking."
            )
        warnings.append(text.format(equation=name))
    points, fh_warnings = dlcn(params["ldl_mg_dl"], inputs)
    threshold = params["burden_threshold_mmol_y"]
    burden = lipids.ldl_burden(np.array([40.0, 60.0]), untreated, treated, start)
    progress(1.0, tr("risk computed"))
    outcomes = {
        "pce_10y_risk_pct": risks["pce"],
        "score2_10y_risk_pct": risks["score2"],
        "ldl_on_treatment_mg_dl": treated * MG_DL_PER_MMOL_L,
        "ldl_burden_at_40_mmol_y": float(burden[0]),
        "ldl_burden_at_60_mmol_y": float(burden[1]),
        "age_burden_threshold_y": lipids.age_at_burden(
            threshold, untreated, treated, start, HORIZON_Y
        ),
        "arr_10y_pct": arr,
        "rrr_pct": rrr,
        # whole people, rounded up as NNTs are (Altman, BMJ 1998;317:1309): 17.2 treat 18
        "nnt_10y": float(math.ceil(100.0 / arr - 1e-9)) if arr is not None and arr > 0 else None,
        "dlcn_points": float(points),
    }
    return Result(
        outcomes=outcomes,
        series={"ldl_burden": burden_series(untreated, treated, start, threshold)},
        warnings=warnings + fh_warnings,
    )
