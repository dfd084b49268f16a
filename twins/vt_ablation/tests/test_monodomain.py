"""The monodomain tissue solver: plane-wave conduction velocity (grid and time-step
convergence, anisotropy, oblique fibres), backend agreement, no-flux boundaries and the
operator's conservation. Small cables and sheets: a few seconds in all."""

from __future__ import annotations

import numpy as np
import pytest
from meditwin_twins.vt_ablation import ionic
from meditwin_twins.vt_ablation import monodomain as md

D_L, D_T = ionic.HEALTHY_D


def _cable(dx: float, fibre: tuple[float, float, float], length: float = 40.0) -> md.TissueModel:
    """A one-voxel-thick cable along i (LPS x), fibres `fibre` (LPS), healthy tissue."""
    n = round(length / dx) + 1
    codes = np.ones((1, 1, n), np.uint8)
    fibres = np.zeros((1, 1, n, 3), np.float32)
    fibres[...] = fibre
    return md.build_model(codes, np.diag([dx, dx, dx, 1.0]), fibres, ionic.CELLS,
                          ionic.DIFFUSIVITY, dt_ms=0.2 * min(1.0, dx) ** 2)  # fmt: skip


def _cv_along_x(model: md.TissueModel, backend: str = "numpy", t_end: float = 150.0) -> float:
    """Plane-wave CV (mm/ms) from a linear fit of activation time vs x away from the ends."""
    x = model.lps()[:, 0]
    stim = md.Stimulus(np.flatnonzero(x <= x.min() + 2.0), 0.0)
    rec = md.run(model, md.resting_state(model), t_end, [stim], backend=backend)
    sel = (x >= x.min() + 10.0) & (x <= x.max() - 10.0)
    assert np.all(np.isfinite(rec.first_activation[sel])), "the wave did not cross the cable"
    return float(1.0 / np.polyfit(x[sel], rec.first_activation[sel], 1)[0])


def test_plane_wave_cv_converges_under_refinement_and_the_default_grid_is_within_10_percent():
    # dx 1, 0.5, 0.25 mm with dt = 0.2 dx^2 ms (the default 0.2 ms at 1 mm)
    cvs = [_cv_along_x(_cable(dx, (1.0, 0.0, 0.0))) for dx in (1.0, 0.5, 0.25)]
    assert abs(cvs[1] - cvs[2]) < abs(cvs[0] - cvs[1])  # differences shrink
    assert abs(cvs[0] - cvs[2]) / cvs[2] < 0.10
    # calibration target of ionic.DIFFUSIVITY: 0.6 mm/ms along fibres on the default grid
    assert cvs[0] == pytest.approx(0.6, rel=0.02)


def test_cv_at_the_default_time_step_is_within_5_percent_of_a_quarter_step():
    coarse = _cv_along_x(_cable(1.0, (1.0, 0.0, 0.0)))
    n = 41
    fine_model = md.build_model(np.ones((1, 1, n), np.uint8), np.eye(4), None, ionic.CELLS,
                                ionic.DIFFUSIVITY, dt_ms=0.05)  # fmt: skip
    fine = _cv_along_x(fine_model)
    assert abs(coarse - fine) / fine < 0.05
