"""Programmed stimulation and VT detection on tiny 2D sheets (1 mm grid, a few thousand
nodes, a few seconds each), the isthmus finder, the lesions and the electrogram weights.

The ring: a 5 mm wide annulus of radius 60-65 mm (circumference ~390 mm at mid-width, a
circuit of ~650 ms at 0.6 mm/ms, well above the tissue's ~450 ms refractory period). Paced
at angle 0 beside a border-zone sector (longer action potential, slower conduction), a
premature beat blocks in the still-refractory border zone, travels the other way round and
re-enters: sustained VT. The homogeneous ring (no border zone) is the negative control: both
wavefronts of every beat meet opposite the site and annihilate.
"""

from __future__ import annotations

import numpy as np
import pytest

from meditwin_desktop.core.twin import TwinInputError

from .. import ecg, ionic, isthmus, lesions, monodomain, protocol

R_IN, R_OUT = 60.0, 65.0
BZ_SECTOR_DEG = (8.0, 40.0)
SETTINGS = protocol.Settings(s1_count=2, extrastimuli=1, sustained_ms=1500.0,
                             first_coupling_ms=480.0)  # fmt: skip


def _ring(border_zone: bool) -> monodomain.TissueModel:
    n = int(2 * R_OUT + 6)
    j, i = np.mgrid[0:n, 0:n]
    x, y = i - n / 2, j - n / 2
    r, angle = np.hypot(x, y), np.degrees(np.arctan2(y, x))
    codes = np.where((r >= R_IN) & (r <= R_OUT), 1, 0).astype(np.uint8)
    if border_zone:
        codes[(codes == 1) & (angle > BZ_SECTOR_DEG[0]) & (angle < BZ_SECTOR_DEG[1])] = 2
    affine = np.eye(4)
    affine[:3, 3] = (-n / 2, -n / 2, 0.0)
    slow = ionic.DIFFUSIVITY[2][1]  # the border zone's across-fibre diffusivity, isotropic
    diffusivity = {1: ionic.DIFFUSIVITY[1], 2: (slow, slow)}
    return monodomain.build_model(codes[None], affine, None, ionic.CELLS, diffusivity)


SITE = (0.5 * (R_IN + R_OUT), 0.0, 0.0)  # angle 0, mid-width


@pytest.fixture(scope="module")
def induced():
    model = _ring(border_zone=True)
    return model, protocol.induce(model, 1, SITE, SETTINGS)


def test_a_premature_beat_blocked_in_the_border_zone_induces_sustained_reentry(induced):
    _model, found = induced
    assert found.vt is not None, [t.outcome for t in found.trials]
    assert found.trials[-1].outcome == "sustained VT"
    assert found.trials[0].captured
    # period = path length / conduction velocity: the healthy arc at 0.6 mm/ms plus the
    # border-zone arc at 0.144 mm/ms (plane-wave CVs of these diffusivities at 1 mm,
    # measured on a straight strip), mid-width radius; 15 %: curvature, the 1 mm
    # staircase and the slower conduction of a wave meeting tissue not fully recovered
    radius = 0.5 * (R_IN + R_OUT)
    bz = np.radians(BZ_SECTOR_DEG[1] - BZ_SECTOR_DEG[0]) * radius
    expected = (2 * np.pi * radius - bz) / 0.6 + bz / 0.144
    assert found.vt.cycle_length_ms == pytest.approx(expected, rel=0.15)
    # every node of the ring activates once per cycle: a complete cycle map
    assert np.isfinite(found.vt.activation).mean() > 0.95
    assert np.nanmax(found.vt.activation) < found.vt.cycle_length_ms


def test_a_homogeneous_ring_is_not_inducible():
    model = _ring(border_zone=False)
    found = protocol.induce(model, 1, SITE, SETTINGS)
    assert found.vt is None
    assert all(t.outcome != "sustained VT" for t in found.trials)
    assert found.trials[-1].outcome == "no capture"  # decremented until refractoriness
    couplings = [t.couplings[0] for t in found.trials]
    assert couplings == sorted(couplings, reverse=True)
    assert np.nanmax(found.paced_activation) == pytest.approx(
        np.pi * 0.5 * (R_IN + R_OUT) / 0.6, rel=0.15
    )  # the paced beat: half the circumference at 0.6 mm/ms


def test_a_vt_slower_than_the_observation_is_still_a_vt(induced):
    """sustained_ms 500: the probes see activity only 250-500 ms after S2, less than one
    cycle of the ~900 ms ring VT. The trial is observed on until a cycle length can be
    measured, and the VT is the one found with 1.5 s of observation; an S2 whose single
    wavefront merely outlasts 500 ms and then dies is not a VT."""
    _model, reference = induced
    model = _ring(border_zone=True)
    short = protocol.Settings(s1_count=2, extrastimuli=1, sustained_ms=500.0,
                              first_coupling_ms=480.0)  # fmt: skip
    found = protocol.induce(model, 1, SITE, short)
    assert found.trials[0].outcome == "no re-entry"  # S2 480: one lap, then quiet
    assert found.trials[-1].outcome == "sustained VT"
    assert found.vt is not None, (found.note, [t.outcome for t in found.trials])
    assert found.vt.couplings == reference.vt.couplings
    assert found.vt.cycle_length_ms > short.sustained_ms
    assert found.vt.cycle_length_ms == pytest.approx(reference.vt.cycle_length_ms, rel=0.1)
    assert found.trials[-1].cycle_length_ms == found.vt.cycle_length_ms
    assert "beyond sustained_ms" in found.note
    assert np.isfinite(found.vt.activation).mean() > 0.95


def test_cycle_length_from_every_node_when_the_probes_see_too_few_activations():
    n = 10
    seen = protocol._Observation(
        counts=np.array([2, 3, 1, 0] + [2] * (n - 4)),
        first=np.array([300.0, 260.0, 400.0, np.nan] + [310.0] * (n - 4)),
        last=np.array([1000.0, 1660.0, 400.0, np.nan] + [1010.0] * (n - 4)),
        probe_times=[[300.0], [400.0]],  # one activation each: no interval
        ended_ms=1100.0,
    )
    assert protocol.cycle_length(seen.probe_times, 1100.0, 750.0) is None
    assert protocol.measured_cycle_length(seen, 0.0, 1100.0) == pytest.approx(700.0)
    seen.counts[:] = 1
    assert protocol.measured_cycle_length(seen, 0.0, 1100.0) is None


def _sheet() -> monodomain.TissueModel:
    """A 30 x 30 mm healthy sheet (1 mm)."""
    codes = np.ones((1, 30, 30), np.uint8)
    return monodomain.build_model(codes, np.eye(4), None, ionic.CELLS, ionic.DIFFUSIVITY)


def test_a_drive_train_faster_than_refractoriness_stops_the_protocol():
    model = _sheet()
    fast = protocol.Settings(s1_cycle_ms=300.0, s1_count=3, extrastimuli=1)
    found = protocol.induce(model, 1, (15.0, 15.0, 0.0), fast)
    assert found.vt is None and found.trials == [] and found.paced_activation is None
    assert "drive train at 300 ms does not capture every beat" in found.note
    assert "S1 beat 2 of 3" in found.note  # the first beat captures, the second does not
    paced = protocol.induce(model, 1, (15.0, 15.0, 0.0), protocol.Settings(s1_count=3))
    assert "drive train" not in paced.note and paced.trials  # 600 ms captures every beat
    assert np.isfinite(paced.paced_activation).all()


def test_the_same_vt_twice_and_distinct_vts():
    a = protocol.VT(1, (300.0,), 500.0, np.zeros(3), np.zeros(0))
    b = protocol.VT(2, (300.0,), 515.0, np.array([6.0, 0.0, 0.0]), np.zeros(0))
    c = protocol.VT(3, (300.0,), 500.0, np.array([25.0, 0.0, 0.0]), np.zeros(0))
    d = protocol.VT(3, (300.0,), 560.0, np.zeros(3), np.zeros(0))
    assert a.same_as(b) and not a.same_as(c) and not a.same_as(d)
    assert protocol.distinct([a, b, c, d]) == [a, c, d]


def test_cycle_map_starts_at_the_quietest_moment():
    # 100 nodes activating at times spread over a 400 ms cycle except a gap at 200-240 ms
    rng = np.random.default_rng(0)
    phase = np.concatenate([rng.uniform(0, 200, 60), rng.uniform(240, 400, 40)])
    t_end = 2000.0
    last = t_end - 400.0 + phase
    cmap = protocol.cycle_map(last, t_end, 400.0)
    origin = np.mod(phase - cmap, 400.0)
    assert 200.0 <= origin[0] <= 240.0
    assert np.nanmin(cmap) >= 0 and np.nanmax(cmap) < 400.0


def _channel_sheet() -> tuple[np.ndarray, np.ndarray]:
    """A 60 x 60 mm sheet (1 mm): a scar band rows 25-34 with a channel at columns 28-31."""
    codes = np.ones((1, 60, 60), np.uint8)
    codes[0, 25:35, :] = 3
    codes[0, 25:35, 28:32] = 2
    return codes, np.eye(4)


def test_the_isthmus_is_the_channel_through_the_scar():
    codes, affine = _channel_sheet()
    index = np.argwhere(np.isin(codes, (1, 2)))
    # a made-up VT cycle map: the channel activates at the cycle's start, the rest later
    _k, j, i = index.T
    activation = np.where(codes[0, j, i] == 2, (j - 25) * 2.0, 100.0 + np.hypot(j, i))
    found = isthmus.find(index, codes.shape, affine, codes, codes == 3, activation, 400.0)
    assert found is not None
    rows, cols = index[found.nodes][:, 1], index[found.nodes][:, 2]
    assert set(cols) <= set(range(28, 32)) and rows.min() >= 25 and rows.max() <= 34
    assert found.size >= 0.8 * 40  # nearly all of the 4 x 10 channel
    assert abs(found.centroid_lps[0] - 29.5) <= 1.0 and abs(found.centroid_lps[1] - 29.5) <= 1.5
    assert abs(found.direction[1]) > 0.9  # conduction along the channel (rows)


def test_tissue_beside_a_straight_scar_edge_is_not_an_isthmus():
    codes = np.ones((1, 40, 40), np.uint8)
    codes[0, 20:, :] = 3
    index = np.argwhere(codes == 1)
    spacing = np.ones(3)
    flanked = isthmus.flanked(index, codes.shape, spacing, codes == 1, codes == 3)
    assert not flanked.any()
    found = isthmus.find(index, codes.shape, np.eye(4), codes, codes == 3,
                         np.zeros(len(index)), 400.0)  # fmt: skip
    assert found is None


def _slab():
    """A 10 mm thick wall (k 5-14) of a 40 x 40 mm patch, transmural 0 (k=5) .. 1 (k=14)."""
    shape = (20, 40, 40)
    myocardium = np.zeros(shape, bool)
    myocardium[5:15] = True
    k = np.arange(shape[0])[:, None, None] * np.ones(shape)
    transmural = np.where(myocardium, (k - 5) / 9.0, 0.0).astype(np.float32)
    thickness = np.where(myocardium, 10.0, 0.0).astype(np.float32)
    return myocardium, np.eye(4), transmural, thickness


def test_a_point_lesion_is_a_transmural_cylinder():
    myocardium, affine, transmural, thickness = _slab()
    mask = lesions.point_lesion(myocardium, affine, (20.0, 20.0, 7.0), 4.0,
                                transmural=transmural, thickness_mm=thickness)  # fmt: skip
    assert mask[5:15, 20, 20].all()  # through the whole wall
    assert not mask[:5].any() and not mask[15:].any()
    layer = mask[10]
    assert layer[20, 24] and not layer[20, 25]  # radius 4 mm
    assert layer.sum() == pytest.approx(np.pi * 16, rel=0.15)


def test_a_lesion_off_the_myocardium_is_refused():
    myocardium, affine, transmural, _thickness = _slab()
    with pytest.raises(TwinInputError, match="not on the myocardium"):
        lesions.point_lesion(myocardium, affine, (20.0, 20.0, 30.0), 5.0, transmural=transmural)


def test_a_line_lesion_joins_its_ends():
    myocardium, affine, transmural, thickness = _slab()
    mask = lesions.line_lesion(myocardium, affine, (5.0, 20.0, 10.0), (35.0, 20.0, 10.0), 3.0,
                               transmural=transmural, thickness_mm=thickness)  # fmt: skip
    assert mask[5:15, 20, 5:36].all()  # a continuous transmural line
    assert not mask[:, 20, 39].any() and not mask[:, 30, 20].any()


def test_a_lesion_across_a_channel_cuts_it():
    codes, affine = _channel_sheet()
    myocardium = codes[0] > 0
    conducting = np.isin(codes[0], (1, 2))
    mask = lesions.transecting_lesion(myocardium[None], conducting[None], affine,
                                      (29.5, 30.0, 0.0), (0.0, 1.0, 0.0), 2.0, 10.0)  # fmt: skip
    assert mask[0, 30, 28:32].all()  # the channel's whole width
    assert not mask[0, 10, :].any()  # not the healthy tissue far from it


def test_electrogram_of_a_half_activated_slab_is_the_solid_angle():
    """-integral grad v . grad(1/r) dV for v = 1 on one half of a bar, 0 on the other, is the
    solid angle of the bar's cross-section seen from the electrode (Gauss): for a square of
    side a at distance d on its axis, 4 arctan(a^2 / (4 d sqrt(d^2 + a^2 / 2)))."""
    a, length, d = 20, 40, 30.0
    index = np.argwhere(np.ones((a, a, length), bool))  # (k, j, i): the bar along i
    affine = np.eye(4)
    affine[:3, 3] = (-length / 2 + 0.5, -a / 2 + 0.5, -a / 2 + 0.5)  # the cut plane at x = 0
    v = (index[:, 2] < length / 2).astype(float)
    w = ecg.weights(index, (a, a, length), affine, (d, 0.0, 0.0))
    solid_angle = 4 * np.arctan(a * a / (4 * d * np.sqrt(d * d + a * a / 2)))
    assert w @ v == pytest.approx(solid_angle, rel=0.02)
    assert abs(w.sum()) < 1e-9 * np.abs(w).sum()  # a uniform potential gives nothing
