"""The clinical values this twin asks for beyond the shared ones (age, sex, blood pressure):
they appear in the clinical form of every case while the twin is installed."""

from __future__ import annotations

from meditwin_desktop.core.twin import N_, ClinicalField

MG_DL_PER_MMOL_L = 38.67  # cholesterol, 386.65 g/mol, as in the SCORE2 authors' code


def _cholesterol(key: str, label: str, low: float, high: float, help: str = "") -> ClinicalField:
    return ClinicalField(key, label, N_("Lipids"), "mg/dL", minimum=low, maximum=high,
                         alternatives={"mmol/L": MG_DL_PER_MMOL_L}, help=help)  # fmt: skip


def _flag(key: str, label: str, group: str, help: str = "") -> ClinicalField:
    return ClinicalField(key, label, group, kind="flag", help=help)


CLINICAL_FIELDS: tuple[ClinicalField, ...] = (
    ClinicalField("race", N_("Race (for the PCE)"), "Patient", kind="choice",
                  choices=(N_("white"), N_("african_american"), N_("other"))),
    ClinicalField("region", N_("ESC risk region"), "Patient", kind="choice",
                  choices=(N_("low"), N_("moderate"), N_("high"), N_("very_high")),
                  help=N_("Cardiovascular risk region of the country of residence (SCORE2)")),
    _flag("bp_treated", N_("On blood-pressure treatment"), "Vital signs"),
    _cholesterol("total_chol_mg_dl", N_("Total cholesterol"), 50, 1500),
    _cholesterol("hdl_mg_dl", N_("HDL cholesterol"), 5, 250),
    _cholesterol("ldl_mg_dl", N_("LDL cholesterol (untreated)"), 10, 1300,
                 help=N_("Before any lipid-lowering therapy")),
    _flag("smoker", N_("Current smoker"), N_("History")),
    _flag("diabetes", N_("Diabetes"), N_("History")),
    _flag("personal_premature_chd", N_("Premature coronary heart disease"), N_("History"),
          N_("Men < 55, women < 60 years")),
    _flag("personal_premature_vascular", N_("Premature cerebral or peripheral vascular disease"),
          N_("History")),
    _flag("family_history_premature_chd",
          N_("Family: first-degree relative with premature coronary or vascular disease, or "
          "LDL-C > 95th percentile"), N_("Family history")),
    _flag("family_history_xanthomas",
          N_("Family: first-degree relative with tendon xanthomas or arcus, or a child < 18 y "
          "with LDL-C > 95th percentile"), N_("Family history")),
    _flag("tendon_xanthomas", N_("Tendon xanthomas"), N_("Examination and genetics")),
    _flag("corneal_arcus_before_45", N_("Corneal arcus before age 45"),
          N_("Examination and genetics")),
    ClinicalField("fh_genotype", N_("FH genotype"), N_("Examination and genetics"),
                  kind="choice",
                  choices=(N_("unknown"), N_("negative"), N_("LDLR"), N_("APOB"), N_("PCSK9")),
                  help=N_("A causative variant in LDLR, APOB or PCSK9")),
)  # fmt: skip
