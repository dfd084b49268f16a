"""Verification cases of the Norwood twin, run by `meditwin verify` on an installation.

The references and tolerances of tests/validation/test_hlhs_norwood.py: published results
(Hsia 2011, Barnea 1994, Haycock 1978), conservation and periodicity of the circulation,
and the calibration targets of the reference newborn (README). Each `compute` runs the
twin's own code; the model modules are imported only when a case runs.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from meditwin_desktop.core.twin import VerificationCase

SANO_5 = (("shunt_type", "sano"), ("shunt_diameter_mm", 5.0))
# Barnea's optimum at a fixed output: neonatal values (140 mL/min/m2 x 0.225 m2 = 31.5 mL/min)
TOTAL_ML_MIN, VO2_ML_MIN, HB_G_DL, SPVO2 = 1300.0, 31.5, 15.0, 0.97
CAPACITY = 1.36 * HB_G_DL / 100.0  # mL O2 per mL blood (Hufner 1.36 mL/g)
_S = math.sqrt(VO2_ML_MIN / (CAPACITY * TOTAL_ML_MIN * SPVO2))
BARNEA_OPTIMUM = _S / (1.0 - _S)
HSIA = (
    "Hsia TY et al., Circulation 2011;124:S204 (Milan lumped network; pre-stage-2 infants): "
    "systemic O2 delivery 591 mL/min/m2 (BT 3.5 mm) and 640 (RV-PA 5 mm)"
)
CALIBRATION = "Calibration target of the reference newborn (README, 'Reference newborn')"


def _quiet(fraction: float, message: str) -> None:
    """No progress display."""


def _never() -> bool:
    return False


def _outcomes(overrides: tuple[tuple[str, object], ...] = ()) -> dict:
    from . import TWIN
    from .model import simulate

    params = TWIN.parameters_for({}, dict(overrides))
    return simulate(params, {}, _quiet, _never).outcomes


def outcome(name: str, overrides: tuple[tuple[str, object], ...] = ()) -> float:
    """One outcome of a run with these overrides."""
    return float(_outcomes(overrides)[name])


def delivery_ratio() -> float:
    """Systemic O2 delivery with a 5 mm RV-PA conduit over that with a 3.5 mm BT shunt."""
    return outcome("do2_ml_min_m2", SANO_5) / outcome("do2_ml_min_m2")


def _beats(beats: int = 2) -> tuple[list[dict[str, float]], float, float]:
    """Settle the reference circulation (BT 3.5 mm), then integrate `beats` more beats:
    (mean flows per beat, largest drift of the total blood volume, the last settling change)."""
    from . import TWIN
    from .circulation import SHUNT, Model
    from .model import build_circuit, initial_state, periodic_state

    params = TWIN.parameters_for({}, {})
    circuit = build_circuit(params)
    model = Model(circuit)
    y0 = initial_state(circuit, params["blood_volume_ml_kg"] * params["weight_kg"])
    y, t, changes = periodic_state(model, y0, _quiet, _never)
    total = y0[:9].sum()
    means, drift = [], abs(y[:9].sum() - total) / total
    for _ in range(beats):
        times, states = model.beat(y, t, samples=401)
        flows = model.flows(model.pressures(times, states), states[SHUNT])
        means.append({k: float(np.mean(v[:-1])) for k, v in flows.items()})
        drift = max(drift, float(np.max(np.abs(states[:9].sum(axis=0) - total)) / total))
        y, t = states[:, -1], times[-1]
    return means, drift, changes[-1]


def beat_to_beat_pct() -> float:
    """Largest change (%) of a mean flow between two beats at the periodic state."""
    (first, second), _, _ = _beats()
    names = ("aortic", "pulm", "ub", "lb", "coronary", "shunt")
    return 100.0 * max(abs(second[n] - first[n]) / abs(first[n]) for n in names)


def volume_drift_ppm() -> float:
    """Largest drift of the total blood volume over a whole run (parts per million)."""
    return 1e6 * _beats()[1]


def barnea_swept_optimum() -> float:
    """Qp/Qs maximising the twin's oxygen delivery at a fixed output (swept 0.2-3.0)."""
    from .oxygen import balance

    ratios = np.linspace(0.2, 3.0, 28001)
    do2 = [balance(TOTAL_ML_MIN - TOTAL_ML_MIN / (1 + x), TOTAL_ML_MIN / (1 + x), VO2_ML_MIN,
                   HB_G_DL, SPVO2).do2_ml_min for x in ratios]  # fmt: skip
    return float(ratios[int(np.argmax(do2))])


def barnea_curve_error() -> float:
    """Largest difference (mL/min) between the twin's oxygen delivery and the closed form
    k Q SpvO2 / (1 + x) - VO2 / x over Qp/Qs 0.2-3.0."""
    from .oxygen import balance

    worst = 0.0
    for x in np.linspace(0.2, 3.0, 2801):
        qs = TOTAL_ML_MIN / (1 + x)
        twin = balance(TOTAL_ML_MIN - qs, qs, VO2_ML_MIN, HB_G_DL, SPVO2).do2_ml_min
        closed = CAPACITY * TOTAL_ML_MIN * SPVO2 / (1 + x) - VO2_ML_MIN / x
        worst = max(worst, abs(twin - closed))
    return worst


def haycock_bsa() -> float:
    """Body surface area (m2) of a 3.5 kg, 50 cm newborn."""
    from .model import body_surface_area

    return body_surface_area(3.5, 50.0)


VERIFICATION = (
    VerificationCase(
        "Hsia 2011: RV-PA against BT oxygen delivery",
        "systemic O2 delivery, RV-PA 5 mm / BT 3.5 mm", "", 640 / 591, 0.05,
        HSIA + "; ratio 1.083, tolerance 0.05 (their network describes older infants)",
        delivery_ratio,
    ),
    VerificationCase(
        "Hsia 2011: BT shunt 3.5 mm", "systemic O2 delivery, BT 3.5 mm", "mL/min/m2", 591.0,
        0.25, HSIA + "; tolerance 25%", partial(outcome, "do2_ml_min_m2"), relative=True,
    ),
    VerificationCase(
        "Hsia 2011: RV-PA conduit 5 mm", "systemic O2 delivery, RV-PA 5 mm", "mL/min/m2",
        640.0, 0.25, HSIA + "; tolerance 25%", partial(outcome, "do2_ml_min_m2", SANO_5),
        relative=True,
    ),
    VerificationCase(
        "Barnea 1994: optimal Qp/Qs at a fixed output",
        "Qp/Qs maximising systemic O2 delivery (Q 1300 mL/min, VO2 31.5 mL/min, Hb 15 g/dL, "
        "SpvO2 97%)", "", BARNEA_OPTIMUM, 5e-3,
        "Barnea O et al., J Am Coll Cardiol 1994;24:1376: x* = s/(1-s), s = sqrt(VO2/(k Q "
        "SpvO2)); tolerance 0.5%", barnea_swept_optimum, relative=True,
    ),
    VerificationCase(
        "Barnea 1994: oxygen delivery curve", "largest difference from the closed-form DO2(x)",
        "mL/min", 0.0, 1e-9,
        "Barnea O et al., J Am Coll Cardiol 1994;24:1376 (mixing circulation mass balance); "
        "tolerance 1e-9 mL/min", barnea_curve_error,
    ),
    VerificationCase(
        "Haycock 1978 body surface area", "BSA of a 3.5 kg, 50 cm newborn", "m2", 0.2248,
        5e-4, "Haycock GB et al., J Pediatr 1978;93:62: 0.024265 W^0.5378 H^0.3964",
        haycock_bsa,
    ),
    VerificationCase(
        "Periodic state", "largest beat-to-beat change of a mean flow (BT 3.5 mm)", "%", 0.0,
        0.1, "Periodic steady state criterion (issue 7): below 0.1%", beat_to_beat_pct,
    ),
    VerificationCase(
        "Blood volume conservation", "largest drift of the total blood volume", "ppm", 0.0,
        1.0, "Closed loop: volume conserved to 1e-6 (LSODA keeps linear invariants)",
        volume_drift_ppm,
    ),
    VerificationCase(
        "Reference newborn: arterial saturation", "SaO2, BT 3.5 mm, 3.5 kg", "%", 80.0, 5.0,
        CALIBRATION + ": 75-85%", partial(outcome, "sao2_pct"),
    ),
    VerificationCase(
        "Reference newborn: Qp/Qs", "pulmonary to systemic flow ratio, BT 3.5 mm", "", 1.05,
        0.25, CALIBRATION + ": 0.8-1.3", partial(outcome, "qp_qs"),
    ),
    VerificationCase(
        "Reference newborn: mean aortic pressure", "mean aortic pressure, BT 3.5 mm", "mmHg",
        52.5, 7.5, CALIBRATION + ": 45-60 mmHg", partial(outcome, "aortic_mean_mmhg"),
    ),
)  # fmt: skip
