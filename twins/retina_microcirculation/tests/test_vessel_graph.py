"""Vessel mask -> network: calibres, junctions, crossings, pruning, orientation, real mask."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from meditwin_twins.retina_microcirculation.network import Disc
from meditwin_twins.retina_microcirculation.vessel_graph import (
    build_network,
    crossings,
    segment_at,
)

from meditwin_desktop.core.twin import TwinInputError

CHASE = Path("/work/shared/data/retina/CHASE_DB1")
FAR_DISC = Disc(100.0, -60.0, 20.0)  # off the image, to the left: vessels run rightwards


def tube(shape, p0, p1, width, out=None) -> np.ndarray:
    """Pixels whose centre lies strictly within width/2 of the segment p0-p1 (row, col)."""
    out = np.zeros(shape, bool) if out is None else out
    r, c = np.mgrid[: shape[0], : shape[1]]
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    length = float(np.hypot(*d))
    u = d / length
    t = (r - p0[0]) * u[0] + (c - p0[1]) * u[1]
    perp = np.abs((r - p0[0]) * u[1] - (c - p0[1]) * u[0])
    out |= (t >= 0) & (t <= length) & (perp < width / 2)
    return out


@pytest.mark.parametrize("width", [4, 6, 10])
@pytest.mark.parametrize("angle", [0, 17, 33])
def test_straight_tube_calibre(width: int, angle: int) -> None:
    # axis-aligned: the centre sits so that exactly `width` pixel rows are inside; oblique:
    # pixel centres within width/2 cover `width` pixels per unit length on average
    centre = 100.0 if width % 2 else 99.5
    a = np.radians(angle)
    half = np.array([70 * np.sin(a), 70 * np.cos(a)])
    mid = np.array([centre, 100.0])
    mask = tube((200, 200), mid - half, mid + half, width)
    net = build_network(mask, FAR_DISC)
    assert net.n_edges == 1
    assert abs(net.diameter_px[0] - width) <= 0.5
    assert net.length_px[0] == pytest.approx(140, abs=width + 4)


def test_y_bifurcation_oriented_from_the_disc() -> None:
    mask = tube((200, 200), (100, 10), (100, 100), 8)
    tube((200, 200), (100, 100), (30, 180), 6, mask)
    tube((200, 200), (100, 100), (170, 180), 6, mask)
    net = build_network(mask, FAR_DISC)
    assert net.n_edges == 3
    deg = net.degree()
    assert sorted(deg.tolist()) == [1, 1, 1, 3]
    junction = int(np.flatnonzero(deg == 3)[0])
    dist = FAR_DISC.distance(net.nodes[:, 0], net.nodes[:, 1])
    for start, end in net.edges:
        assert dist[start] < dist[end]
    stem = int(np.flatnonzero(net.edges[:, 1] == junction)[0])
    assert net.diameter_px[stem] > max(np.delete(net.diameter_px, stem))
    for path, (start, end) in zip(net.paths, net.edges, strict=True):
        assert np.hypot(*(path[0] - net.nodes[start])) <= 2
        assert np.hypot(*(path[-1] - net.nodes[end])) <= 2


@pytest.mark.parametrize("slope", [(20, 40, 180, 160), (60, 10, 140, 190)])
def test_x_crossing_gives_two_straight_vessels(slope: tuple[int, int, int, int]) -> None:
    mask = tube((200, 200), (99.5, 5), (99.5, 195), 8)  # rows 96-103: 8 px
    r0, c0, r1, c1 = slope
    tube((200, 200), (r0, c0), (r1, c1), 5, mask)
    net = build_network(mask, FAR_DISC)
    assert net.n_edges == 2
    assert crossings(net) == [(0, 1)]
    assert net.degree().max() == 1  # the two vessels share no node
    for path, length in zip(net.paths, net.length_px, strict=True):
        chord = np.hypot(*(path[-1] - path[0]).astype(float))
        assert chord / length > 0.95  # each continues straight through the crossing
    assert sorted(np.round(net.diameter_px).tolist()) == [5, 8]


def test_spur_is_pruned() -> None:
    mask = tube((200, 200), (100, 5), (100, 195), 8)
    tube((200, 200), (100, 100), (91, 103), 4, mask)  # a 5 px bump on the vessel wall
    net = build_network(mask, FAR_DISC)
    assert net.n_edges == 1
    assert net.degree().max() == 1


def test_segments_inside_the_disc_are_left_out() -> None:
    mask = tube((200, 200), (100, 5), (100, 195), 6)
    disc = Disc(100.0, 100.0, 30.0)
    net = build_network(mask, disc)
    assert net.n_edges == 2
    for path, (start, end) in zip(net.paths, net.edges, strict=True):
        assert disc.distance(path[:, 0], path[:, 1]).min() >= disc.radius_px
        assert disc.distance(*net.nodes[start]) < disc.distance(*net.nodes[end])


def test_segment_at_and_bad_input() -> None:
    mask = tube((200, 200), (100, 5), (100, 195), 6)
    tube((200, 200), (20, 40), (180, 160), 4, mask)
    net = build_network(mask, FAR_DISC)
    horizontal = int(np.argmax(net.diameter_px))
    assert segment_at(net, 103.0, 20.0) == horizontal
    assert segment_at(net, 170.0, 20.0) is None
    with pytest.raises(TwinInputError, match="No vessels"):
        build_network(np.zeros((50, 50), bool), FAR_DISC)
    with pytest.raises(TwinInputError, match="2-D"):
        build_network(np.zeros((5, 5, 3)), FAR_DISC)


def test_real_chase_mask() -> None:
    path = CHASE / "Image_01L_1stHO.png"
    if not path.exists():
        pytest.skip(f"CHASE_DB1 not present at {CHASE}")
    from scipy import ndimage
    from skimage.io import imread

    mask = np.asarray(imread(path)) > 0
    if mask.ndim == 3:
        mask = mask[..., 0]
    disc = Disc(455.0, 520.0, 95.0)  # read off Image_01L.jpg by eye (centre and rim)
    t0 = time.process_time()  # CPU time: robust to a busy machine
    net = build_network(mask, disc)
    elapsed = time.process_time() - t0
    assert elapsed < 1.0, f"{elapsed:.2f} s"
    assert net.n_edges > 50
    assert np.all(net.length_px > 0)
    points = np.concatenate(net.paths)
    assert mask[points[:, 0], points[:, 1]].all()
    # calibres agree with an independent estimate (twice the distance to the background)
    widths = np.concatenate(net.widths_px)
    dt2 = 2.0 * ndimage.distance_transform_edt(mask)[points[:, 0], points[:, 1]]
    assert np.mean(np.abs(widths - dt2) <= 1.5) > 0.85
    # the trunks near the disc are wider than the vessels far out (vessels taper)
    radii = disc.distance(points[:, 0], points[:, 1]) / disc.radius_px
    near, far = widths[(radii >= 1) & (radii < 2)], widths[radii >= 3]
    assert np.median(near) > np.median(far) + 2.0


def test_calibre_beside_a_junction_is_the_segments_own() -> None:
    # within a calibre of the junction the normal runs into the other branches (the mask is
    # a blob there): those points take the segment's representative calibre, so a mean over
    # part of a segment (zone B's calibre) is not inflated by the junction
    mask = tube((200, 200), (100, 10), (100, 100), 8)
    tube((200, 200), (100, 100), (30, 180), 6, mask)
    tube((200, 200), (100, 100), (170, 180), 6, mask)
    net = build_network(mask, FAR_DISC)
    junction = net.nodes[int(np.flatnonzero(net.degree() == 3)[0])]
    for path, widths, diameter in zip(net.paths, net.widths_px, net.diameter_px, strict=True):
        near = np.hypot(path[:, 0] - junction[0], path[:, 1] - junction[1]) < diameter
        assert near.any()
        assert np.allclose(widths[near], diameter)
        assert np.max(widths) <= diameter + 1.5
