"""The clinical values this twin asks for beyond the shared ones (age, sex, blood pressure):
they appear in the clinical form of every case while the twin is installed."""

from __future__ import annotations

from meditwin_desktop.core.twin import ClinicalField

MG_DL_PER_MMOL_L = 38.67  # cholesterol, 386.65 g/mol, as in the SCORE2 authors' code


def _cholesterol(key: str, label: str, low: float, high: float, help: str = "") -> ClinicalField:
    return ClinicalField(key, label, "Lipids", "mg/dL", minimum=low, maximum=high,
                         alternatives={"mmol/L": MG_DL_PER_MMOL_L}, help=help)  # fmt: skip


def _flag(key: str, label: str, group: str, help: str = "") -> ClinicalField:
    return ClinicalField(key, label, group, kind="flag", help=help)


CLINICAL_FIELDS: tuple[ClinicalField, ...] = (
    ClinicalField("race", "Race (for the PCE)", "Patient", kind="choice",
                  choices=("white", "african_american", "other")),
    ClinicalField("region", "ESC risk region", "Patient", kind="choice",
                  choices=("low", "moderate", "high", "very_high"),
                  help="Cardiovascular risk region of the country of residence (SCORE2)"),
    _flag("bp_treated", "On blood-pressure treatment", "Vital signs"),
    _cholesterol("total_chol_mg_dl", "Total cholesterol", 50, 1500),
    _cholesterol("hdl_mg_dl", "HDL cholesterol", 5, 250),
    _cholesterol("ldl_mg_dl", "LDL cholesterol (untreated)", 10, 1300,
                 help="Before any lipid-lowering therapy"),
    _flag("smoker", "Current smoker", "History"),
    _flag("diabetes", "Diabetes", "History"),
    _flag("personal_premature_chd", "Premature coronary heart disease", "History",
          "Men < 55, women < 60 years"),
    _flag("personal_premature_vascular", "Premature cerebral or peripheral vascular disease",
          "History"),
    _flag("family_history_premature_chd",
          "Family: first-degree relative with premature coronary or vascular disease, or "
          "LDL-C > 95th percentile", "Family history"),
    _flag("family_history_xanthomas",
          "Family: first-degree relative with tendon xanthomas or arcus, or a child < 18 y "
          "with LDL-C > 95th percentile", "Family history"),
    _flag("tendon_xanthomas", "Tendon xanthomas", "Examination and genetics"),
    _flag("corneal_arcus_before_45", "Corneal arcus before age 45", "Examination and genetics"),
    ClinicalField("fh_genotype", "FH genotype", "Examination and genetics", kind="choice",
                  choices=("unknown", "negative", "LDLR", "APOB", "PCSK9"),
                  help="A causative variant in LDLR, APOB or PCSK9"),
)  # fmt: skip
