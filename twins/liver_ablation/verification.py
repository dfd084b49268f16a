"""Verification cases of the liver ablation twin, run by `meditwin verify` on an installation.

The references, tolerances and grids of tests/validation/test_liver_ablation.py (analytic
solutions and the published clinical ablation size); the demo-patient checks stay there
(they need the demo CT). Each `compute` runs the twin's own code; the model modules are
imported only when a case runs.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from meditwin_desktop.core.twin import VerificationCase

K, RHO_C = 0.52, 1079.0 * 3540.0  # liver, IT'IS v4.1
PERFUSION = 6.4e-3 * 1000.0 * 4180.0  # w rho_b c_b, Tungjitkusolmun 2002
ARRHENIUS_A, ARRHENIUS_EA, GAS = 7.39e39, 2.577e5, 8.314  # Chang & Nguyen 2004
SPHERE_MM, PLANE_MM = 50.0, 20.0  # a liver sphere cut by a plane 20 mm from its centre
CAP_ML = math.pi * (SPHERE_MM - PLANE_MM) ** 2 * (2 * SPHERE_MM + PLANE_MM) / 3 / 1000
SPHERE_ML = 4 / 3 * math.pi * SPHERE_MM**3 / 1000


def _quiet(fraction: float, message: str) -> None:
    """No progress display."""


def _never() -> bool:
    return False


def _uniform(n: int, perfusion: float):
    from .bioheat import Tissue

    shape = (n, n, n)
    return Tissue(np.full(shape, K), np.full(shape, RHO_C), np.full(shape, perfusion),
                  np.zeros(shape, bool))  # fmt: skip


def pennes_deviation_pct() -> float:
    """Largest deviation (%) of the steady temperature rise from the Pennes Green's
    function P exp(-r/L) / (4 pi k r), 7 to 12 mm from a 0.1 W point source, along two axes
    (41^3 grid, 1 mm, 1500 s: about 10 perfusion time constants; linear Pennes)."""
    from .bioheat import heat

    n, h, power = 41, 1e-3, 0.1
    source = np.zeros((n, n, n))
    c = n // 2
    source[c, c, c] = power / h**3
    result = heat(_uniform(n, PERFUSION), source, h, 1500.0, perfusion_stops_at=math.inf,
                  cap_c=1e9)  # fmt: skip
    length = math.sqrt(K / PERFUSION)
    worst = 0.0
    for r in range(7, 13):
        analytic = power * math.exp(-r * h / length) / (4 * math.pi * K * r * h)
        for value in (result.temperature[c, c, c + r], result.temperature[c + r, c, c]):
            worst = max(worst, abs((value - 37.0) / analytic - 1.0))
    return 100.0 * worst


def stored_heat_j() -> float:
    """Heat stored sum(rho c dT dV) after 60 s of 0.05 W into unperfused liver (31^3, 1 mm)."""
    from .bioheat import heat

    n, h, power = 31, 1e-3, 0.05
    source = np.zeros((n, n, n))
    source[n // 2, n // 2, n // 2] = power / h**3
    result = heat(_uniform(n, 0.0), source, h, 60.0)
    return float(np.sum(RHO_C * (result.temperature - 37.0)) * h**3)


def _held_at_60c():
    from .bioheat import heat

    tissue = _uniform(5, PERFUSION)
    tissue.fixed[:] = True
    return heat(tissue, np.zeros((5, 5, 5)), 1e-3, 10.0, arterial_c=60.0)


def arrhenius_omega() -> float:
    """Arrhenius damage after 10 s held at 60 C."""
    return float(_held_at_60c().damage[2, 2, 2])


def cem43_min() -> float:
    """Thermal dose after 10 s held at 60 C."""
    return float(_held_at_60c().cem43[2, 2, 2])


def _cut_sphere(resection: str) -> tuple[float, float]:
    from .model import future_liver_remnant
    from .tissue import LIVER, OTHER

    n = 121
    k, j, i = np.indices((n, n, n))
    centre = (n - 1) / 2
    inside = (i - centre) ** 2 + (j - centre) ** 2 + (k - centre) ** 2 <= SPHERE_MM**2
    codes = np.where(inside, LIVER, OTHER).astype(np.uint8)
    params = {"resection": resection, "resection_angle_deg": 0.0,
              "resection_l_mm": centre - PLANE_MM}  # fmt: skip
    return future_liver_remnant(codes, np.eye(4), params, ablated_liver_ml=0.0)


def remnant_pct() -> float:
    """Future liver remnant (%) of a 50 mm sphere (1 mm voxels) whose right part beyond a
    plane 20 mm from the centre is removed."""
    return _cut_sphere("remove right part")[0]


def sphere_ml() -> float:
    """Functional liver volume (mL) of the voxelised 50 mm sphere."""
    return _cut_sphere("none")[1]


def margin_mm(offset: float) -> float:
    """Minimal margin (mm) of a 10 mm tumour in a 20 mm zone, moved `offset` mm aside."""
    from .geometry import minimal_margin

    n = 61
    k, j, i = np.indices((n, n, n))
    c = n // 2
    zone = (i - c) ** 2 + (j - c) ** 2 + (k - c) ** 2 <= 20**2
    tumour = (i - c - offset) ** 2 + (j - c) ** 2 + (k - c) ** 2 <= 10**2
    return minimal_margin(zone, tumour, 1.0)


def short_axis_mm() -> float:
    """Short axis (mm) of the zone of one antenna, 60 W for 10 min, in a perfused liver
    block without large vessels (121^3 mm, 1.5 mm model grid, default absorbed fraction)."""
    from . import TWIN
    from .model import simulate
    from .tissue import LIVER

    params = TWIN.parameters_for({}, {"target_lps_mm": (60, 60, 60), "grid_mm": 1.5,
                                      "entry_lps_mm": (60, 60, -20), "power_w": 60.0,
                                      "time_s": 600.0})  # fmt: skip
    inputs = {"codes": np.full((121, 121, 121), LIVER, dtype=np.uint8), "affine": np.eye(4)}
    return float(simulate(params, inputs, _quiet, _never).outcomes["ablation_short_axis_mm"])


AMABILE = (
    "Amabile C et al., Int J Hyperthermia 2017 (microwave ablation of liver tumours: ex "
    "vivo, in vivo and clinical): 2.45 GHz, 60 W, 10 min, metastases 4.1 +/- 0.6 cm; "
    "tolerance the mean +/- 2 SD"
)

VERIFICATION = (
    VerificationCase(
        "Pennes Green's function (steady point source)",
        "largest deviation of the temperature rise from P exp(-r/L)/(4 pi k r), 7-12 mm",
        "%", 0.0, 2.0,
        "Pennes HH, J Appl Physiol 1948;1:93 (analytic solution, infinite medium); tolerance "
        "2% (the 7-point lattice near a one-voxel source)",
        pennes_deviation_pct,
    ),
    VerificationCase(
        "Energy conservation without perfusion",
        "heat stored after 0.05 W for 60 s (delivered: 3 J)", "J", 0.05 * 60.0, 0.005,
        "First law of thermodynamics; tolerance 0.5%", stored_heat_j, relative=True,
    ),
    VerificationCase(
        "Arrhenius damage at a constant 60 C",
        "Omega after 10 s at 60 C", "",
        10.0 * ARRHENIUS_A * math.exp(-ARRHENIUS_EA / (GAS * (60.0 + 273.15))), 1e-9,
        "Henriques 1947, closed form; liver A = 7.39e39 1/s, Ea = 2.577e5 J/mol (Chang & "
        "Nguyen, Biomed Eng Online 2004;3:27); tolerance 1e-9 relative",
        arrhenius_omega, relative=True,
    ),
    VerificationCase(
        "CEM43 at a constant 60 C", "thermal dose after 10 s at 60 C", "min",
        10.0 / 60.0 * 2.0**17, 1e-9,
        "Sapareto SA, Dewey WC, Int J Radiat Oncol Biol Phys 1984;10:787, CEM43 = t "
        "0.5^(43 - T); tolerance 1e-9 relative",
        cem43_min, relative=True,
    ),
    VerificationCase(
        "Future liver remnant of a cut sphere",
        "remnant after removing the cap beyond a plane 20 mm from the centre of a 50 mm "
        "sphere", "%", 100.0 * (1.0 - CAP_ML / SPHERE_ML), 1.0,
        "Spherical cap volume pi h^2 (3R - h)/3; tolerance 1 percentage point (voxelisation)",
        remnant_pct,
    ),
    VerificationCase(
        "Liver volume of a voxelised sphere", "volume of a 50 mm sphere on 1 mm voxels", "mL",
        SPHERE_ML, 0.01, "4/3 pi R^3; tolerance 1%", sphere_ml, relative=True,
    ),
    VerificationCase(
        "Margin of concentric spheres",
        "minimal margin of a 10 mm tumour centred in a 20 mm zone", "mm", 10.0, 1.0,
        "Geometry (radius difference); tolerance one voxel (1 mm)", partial(margin_mm, 0.0),
    ),
    VerificationCase(
        "Margin of a tumour sticking out",
        "minimal margin of a 10 mm tumour 15 mm off the centre of a 20 mm zone", "mm", -5.0,
        1.0, "Geometry (15 + 10 - 20 mm outside); tolerance one voxel (1 mm)",
        partial(margin_mm, 15.0),
    ),
    VerificationCase(
        "Clinical microwave ablation size",
        "short axis of the zone, one antenna, 60 W, 10 min, perfused liver without large "
        "vessels", "mm", 41.0, 12.0, AMABILE, short_axis_mm,
    ),
)  # fmt: skip
