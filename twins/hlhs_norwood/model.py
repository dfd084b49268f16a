"""The Norwood twin's simulation: scenario parameters -> circuit -> periodic state -> outcomes.

Reference newborn (3.5 kg) values are scaled to the patient by allometry: resistances
with weight^-0.75, compliances, unstressed volumes and blood volume with weight,
elastances with weight^-1 (pressures and the RC time constants relative to the heart
period stay those of the reference). See README.md for every value and its source.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from meditwin_desktop.core.twin import Cancelled, Result, TimeSeries, TwinInputError, number, tr

from . import oxygen
from .circulation import (
    AORTA,
    ATRIUM,
    PULM_ART,
    SHUNT,
    VENTRICLE,
    Circuit,
    Model,
    shunt_coefficients,
)

REFERENCE_WEIGHT_KG = 3.5
VISCOSITY_PA_S = 3.5e-3
# Reference newborn after the Norwood operation (mmHg, mL, s); see README.md, "Parameters"
COMPLIANCE = {"aorta": 0.05, "ub_art": 0.06, "ub_ven": 2.5, "lb_art": 0.08, "lb_ven": 3.5,
              "pulm_art": 0.15, "pulm_ven": 0.8}  # fmt: skip
UNSTRESSED = {"aorta": 10.0, "ub_art": 7.5, "ub_ven": 56.25, "lb_art": 12.5, "lb_ven": 87.5,
              "pulm_art": 10.0, "pulm_ven": 25.0}  # fmt: skip
RESISTANCE = {"av": 0.005, "aortic_valve": 0.01, "arch_ub": 0.1, "desc_aorta": 0.15,
              "ub": 9.4, "svc": 0.23, "lb": 6.9, "ivc": 0.17, "coronary": 80.0, "pulm": 0.59,
              "pulm_ven": 0.14}  # fmt: skip
VENTRICLE_REF = {"emax": 7.0, "emin": 0.35, "v0": 2.0}
ATRIUM_REF = {"emax": 1.2, "emin": 0.6, "v0": 3.0}
REFERENCE_EDV_ML_PER_KG = 6.5  # end-diastolic volume of the reference ventricle / weight
REFERENCE_MAP_MMHG = 52.6  # mean aortic pressure of the reference, BT 3.5 mm, scales 1

MIN_BEATS, MAX_BEATS = 8, 150
STEADY_TOLERANCE = 1e-5  # largest relative change of a compartment volume between beats
SAMPLES_PER_BEAT = 400
Progress = Callable[[float, str], None]


def body_surface_area(weight_kg: float, height_cm: float) -> float:
    """Haycock et al., J Pediatr 1978;93:62 (validated from infants to adults), m^2."""
    return 0.024265 * weight_kg**0.5378 * height_cm**0.3964


def build_circuit(params: Mapping[str, Any]) -> Circuit:
    """The lumped parameters of one scenario, scaled to the patient's weight."""
    f = params["weight_kg"] / REFERENCE_WEIGHT_KG
    r_scale = f**-0.75
    size = 1.0
    if params["ventricle_edv_ml"] > 0:  # a segmented ventricle: scale the chamber to it
        size = params["ventricle_edv_ml"] / (REFERENCE_EDV_ML_PER_KG * params["weight_kg"])
    svr, pvr = params["svr_scale"], params["pvr_scale"]
    sano = params["shunt_type"] == "sano"
    length = params["sano_length_mm"] if sano else params["bt_length_mm"]
    shunt_r, shunt_k, shunt_l = shunt_coefficients(
        params["shunt_diameter_mm"], length, VISCOSITY_PA_S, params["shunt_loss_k"]
    )
    r = {name: value * r_scale for name, value in RESISTANCE.items()}
    for name in ("ub", "lb", "coronary"):
        r[name] *= svr
    r["pulm"] *= pvr
    contractility = params["contractility_scale"]
    return Circuit(
        period_s=60.0 / params["heart_rate_bpm"],
        ventricle_emax=VENTRICLE_REF["emax"] * contractility / (f * size),
        ventricle_emin=VENTRICLE_REF["emin"] / (f * size),
        ventricle_v0=VENTRICLE_REF["v0"] * f * size,
        atrium_emax=ATRIUM_REF["emax"] / f,
        atrium_emin=ATRIUM_REF["emin"] / f,
        atrium_v0=ATRIUM_REF["v0"] * f,
        compliance=tuple(value * f for value in COMPLIANCE.values()),
        unstressed=tuple(value * f for value in UNSTRESSED.values()),
        r_av=r["av"], r_aortic_valve=r["aortic_valve"], r_arch_ub=r["arch_ub"],
        r_desc_aorta=r["desc_aorta"], r_ub=r["ub"], r_svc=r["svc"], r_lb=r["lb"],
        r_ivc=r["ivc"], r_coronary=r["coronary"], r_pulm=r["pulm"], r_pulm_ven=r["pulm_ven"],
        shunt_from_ventricle=sano, shunt_r=shunt_r, shunt_k=shunt_k, shunt_l=shunt_l,
    )  # fmt: skip


def initial_state(circuit: Circuit, blood_volume_ml: float) -> np.ndarray:
    """Every compartment at one filling pressure that accounts for the whole blood volume."""
    compliance = np.array(circuit.compliance)
    unstressed = np.array(circuit.unstressed)
    chamber_c = 1.0 / circuit.atrium_emin + 1.0 / circuit.ventricle_emin
    base = unstressed.sum() + circuit.atrium_v0 + circuit.ventricle_v0
    pressure = (blood_volume_ml - base) / (compliance.sum() + chamber_c)
    if pressure <= 0:
        raise ValueError("the blood volume does not fill the circulation's unstressed volume")
    y = np.zeros(10)
    y[ATRIUM] = circuit.atrium_v0 + pressure / circuit.atrium_emin
    y[VENTRICLE] = circuit.ventricle_v0 + pressure / circuit.ventricle_emin
    y[2:9] = unstressed + pressure * compliance
    return y


def periodic_state(model: Model, y: np.ndarray, progress: Progress, cancelled) -> tuple:
    """Beat until the state repeats (relative change < STEADY_TOLERANCE); (state, t, changes)."""
    t, changes = 0.0, []
    for beat in range(MAX_BEATS):
        if cancelled():
            raise Cancelled()
        _, states = model.beat(y, t)
        t += model.c.period_s
        new = states[:, -1]
        changes.append(float(np.max(np.abs(new[:9] - y[:9]) / np.abs(y[:9]))))
        y = new
        progress(
            min(0.95, (beat + 1) / 40),
            tr("beat {beat}: change {change}").format(beat=beat + 1, change=f"{changes[-1]:.1e}"),
        )
        if beat + 1 >= MIN_BEATS and changes[-1] < STEADY_TOLERANCE:
            return y, t, changes
    return y, t, changes


def simulate(params: Mapping[str, Any], inputs: Mapping[str, Any], progress: Progress,
             cancelled: Callable[[], bool]) -> Result:  # fmt: skip
    """Run the circulation to its periodic state and report one beat's outcomes."""
    circuit = build_circuit(params)
    model = Model(circuit)
    weight = params["weight_kg"]
    y0 = initial_state(circuit, params["blood_volume_ml_kg"] * weight)
    y, t, changes = periodic_state(model, y0, progress, cancelled)
    warnings = []
    if changes[-1] >= STEADY_TOLERANCE:
        warnings.append(
            tr(
                "The circulation had not settled after {beats} beats (last beat-to-beat "
                "change {change}); results may be off."
            ).format(beats=len(changes), change=f"{changes[-1]:.1e}")
        )
    times, states = model.beat(y, t, samples=SAMPLES_PER_BEAT + 1)
    pressures = model.pressures(times, states)
    flows = model.flows(pressures, states[SHUNT])
    mean = {name: float(np.mean(value[:-1])) for name, value in flows.items()}  # periodic
    bsa = body_surface_area(weight, params["height_cm"])
    outcomes, extra = _outcomes(params, pressures, states, mean, bsa)
    warnings += _warnings(params, outcomes, extra, inputs)
    progress(1.0, tr("done"))
    return Result(outcomes, _series(times - times[0], pressures, states, flows), {}, warnings)


def _outcomes(params, pressures, states, mean, bsa):
    qs = (mean["ub"] + mean["lb"] + mean["coronary"]) * 60.0  # mL/min
    qp = mean["pulm"] * 60.0
    output = (mean["aortic"] + (mean["shunt"] if params["shunt_type"] == "sano" else 0.0)) * 60
    vo2 = params["vo2_ml_min_m2"] * bsa
    o2 = oxygen.balance(qp, qs, vo2, params["hemoglobin_g_dl"], params["spvo2_pct"] / 100)
    if o2.svo2 <= 0.0:
        raise TwinInputError(
            tr(
                "This circulation cannot meet the oxygen consumption: systemic flow "
                "{systemic} L/min/m2 and pulmonary flow {pulmonary} L/min/m2 would need a "
                "venous saturation of {svo2}%. The baby would not survive this scenario (shock)."
            ).format(
                systemic=number(qs / 1000 / bsa, 2),
                pulmonary=number(qp / 1000 / bsa, 2),
                svo2=number(100 * o2.svo2),
            )
        )
    volume = states[VENTRICLE]
    end_diastole = int(np.argmax(volume))
    aortic = pressures[AORTA]
    edp = float(pressures[VENTRICLE][end_diastole])
    shunt = states[SHUNT]
    backward = max(0.0, -float(np.mean(np.minimum(shunt[:-1], 0.0))))
    forward = float(np.mean(np.maximum(shunt[:-1], 0.0)))
    outcomes = {
        "qp_qs": qp / qs,
        "sao2_pct": 100.0 * o2.sao2,
        "svo2_pct": 100.0 * o2.svo2,
        "do2_ml_min_m2": o2.do2_ml_min / bsa,
        "cardiac_index_l_min_m2": output / 1000.0 / bsa,
        "systemic_index_l_min_m2": qs / 1000.0 / bsa,
        "aortic_systolic_mmhg": float(aortic.max()),
        "aortic_diastolic_mmhg": float(aortic.min()),
        "aortic_mean_mmhg": float(np.mean(aortic[:-1])),
        "coronary_perfusion_mmhg": float(aortic.min()) - edp,
        "pulmonary_mean_mmhg": float(np.mean(pressures[PULM_ART][:-1])),
        "atrial_mean_mmhg": float(np.mean(pressures[ATRIUM][:-1])),
        "ventricular_edp_mmhg": edp,
        "ejection_fraction_pct": 100.0 * (volume.max() - volume.min()) / volume.max(),
        "shunt_regurgitant_pct": 100.0 * backward / forward if forward > 0 else 0.0,
    }
    extra = {"qp_ml_min": qp, "qs_ml_min": qs, "edv_ml": float(volume.max())}
    return outcomes, extra


def _warnings(params, outcomes, extra, inputs) -> list[str]:
    notes = []
    if outcomes["sao2_pct"] < 65:
        notes.append(tr("Arterial saturation {sao2}%: too little pulmonary blood flow for this "
                        "baby's oxygen consumption (cyanosis).").format(
            sao2=number(outcomes["sao2_pct"])))  # fmt: skip
    if outcomes["svo2_pct"] < 30:
        notes.append(tr("Mixed venous saturation {svo2}%: oxygen supply below demand "
                        "(anaerobic metabolism, lactic acidosis).").format(
            svo2=number(outcomes["svo2_pct"])))  # fmt: skip
    if outcomes["qp_qs"] > 2.0:
        notes.append(tr("Qp/Qs {ratio}: pulmonary over-circulation; systemic output and "
                        "oxygen delivery suffer.").format(
            ratio=number(outcomes["qp_qs"], 1)))  # fmt: skip
    if round(outcomes["coronary_perfusion_mmhg"]) < 20:  # judged as shown, as the target
        notes.append(tr("Coronary perfusion pressure {pressure} mmHg (diastolic run-off): "
                        "myocardial ischaemia risk.").format(
            pressure=number(outcomes["coronary_perfusion_mmhg"])))  # fmt: skip
    measured = inputs.get("measured_sao2_pct")
    if measured:
        notes.append(tr("Measured arterial saturation {measured}% against {sao2}% in this "
                        "scenario.").format(
            measured=number(measured), sao2=number(outcomes["sao2_pct"])))  # fmt: skip
    if extra["edv_ml"] > 0 and params["ventricle_edv_ml"] > 0:
        notes.append(
            tr(
                "Ventricle scaled to the segmented end-diastolic volume {volume} mL "
                "(model EDV {model} mL)."
            ).format(volume=number(params["ventricle_edv_ml"], 1), model=number(extra["edv_ml"], 1))
        )
    return notes


def _series(time, pressures, states, flows) -> dict[str, TimeSeries]:
    ms = time * 1000.0
    return {
        "pressures_aorta": TimeSeries(tr("Aortic pressure"), "mmHg", ms, pressures[AORTA], "ms"),
        "pressures_ventricle": TimeSeries(
            tr("Ventricular pressure"), "mmHg", ms, pressures[VENTRICLE], "ms"
        ),
        "pressures_pulmonary": TimeSeries(
            tr("Pulmonary artery pressure"), "mmHg", ms, pressures[PULM_ART], "ms"
        ),
        "pressures_atrium": TimeSeries(tr("Atrial pressure"), "mmHg", ms, pressures[ATRIUM], "ms"),
        "flow_shunt": TimeSeries(tr("Shunt flow"), "mL/s", ms, states[SHUNT], "ms"),
        "flow_aortic_valve": TimeSeries(
            tr("Neo-aortic valve flow"), "mL/s", ms, flows["aortic"], "ms"
        ),
        "flow_coronary": TimeSeries(tr("Coronary flow"), "mL/s", ms, flows["coronary"], "ms"),
        "pv_loop": TimeSeries(
            tr("Ventricular pressure-volume loop"),
            "mmHg",
            states[VENTRICLE],
            pressures[VENTRICLE],
            "mL",
            x_label=tr("ventricular volume"),
        ),
    }
