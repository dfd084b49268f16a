"""The clinical values this twin asks for beyond the shared ones (weight, length, heart rate,
blood pressure): they appear in the clinical form while the twin is installed."""

from __future__ import annotations

from meditwin_desktop.core.twin import N_, ClinicalField

CLINICAL_FIELDS: tuple[ClinicalField, ...] = (
    ClinicalField("sao2_pct", N_("Arterial saturation (SpO2)"), "Vital signs", "%",
                  minimum=30, maximum=100),
    ClinicalField("spvo2_pct", N_("Pulmonary venous saturation"), "Vital signs", "%",
                  minimum=50, maximum=100),
    ClinicalField("hemoglobin_g_dl", N_("Haemoglobin"), N_("Laboratory"), "g/dL", minimum=3,
                  maximum=25, alternatives={"g/L": 0.1}),
)  # fmt: skip
