"""Steady-state oxygen transport of a mixing (single-ventricle) circulation.

Pulmonary venous and systemic venous blood mix completely in the common atrium, so the
ventricle ejects one saturation to the body and (through the shunt) to the lungs. With
mean flows Qp, Qs, consumption VO2 and capacity k = 1.36 mL O2/g x Hb per unit saturation
(dissolved oxygen neglected), mass balance gives (Barnea et al., J Am Coll Cardiol 1994;
Circulation 1998):

    SaO2 = SpvO2 - VO2 / (k Qp)           (the lungs add what the body consumes)
    SvO2 = SaO2 - VO2 / (k Qs)            (the body extracts VO2)
    DO2  = k Qs SaO2

At a fixed total output Q = Qp + Qs, DO2(x) = k Q SpvO2 / (1 + x) - VO2 / x with x = Qp/Qs,
maximal at x* = s / (1 - s), s = sqrt(VO2 / (k Q SpvO2)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HUFNER_ML_PER_G = 1.36  # mL O2 bound per g haemoglobin (values 1.34-1.39 are in use)


@dataclass(frozen=True)
class Oxygen:
    """Saturations (fractions) and systemic oxygen delivery (mL O2/min)."""

    sao2: float
    svo2: float
    do2_ml_min: float


def capacity(hemoglobin_g_dl: float) -> float:
    """mL O2 per mL of blood at 100% saturation."""
    return HUFNER_ML_PER_G * hemoglobin_g_dl / 100.0


def balance(qp_ml_min: float, qs_ml_min: float, vo2_ml_min: float, hemoglobin_g_dl: float,
            spvo2: float) -> Oxygen:  # fmt: skip
    """Saturations and delivery for mean pulmonary and systemic flows (mL/min)."""
    k = capacity(hemoglobin_g_dl)
    sao2 = spvo2 - vo2_ml_min / (k * qp_ml_min)
    svo2 = sao2 - vo2_ml_min / (k * qs_ml_min)
    return Oxygen(sao2, svo2, k * qs_ml_min * sao2)


def barnea_optimum(total_ml_min: float, vo2_ml_min: float, hemoglobin_g_dl: float,
                   spvo2: float) -> tuple[float, float]:  # fmt: skip
    """(Qp/Qs that maximises DO2, that DO2 in mL/min) at a fixed total output."""
    k = capacity(hemoglobin_g_dl)
    s = math.sqrt(vo2_ml_min / (k * total_ml_min * spvo2))
    x = s / (1.0 - s)
    return x, k * total_ml_min * spvo2 / (1.0 + x) - vo2_ml_min / x
