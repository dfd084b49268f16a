"""Anatomical re-entry around a non-conducting obstacle in a 2D sheet (1 mm voxels,
isotropic healthy tissue): a wave circulating a path of length L has the period T = L / CV,
with CV the plane-wave CV at that cycle length (measured on a cable paced at T).

The circuit is started by a temporary block: a one-voxel non-conducting line across the
loop while a stimulus beside it sends a wave one way only; at 320 ms (after the stimulated
tissue has repolarised, APD ~241 ms) the line is removed (the state moves to the model
without it) and the wave circulates. Cycle length ~680 ms, well above the APD: the
diastolic interval (~440 ms) is > 3.5 tau_open, so h has recovered to > 97 % and CV
restitution is small (it is measured at T anyway).
"""

from __future__ import annotations

import numpy as np
import pytest

from .. import ionic
from .. import monodomain as md


def _loop(inner: float, width: float, square: bool) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the loop and of the loop cut by the temporary block, and the affine."""
    n = int(2 * (inner + width)) + 5
    c = (n - 1) / 2
    j, i = np.indices((n, n))
    x, y = i - c, j - c
    r = np.maximum(np.abs(x), np.abs(y)) if square else np.hypot(x, y)
    loop = (r >= inner) & (r <= inner + width)
    cut = loop & ~((np.abs(y) < 0.5) & (x > 0))
    affine = np.eye(4)
    affine[:2, 3] = -c
    return np.stack([loop[None], cut[None]]).astype(np.uint8), affine


def _period(inner: float, width: float, square: bool) -> tuple[float, float, np.ndarray]:
    """(period ms from the last two cycles at a probe opposite the start, CV at that cycle
    length mm/ms, all intervals)."""
    (loop, cut), affine = _loop(inner, width, square)
    full = md.build_model(loop, affine, None, ionic.CELLS, ionic.DIFFUSIVITY)
    blocked = md.build_model(cut, affine, None, ionic.CELLS, ionic.DIFFUSIVITY, dt_ms=full.dt_ms)
    p = blocked.lps()
    start = md.Stimulus(np.flatnonzero((p[:, 0] > 0) & (p[:, 1] > 0) & (p[:, 1] < 4)), 0.0)
    state = md.resting_state(blocked)
    md.run(blocked, state, 320.0, [start], stop_when_quiet=False)
    state = md.transfer_state(blocked, state, full)
    probe = full.node_at((-(inner + width / 2), 0.0, 0.0))
    rec = md.run(full, state, 3200.0, [], probe_nodes=np.array([probe]))
    assert rec.t_end_ms == pytest.approx(3200.0, abs=1.0), "the re-entry stopped"
    intervals = np.diff(rec.activation_times(probe))
    period = float(intervals[-2:].mean())
    cable = md.build_model(np.ones((1, 1, 81), np.uint8), np.eye(4), None, ionic.CELLS,
                           ionic.DIFFUSIVITY, dt_ms=full.dt_ms)  # fmt: skip
    x = cable.lps()[:, 0]
    paced = [md.Stimulus(np.flatnonzero(x <= 2.0), k * period) for k in range(4)]
    done = md.run(cable, md.resting_state(cable), 3 * period + 150.0, paced)
    sel = (x >= 15.0) & (x <= 65.0)
    assert np.all(done.activation_count[sel] == 4)
    cv = float(1.0 / np.polyfit(x[sel], done.last_activation[sel], 1)[0])
    return period, cv, intervals


def test_reentry_around_a_square_obstacle_has_the_period_path_length_over_cv():
    # a 3 mm channel around a 96 mm square obstacle, axis-aligned (no staircase walls):
    # L = 4 x 99 mm along the channel's mid-line. Measured T = 678.8 ms, CV 0.579 mm/ms,
    # T / (L / CV) = 0.992 (the wave cuts the four corners slightly).
    period, cv, intervals = _period(48.0, 3.0, square=True)
    assert abs(intervals[-1] - intervals[-2]) < 1.0  # steady circulation
    assert period == pytest.approx(8 * 49.5 / cv, rel=0.02)


def test_reentry_around_a_circular_obstacle_has_the_period_perimeter_over_cv():
    # an 8 mm annulus around a circular hole of radius 57 mm. On a 1 mm grid the curved
    # walls are staircases, which slow a wave along them (measured: a 45 deg, 8 mm strip
    # conducts 4.5 % slower than an axis-aligned one); the period is therefore compared with
    # the mid-line perimeter 2 pi 61 mm with a 5 % tolerance (measured T / (L / CV) = 1.03;
    # at 0.5 mm voxels 1.016). The wave can never be faster than around the hole itself.
    period, cv, intervals = _period(57.0, 8.0, square=False)
    assert abs(intervals[-1] - intervals[-2]) < 1.0
    assert period == pytest.approx(2 * np.pi * 61.0 / cv, rel=0.05)
    assert period > 2 * np.pi * 57.0 / cv
