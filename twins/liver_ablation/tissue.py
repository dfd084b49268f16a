"""Tissue classes of the case's labels and their thermal properties.

Properties (SI): liver and tumour from the IT'IS Foundation tissue database v4.1 (2022)
(density, specific heat, thermal conductivity); blood perfusion of liver and tumour from
Tungjitkusolmun et al. 2002 (IEEE Trans Biomed Eng 49:3-9, table I: w_b = 6.4e-3 1/s,
blood 1000 kg/m^3, 4180 J/(kg K)), as used in most hepatic ablation models.
"""

from __future__ import annotations

import numpy as np

# tissue codes of the prepared grid
OUTSIDE, LIVER, VESSEL, OTHER = 0, 1, 2, 3
TUMOUR = 10  # tumour n is TUMOUR + n - 1

BLOOD_RHO_C = 1000.0 * 4180.0  # J/(m^3 K), Tungjitkusolmun 2002
PROPERTIES = {  # code: (k W/(m K), rho kg/m^3, c J/(kg K), perfusion 1/s)
    LIVER: (0.52, 1079.0, 3540.0, 6.4e-3),  # IT'IS v4.1 liver; perfusion Tungjitkusolmun
    VESSEL: (0.52, 1050.0, 3617.0, 0.0),  # IT'IS v4.1 blood; held at 37 C (heat sink)
    OTHER: (0.49, 1090.0, 3421.0, 2.0e-3),  # IT'IS v4.1 muscle (generic soft tissue)
    OUTSIDE: (0.49, 1090.0, 3421.0, 2.0e-3),  # treated as soft tissue
    TUMOUR: (0.57, 1045.0, 3760.0, 6.4e-3),  # IT'IS tumour-like soft tissue; as liver flow
}

VESSEL_WORDS = ("vein", "artery", "aorta", "vena cava", "vessel", "portal")
TUMOUR_WORDS = ("tumour", "tumor", "metasta", "lesion")


def classify(names: dict[int, str]) -> tuple[np.ndarray, list[str]]:
    """Lookup table label value -> tissue code, and the tumour names in code order."""
    lut = np.full(max(names, default=0) + 1, OTHER, dtype=np.uint8)
    lut[0] = OUTSIDE
    tumours = []
    for value, name in sorted(names.items()):
        lower = name.lower()
        if lower == "liver":
            lut[value] = LIVER
        elif any(word in lower for word in TUMOUR_WORDS):
            lut[value] = TUMOUR + len(tumours)
            tumours.append(name)
        elif any(word in lower for word in VESSEL_WORDS):
            lut[value] = VESSEL
    return lut, tumours


def properties(
    codes: np.ndarray, liver_k: float | None = None, liver_perfusion: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Conductivity, rho c and perfusion (w rho_b c_b) arrays for a grid of tissue codes;
    `liver_k` (W/(m K)) and `liver_perfusion` (1/s) replace the liver's values (the tumour's
    perfusion follows the liver's, as in the table)."""
    table = dict(PROPERTIES)
    if liver_k is not None or liver_perfusion is not None:
        k0, rho0, c0, w0 = table[LIVER]
        k0 = k0 if liver_k is None else float(liver_k)
        w0 = w0 if liver_perfusion is None else float(liver_perfusion)
        table[LIVER] = (k0, rho0, c0, w0)
        table[TUMOUR] = (*table[TUMOUR][:3], w0)
    k = np.empty(codes.shape)
    rho_c = np.empty(codes.shape)
    perfusion = np.empty(codes.shape)
    for code, (conductivity, rho, c, w) in table.items():
        where = codes >= TUMOUR if code == TUMOUR else codes == code
        k[where], rho_c[where], perfusion[where] = conductivity, rho * c, w * BLOOD_RHO_C
    return k, rho_c, perfusion
