"""Retinal vessel measures against hand-computed values on small hand-built networks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from meditwin_twins.retina_microcirculation.measures import (
    bifurcations,
    box_counts,
    branching_angles,
    calibres,
    fractal_dimension,
    knudtson,
    tortuosity,
    vessel_density,
    zone_b,
    zone_b_widths,
)
from meditwin_twins.retina_microcirculation.network import (
    ARTERY,
    UNKNOWN,
    VEIN,
    Disc,
    VesselNetwork,
)
from skimage.draw import line

from meditwin_desktop.core.twin import TwinInputError

# --------------------------------------------------------------------------- helpers


def _segment(a: tuple[float, float], b: tuple[float, float]) -> np.ndarray:
    rr, cc = line(round(a[0]), round(a[1]), round(b[0]), round(b[1]))
    return np.stack([rr, cc], axis=1)


def _polar(disc: Disc, radius: float, angle_deg: float) -> tuple[float, float]:
    t = math.radians(angle_deg)
    return disc.row + radius * math.sin(t), disc.col + radius * math.cos(t)


class _Builder:
    """Collects nodes and segments into a VesselNetwork."""

    def __init__(self, disc: Disc, shape: tuple[int, int] = (400, 400)) -> None:
        self.disc, self.shape = disc, shape
        self.nodes: list[tuple[float, float]] = []
        self.edges: list[tuple[int, int]] = []
        self.paths: list[np.ndarray] = []
        self.widths: list[np.ndarray] = []
        self.kinds: list[int] = []

    def node(self, point: tuple[float, float]) -> int:
        self.nodes.append((float(round(point[0])), float(round(point[1]))))
        return len(self.nodes) - 1

    def edge(self, i: int, j: int, kind: int, width, path: np.ndarray | None = None) -> int:
        if path is None:
            path = _segment(self.nodes[i], self.nodes[j])
        widths = width(path) if callable(width) else np.full(len(path), float(width))
        self.edges.append((i, j))
        self.paths.append(path)
        self.widths.append(np.asarray(widths, float))
        self.kinds.append(kind)
        return len(self.edges) - 1

    def build(self) -> VesselNetwork:
        lengths = [float(np.hypot(*np.diff(p, axis=0).T).sum()) for p in self.paths]
        return VesselNetwork(
            nodes=np.asarray(self.nodes, float),
            edges=np.asarray(self.edges, int).reshape(-1, 2),
            diameter_px=np.asarray([float(np.median(w)) for w in self.widths]),
            length_px=np.asarray(lengths),
            kind=np.asarray(self.kinds, np.int8),
            paths=self.paths,
            disc=self.disc,
            shape=self.shape,
            widths_px=self.widths,
        )


# --------------------------------------------------------------------------- Knudtson


def test_knudtson_arterioles_hand_computed() -> None:
    # Knudtson MD et al., Curr Eye Res 2003;27:143-149: six largest, largest paired with
    # smallest, W = 0.88 sqrt(w1^2 + w2^2). No published worked numeric example was found,
    # so this one is worked by hand. The 40 µm vessel is the seventh: not used.
    # Round 1: 0.88*sqrt(100^2+50^2) = 0.88*111.8034 = 98.3870
    #          0.88*sqrt(90^2+60^2)  = 0.88*108.1665 = 95.1866
    #          0.88*sqrt(80^2+70^2)  = 0.88*106.3015 = 93.5453
    # Round 2: 0.88*sqrt(98.3870^2+93.5453^2) = 0.88*135.7598 = 119.4686; 95.1866 carried
    # Round 3: 0.88*sqrt(119.4686^2+95.1866^2) = 0.88*152.7522 = 134.4219
    notes: list[str] = []
    value = knudtson([60, 100, 40, 80, 50, 90, 70], ARTERY, notes)
    assert value == pytest.approx(134.4219, abs=1e-3)
    assert notes == []  # seven available: no note


def test_knudtson_venules_fewer_than_six_says_so() -> None:
    # Venules, W = 0.95 sqrt(w1^2 + w2^2), five vessels (150, 140, 130, 120, 110):
    # Round 1: 0.95*sqrt(150^2+110^2) = 176.7102; 0.95*sqrt(140^2+120^2) = 175.1713; 130 carried
    # Round 2: 0.95*sqrt(176.7102^2+130^2) = 208.4087; 175.1713 carried
    # Round 3: 0.95*sqrt(208.4087^2+175.1713^2) = 258.6359
    notes: list[str] = []
    assert knudtson([110, 120, 130, 140, 150], VEIN, notes) == pytest.approx(258.6359, abs=1e-3)
    assert len(notes) == 1 and "Only 5 venules" in notes[0]


def test_knudtson_constants_match_branching_coefficients() -> None:
    # Patton N et al., Prog Retin Eye Res 2006;25:99-127 (5.2.3): 0.88 = sqrt(1/1.28),
    # 0.95 = sqrt(1/1.11). Two equal vessels w: W = f*sqrt(2)*w.
    assert knudtson([10, 10], ARTERY) == pytest.approx(
        math.sqrt(1 / 1.28) * math.sqrt(2) * 10, 5e-3
    )
    assert knudtson([10, 10], VEIN) == pytest.approx(math.sqrt(1 / 1.11) * math.sqrt(2) * 10, 5e-3)


def test_knudtson_rejects_empty_and_bad_kind() -> None:
    with pytest.raises(TwinInputError, match="No arterioles"):
        knudtson([], ARTERY)
    with pytest.raises(TwinInputError):
        knudtson([10, -2], VEIN)
    with pytest.raises(ValueError):
        knudtson([10], UNKNOWN)


# --------------------------------------------------------------------------- zone B


def _radial_network() -> tuple[VesselNetwork, dict[str, int]]:
    """Disc r = 20 px at (200, 200): zone B from 40 to 60 px. Radial vessels from r = 22
    to r = 110 with constant calibres, plus:
    - artery A4 branching at r = 50 (inside zone B): trunk 9 px, daughters 7 and 6 px;
    - vein V3 branching at r = 30 (before zone B): daughters 8 and 7 px, both counted;
    - artery A5 whose calibre steps from 12 px (r < 38) to 5 px (r >= 38): mean in zone 5;
    - an unlabelled vessel."""
    disc = Disc(200.0, 200.0, 20.0)
    b = _Builder(disc)
    ids: dict[str, int] = {}

    def radial(name: str, angle: float, kind: int, width, r0: float = 22, r1: float = 110):
        i, j = b.node(_polar(disc, r0, angle)), b.node(_polar(disc, r1, angle))
        ids[name] = b.edge(i, j, kind, width)
        return i, j

    radial("A1", 0, ARTERY, 8)
    radial("A2", 60, ARTERY, 7)
    radial("V1", 120, VEIN, 11)
    radial("V2", 180, VEIN, 10)
    radial("U1", 300, UNKNOWN, 6)
    # A4: trunk to r = 50 then two daughters
    root = b.node(_polar(disc, 22, 240))
    fork = b.node(_polar(disc, 50, 240))
    ids["A4"] = b.edge(root, fork, ARTERY, 9)
    ids["A4a"] = b.edge(fork, b.node(_polar(disc, 110, 225)), ARTERY, 7)
    ids["A4b"] = b.edge(fork, b.node(_polar(disc, 110, 255)), ARTERY, 6)
    # V3: trunk to r = 30, daughters cross zone B separately
    root = b.node(_polar(disc, 22, 30))
    fork = b.node(_polar(disc, 30, 30))
    ids["V3"] = b.edge(root, fork, VEIN, 12)
    ids["V3a"] = b.edge(fork, b.node(_polar(disc, 110, 20)), VEIN, 8)
    ids["V3b"] = b.edge(fork, b.node(_polar(disc, 110, 40)), VEIN, 7)

    def stepped(path: np.ndarray) -> np.ndarray:
        return np.where(disc.distance(path[:, 0], path[:, 1]) < 38, 12.0, 5.0)

    radial("A5", 330, ARTERY, stepped)
    return b.build(), ids


def test_zone_b_radii() -> None:
    network, _ = _radial_network()
    # r = 20: r + 0.5*2r = 40, r + 1.0*2r = 60
    assert zone_b(network) == (40.0, 60.0)


def test_zone_b_widths_counts_each_vessel_once_on_its_trunk() -> None:
    network, ids = _radial_network()
    pixel_um = 10.0
    widths = zone_b_widths(network, pixel_um)
    arteries = dict(widths[ARTERY])
    veins = dict(widths[VEIN])
    # A4 branches inside zone B: only its trunk (9 px -> 90 µm), not the daughters.
    assert ids["A4"] in arteries and arteries[ids["A4"]] == pytest.approx(90.0)
    assert ids["A4a"] not in arteries and ids["A4b"] not in arteries
    # V3 branches before zone B: both daughters cross it (80, 70 µm); the trunk does not.
    assert veins[ids["V3a"]] == pytest.approx(80.0) and veins[ids["V3b"]] == pytest.approx(70.0)
    assert ids["V3"] not in veins
    # A5: only its 5 px part lies in zone B -> 50 µm (the whole-segment mean would be larger).
    assert arteries[ids["A5"]] == pytest.approx(50.0)
    assert sorted(arteries.values()) == pytest.approx([50.0, 70.0, 80.0, 90.0])
    assert sorted(veins.values()) == pytest.approx([70.0, 80.0, 100.0, 110.0])
    assert [k for k, _ in widths[UNKNOWN]] == [ids["U1"]]


def test_calibres_from_radial_network() -> None:
    network, _ = _radial_network()
    summary = calibres(network, 10.0)
    # arterioles 90, 80, 70, 50 µm:
    #   round 1: 0.88*sqrt(90^2+50^2) = 0.88*102.9563 = 90.6015,
    #            0.88*sqrt(80^2+70^2) = 0.88*106.3015 = 93.5453
    #   round 2: 0.88*sqrt(93.5453^2+90.6015^2) = 0.88*130.2281 = 114.6007
    # venules 110, 100, 80, 70 µm:
    #   round 1: 0.95*sqrt(110^2+70^2) = 0.95*130.3840 = 123.8648,
    #            0.95*sqrt(100^2+80^2) = 0.95*128.0625 = 121.6594
    #   round 2: 0.95*sqrt(123.8648^2+121.6594^2) = 0.95*173.6189 = 164.9379
    assert summary.crae_um == pytest.approx(114.6007, abs=1e-3)
    assert summary.crve_um == pytest.approx(164.9379, abs=1e-3)
    assert summary.avr == pytest.approx(114.6007 / 164.9379, abs=1e-5)
    assert (summary.n_arteries, summary.n_veins) == (4, 4)
    text = " ".join(summary.notes)
    assert "Only 4 arterioles" in text and "Only 4 venules" in text
    assert "not labelled artery or vein" in text


def test_calibres_take_profile_widths_and_fall_back_to_the_mask() -> None:
    network, ids = _radial_network()
    # profile widths: every point 1 px wider than the mask, except A4 (no clear profile:
    # NaN everywhere -> its mask width stays) and one NaN point on A5 (the median ignores it)
    widths = [np.asarray(w, float) + 1.0 for w in network.widths_px]
    widths[ids["A4"]] = np.full(len(widths[ids["A4"]]), np.nan)
    widths[ids["A5"]][len(widths[ids["A5"]]) // 2] = np.nan
    fallbacks: list[int] = []
    found = zone_b_widths(network, 10.0, widths=widths, fallbacks=fallbacks)
    arteries = dict(found[ARTERY])
    assert arteries[ids["A4"]] == pytest.approx(90.0)  # the mask's 9 px
    assert arteries[ids["A5"]] == pytest.approx(60.0)  # 5 + 1 px in zone B
    assert sorted(dict(found[VEIN]).values()) == pytest.approx([80.0, 90.0, 110.0, 120.0])
    assert fallbacks == [ids["A4"]]
    summary = calibres(network, 10.0, widths=widths)
    assert summary.crve_um > calibres(network, 10.0).crve_um
    assert any("measured on the vessel mask instead" in note for note in summary.notes)
    with pytest.raises(ValueError, match="segments"):
        calibres(network, 10.0, widths=widths[:-1])


def test_calibres_without_veins_and_bad_scale() -> None:
    network, _ = _radial_network()
    arteries_only = network.subset(network.kind == ARTERY)
    summary = calibres(arteries_only, 10.0)
    assert np.isfinite(summary.crae_um) and np.isnan(summary.crve_um) and np.isnan(summary.avr)
    assert any("No venules" in note for note in summary.notes)
    with pytest.raises(TwinInputError, match="micrometres per pixel"):
        calibres(network, 0.0)


# --------------------------------------------------------------------------- tortuosity


def _half_circle(center: tuple[float, float], radius: float, eight: bool) -> np.ndarray:
    """Pixel path along a half circle: 4-connected (a staircase, the worst case) or thinned
    to 8-connected (as a skeleton's centre line)."""
    t = np.linspace(0.0, np.pi, 4000)
    points = np.stack([center[0] - radius * np.sin(t), center[1] + radius * np.cos(t)], 1)
    points = np.rint(points).astype(int)
    points = points[np.r_[True, np.any(np.diff(points, axis=0) != 0, axis=1)]]
    if not eight:
        return points
    kept = [points[0]]
    for k in range(1, len(points) - 1):
        if np.abs(points[k + 1] - kept[-1]).max() > 1:
            kept.append(points[k])
    kept.append(points[-1])
    return np.asarray(kept)


def _curve_network(eight: bool) -> VesselNetwork:
    b = _Builder(Disc(10.0, 10.0, 5.0), shape=(300, 300))
    b.edge(b.node((20, 20)), b.node((140, 110)), ARTERY, 5)  # oblique straight line
    arc = _half_circle((200.0, 150.0), 60.0, eight)
    b.edge(b.node(tuple(arc[0])), b.node(tuple(arc[-1])), VEIN, 5, path=arc)
    return b.build()


@pytest.mark.parametrize("eight", [False, True])
def test_tortuosity_straight_and_half_circle(eight: bool) -> None:
    network = _curve_network(eight)
    # straight line: arc = chord -> 0; half circle of radius R: pi*R / 2R - 1 = pi/2 - 1
    assert tortuosity(network, ARTERY) == pytest.approx(0.0, abs=0.005)
    assert tortuosity(network, VEIN) == pytest.approx(math.pi / 2 - 1, abs=0.01)
    # length-weighted: straight line 150 px long (chord of 120 x 90), half circle 60*pi:
    # (150*0 + 188.50*0.5708) / (150 + 188.50) = 0.3179
    assert tortuosity(network) == pytest.approx(0.3179, abs=0.01)
    # unsmoothed, the staircase of the oblique digital line alone reads 0.049
    assert tortuosity(network, ARTERY, smooth_px=0) > 0.03


# --------------------------------------------------------------------------- fractal dimension


def test_box_counts_filled_square_by_hand() -> None:
    image = np.zeros((400, 400), bool)
    image[50:306, 80:336] = True  # 256 x 256
    sizes, counts = box_counts(image)
    # grid on the square's bounding box; sizes 2..64 (64 <= 256/4); N(s) = (256/s)^2
    assert sizes.tolist() == [2, 4, 8, 16, 32, 64]
    assert counts.tolist() == [16384, 4096, 1024, 256, 64, 16]
    assert fractal_dimension(image) == pytest.approx(2.0, abs=0.02)


def test_fractal_dimension_line_and_sierpinski() -> None:
    image = np.zeros((300, 600), bool)
    image[150, 50:562] = True  # straight line, 512 px: N(s) = 512/s -> 1
    assert fractal_dimension(image) == pytest.approx(1.0, abs=0.05)
    diagonal = np.eye(512, dtype=bool)
    assert fractal_dimension(diagonal) == pytest.approx(1.0, abs=0.05)
    # Sierpinski triangle (Pascal's triangle mod 2): log 3 / log 2 = 1.585
    i, j = np.indices((512, 512))
    sierpinski = (i & j) == 0
    assert fractal_dimension(sierpinski) == pytest.approx(math.log(3) / math.log(2), abs=0.05)


def test_fractal_dimension_ignores_pixels_outside_fov() -> None:
    image = np.zeros((400, 400), bool)
    image[72:328, 72:328] = True
    fov = np.zeros_like(image)
    fov[72:328, 72:328] = True
    noisy = image.copy()
    noisy[5, :] = True  # outside the field of view
    assert fractal_dimension(noisy, fov) == pytest.approx(2.0, abs=0.02)
    with pytest.raises(TwinInputError):
        fractal_dimension(np.zeros((64, 64), bool))


# --------------------------------------------------------------------------- vessel density


def test_vessel_density_percent() -> None:
    fov = np.zeros((100, 100), bool)
    fov[:, :50] = True  # 5000 px
    vessels = np.zeros_like(fov)
    vessels[10:20, 0:50] = True  # 500 px inside
    vessels[10:20, 60:70] = True  # 100 px outside: not counted
    assert vessel_density(vessels, fov) == pytest.approx(100 * 500 / 5000)  # 10 %
    with pytest.raises(TwinInputError):
        vessel_density(vessels, np.zeros_like(fov))


# --------------------------------------------------------------------------- branching angles


def _y_network(half_angles: tuple[float, float], reverse: bool = False) -> VesselNetwork:
    """Parent along +column from (200, 60) to (200, 200); daughters 100 px long at
    -half_angles[0] and +half_angles[1] from the parent's direction; a crossing elsewhere."""
    b = _Builder(Disc(200.0, 40.0, 10.0))
    root, fork = b.node((200, 60)), b.node((200, 200))
    b.edge(root, fork, ARTERY, 8)
    for sign, half in ((-1, half_angles[0]), (1, half_angles[1])):
        t = math.radians(sign * half)
        tip = b.node((200 + 100 * math.sin(t), 200 + 100 * math.cos(t)))
        if reverse:  # edges stored away from the disc the wrong way round
            b.edge(tip, fork, ARTERY, 6, path=_segment(b.nodes[tip], b.nodes[fork]))
        else:
            b.edge(fork, tip, ARTERY, 6)
    # a crossing (four segments at one node): no branching angle there
    centre = b.node((80, 300))
    for end in ((30, 300), (130, 300), (80, 250), (80, 350)):
        b.edge(centre, b.node(end), VEIN, 5)
    return b.build()


@pytest.mark.parametrize("reverse", [False, True])
def test_branching_angle_of_synthetic_y(reverse: bool) -> None:
    network = _y_network((37.5, 37.5), reverse)
    angles = branching_angles(network)
    assert len(bifurcations(network)) == 1
    assert angles.shape == (1,) and angles[0] == pytest.approx(75.0, abs=3.0)
    asymmetric = branching_angles(_y_network((30.0, 50.0), reverse))
    assert asymmetric[0] == pytest.approx(80.0, abs=3.0)  # 30 + 50
    assert branching_angles(network, kind=VEIN).size == 0
