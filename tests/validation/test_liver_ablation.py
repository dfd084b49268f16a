"""Verification of the liver ablation twin (twins/liver_ablation) against analytic solutions.

Each test names its reference and tolerance. The model is run directly (no worker
process) on small grids so that the suite stays fast.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from meditwin_twins.liver_ablation import TWIN, bioheat, geometry
from meditwin_twins.liver_ablation.model import future_liver_remnant, simulate
from meditwin_twins.liver_ablation.tissue import LIVER, OTHER, VESSEL

from meditwin_desktop.core.twin import TwinInputError, check_result

K, RHO_C = 0.52, 1079.0 * 3540.0  # liver, IT'IS v4.1
PERFUSION = 6.4e-3 * 1000.0 * 4180.0  # Tungjitkusolmun 2002


def _uniform(n: int, perfusion: float) -> bioheat.Tissue:
    shape = (n, n, n)
    return bioheat.Tissue(
        np.full(shape, K), np.full(shape, RHO_C), np.full(shape, perfusion), np.zeros(shape, bool)
    )


def test_steady_point_source_matches_the_pennes_greens_function():
    """Pennes 1948, infinite medium, point source P: dT(r) = P exp(-r / L) / (4 pi k r),
    L = sqrt(k / (w rho_b c_b)) (about 4.4 mm here). Tolerance 2% from 7 to 12 mm (closer
    in, the 7-point lattice differs from the continuum near a one-voxel source)."""
    n, h, power = 41, 1e-3, 0.1
    source = np.zeros((n, n, n))
    c = n // 2
    source[c, c, c] = power / h**3
    result = bioheat.heat(  # 1500 s: about 10 perfusion time constants
        _uniform(n, PERFUSION), source, h, 1500.0, perfusion_stops_at=math.inf, cap_c=1e9
    )  # linear Pennes: perfusion never stops, no vaporisation cap
    length = math.sqrt(K / PERFUSION)
    for r in range(7, 13):  # measured: +4.1% at 4 mm, +2.1% at 6, +1.4% at 8, +0.9% at 10
        analytic = power * math.exp(-r * h / length) / (4 * math.pi * K * r * h)
        for value in (result.temperature[c, c, c + r], result.temperature[c + r, c, c]):
            assert value - 37.0 == pytest.approx(analytic, rel=0.02), r


def test_energy_is_conserved_without_perfusion():
    """First law: with no perfusion and the heat far from the border, the stored heat
    sum(rho c dT dV) equals the energy delivered P t. Tolerance 0.5%."""
    n, h, power, seconds = 31, 1e-3, 0.05, 60.0
    source = np.zeros((n, n, n))
    source[n // 2, n // 2, n // 2] = power / h**3
    result = bioheat.heat(_uniform(n, 0.0), source, h, seconds)
    stored = float(np.sum(RHO_C * (result.temperature - 37.0)) * h**3)
    assert stored == pytest.approx(power * seconds, rel=0.005)
    assert not result.clamped


def test_arrhenius_and_cem43_at_a_constant_temperature():
    """Held at 60 C: Omega = A t exp(-Ea / (R T)) (Henriques 1947; liver A = 7.39e39 1/s,
    Ea = 2.577e5 J/mol, Chang & Nguyen 2004) and CEM43 = t 0.5^(43 - T)
    (Sapareto & Dewey 1984). Tolerance 1e-9 relative (same sums, exact arithmetic aside)."""
    n = 5
    tissue = _uniform(n, PERFUSION)
    tissue.fixed[:] = True
    result = bioheat.heat(tissue, np.zeros((n, n, n)), 1e-3, 10.0, arterial_c=60.0)
    omega = bioheat.arrhenius_constant(60.0, 10.0)
    assert omega == pytest.approx(10.0 * 7.39e39 * math.exp(-2.577e5 / (8.314 * 333.15)))
    assert result.damage[2, 2, 2] == pytest.approx(omega, rel=1e-9)
    assert omega > 1.0  # 60 C kills within seconds (coagulation threshold Omega = 1)
    assert result.cem43[2, 2, 2] == pytest.approx(10.0 / 60.0 * 2.0**17, rel=1e-9)


def test_future_liver_remnant_of_a_cut_sphere_matches_the_spherical_cap():
    """A plane at distance d from the centre of a sphere of radius R removes a cap of
    volume pi h^2 (3R - h) / 3, h = R - d. Tolerance 1 percentage point (voxelisation)."""
    n, radius, d = 121, 50.0, 20.0
    k, j, i = np.indices((n, n, n))
    centre = (n - 1) / 2
    codes = np.where(
        (i - centre) ** 2 + (j - centre) ** 2 + (k - centre) ** 2 <= radius**2, LIVER, OTHER
    ).astype(np.uint8)
    affine = np.eye(4)
    params = {
        "resection": "remove right part",
        "resection_angle_deg": 0.0,
        "resection_l_mm": centre - d,
    }
    flr, liver_ml = future_liver_remnant(codes, affine, params, ablated_liver_ml=0.0)
    cap = math.pi * (radius - d) ** 2 * (3 * radius - (radius - d)) / 3
    assert liver_ml == pytest.approx(4 / 3 * math.pi * radius**3 / 1000, rel=0.01)
    assert flr == pytest.approx(100 * (1 - cap / (4 / 3 * math.pi * radius**3)), abs=1.0)
    params["resection"] = "remove left part"
    left, _ = future_liver_remnant(codes, affine, params, ablated_liver_ml=0.0)
    assert left == pytest.approx(100 * cap / (4 / 3 * math.pi * radius**3), abs=1.0)


def test_coverage_and_margins_of_concentric_spheres():
    """A 10 mm tumour centred in a 20 mm zone: full coverage, margin 10 mm (to one voxel);
    moved 15 mm aside it sticks 5 mm out (margin -5 mm)."""
    n, h = 61, 1.0
    k, j, i = np.indices((n, n, n))
    c = n // 2
    zone = (i - c) ** 2 + (j - c) ** 2 + (k - c) ** 2 <= 20**2
    tumour = (i - c) ** 2 + (j - c) ** 2 + (k - c) ** 2 <= 10**2
    assert geometry.coverage(zone, tumour) == 100.0
    assert geometry.minimal_margin(zone, tumour, h) == pytest.approx(10.0, abs=1.0)
    five = geometry.margin_region(tumour, np.ones_like(zone), 5.0, h)
    assert geometry.coverage(zone, five) == 100.0
    moved = (i - c - 15) ** 2 + (j - c) ** 2 + (k - c) ** 2 <= 10**2
    assert geometry.coverage(zone, moved) < 100.0
    assert geometry.minimal_margin(zone, moved, h) == pytest.approx(-5.0, abs=1.0)


@pytest.fixture(scope="module")
def demo(demo_patient):
    from meditwin_desktop.demo.case import demo_case

    case = demo_case()
    baseline = {name: p.value for name, p in TWIN.personalize(case).items()}
    return case, baseline, TWIN.prepare(case)


def _run(demo, **overrides):
    _case, baseline, inputs = demo
    params = TWIN.parameters_for(baseline, {"grid_mm": 2.0, **overrides})
    result = simulate(params, inputs, lambda f, m: None, lambda: False)
    check_result(TWIN, result)
    return result


def test_personalised_to_the_largest_tumour_with_provenance(demo):
    case, baseline, _ = demo
    provenance = TWIN.personalize(case)["target_lps_mm"].provenance
    assert "'tumour 1'" in provenance and "mL" in provenance and "'tumour 2'" in provenance
    ijk = np.rint(case.labels.volume.lps_to_index(np.array(baseline["target_lps_mm"])))
    ijk = ijk.astype(int)
    value = case.labels.volume.array[ijk[2], ijk[1], ijk[0]]
    assert case.labels.labels[int(value)].name == "tumour 1"


def test_missing_tumour_or_liver_gives_an_actionable_message(demo):
    import copy

    case = copy.copy(demo[0])
    labels = copy.copy(case.labels)
    labels.labels = {v: lab for v, lab in labels.labels.items() if "tumour" not in lab.name}
    case.labels = labels
    with pytest.raises(TwinInputError, match="name it 'tumour 1'"):
        TWIN.personalize(case)
    labels.labels = {v: lab for v, lab in labels.labels.items() if lab.name != "liver"}
    assert any("liver" in reason for reason in TWIN.missing(case))


def test_demo_ablation_covers_the_tumour_and_grows_with_power_and_without_vessels(demo):
    """Physics sanity on the demo patient: the baseline (60 W, 8 min) covers tumour 1; more
    power gives a larger zone; without the vessels' heat sink the zone is larger."""
    base = _run(demo)
    assert base.outcomes["tumor_coverage_pct"] == 100.0
    assert 20.0 < base.outcomes["ablation_volume_ml"] < 100.0
    assert {"tumour_centre", "tumour_edge", "nearest_vessel_wall"} <= set(base.series)
    assert base.fields["ablation_zone"].values.shape == (41, 41, 41)
    stronger = _run(demo, power_w=100.0)
    assert stronger.outcomes["ablation_volume_ml"] > base.outcomes["ablation_volume_ml"]
    _case, baseline, inputs = demo
    no_vessels = dict(inputs, codes=np.where(inputs["codes"] == VESSEL, LIVER, inputs["codes"]))
    params = TWIN.parameters_for(baseline, {"grid_mm": 2.0})
    sinkless = simulate(params, no_vessels, lambda f, m: None, lambda: False)
    assert sinkless.outcomes["ablation_volume_ml"] > base.outcomes["ablation_volume_ml"]


def test_ablation_volume_converges_with_the_grid(demo):
    """Grid convergence: 2 mm and 1.5 mm grids agree within 5% on the ablation volume
    (measured: 43.8 mL at 2 mm, 43.2 mL at 1 mm)."""
    coarse = _run(demo).outcomes
    fine = _run(demo, grid_mm=1.5).outcomes
    assert fine["ablation_volume_ml"] == pytest.approx(coarse["ablation_volume_ml"], rel=0.05)


def test_resection_alone_treats_the_tumour_and_flags_a_small_remnant(demo):
    """A right-sided cut at the IVC (tumour 1 lies in the right liver) with the applicators
    off: nothing ablated, the tumour counted as treated, the remnant checked against the
    threshold for the chosen liver condition (Adams et al. 2013)."""
    result = _run(demo, resection="remove right part", liver_condition="cirrhosis", ablation=False)
    outcomes = result.outcomes
    assert outcomes["ablation_volume_ml"] == 0.0 and outcomes["max_temperature_c"] == 37.0
    assert outcomes["tumor_coverage_pct"] == 100.0
    flr = outcomes["flr_pct"]
    assert 0.0 < flr < 100.0
    assert (flr < 40.0) == any("below 40%" in w for w in result.warnings)


def _block(vessel_offset_mm: float | None) -> dict:
    """Liver cube (1 mm voxels, LPS = index) with an optional 6 mm vessel along S."""
    n = 121
    codes = np.full((n, n, n), LIVER, dtype=np.uint8)
    if vessel_offset_mm is not None:
        _, j, i = np.indices((1, n, n))
        centre = n // 2
        inside = (i[0] - centre - vessel_offset_mm) ** 2 + (j[0] - centre) ** 2 <= 3.0**2
        codes[:, inside] = VESSEL
    return {"codes": codes, "affine": np.eye(4)}


def _block_params(time_s: float) -> dict:
    """One 60 W antenna along S through the centre of `_block`, on a 1.5 mm grid."""
    overrides = {
        "target_lps_mm": (60, 60, 60),
        "entry_lps_mm": (60, 60, -20),
        "grid_mm": 1.5,
        "power_w": 60.0,
        "time_s": time_s,
    }
    return TWIN.parameters_for({}, overrides)


def _extent_along_l(result, centre: float = 60.0) -> tuple[float, float]:
    """How far the zone reaches from the target towards +L and -L (mm)."""
    field = result.fields["ablation_zone"]
    zone = field.values > 0.5
    k, j, i = (s // 2 for s in zone.shape)
    row = np.nonzero(zone[k, j, :])[0]
    spacing = field.affine[0, 0]
    return (row.max() - i) * spacing, (i - row.min()) * spacing


def test_a_vessel_beside_the_antenna_shrinks_the_zone_on_its_side():
    """Heat sink (large vessels shrink thermal ablation zones on their side):
    a 6 mm vessel 12 mm from the antenna cuts the zone's reach on its side by at least
    4 mm, while the zone stays symmetric (to one voxel) without it."""
    params = _block_params(time_s=480.0)
    plain = simulate(params, _block(None), lambda f, m: None, lambda: False)
    towards, away = _extent_along_l(plain)
    assert towards == pytest.approx(away, abs=1.5)
    sink = simulate(params, _block(12.0), lambda f, m: None, lambda: False)
    towards_vessel, away_from_vessel = _extent_along_l(sink)
    print(
        f"zone reach without vessel {towards:.1f}/{away:.1f} mm; with vessel "
        f"{towards_vessel:.1f} (vessel side) / {away_from_vessel:.1f} mm"
    )
    assert towards_vessel <= 12.0 - 3.0  # stops at the vessel wall
    assert away_from_vessel - towards_vessel >= 4.0


def test_standard_microwave_ablation_size_is_in_the_published_clinical_range():
    """Amabile C et al., Int J Hyperthermia 2017 ("Microwave ablation of primary and
    secondary liver tumours: ex vivo, in vivo, and clinical characterisation"): 2.45 GHz,
    60 W for 10 min in patients, ablation diameter 4.1 +/- 0.6 cm for metastases.
    Tolerance: the published mean +/- 2 SD (2.9 to 5.3 cm) for the short axis, in perfused
    liver without large vessels, with the default absorbed fraction (0.7)."""
    params = _block_params(time_s=600.0)
    result = simulate(params, _block(None), lambda f, m: None, lambda: False)
    short = result.outcomes["ablation_short_axis_mm"]
    print(
        f"60 W, 10 min: short axis {short:.1f} mm, long axis "
        f"{result.outcomes['ablation_long_axis_mm']:.1f} mm"
    )
    assert 29.0 <= short <= 53.0
