"""Verification of the Norwood twin (twins/hlhs_norwood): numerics, physics, published results.

Each test names its reference and tolerance. The model runs here directly (no worker).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from meditwin_twins.hlhs_norwood import TWIN, oxygen, personalize, prepare
from meditwin_twins.hlhs_norwood.circulation import SHUNT, Model
from meditwin_twins.hlhs_norwood.model import (
    REFERENCE_MAP_MMHG,
    body_surface_area,
    build_circuit,
    initial_state,
    periodic_state,
    simulate,
)

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.twin import check_result

BT_35 = {}
SANO_5 = {"shunt_type": "sano", "shunt_diameter_mm": 5.0}


def _run(**overrides):
    params = TWIN.parameters_for({}, overrides)
    result = simulate(params, {}, lambda *_: None, lambda: False)
    check_result(TWIN, result)
    return result.outcomes


def _settled(**overrides):
    params = TWIN.parameters_for({}, overrides)
    circuit = build_circuit(params)
    model = Model(circuit)
    y0 = initial_state(circuit, params["blood_volume_ml_kg"] * params["weight_kg"])
    y, t, changes = periodic_state(model, y0, lambda *_: None, lambda: False)
    return model, y, t, changes, y0


def _beat_means(model, y, t):
    times, states = model.beat(y, t, samples=401)
    flows = model.flows(model.pressures(times, states), states[SHUNT])
    means = {k: float(np.mean(v[:-1])) for k, v in flows.items()}
    return states[:, -1], times[-1], means, states


@pytest.mark.parametrize("scenario", [BT_35, SANO_5], ids=["bt3.5", "sano5"])
def test_reaches_a_periodic_state_with_beat_to_beat_change_below_0_1_percent(scenario):
    """Issue 7: periodic steady state, beat-to-beat change < 0.1% (of mean flows and of
    every compartment's end-beat volume)."""
    model, y, t, changes, _ = _settled(**scenario)
    assert changes[-1] < 1e-5
    y1, t1, first, _ = _beat_means(model, y, t)
    y2, _, second, _ = _beat_means(model, y1, t1)
    for name in ("aortic", "pulm", "ub", "lb", "coronary", "shunt"):
        assert abs(second[name] - first[name]) <= 1e-3 * abs(first[name]), name
    assert np.max(np.abs(y2[:9] - y1[:9]) / y1[:9]) < 1e-3


@pytest.mark.parametrize("scenario", [BT_35, SANO_5], ids=["bt3.5", "sano5"])
def test_blood_volume_is_conserved_to_1e_6(scenario):
    """A closed loop: the sum of compartment volumes over a whole run stays the initial
    blood volume (relative 1e-6; LSODA preserves linear invariants up to round-off)."""
    model, y, t, _, y0 = _settled(**scenario)
    total = y0[:9].sum()
    _, _, _, states = _beat_means(model, y, t)
    assert np.max(np.abs(states[:9].sum(axis=0) - total)) / total < 1e-6
    assert abs(y[:9].sum() - total) / total < 1e-6


def test_qp_qs_rises_monotonically_with_bt_shunt_diameter():
    """Issue 7: a wider systemic-to-pulmonary shunt carries more pulmonary flow, and
    saturation follows while diastolic pressure falls (run-off)."""
    runs = [_run(shunt_diameter_mm=d) for d in (2.5, 3.0, 3.5, 4.0, 4.5)]
    ratios = [r["qp_qs"] for r in runs]
    assert all(a < b for a, b in itertools.pairwise(ratios)), ratios
    sats = [r["sao2_pct"] for r in runs]
    assert all(a < b for a, b in itertools.pairwise(sats)), sats
    diastolic = [r["aortic_diastolic_mmhg"] for r in runs]
    assert all(a > b for a, b in itertools.pairwise(diastolic)), diastolic


def test_reference_newborn_is_in_the_clinical_post_norwood_range():
    """Calibration targets (README, 'Reference newborn'): with a 3.5 mm BT shunt, Qp/Qs
    near 1 (0.8-1.3), SaO2 75-85%, mean aortic pressure 45-60 mmHg, atrial pressure
    4-8 mmHg, and REFERENCE_MAP_MMHG (used to personalise SVR) within 1 mmHg of the model."""
    outcomes = _run()
    assert 0.8 <= outcomes["qp_qs"] <= 1.3
    assert 75 <= outcomes["sao2_pct"] <= 85
    assert 45 <= outcomes["aortic_mean_mmhg"] <= 60
    assert 4 <= outcomes["atrial_mean_mmhg"] <= 8
    assert outcomes["aortic_mean_mmhg"] == pytest.approx(REFERENCE_MAP_MMHG, abs=1.0)


def test_bt_and_rv_pa_against_hsia_2011():
    """Hsia TY et al., Circulation 2011;124:S204 (abstract; the Milan group's lumped
    network, the model family of Migliavacca 2001): systemic O2 delivery 591 mL/min/m2
    with a 3.5 mm BT shunt and 640 with a 5 mm RV-PA conduit, ratio 1.083, and the RV-PA
    conduit gives the higher diastolic pressure. Their network describes pre-stage-2
    infants (older and heavier than our newborn), so the tight check is the ratio
    (within 0.05); absolute values within 25%.
    Migliavacca 2001's own tables (3.0/3.5/4.0 mm) could not be retrieved offline."""
    bt, sano = _run(**BT_35), _run(**SANO_5)
    ratio = sano["do2_ml_min_m2"] / bt["do2_ml_min_m2"]
    assert ratio == pytest.approx(640 / 591, abs=0.05)
    assert bt["do2_ml_min_m2"] == pytest.approx(591, rel=0.25)
    assert sano["do2_ml_min_m2"] == pytest.approx(640, rel=0.25)
    assert sano["aortic_diastolic_mmhg"] > bt["aortic_diastolic_mmhg"] + 5
    assert sano["coronary_perfusion_mmhg"] > bt["coronary_perfusion_mmhg"]
    assert sano["shunt_regurgitant_pct"] > 5 > bt["shunt_regurgitant_pct"]


def test_oxygen_balance_reproduces_barnea_optimum_at_fixed_output():
    """Barnea et al., J Am Coll Cardiol 1994: at fixed total output Q, DO2 against Qp/Qs
    rises, peaks and falls, with its maximum at x* = s/(1-s), s = sqrt(VO2/(k Q SpvO2)),
    below 1 for neonatal values. The twin's oxygen balance, swept numerically, must peak
    at x* within 0.5% and match the closed-form DO2 curve to 1e-9."""
    total, vo2, hb, spvo2 = 1300.0, 31.5, 15.0, 0.97  # mL/min, 140 mL/min/m2 x 0.225 m2
    ratios = np.linspace(0.2, 3.0, 28001)
    do2 = []
    for x in ratios:
        qs = total / (1 + x)
        do2.append(oxygen.balance(total - qs, qs, vo2, hb, spvo2).do2_ml_min)
    do2 = np.array(do2)
    best, best_do2 = oxygen.barnea_optimum(total, vo2, hb, spvo2)
    k = oxygen.capacity(hb)
    closed_form = k * total * spvo2 / (1 + ratios) - vo2 / ratios
    assert np.max(np.abs(do2 - closed_form)) < 1e-9
    assert ratios[np.argmax(do2)] == pytest.approx(best, rel=5e-3)
    assert do2.max() == pytest.approx(best_do2, rel=1e-6)
    assert 0.3 < best < 1.0
    assert do2[0] < do2.max() and do2[-1] < do2.max()  # rises, then falls


def test_haycock_body_surface_area():
    """Haycock 1978: BSA = 0.024265 W^0.5378 H^0.3964; a 3.5 kg, 50 cm newborn: 0.2248 m2."""
    assert body_surface_area(3.5, 50.0) == pytest.approx(0.2248, abs=5e-4)


def test_the_same_shunt_is_relatively_smaller_in_a_bigger_baby():
    """Resistances scale with weight^-0.75 but the graft does not: the same 3.5 mm shunt
    gives a bigger baby a lower Qp/Qs and saturation (why surgeons choose 3.0 mm for the
    smallest newborns and 3.5-4.0 mm for bigger ones)."""
    small, large = _run(weight_kg=2.5), _run(weight_kg=4.5)
    assert large["qp_qs"] < small["qp_qs"]
    assert large["sao2_pct"] < small["sao2_pct"]


def test_personalisation_from_the_clinical_form_with_provenance():
    case = Case("Baby", clinical={"weight_kg": 3.1, "height_cm": 49, "heart_rate_bpm": 150,
                                  "sbp_mmhg": 72, "dbp_mmhg": 39, "sao2_pct": 80,
                                  "hemoglobin_g_dl": 14.2})  # fmt: skip
    values = personalize(case)
    assert values["weight_kg"].value == 3.1 and "clinical form" in values["weight_kg"].provenance
    mean = 39 + (72 - 39) / 3
    assert values["svr_scale"].value == pytest.approx(mean / REFERENCE_MAP_MMHG, abs=0.01)
    assert "mean arterial pressure 50 mmHg" in values["svr_scale"].provenance
    inputs = prepare(case)
    params = TWIN.parameters_for({k: v.value for k, v in values.items()}, {})
    result = simulate(params, inputs, lambda *_: None, lambda: False)
    assert any("Measured arterial saturation 80%" in w for w in result.warnings)


def test_absurd_scenarios_are_refused_with_the_unit():
    from meditwin_desktop.core.twin import TwinInputError

    with pytest.raises(TwinInputError, match=r"between 2\.5 and 6 mm"):
        TWIN.parameters_for({}, {"shunt_diameter_mm": 12})
    with pytest.raises(TwinInputError, match="not one of bt, sano"):
        TWIN.parameters_for({}, {"shunt_type": "central"})


def test_stable_cli_names():
    """Issue 7, point 5: these names are a contract (documented in the twin README)."""
    parameters = {p.name for p in TWIN.parameters}
    assert {"shunt_type", "shunt_diameter_mm", "weight_kg", "height_cm", "heart_rate_bpm",
            "pvr_scale", "svr_scale"} <= parameters  # fmt: skip
    outcomes = {o.name for o in TWIN.outcomes}
    assert {"qp_qs", "sao2_pct", "svo2_pct", "do2_ml_min_m2", "cardiac_index_l_min_m2",
            "aortic_systolic_mmhg", "aortic_diastolic_mmhg",
            "coronary_perfusion_mmhg"} <= outcomes  # fmt: skip


def test_outcomes_are_physically_consistent():
    """Sanity: SvO2 < SaO2 < SpvO2; Qs + Qp equals the ventricle's output for a BT shunt."""
    outcomes = _run()
    assert outcomes["svo2_pct"] < outcomes["sao2_pct"] < 97.0
    params = TWIN.parameters_for({}, {})
    bsa = body_surface_area(params["weight_kg"], params["height_cm"])
    qs = outcomes["systemic_index_l_min_m2"]
    qp = outcomes["qp_qs"] * qs
    assert qs + qp == pytest.approx(outcomes["cardiac_index_l_min_m2"], rel=2e-3)
    assert math.isfinite(bsa)


def test_the_twin_fits_newborns_only():
    """Requirement ranges: an adult's weight greys the twin out with the reason."""
    from meditwin_desktop.demo.case import demo_case

    assert TWIN.missing(demo_case("neonate-hlhs")) == []
    [reason] = TWIN.missing(Case("Adult", clinical={"weight_kg": 82.0}))
    assert "'weight_kg' 82 is outside 1.5-6 (in kg; a newborn" in reason
    assert TWIN.missing(Case("No weight")) == [
        "needs the clinical value 'weight_kg' (in kg; a newborn: body size scales the model)"
    ]


def test_a_circulation_that_cannot_meet_oxygen_demand_fails_with_the_reason():
    """Mass balance: SvO2 = SaO2 - VO2/(k Qs) <= 0 means VO2 cannot be delivered; the run
    fails with a clinical reason instead of reporting negative saturations."""
    from meditwin_desktop.core.twin import TwinInputError

    with pytest.raises(TwinInputError, match="cannot meet the oxygen consumption"):
        _run(svr_scale=3.0, pvr_scale=4.0, shunt_diameter_mm=2.5, vo2_ml_min_m2=250,
             hemoglobin_g_dl=8.0)  # fmt: skip


def test_low_venous_saturation_is_flagged():
    params = TWIN.parameters_for({}, {"svr_scale": 2.2, "vo2_ml_min_m2": 200})
    result = simulate(params, {}, lambda *_: None, lambda: False)
    assert result.outcomes["svo2_pct"] < 30
    assert any("anaerobic" in w for w in result.warnings)
