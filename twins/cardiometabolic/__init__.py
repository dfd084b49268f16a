"""Cardiovascular risk and familial hypercholesterolaemia: PCE, SCORE2, DLCN, LDL burden (see
README.md)."""

from __future__ import annotations

from typing import Any

from meditwin_desktop.core.twin import (
    N_,
    CaseView,
    Outcome,
    Parameter,
    Personalized,
    Requirement,
    Target,
    Twin,
    TwinInputError,
    Uncertain,
    tr,
    view_of,
)

from .form import CLINICAL_FIELDS
from .lipids import GENOTYPES, THERAPIES
from .model import LIFESTYLE, MG_DL_PER_MMOL_L, simulate
from .verification import VERIFICATION

__all__ = ["MG_DL_PER_MMOL_L", "TWIN", "personalize", "prepare", "simulate"]

FROM_FORM = N_("from the clinical form")
REQUIRED = ("age_y", "sex", "total_chol_mg_dl", "hdl_mg_dl", "ldl_mg_dl", "sbp_mmhg")
# The DLCN findings `prepare` reads from case.clinical (Nordestgaard 2013, Table 1).
DLCN_INPUTS = {
    "family_history_premature_chd": "First-degree relative with premature coronary or "
    "vascular disease, or with LDL-C above the 95th percentile",
    "family_history_xanthomas": "First-degree relative with tendon xanthomas or corneal "
    "arcus, or a child under 18 with LDL-C above the 95th percentile",
    "personal_premature_chd": "Premature coronary heart disease (men < 55, women < 60 y)",
    "personal_premature_vascular": "Premature cerebral or peripheral vascular disease",
    "tendon_xanthomas": "Tendon xanthomas",
    "corneal_arcus_before_45": "Corneal arcus before age 45",
}
GOFF = "Goff 2013 (ACC/AHA), Table A"
SCORE2_SOURCE = "SCORE2 / SCORE2-OP, Eur Heart J 2021"
CTT = "Cholesterol Treatment Trialists' Collaboration, Lancet 2010;376:1670-1681"


def _flag(name: str, label: str, help: str, source: str, **more: Any) -> Parameter:
    return Parameter(name, label, "", False, help=help, source=source, **more)


PARAMETERS = (
    Parameter(
        "age_y", N_("Age"), "years", 55.0, 18.0, 100.0,
        help=N_("Current age. PCE valid 40-79, SCORE2 40-69, SCORE2-OP 70-89"),
        source=f"{GOFF}; {SCORE2_SOURCE}",
    ),
    Parameter("sex", N_("Sex"), "", "male", choices=("female", "male"),
              choice_labels=(N_("female"), N_("male")), source=GOFF),
    Parameter(
        "race", N_("Race (PCE)"), "", "white", choices=("white", "african_american", "other"),
        choice_labels=(N_("White"), N_("African American"), N_("other (white equations)")),
        help=N_("'other' uses the white equations, as the guideline recommends"), source=GOFF,
    ),
    Parameter(
        "region", N_("ESC risk region (SCORE2)"), "", "moderate",
        choices=("low", "moderate", "high", "very_high"),
        choice_labels=(N_("low risk"), N_("moderate risk"), N_("high risk"),
                       N_("very high risk")),
        help=N_("Cardiovascular risk region of the country of residence (ESC 2021 list)"),
        source="SCORE2 2021, Supplementary Methods Table 3",
    ),
    _flag("smoker", N_("Current smoker"), N_("Stopping smoking acts through the risk equations"),
          GOFF, key=3, short_labels=("smoking", "stops smoking")),
    _flag(
        "diabetes", N_("Diabetes"), N_("SCORE2 (40-69 y) does not apply with diabetes"),
        f"{GOFF}; {SCORE2_SOURCE}",
    ),
    Parameter(
        "total_chol_mg_dl", N_("Total cholesterol"), "mg/dL", 213.0, 50.0, 1200.0,
        help=N_("Untreated; PCE valid 130-320 mg/dL (mmol/L x 38.67)"), source=GOFF,
    ),
    Parameter(
        "hdl_mg_dl", N_("HDL cholesterol"), "mg/dL", 50.0, 5.0, 200.0,
        help=N_("PCE valid 20-100 mg/dL"), source=GOFF,
    ),
    Parameter(
        "ldl_mg_dl", N_("LDL cholesterol, untreated"), "mg/dL", 130.0, 10.0, 1000.0,
        help=N_("Untreated baseline LDL-C; assumed constant from birth for the burden; DLCN "
        "points from 155 mg/dL (4.0 mmol/L)"),
        source="DLCN: Nordestgaard 2013, Table 1",
    ),
    Parameter(
        "sbp_mmhg", N_("Systolic blood pressure"), "mmHg", 120.0, 60.0, 300.0,
        help=N_("PCE and SCORE2 valid 90-200 mmHg; lower it for a blood-pressure scenario"),
        source=GOFF, key=2, short_labels=("SBP",), decimals=0,
    ),
    _flag("bp_treated", N_("On blood-pressure treatment"), N_("PCE treated-SBP terms"), GOFF,
          short_labels=("BP treated", "BP untreated")),
    Parameter(
        "therapy", N_("Lipid-lowering therapy"), "", "none", choices=tuple(THERAPIES),
        choice_labels=(N_("none"), N_("moderate-intensity statin"), N_("high-intensity statin"),
                       N_("high-intensity statin + ezetimibe"),
                       N_("high-intensity statin + ezetimibe + PCSK9 antibody")),
        short_labels=("no lipid therapy", "statin moderate", "statin high",
                      "statin high + ezetimibe", "statin high + ezetimibe + PCSK9i"),
        key=1,
        help=N_("LDL-C lowering: moderate statin 40%, high statin 50%, + ezetimibe 24% of the "
        "rest, + PCSK9 antibody 60% of the rest"),
        source="AHA/ACC 2018 Table 3; ESC/EAS 2019 sections 8.1-8.4",
    ),
    Parameter(
        "therapy_start_age_y", N_("Therapy starts at age"), "years", 55.0, 0.0, 100.0,
        help=N_("Default: the current age (starts now). LDL-C is untreated before"),
        source="scenario",
    ),
    Parameter(
        "burden_threshold_mmol_y", N_("LDL-C burden threshold for CHD"), "mmol/L-years", 160.0,
        50.0, 500.0,
        help=N_("About 160 mmol/L-years; the number was not verified against the figure"),
        source="Nordestgaard 2013 (EAS consensus) figure on LDL burden, adapted from Horton "
        "2009; unverified",
    ),
    Parameter(
        "ctt_rr_per_mmol_l", N_("Risk ratio per mmol/L of LDL-C lowered"), "x", 0.78, 0.5, 1.0,
        help=N_("Major vascular events per 1.0 mmol/L of LDL-C lowered: 0.78 (95 % CI "
        "0.76-0.80) in the CTT meta-analysis; applied to the equations' risk"),
        source=CTT, decimals=3,
    ),
)  # fmt: skip

# Where a run with uncertainty samples (core.uncertainty): the measured lipids with their
# day-to-day variation (biological + analytical, one sample), and the CTT slope with its
# confidence interval. Not the therapy (a scenario choice), nor the systolic pressure: it is
# the blood-pressure scenarios' lever and the case's own value is the reference of the risk
# reduction (inputs["reference"]), so a sampled SBP would read as a treatment effect.
# Lipids: total CV = sqrt(CVi^2 + CVa^2): TC sqrt(6.1^2 + 3^2) = 6.8 %, HDL-C sqrt(7.4^2 +
# 4^2) = 8.4 %, LDL-C sqrt(9.5^2 + 4^2) = 10.3 %.
LIPID_VARIATION = (
    "Smith SJ, Cooper GR, Myers GL, Sampson EJ. Clin Chem 1993;39:1012-1022 (within-subject "
    "biological CV, random-effects meta-analysis of 30 studies: TC 6.1 %, HDL-C 7.4 %, LDL-C "
    "9.5 %) with the NCEP analytical CV goals (TC 3 %; HDL-C and LDL-C 4 %: Clin Chem "
    "1995;41:1414-1420 and 1427-1433)"
)
UNCERTAIN = (
    Uncertain("ldl_mg_dl", "normal", relative_sd=0.103,
              source=f"{LIPID_VARIATION}: LDL-C 10.3 % of the value"),
    Uncertain("total_chol_mg_dl", "normal", relative_sd=0.068,
              source=f"{LIPID_VARIATION}: TC 6.8 % of the value"),
    Uncertain("hdl_mg_dl", "normal", relative_sd=0.084,
              source=f"{LIPID_VARIATION}: HDL-C 8.4 % of the value"),
    Uncertain("ctt_rr_per_mmol_l", "normal", sd=0.0102,
              source=f"{CTT}: RR 0.78, 95 % CI 0.76-0.80, SD (0.80 - 0.76) / 3.92 = 0.0102"),
)  # fmt: skip

# Shown at clinical precision; `resolution`: differences no larger are clinically the same
# (no "best"). Risk equations: a 10-year risk is read to about one percentage point (the
# ESC and ACC/AHA charts and calculators give whole percent; the equations' calibration
# error is larger), so risks differ clinically only beyond 1 pp.
RISK_RESOLUTION_PP = 1.0
OUTCOMES = (
    Outcome(
        "pce_10y_risk_pct", N_("10-year ASCVD risk (PCE)"), "%", "lower",
        help=N_("ACC/AHA Pooled Cohort Equations, with the CTT effect of therapy"),
        absent=N_("outside validity (age 40-79; see warnings)"),
        resolution=RISK_RESOLUTION_PP, precision=1,
    ),
    Outcome(
        "score2_10y_risk_pct", N_("10-year CVD risk (SCORE2 / SCORE2-OP)"), "%", "lower",
        help=N_("ESC SCORE2 below 70, SCORE2-OP from 70, with the CTT effect of therapy"),
        absent=N_("outside validity (age 40-89, no diabetes under 70; see warnings)"),
        resolution=RISK_RESOLUTION_PP, precision=1,
    ),
    Outcome("ldl_on_treatment_mg_dl", N_("LDL-C on treatment"), "mg/dL", "lower",
            target=Target(high=70.0, source="ESC/EAS 2019 dyslipidaemia guidelines (Mach et "
                          "al., Eur Heart J 2020;41:111-188): LDL-C < 1.8 mmol/L (70 mg/dL) "
                          "at high risk, FH without other major risk factor included"),
            # a measured LDL-C varies by about 5-10 % from one sample to the next
            resolution=5.0, precision=0),
    Outcome("ldl_burden_at_40_mmol_y", N_("LDL-C burden at 40"), "mmol/L-years", "lower",
            resolution=5.0, precision=0),  # 5 mmol/L-years: one year at an FH level
    Outcome("ldl_burden_at_60_mmol_y", N_("LDL-C burden at 60"), "mmol/L-years", "lower",
            resolution=5.0, precision=0),
    Outcome(
        "age_burden_threshold_y", N_("Age at the CHD burden threshold"), "years", "higher",
        absent=N_("never (before 100)"), absent_is_best=True, resolution=1.0, precision=0,
    ),
    Outcome(
        "arr_10y_pct", N_("10-year absolute risk reduction"), "pp", "higher",
        help=N_("Against no therapy and the case's blood pressure and smoking; SCORE2 when "
        "valid, else PCE"),
        absent=N_("no valid risk equation"), resolution=RISK_RESOLUTION_PP, precision=1,
    ),
    Outcome(
        "rrr_pct", N_("Relative risk reduction"), "%", "higher",
        absent=N_("no valid risk equation"),
        resolution=5.0, precision=0,  # CTT: 22 % per mmol/L; 5 % is a fifth of that
    ),
    Outcome(
        "nnt_10y", N_("Number needed to treat (10 years)"), "people", "lower",
        help=N_("Whole people: 100 / absolute risk reduction in pp, rounded up"),
        absent=N_("no risk reduction (or no valid equation)"), resolution=2.0, precision=0,
    ),
    Outcome(
        "dlcn_points", N_("Dutch Lipid Clinic Network score"), "points",
        help=N_("> 8 definite, 6-8 probable, 3-5 possible FH"), precision=0,
    ),
)  # fmt: skip


def personalize(case: CaseView) -> dict[str, Personalized]:
    """Each parameter found in the clinical form under its own name; therapy starts now."""
    clinical = view_of(case).clinical
    values = {
        p.name: Personalized(clinical[p.name], tr(FROM_FORM))
        for p in PARAMETERS
        if clinical.get(p.name) not in (None, "")
    }
    if "therapy_start_age_y" not in values and "age_y" in values:
        values["therapy_start_age_y"] = Personalized(
            values["age_y"].value, tr("the current age (therapy starts now)")
        )
    return values


def _genotype(value: Any) -> str:
    """The FH genotype as one of GENOTYPES (case-insensitive; empty means unknown)."""
    text = str(value or "unknown").strip()
    for genotype in GENOTYPES:
        if text.lower() == genotype.lower():
            return genotype
    raise TwinInputError(
        tr("FH genotype '{genotype}' is not one of {known}.").format(
            genotype=text, known=", ".join(GENOTYPES)
        )
    )


def prepare(case: CaseView) -> dict[str, Any]:
    """DLCN findings (missing: no / unknown) and the case's own blood pressure and smoking."""
    clinical = view_of(case).clinical
    inputs: dict[str, Any] = {
        key: bool(Parameter(key, label, "", False).validate(clinical.get(key) or False))
        for key, label in DLCN_INPUTS.items()
    }
    inputs["fh_genotype"] = _genotype(clinical.get("fh_genotype"))
    reference = {
        p.name: p.validate(clinical[p.name])
        for p in PARAMETERS
        if p.name in LIFESTYLE and clinical.get(p.name) not in (None, "")
    }
    if reference:
        inputs["reference"] = reference
    return inputs


TWIN = Twin(
    id="cardiometabolic",
    title=N_("Cardiovascular risk and familial hypercholesterolaemia"),
    specialty="cardiology",
    version="1.2",
    question=N_("What is this patient's 10-year cardiovascular risk, is familial "
    "hypercholesterolaemia likely, how much LDL cholesterol has accumulated over life, and "
    "how much do statins, ezetimibe, a PCSK9 antibody, stopping smoking or lowering blood "
    "pressure change that?"),
    references=(
        "Goff DC Jr et al. 2013 ACC/AHA Guideline on the Assessment of Cardiovascular Risk. "
        "Circulation 2014;129(25 Suppl 2):S49-S73 (Pooled Cohort Equations, Table A)",
        "SCORE2 working group and ESC Cardiovascular risk collaboration. Eur Heart J "
        "2021;42:2439-2454 (SCORE2, Supplementary Methods Tables 2-4)",
        "SCORE2-OP working group and ESC Cardiovascular risk collaboration. Eur Heart J "
        "2021;42:2455-2467 (SCORE2-OP)",
        "Nordestgaard BG et al. (EAS Consensus Panel). Eur Heart J 2013;34:3478-3490a "
        "(Dutch Lipid Clinic Network criteria, Table 1; LDL burden figure)",
        "Horton JD, Cohen JC, Hobbs HH. J Lipid Res 2009;50(Suppl):S172-S177 (LDL burden)",
        "Mach F et al. 2019 ESC/EAS Guidelines for the management of dyslipidaemias. Eur "
        "Heart J 2020;41:111-188 (Table 12; LDL-C lowering by therapy)",
        "Grundy SM et al. 2018 AHA/ACC Guideline on the Management of Blood Cholesterol. "
        "Circulation 2019;139:e1082-e1143 (Table 3, statin intensity)",
        "Cholesterol Treatment Trialists' Collaboration. Lancet 2010;376:1670-1681 (RR 0.78 "
        "per 1.0 mmol/L LDL-C)",
    ),
    parameters=PARAMETERS,
    outcomes=OUTCOMES,
    requirements=tuple(
        Requirement("clinical", name, N_("(risk equations and LDL burden)"))
        for name in REQUIRED
    ),
    personalize=personalize,
    prepare=prepare,
    simulate=simulate,
    verification=VERIFICATION,
    clinical_fields=CLINICAL_FIELDS,
    uncertain=UNCERTAIN,
    limitations=(
        N_("LDL-C is assumed constant from birth at the measured untreated value, then constant "
        "on treatment; real LDL-C rises with age and varies."),
        N_("The PCE and SCORE2 are population equations: not validated in familial "
        "hypercholesterolaemia, where they underestimate risk."),
        N_("Lipoprotein(a), triglycerides, family history, chronic kidney disease and "
        "inflammation are not in the risk equations; SCORE2-Diabetes is not modelled."),
        N_("Therapy acts through the CTT relation (RR 0.78 per mmol/L LDL-C, assumed log-linear "
        "and the same at any LDL-C level and age), on the equation's risk; average LDL-C "
        "lowering per drug, not this patient's response or adherence."),
        N_("Blood pressure and smoking changes act only through the equations' coefficients "
        "(association, not trial effects); a former smoker counts as a non-smoker at once."),
        N_("The CHD threshold of the LDL burden (about 160 mmol/L-years) is illustrative and "
        "was not verified against its source figure."),
    ),
)
