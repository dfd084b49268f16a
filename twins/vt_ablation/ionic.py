"""Mitchell–Schaeffer cell model: parameters per tissue class and the reaction terms.

Mitchell & Schaeffer 2003 (Bull Math Biol 65:767-793), dimensionless potential v in 0..1,
times in ms:

    dv/dt = h v^2 (1 - v) / tau_in - v / tau_out + J_stim
    dh/dt = (1 - h) / tau_open   if v < v_gate
            -h / tau_close       otherwise

Action potential duration to leading order (Mitchell & Schaeffer 2003):
APD_max = tau_close ln(tau_out / (4 tau_in)).

Healthy myocardium: tau_open 120 ms, tau_close 150 ms, v_gate 0.13 as published by
Mitchell & Schaeffer 2003. tau_in and tau_out are both scaled by 10/3 from the
published 0.3 ms and 6 ms (to 1.0 ms and 20 ms): the ratio tau_out / tau_in, hence the APD
(~241 ms) and the excitation threshold, is unchanged, while the upstroke front (width
~ sqrt(D tau_in)) becomes wide enough to be resolved on the 1 mm image grid. With the
published tau_in = 0.3 ms a plane wave at CV 0.6 mm/ms does not propagate at all at dx =
1 mm (measured: propagation failure), the well-known grid dependence of sharp-front models.
Conduction velocity depends on D / tau_in only (CV ~ 0.59 sqrt(D / tau_in), measured), so
the diffusivities below are calibrated for this tau_in.

Border zone: slower conduction (lower diffusivity, see DIFFUSIVITY) and a longer action
potential (tau_close 195 ms: APD ~ 314 ms, +30 %), the two border-zone properties of the
image-based VT models of Arevalo et al. 2013 (PLoS One 8:e68872) and 2016 (Nat Commun
7:11437), whose remodelled border-zone cell has a prolonged APD and reduced, mostly
transverse, conductivity; Relan et al. 2011 (Interface Focus 1:396-407) personalise the
same two MS quantities (conductivity and tau_close) for VT prediction.

Diffusivity (mm^2/ms, monodomain D = sigma / (beta C_m) folded into one number): set so the
plane-wave CV of healthy tissue is 0.6 mm/ms along and 0.3 mm/ms across fibres, the targets
of this twin (issue 18; anisotropy ratio 2, within the 2-3 measured in canine ventricle by
Roberts, Hersh & Scher 1979, Circ Res 44:701), calibrated numerically on the default grid
(dx = 1 mm, dt = 0.2 ms: 0.599 and 0.300 mm/ms; converged at dx = 0.25 mm: 0.611 and 0.311,
so the 1 mm grid is 2-3 % slow; tests/test_monodomain.py measures these). Border zone:
x 0.25 along and across (CV about half: ~0.29 / 0.14 mm/ms at 1 mm). The 90 % transverse
reduction of Arevalo et al. is not the default: at 1 mm such low diffusivities conduct
markedly slower than their converged value (measured -10 % already at D = 0.04 mm^2/ms).

Known grid effects at 1 mm (measured): a plane wave at 45 deg to the grid is 1.3 % slower
than along an axis; a narrow channel whose walls are oblique to the grid (staircase walls)
conducts slower than a straight one (45 deg: -10 % at 3 mm width, -4.5 % at 8 mm, -3 % at
12 mm), which lengthens re-entry around curved obstacles by a few per cent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# tissue codes used everywhere (uint8); dense scar (3 in anatomy's codes) is non-conducting
NONCONDUCTING, HEALTHY_CODE, BORDER_ZONE_CODE = 0, 1, 2
DENSE_SCAR_CODE = 3

V_ACTIVATION = 0.5  # upstroke crossing that defines an activation time


@dataclass(frozen=True)
class CellParams:
    """Mitchell–Schaeffer parameters of one tissue class (times in ms, v_gate dimensionless)."""

    tau_in: float
    tau_out: float
    tau_open: float
    tau_close: float
    v_gate: float

    def apd_ms(self) -> float:
        """Leading-order maximal APD, tau_close ln(tau_out / (4 tau_in)) (MS 2003)."""
        return self.tau_close * math.log(self.tau_out / (4.0 * self.tau_in))

    def threshold(self) -> float:
        """Resting excitation threshold of v (h = 1): smaller root of v (1 - v) = tau_in/tau_out."""
        r = self.tau_in / self.tau_out
        return 0.5 * (1.0 - math.sqrt(1.0 - 4.0 * r))


HEALTHY = CellParams(tau_in=1.0, tau_out=20.0, tau_open=120.0, tau_close=150.0, v_gate=0.13)
BORDER_ZONE = CellParams(tau_in=1.0, tau_out=20.0, tau_open=120.0, tau_close=195.0, v_gate=0.13)

CELLS: dict[int, CellParams] = {HEALTHY_CODE: HEALTHY, BORDER_ZONE_CODE: BORDER_ZONE}

# code -> (along fibres, across fibres) mm^2/ms, calibrated at dx = 1 mm, dt = 0.2 ms
HEALTHY_D = (1.10, 0.284)
BZ_FACTOR = 0.25
DIFFUSIVITY: dict[int, tuple[float, float]] = {
    HEALTHY_CODE: HEALTHY_D,
    BORDER_ZONE_CODE: (HEALTHY_D[0] * BZ_FACTOR, HEALTHY_D[1] * BZ_FACTOR),
}


def reaction(v: np.ndarray, h: np.ndarray, p: CellParams) -> np.ndarray:
    """Ionic current dv/dt (1/ms) without diffusion or stimulus."""
    return h * v * v * (1.0 - v) / p.tau_in - v / p.tau_out


def gate_step(v: np.ndarray, h: np.ndarray, p: CellParams, dt_ms: float) -> np.ndarray:
    """h after dt by Rush–Larsen (exact for v frozen over the step)."""
    opening = 1.0 - (1.0 - h) * math.exp(-dt_ms / p.tau_open)
    closing = h * math.exp(-dt_ms / p.tau_close)
    return np.where(v < p.v_gate, opening, closing)
