"""TP06 single cell and the Niederer et al. 2011 benchmark slab (niederer.py, tp06.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from .. import niederer, tp06
from ..verification import VERIFICATION


@pytest.fixture(scope="module")
def paced_cell():
    """Four beats at 1 Hz from the CellML initial state; the last one is measured."""
    t, v, _ = tp06.pace_cell(bcl_ms=1000.0, beats=4, dt_ms=0.01, sample_ms=0.05)
    return tp06.action_potential(t, v, 3000.0, 1000.0)


def test_epicardial_cell_rests_near_minus_86_mv(paced_cell):
    # TP06 (ten Tusscher & Panfilov 2006): resting potential about -86 mV.
    assert -87.0 < paced_cell["rest_mV"] < -85.0


def test_epicardial_action_potential_amplitude_and_apd90(paced_cell):
    # TP06 figure 1 / 2004 model: overshoot to ~ +35..40 mV (amplitude ~ 120-130 mV) and
    # an epicardial APD90 of about 300 ms at 1 Hz.
    assert 115.0 < paced_cell["amplitude_mV"] < 135.0
    assert 270.0 < paced_cell["apd90_ms"] < 330.0


def test_table_and_exact_cell_models_agree():
    """The tabulated voltage terms (numba) against the exact formulas (numpy) on one
    cell: upstroke and plateau (200 ms) stay within 0.05 mV."""
    dt, n = 0.02, 10_000
    y = np.array(tp06.INITIAL)
    table = tp06.voltage_table(dt)
    trace_table = tp06._pace(y.copy(), table, dt, n, 1000.0, 1.0, -52.0, 1)
    exact = [np.array([value]) for value in tp06.INITIAL]
    trace_exact = [exact[0][0]]
    for step in range(n):
        i_stim = -52.0 if step * dt < 1.0 - 1e-9 else 0.0
        res = tp06.cell_step(*exact, dt, i_stim)
        exact = [exact[0] - dt * (res[0] + i_stim)] + [np.asarray(r) for r in res[1:]]
        trace_exact.append(exact[0][0])
    assert np.max(np.abs(trace_table - np.array(trace_exact))) < 0.05


def test_numba_kernel_matches_numpy_reference_on_a_tiny_slab():
    """Same scheme, two implementations (fused compiled kernel with tables / numpy array
    slicing with the exact formulas): the whole activation map agrees."""
    size = (4.0, 1.0, 0.5)
    fast = niederer.run_slab(0.25, 0.02, size_mm=size, keep_map=True, t_max_ms=20.0)
    ref = niederer.run_slab(0.25, 0.02, size_mm=size, keep_map=True, t_max_ms=20.0,
                            backend="numpy")  # fmt: skip
    assert fast.activation_ms is not None and ref.activation_ms is not None
    assert not np.isnan(ref.activation_ms).any()  # the wave crossed the whole slab
    assert np.max(np.abs(fast.activation_ms - ref.activation_ms)) < 0.01
    # It propagated: the far end activates well after the stimulated corner.
    assert ref.activation_ms[0, 0, -1] > ref.activation_ms[0, 0, 0] + 2.0


def test_benchmark_constants_follow_the_paper():
    d_l, d_t = niederer.diffusivities()
    # Harmonic means 0.1334 / 0.01761 S/m over chi Cm = 1.4 uF/mm^3.
    assert d_l == pytest.approx(0.17 * 0.62 / 0.79 / 1.4, rel=1e-12)
    assert d_t == pytest.approx(0.019 * 0.24 / 0.259 / 1.4, rel=1e-12)
    assert niederer.stimulus_mv_per_ms() == pytest.approx(50.0 / 1.4)
    assert niederer.grid_shape(0.1) == (31, 71, 201)  # ~440 000 nodes
    with pytest.raises(ValueError):
        niederer.run_slab(0.1, 0.05)  # unstable explicit step


def test_dx_0_5_slab_activates_everywhere_in_the_right_order():
    result = niederer.run_slab(0.5, keep_map=True)
    p = result.points_ms
    assert result.activation_ms is not None and not np.isnan(result.activation_ms).any()
    assert p["P1"] < 2.0  # inside the stimulus
    # Fibres along x conduct faster than across: 20 mm along x (P3) activates before
    # 7 mm across y (P2); P8 (far corner) is last.
    assert p["P3"] < p["P2"]
    assert p["P8"] == pytest.approx(max(p.values()))


@pytest.mark.parametrize("case", [c for c in VERIFICATION if not c.heavy], ids=lambda c: c.name)
def test_p8_activation_against_the_reference(case):
    value = case.compute()
    assert math.isfinite(value)
    assert case.passed(value), f"{case.name}: {value:.2f} ms vs {case.reference} ms"
