"""LDL cholesterol: FH diagnosis (DLCN), lifetime burden, lowering by therapy, CTT benefit.

LDL values are in mmol/L here; the model converts from the mg/dL users type.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

# Dutch Lipid Clinic Network criteria: Nordestgaard BG et al., Eur Heart J 2013;34:3478-3490a,
# Table 1 (same in the 2019 ESC/EAS dyslipidaemia guidelines, Eur Heart J 2020;41:111, Table 12).
# One score per group, the highest applicable. (group, finding, points):
DLCN_FINDINGS = (
    ("family history", "family_history_premature_chd", 1),  # or first-degree LDL > 95th pct
    ("family history", "family_history_xanthomas", 2),  # or child < 18 y with LDL > 95th pct
    ("clinical history", "personal_premature_chd", 2),
    ("clinical history", "personal_premature_vascular", 1),  # cerebral or peripheral
    ("physical examination", "tendon_xanthomas", 6),
    ("physical examination", "corneal_arcus_before_45", 4),
)
# Untreated LDL-C bands (lower bound mmol/L, points), read as half-open intervals
# [4.0, 5.0), [5.0, 6.5), [6.5, 8.5), [8.5, inf) to close the printed gaps (4.9 / 5.0 ...).
DLCN_LDL_BANDS_MMOL_L = ((8.5, 8), (6.5, 5), (5.0, 3), (4.0, 1))
DLCN_DNA_POINTS = 8  # functional mutation in LDLR, APOB or PCSK9
GENOTYPES = ("unknown", "negative", "LDLR", "APOB", "PCSK9")
CAUSATIVE_GENOTYPES = ("LDLR", "APOB", "PCSK9")

# LDL-C lowering (fraction of the current LDL removed), combined multiplicatively:
# high-intensity statin >= 50% (2018 AHA/ACC cholesterol guideline, Table 3; ESC/EAS 2019
# section 8.1.2.1: "on average, reduces LDL-C by >= 50%"): 50%;
# moderate-intensity statin 30-49% (AHA/ACC 2018 Table 3; ESC 2019: 30-50%): 40%, the middle;
# ezetimibe added to a statin: a further 21-27% (ESC/EAS 2019 section 8.2.2): 24%, the middle;
# PCSK9 monoclonal antibody: about 60% of what remains (ESC/EAS 2019 section 8.4.2.1).
LDL_REDUCTION = {
    "statin_moderate": 0.40,
    "statin_high": 0.50,
    "ezetimibe": 0.24,
    "pcsk9i": 0.60,
}
THERAPIES = {
    "none": (),
    "statin_moderate": ("statin_moderate",),
    "statin_high": ("statin_high",),
    "statin_high_ezetimibe": ("statin_high", "ezetimibe"),
    "statin_high_ezetimibe_pcsk9i": ("statin_high", "ezetimibe", "pcsk9i"),
}

# Cholesterol Treatment Trialists' (CTT) Collaboration, Lancet 2010;376:1670-1681 (abstract):
# major vascular events RR 0.78 (95% CI 0.76-0.80) per 1.0 mmol/L LDL-C reduction.
CTT_RR_PER_MMOL_L = 0.78
RISK_WINDOW_Y = 10.0


def dlcn_groups(ldl_mmol_l: float, findings: Mapping[str, Any]) -> dict[str, int]:
    """DLCN points per group (family history, clinical history, examination, LDL, DNA)."""
    groups: dict[str, int] = {}
    for group, key, points in DLCN_FINDINGS:
        earned = points if findings.get(key, False) else 0
        groups[group] = max(groups.get(group, 0), earned)
    groups["LDL-C"] = next((p for low, p in DLCN_LDL_BANDS_MMOL_L if ldl_mmol_l >= low), 0)
    causative = findings.get("fh_genotype", "unknown") in CAUSATIVE_GENOTYPES
    groups["DNA"] = DLCN_DNA_POINTS if causative else 0
    return groups


def dlcn_category(points: int) -> str:
    """'definite' (> 8), 'probable' (6-8), 'possible' (3-5) or 'unlikely' (< 3) FH."""
    if points > 8:
        return "definite"
    if points >= 6:
        return "probable"
    return "possible" if points >= 3 else "unlikely"


def ldl_fraction_remaining(therapy: str) -> float:
    """The fraction of untreated LDL-C left on `therapy` (product of each drug's remainder)."""
    return math.prod(1.0 - LDL_REDUCTION[drug] for drug in THERAPIES[therapy])


def fraction_of_window_treated(age_y: float, start_age_y: float) -> float:
    """Share of the coming 10-year risk window spent on therapy (0-1)."""
    return min(max((age_y + RISK_WINDOW_Y - start_age_y) / RISK_WINDOW_Y, 0.0), 1.0)


def ctt_risk_ratio(
    ldl_reduction_mmol_l: float, fraction_treated: float = 1.0, rr_per_mmol_l: float | None = None
) -> float:
    """Risk ratio 0.78 per mmol/L of LDL-C lowered (CTT 2010; `rr_per_mmol_l` another value
    within its confidence interval), over the treated share."""
    rr = CTT_RR_PER_MMOL_L if rr_per_mmol_l is None else rr_per_mmol_l
    return rr ** (ldl_reduction_mmol_l * fraction_treated)


def ldl_burden(
    ages_y: np.ndarray, untreated_mmol_l: float, treated_mmol_l: float, start_age_y: float
) -> np.ndarray:
    """Cumulative LDL-C (mmol/L-years) from birth: untreated until `start_age_y`, then treated."""
    ages = np.asarray(ages_y, dtype=float)
    before = np.minimum(ages, start_age_y)
    after = np.maximum(ages - start_age_y, 0.0)
    return untreated_mmol_l * before + treated_mmol_l * after


def age_at_burden(
    threshold: float,
    untreated_mmol_l: float,
    treated_mmol_l: float,
    start_age_y: float,
    horizon_y: float = 100.0,
) -> float | None:
    """Age at which the burden reaches `threshold`; None if not before `horizon_y`."""
    if untreated_mmol_l * start_age_y >= threshold:
        age = threshold / untreated_mmol_l
    elif treated_mmol_l > 0.0:
        age = start_age_y + (threshold - untreated_mmol_l * start_age_y) / treated_mmol_l
    else:
        return None
    return age if age <= horizon_y else None
