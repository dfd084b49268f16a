"""Artery / vein labelling on a drawn colour fundus with known labels, and manual correction."""

from __future__ import annotations

import numpy as np
import pytest
from meditwin_twins.retina_microcirculation.artery_vein import (
    classify_arteries_veins,
    segment_features,
    set_kind,
)
from meditwin_twins.retina_microcirculation.network import ARTERY, UNKNOWN, VEIN, Disc
from meditwin_twins.retina_microcirculation.vessel_graph import (
    build_network,
    crossings,
    tree_labels,
)

from meditwin_desktop.core.twin import TwinInputError

SIZE, CENTRE = 320, (160.0, 160.0)


def _cover(p0, p1, width):
    """Anti-aliased coverage of a straight vessel of `width` px, and the distance to its axis."""
    r, c = np.mgrid[:SIZE, :SIZE]
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    length = float(np.hypot(*d))
    u = d / length
    t = (r - p0[0]) * u[0] + (c - p0[1]) * u[1]
    perp = np.abs((r - p0[0]) * u[1] - (c - p0[1]) * u[0])
    along = np.clip(np.minimum(t, length - t) + 0.5, 0, 1)
    return np.clip(width / 2 + 0.5 - perp, 0, 1) * along, perp


def _polar(origin, radius, degrees):
    a = np.radians(degrees)
    return origin[0] + radius * np.sin(a), origin[1] + radius * np.cos(a)


def draw_fundus(seed: int = 0):
    """Six vessels round a disc, alternately artery (5 px, lighter, central reflex) and vein
    (8 px, darker), each with a branch, and one arterial branch crossing a vein; a smooth
    illumination fall-off and noise. Colours are rough fundus-like values chosen here, not
    measured ones. Returns rgb, vessel mask, artery mask, vein mask, disc."""
    rng = np.random.default_rng(seed)
    art, vein, reflex = (np.zeros((SIZE, SIZE)) for _ in range(3))

    def add(p0, p1, width, kind):
        cov, perp = _cover(p0, p1, width)
        np.maximum(art if kind == ARTERY else vein, cov, out=art if kind == ARTERY else vein)
        if kind == ARTERY:
            np.maximum(reflex, cov * np.clip(1 - perp / (width / 5), 0, 1), out=reflex)

    for k, angle in enumerate((10, 70, 130, 190, 250, 310)):
        kind = ARTERY if k % 2 == 0 else VEIN
        width = 5 if kind == ARTERY else 8
        add(_polar(CENTRE, 15, angle), _polar(CENTRE, 150, angle), width, kind)
        fork = _polar(CENTRE, 70, angle)
        add(fork, _polar(fork, 70, angle + 35), width - 1, kind)
    add(_polar(CENTRE, 110, 10), _polar(CENTRE, 125, 82), 4, ARTERY)  # crosses the 70° vein
    rr, cc = np.mgrid[:SIZE, :SIZE]
    illum = 0.8 + 0.2 * np.exp(-((rr - CENTRE[0]) ** 2 + (cc - CENTRE[1]) ** 2) / (2 * 150**2))
    img = np.array([200.0, 95.0, 45.0]) * np.ones((SIZE, SIZE, 1))
    img = img * (1 - art[..., None]) + np.array([185.0, 70.0, 38.0]) * art[..., None]
    img = img * (1 - vein[..., None]) + np.array([135.0, 40.0, 30.0]) * vein[..., None]
    img[..., :2] += 30 * (reflex * (vein < 0.5))[..., None]
    img = img * illum[..., None] + rng.normal(0, 3, img.shape)
    img[(rr - CENTRE[0]) ** 2 + (cc - CENTRE[1]) ** 2 < 20**2] = (250, 200, 120)
    rgb = np.clip(img, 0, 255).astype(np.uint8)
    return rgb, np.maximum(art, vein) > 0.5, art > 0.5, vein > 0.5, Disc(*CENTRE, 20.0)


def _truth(net, art, vein) -> np.ndarray:
    labels = []
    for path in net.paths:
        a = art[path[:, 0], path[:, 1]] & ~vein[path[:, 0], path[:, 1]]
        v = vein[path[:, 0], path[:, 1]] & ~art[path[:, 0], path[:, 1]]
        labels.append(ARTERY if a.sum() > v.sum() else VEIN)
    return np.array(labels)


@pytest.fixture(scope="module")
def scene():
    rgb, mask, art, vein, disc = draw_fundus()
    net = build_network(mask, disc)
    return rgb, net, _truth(net, art, vein)


def test_classification_accuracy_on_a_drawn_fundus(scene) -> None:
    rgb, net, truth = scene
    labelled = classify_arteries_veins(net, rgb)
    assert (labelled.kind == ARTERY).any() and (labelled.kind == VEIN).any()
    accuracy = np.sum(net.length_px * (labelled.kind == truth)) / net.length_px.sum()
    assert accuracy > 0.9
    assert np.all((labelled.av_confidence >= 0.5) & (labelled.av_confidence <= 1.0))
    assert np.all(net.kind == 0)  # the input is not modified
    for a, b in crossings(labelled):
        if tree_labels(net)[a] != tree_labels(net)[b]:
            assert labelled.kind[a] != labelled.kind[b]


def test_build_network_with_rgb_labels_too(scene) -> None:
    rgb, mask, _, _, disc = draw_fundus()
    net = build_network(mask, disc, rgb=rgb)
    assert set(np.unique(net.kind).tolist()) == {ARTERY, VEIN}


def test_set_kind_propagates_along_a_tree_not_across_a_crossing(scene) -> None:
    rgb, net, truth = scene
    trees = tree_labels(net)
    pairs = [(a, b) for a, b in crossings(net) if truth[a] != truth[b]]
    assert pairs, "the drawn artery-vein crossing was not found"
    a, b = pairs[0]
    labelled = classify_arteries_veins(net, rgb)
    corrected = set_kind(labelled, a, VEIN if truth[a] == ARTERY else ARTERY)
    same_tree = trees == trees[a]
    assert same_tree.sum() > 1
    assert np.all(corrected.kind[same_tree] == corrected.kind[a])
    assert np.all(corrected.av_confidence[same_tree] == 1.0)
    assert corrected.kind[b] == labelled.kind[b]
    assert np.array_equal(corrected.kind[~same_tree], labelled.kind[~same_tree])
    single = set_kind(labelled, a, VEIN if truth[a] == ARTERY else ARTERY, propagate=False)
    assert np.sum(single.kind != labelled.kind) == 1
    with pytest.raises(TwinInputError):
        set_kind(labelled, net.n_edges + 3, ARTERY)
    with pytest.raises(TwinInputError):
        classify_arteries_veins(net, rgb[..., 0])


# colours of the drawn fundus above (rough fundus-like values chosen here, not measured ones)
_BACKGROUND, _ARTERY_RGB, _VEIN_RGB = (200.0, 95.0, 45.0), (185.0, 70.0, 38.0), (135.0, 40.0, 30.0)


def _paint(vessels, seed: int = 1):
    """A 200 x 240 photograph of straight vessels [(p0, p1, width, kind)], uniform
    background, noise; returns rgb, vessel mask and a far-away disc (on the left)."""
    rng = np.random.default_rng(seed)
    shape = (200, 240)
    r, c = np.mgrid[: shape[0], : shape[1]]
    img = np.array(_BACKGROUND) * np.ones((*shape, 1))
    mask = np.zeros(shape, bool)
    for p0, p1, width, kind in vessels:
        p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
        u = (p1 - p0) / np.hypot(*(p1 - p0))
        t = (r - p0[0]) * u[0] + (c - p0[1]) * u[1]
        perp = np.abs((r - p0[0]) * u[1] - (c - p0[1]) * u[0])
        along = np.clip(np.minimum(t, np.hypot(*(p1 - p0)) - t) + 0.5, 0, 1)
        cover = (np.clip(width / 2 + 0.5 - perp, 0, 1) * along)[..., None]
        colour = np.array(_ARTERY_RGB if kind == ARTERY else _VEIN_RGB)
        img = img * (1 - cover) + colour * cover
        mask |= cover[..., 0] > 0.5
    img += rng.normal(0, 2, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), mask, Disc(100.0, -80.0, 20.0)


# single vessels elsewhere in the picture: the image's own artery/vein reference
_REFERENCE = [((20, 5), (20, 235), 6, ARTERY), ((45, 5), (45, 235), 9, VEIN),
              ((170, 5), (170, 235), 6, ARTERY), ((185, 5), (185, 235), 9, VEIN)]  # fmt: skip


def test_density_ratio_is_higher_in_veins(scene) -> None:
    rgb, net, truth = scene
    ratio = segment_features(net, rgb)[:, 4]
    assert np.all(np.isfinite(ratio))
    assert ratio[truth == VEIN].min() > ratio[truth == ARTERY].max()


def test_artery_and_vein_side_by_side_are_split() -> None:
    # an artery (6 px) touching a vein (9 px) along their whole length: one 15 px band
    band = [((96.5, 5), (96.5, 235), 6, ARTERY), ((104, 5), (104, 235), 9, VEIN)]
    rgb, mask, disc = _paint([*_REFERENCE, *band])
    net = build_network(mask, disc)
    band = [k for k, p in enumerate(net.paths) if 90 <= np.median(p[:, 0]) <= 110]
    assert len(band) == 1 and net.diameter_px[band[0]] > 13
    labelled = classify_arteries_veins(net, rgb)
    assert labelled.n_edges == net.n_edges + 1
    halves = [k for k, p in enumerate(labelled.paths) if 90 <= np.median(p[:, 0]) <= 110]
    assert len(halves) == 2
    by_row = sorted(halves, key=lambda k: np.median(labelled.paths[k][:, 0]))
    assert [int(labelled.kind[k]) for k in by_row] == [ARTERY, VEIN]
    for k, (width, centre) in zip(by_row, ((6.0, 96.5), (9.0, 104.0)), strict=True):
        assert abs(labelled.diameter_px[k] - width) <= 1.5
        assert abs(np.median(labelled.paths[k][:, 0]) - centre) <= 1.5
    assert labelled.kind[band[0]] != UNKNOWN


def test_correction_keeps_to_its_own_half_of_a_side_by_side_pair() -> None:
    band = [((96.5, 5), (96.5, 235), 6, ARTERY), ((104, 5), (104, 235), 9, VEIN)]
    rgb, mask, disc = _paint([*_REFERENCE, *band])
    labelled = classify_arteries_veins(build_network(mask, disc), rgb)
    halves = [k for k, p in enumerate(labelled.paths) if 90 <= np.median(p[:, 0]) <= 110]
    artery = next(k for k in halves if labelled.kind[k] == ARTERY)
    vein = next(k for k in halves if labelled.kind[k] == VEIN)
    corrected = set_kind(labelled, vein, ARTERY)
    assert corrected.kind[vein] == ARTERY and corrected.av_confidence[vein] == 1.0
    assert np.sum(corrected.kind != labelled.kind) == 1  # not its artery neighbour either
    assert corrected.av_confidence[artery] == labelled.av_confidence[artery]


def test_zone_b_relabel_carries_outward_to_its_own_kind_only() -> None:
    from meditwin_twins.retina_microcirculation import artery_vein as av
    from meditwin_twins.retina_microcirculation.network import VesselNetwork

    # disc at the origin; a trunk 0 (node 0 -> 1) branching into 1 (same former kind) and 2
    # (the other kind: the other vessel at a node the graph could not resolve)
    nodes = np.array([[0.0, 100.0], [0.0, 200.0], [-50.0, 300.0], [50.0, 300.0]])
    edges = np.array([[0, 1], [1, 2], [1, 3]])
    paths = [
        np.column_stack([np.zeros(101, int), np.arange(100, 201)]),
        np.column_stack([np.linspace(0, -50, 101).astype(int), np.arange(200, 301)]),
        np.column_stack([np.linspace(0, 50, 101).astype(int), np.arange(200, 301)]),
    ]
    net = VesselNetwork(
        nodes=nodes, edges=edges, diameter_px=np.full(3, 6.0), length_px=np.full(3, 100.0),
        kind=np.array([ARTERY, ARTERY, VEIN], np.int8), paths=paths,
        disc=Disc(0.0, 0.0, 40.0), shape=(400, 400), av_confidence=np.full(3, 0.7),
    )  # fmt: skip
    members, inside = av.zone_b_members(net)
    assert members.tolist() == [0] and inside[0].sum() > 3  # zone B: 80-120 px
    old = net.kind.copy()
    net.kind[0] = VEIN
    av._carry_outward(net, old, [0], {0}, [])
    assert net.kind.tolist() == [VEIN, VEIN, VEIN]
    net.kind[:] = (VEIN, VEIN, ARTERY)
    old = net.kind.copy()
    net.kind[0] = ARTERY
    av._carry_outward(net, old, [0], {0}, [(1, 0)])  # 1 is 0's side-by-side partner
    assert net.kind.tolist() == [ARTERY, VEIN, ARTERY]
