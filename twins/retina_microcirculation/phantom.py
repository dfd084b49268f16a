"""A synthetic colour fundus photograph drawn from a known vessel tree: the ground truth
for the image analysis (vessel mask, artery/vein map, disc), the calibre measures and the
flow model.

`make_fundus(seed)` grows, for each of the artery and the vein, a tree from the optic disc:
a short central trunk splitting on the disc into superior and inferior branches, each
splitting into a temporal arcade (curving around the macula) and a nasal branch; every
line then gives off side branches by Murray's law (parent^3 = continuing^3 + side^3,
asymmetric splits, the side branch at Murray's optimal angle) down to ~20 um. Arteries and
veins are drawn independently, so they cross a few times; a crossing is not a node. The
photograph is then rendered: orange-red fundus with vignetting and choroidal texture, a
darker macula with a foveal reflex, a bright disc with a paler cup, vessels with
partial-volume edges (veins darker and wider, arteries lighter with a central light reflex),
optical blur and sensor noise, black outside a circular field of view.

Scale (a 45-degree camera): the field of view is 12 mm across, the disc 1.8 mm in
diameter, the macula 2.5 disc diameters temporal to the disc centre. Calibres near the
disc (CRA_UM, CRV_UM) are set so that the revised Knudtson summaries (Knudtson MD et al.,
Curr Eye Res 2003;27:143-149) of the six largest vessels crossing zone B come out at
CRAE ~ 150 um and CRVE ~ 230 um (AVR ~ 0.66): the order of the normal adult values the issue
names for population studies. No study's published mean was checked here, so none is cited
as the source of these two constants; the phantom's own values are measured in
tests/test_phantom.py (seeds 0-5 and the demo's 22: CRAE 150-155 um, CRVE 227-233 um).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from .network import ARTERY, VEIN, Disc, VesselNetwork

FOV_MM = 12.0  # field of view across (45-degree camera)
DISC_MM = 1.8  # optic disc diameter
MACULA_DD = 2.5  # fovea to disc centre, in disc diameters
MIN_DIAMETER_UM = 20.0  # the smallest vessel drawn
# trunk calibres at the disc centre (um): the central retinal artery and vein; chosen so
# that the tree's CRAE/CRVE fall in the normal adult range (see the module docstring)
CRA_UM, CRV_UM = 165.0, 205.0
FAZ_MM = 0.25  # foveal avascular zone radius: no vessel enters it


@dataclass
class FundusPhantom:
    """A synthetic fundus photograph and its truth.

    `rgb` (H, W, 3) uint8; `fov`, `vessels` (H, W) bool; `av` (H, W) uint8 (0 background,
    1 artery, 2 vein; where both overlap, the one on top); `network` the true tree (edges
    oriented from the disc, `diameter_px` and constant `widths_px` per segment, crossings
    are not nodes); `macula` (row, column) of the fovea in pixels.
    """

    rgb: np.ndarray
    fov: np.ndarray
    vessels: np.ndarray
    av: np.ndarray
    network: VesselNetwork
    disc: Disc
    pixel_mm: float
    macula: tuple[float, float]
    arteriolar_scale: float = 1.0
    meta: dict = field(default_factory=dict)


@dataclass
class _Tree:
    """The tree being grown: nodes and, per edge, start/end node, float centre line,
    diameter (px), kind."""

    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    diameters: list = field(default_factory=list)
    kinds: list = field(default_factory=list)

    def node(self, point) -> int:
        self.nodes.append((float(point[0]), float(point[1])))
        return len(self.nodes) - 1

    def edge(self, start: int, end: int, line: np.ndarray, diameter: float, kind: int) -> None:
        self.edges.append((start, end))
        self.lines.append(line)
        self.diameters.append(float(diameter))
        self.kinds.append(kind)


class _Grower:
    """Grows the artery and vein trees in a right eye's frame (disc right of the macula)."""

    def __init__(self, rng: np.random.Generator, geometry: dict) -> None:
        self.rng = rng
        self.g = geometry
        self.tree = _Tree()
        self.d_min = MIN_DIAMETER_UM / (1000.0 * geometry["pixel_mm"])

    # -- geometry helpers ------------------------------------------------------------------
    def inside(self, p: np.ndarray) -> bool:
        """Inside the field of view (with a margin) and outside the foveal avascular zone."""
        g = self.g
        if np.hypot(p[0] - g["centre"][0], p[1] - g["centre"][1]) > g["fov_radius"] - 4:
            return False
        return np.hypot(p[0] - g["macula"][0], p[1] - g["macula"][1]) > g["faz"]

    def walk(self, start: np.ndarray, heading: float, length: float, diameter: float,
             ) -> np.ndarray:  # fmt: skip
        """A smoothly curving random centre line (1 px steps) from `start`, `heading` in
        radians (0: towards increasing column, pi/2: up); stops outside the field."""
        rng, g = self.rng, self.g
        step = 1.0
        n = max(int(length / step), 2)
        # curvature: a smoothed random process (tortuosity) plus a slow drift
        raw = rng.normal(0.0, 1.0, n + 64)  # drawn whole: the stream does not depend on n
        curvature = ndimage.gaussian_filter1d(raw, 12.0)[32 : 32 + n]
        curvature *= 0.012 / max(curvature.std(), 1e-9)
        curvature += rng.normal(0.0, 0.001)
        points = [np.asarray(start, float)]
        theta = heading
        for k in range(n):
            p = points[-1]
            # steer away from the fovea when heading into its neighbourhood
            to_mac = np.array(g["macula"]) - p
            dist = np.hypot(*to_mac)
            if dist < 3.0 * g["faz"] and diameter > 2.5 * self.d_min:
                away = np.arctan2(-(p[0] - g["macula"][0]), p[1] - g["macula"][1])
                theta += 0.08 * np.sin(away - theta)
            # retinal vessels run away from the disc: a gentle pull towards the radial
            radial = np.arctan2(-(p[0] - g["disc"][0]), p[1] - g["disc"][1])
            theta += 0.012 * np.sin(radial - theta) + curvature[k] * step
            q = p + step * np.array([-np.sin(theta), np.cos(theta)])
            if not self.inside(q):
                break
            points.append(q)
        return np.array(points)

    def arcade(self, start: np.ndarray, superior: bool, b0: float, phase: float) -> np.ndarray:
        """A temporal arcade: an elliptic arc around the macula from `start`, with a gentle
        waviness, resampled at 1 px, up to the field's edge."""
        g = self.g
        mr, mc = g["macula"]
        a = start[1] - mc
        sign = 1.0 if superior else -1.0
        theta = np.linspace(0.0, 2.9, 4000)
        wobble = 1.0 + 0.07 * np.sin(2.6 * theta + phase) + 0.03 * np.sin(7.0 * theta + 2 * phase)
        b = b0 * wobble
        # leave the split point smoothly: its offset from the macula's row fades out
        blend = np.clip(theta / 0.6, 0.0, 1.0)
        blend = blend * blend * (3 - 2 * blend)
        rows = mr - sign * b * np.sin(theta) + (start[0] - mr) * (1.0 - blend)
        cols = mc + a * np.cos(theta) * (1.0 + 0.15 * np.clip(theta - 1.7, 0, None))
        points = np.column_stack([rows, cols])
        points[0] = start
        points = _resample(points, 1.0)
        keep = np.ones(len(points), bool)
        for i, p in enumerate(points):
            if not self.inside(p):
                keep[i:] = False
                break
        return points[keep]

    # -- growth ----------------------------------------------------------------------------
    def line(self, points: np.ndarray, start_node: int, diameter: float, kind: int,
             inner_sign: float = 0.0, first_branch: float = 0.0) -> None:  # fmt: skip
        """Split a centre line into segments at side branches (Murray's law), growing each
        side branch; the line ends where its calibre falls below the smallest vessel."""
        rng = self.rng
        if len(points) < 3:
            return
        arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
        total = arc[-1]
        s = first_branch + rng.uniform(20.0, 50.0) + 3.0 * diameter
        node, index, d = start_node, 0, diameter
        side_sign = rng.choice([-1.0, 1.0])
        while s < total - 8:
            j = int(np.searchsorted(arc, s))
            rho = rng.uniform(0.45, 0.79)  # side / parent calibre: asymmetric splits
            d_side = d * rho
            d_cont = d * (1.0 - rho**3) ** (1.0 / 3.0)  # Murray: d^3 = d_cont^3 + d_side^3
            if d_side < self.d_min:  # too small to draw: the line goes on unbranched
                s += rng.uniform(25.0, 60.0)
                continue
            end = self.tree.node(points[j])
            self.tree.edge(node, end, points[index : j + 1], d, kind)
            # the side branch leaves at Murray's optimal angle for the smaller daughter
            cos_side = (d**4 + d_side**4 - d_cont**4) / (2 * d**2 * d_side**2)
            angle = np.arccos(np.clip(cos_side, -1, 1)) + rng.normal(0, 0.12)
            tangent = points[min(j + 2, len(points) - 1)] - points[max(j - 2, 0)]
            heading = np.arctan2(-tangent[0], tangent[1])
            if inner_sign and rng.random() < 0.6:
                side = inner_sign
            else:
                side = side_sign
                side_sign = -side_sign
            length = float(np.clip(rng.uniform(60, 140) * d_side, 60, 900))
            branch = self.walk(points[j], heading + side * angle, length, d_side)
            self.line(branch, end, d_side, kind)
            node, index, d = end, j, d_cont
            if d < self.d_min:
                return
            s += rng.uniform(60.0, 130.0) + 6.0 * d
        if len(points) - index >= 3:
            end = self.tree.node(points[-1])
            self.tree.edge(node, end, points[index:], d, kind)

    def grow(self, kind: int, trunk_um: float) -> None:
        """One kind's tree: trunk, superior/inferior papillary branches, arcades and nasal
        branches, then side branches recursively."""
        g, rng = self.g, self.rng
        px_um = 1000.0 * g["pixel_mm"]
        dr, dc = g["disc"]
        r = g["disc_radius"]
        # the artery emerges a little nasal of the vein in the cup
        offset = 0.16 * r if kind == ARTERY else -0.16 * r
        root = self.tree.node((dr + rng.normal(0, 1.5), dc + offset))
        split = self.tree.node((dr - 0.05 * r, dc + offset))
        d0 = trunk_um / px_um
        trunk = np.array([self.tree.nodes[root], self.tree.nodes[split]])
        self.tree.edge(root, split, trunk, d0, kind)
        d_half = d0 / 2.0 ** (1.0 / 3.0)
        for superior in (True, False):
            sign = 1.0 if superior else -1.0
            start = np.array(self.tree.nodes[split])
            lateral = rng.uniform(0.05, 0.25) * r * sign * (1.0 if kind == ARTERY else -1.0)
            fork_at = start + np.array([-sign * rng.uniform(0.4, 0.6) * r, lateral])
            # a quadratic Bezier curve that reaches the fork heading straight up (down)
            control = np.array([0.5 * (start[0] + fork_at[0]), fork_at[1]])
            t = np.linspace(0.0, 1.0, 200)[:, None]
            bezier = (1 - t) ** 2 * start + 2 * (1 - t) * t * control + t**2 * fork_at
            fork_line = _resample(bezier, 1.0)
            fork = self.tree.node(fork_at)
            self.tree.edge(split, fork, fork_line, d_half, kind)
            rho = rng.uniform(0.72, 0.86)  # nasal / temporal calibre
            d_temp = d_half / (1.0 + rho**3) ** (1.0 / 3.0)
            d_nasal = d_temp * rho
            b0 = g["arcade_b"] * (1.0 + (0.06 if kind == VEIN else 0.0)) * rng.uniform(0.9, 1.1)
            temporal = self.arcade(fork_at, superior, b0, rng.uniform(0, 2 * np.pi))
            self.line(temporal, fork, d_temp, kind, inner_sign=-sign, first_branch=0.9 * r)
            heading = sign * np.radians(rng.uniform(50, 75))
            nasal = self.walk(fork_at, heading, 900.0, d_nasal)
            self.line(nasal, fork, d_nasal, kind, first_branch=0.9 * r)


def make_fundus(
    seed: int = 0,
    *,
    shape: tuple[int, int] = (960, 999),
    pixel_mm: float | None = None,
    eye: str = "right",
    arteriolar_scale: float = 1.0,
    noise: float = 1.0,
) -> FundusPhantom:
    """A synthetic fundus photograph and its truth (deterministic for a seed).

    `pixel_mm` defaults to a 12 mm field of view across the image's shorter side (a
    45-degree camera); `eye` "right" or "left" (the disc is nasal: right of the macula in a
    right eye); `arteriolar_scale` multiplies every arteriole calibre (hypertensive
    narrowing: the tree's geometry is the same for every scale); `noise` scales the sensor
    noise (0: none).
    """
    if eye not in ("right", "left"):
        raise ValueError(f"eye must be 'right' or 'left', not {eye!r}")
    if not 0.3 <= arteriolar_scale <= 1.5:
        raise ValueError("arteriolar_scale must be between 0.3 and 1.5")
    rows, cols = int(shape[0]), int(shape[1])
    fov_radius = 0.49 * min(rows, cols)
    if pixel_mm is None:
        pixel_mm = FOV_MM / (2.0 * fov_radius)
    pixel_mm = float(pixel_mm)
    centre = ((rows - 1) / 2.0, (cols - 1) / 2.0)
    disc_radius = DISC_MM / 2.0 / pixel_mm
    mac_dist = MACULA_DD * DISC_MM / pixel_mm
    rng = np.random.default_rng(seed)
    disc = (centre[0] - 0.03 * fov_radius, centre[1] + 0.5 * mac_dist + 0.05 * fov_radius)
    macula = (disc[0] + 0.05 * mac_dist, disc[1] - mac_dist * np.cos(0.05))
    geometry = {
        "pixel_mm": pixel_mm, "centre": centre, "fov_radius": fov_radius, "disc": disc,
        "disc_radius": disc_radius, "macula": macula, "faz": FAZ_MM / pixel_mm,
        "arcade_b": 0.62 * mac_dist,
    }  # fmt: skip
    grower = _Grower(rng, geometry)
    grower.grow(ARTERY, CRA_UM)
    grower.grow(VEIN, CRV_UM)
    tree = grower.tree
    kind = np.array(tree.kinds, np.int8)
    diameter = np.array(tree.diameters) * np.where(kind == ARTERY, arteriolar_scale, 1.0)
    # which vessel is on top at a crossing: mostly the artery (seeded per artery segment)
    artery_on_top = rng.random(len(kind)) < 0.7
    lines = list(tree.lines)
    nodes = np.array(tree.nodes)
    texture_rng = np.random.default_rng([seed, 7])
    macula_out = macula
    disc_out = Disc(disc[0], disc[1], disc_radius, 1.0)
    if eye == "left":  # mirror the right eye's layout
        lines = [np.column_stack([line[:, 0], cols - 1 - line[:, 1]]) for line in lines]
        nodes = np.column_stack([nodes[:, 0], cols - 1 - nodes[:, 1]])
        macula_out = (macula[0], cols - 1 - macula[1])
        disc_out = Disc(disc[0], cols - 1 - disc[1], disc_radius, 1.0)
    edges = np.array(tree.edges, int)
    degree = np.bincount(edges.ravel(), minlength=len(nodes))
    free_ends = degree[edges] == 1  # (K, 2): start / end of each segment is a free end
    layers = _vessel_layers((rows, cols), lines, diameter, kind, free_ends)
    fov = _fov_mask((rows, cols), centre, fov_radius)
    vessels, av = _truth_maps(layers, artery_on_top, kind, fov)
    rgb = _render(layers, artery_on_top, kind, diameter, fov, centre, fov_radius, disc_out,
                  macula_out, pixel_mm, texture_rng, noise)  # fmt: skip
    paths, lengths = [], []
    for line in lines:
        path = np.rint(line).astype(int)
        keep = np.ones(len(path), bool)
        keep[1:] = np.any(np.diff(path, axis=0) != 0, axis=1)
        paths.append(path[keep])
        lengths.append(float(np.hypot(*np.diff(line, axis=0).T).sum()))
    for path in paths:  # every centre-line pixel is vessel (a 20 um vessel is ~1.6 px wide)
        vessels[path[:, 0], path[:, 1]] = True
    widths = [np.full(len(p), d) for p, d in zip(paths, diameter, strict=True)]
    network = VesselNetwork(
        nodes=nodes, edges=edges, diameter_px=diameter,
        length_px=np.array(lengths), kind=kind, paths=paths, disc=disc_out,
        shape=(rows, cols), widths_px=widths,
        av_confidence=np.ones(len(kind)),
    )  # fmt: skip
    return FundusPhantom(rgb=rgb, fov=fov, vessels=vessels & fov, av=av * fov, network=network,
                         disc=disc_out, pixel_mm=pixel_mm, macula=macula_out,
                         arteriolar_scale=float(arteriolar_scale),
                         meta={"seed": seed, "eye": eye, "noise": noise})  # fmt: skip


# -- rendering -------------------------------------------------------------------------------
def _resample(points: np.ndarray, step: float) -> np.ndarray:
    """A polyline resampled at `step` along its length."""
    seg = np.hypot(*np.diff(points, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    if arc[-1] <= 0:
        return points[:1]
    s = np.arange(0.0, arc[-1] + 1e-9, step)
    return np.column_stack([np.interp(s, arc, points[:, 0]), np.interp(s, arc, points[:, 1])])


def _fov_mask(shape: tuple[int, int], centre, radius: float) -> np.ndarray:
    r, c = np.ogrid[: shape[0], : shape[1]]
    return np.hypot(r - centre[0], c - centre[1]) <= radius


def _vessel_layers(shape, lines, diameter, kind, free_ends) -> dict:
    """Per kind: distance (px) of each pixel from the nearest centre line measured across
    the vessel, that vessel's radius, its segment index, and whether the nearest point is a
    free end (where the distance is to the end point)."""
    layers = {}
    for k in (ARTERY, VEIN):
        seg = np.full(shape, -1, np.int32)
        frow = np.zeros(shape)
        fcol = np.zeros(shape)
        trow = np.zeros(shape)
        tcol = np.zeros(shape)
        free = np.zeros(shape, bool)  # a free end of a vessel (no segment continues it)
        for i in np.flatnonzero(kind == k):
            line = _resample(lines[i], 0.5) if len(lines[i]) > 1 else lines[i]
            tangent = np.gradient(line, axis=0) if len(line) > 1 else np.array([[0.0, 1.0]])
            tangent /= np.maximum(np.hypot(*tangent.T), 1e-9)[:, None]
            ij = np.rint(line).astype(int)
            ok = (ij[:, 0] >= 0) & (ij[:, 0] < shape[0]) & (ij[:, 1] >= 0) & (ij[:, 1] < shape[1])
            ends = np.zeros(len(line), bool)
            ends[0], ends[-1] = free_ends[i]
            ij, line, tangent, ends = ij[ok], line[ok], tangent[ok], ends[ok]
            seg[ij[:, 0], ij[:, 1]] = i
            frow[ij[:, 0], ij[:, 1]], fcol[ij[:, 0], ij[:, 1]] = line[:, 0], line[:, 1]
            trow[ij[:, 0], ij[:, 1]], tcol[ij[:, 0], ij[:, 1]] = tangent[:, 0], tangent[:, 1]
            free[ij[:, 0], ij[:, 1]] = ends
        _, (ir, ic) = ndimage.distance_transform_edt(seg < 0, return_indices=True)
        nearest = seg[ir, ic]
        r, c = np.indices(shape)
        dr, dc = r - frow[ir, ic], c - fcol[ir, ic]
        across = np.abs(dr * tcol[ir, ic] - dc * trow[ir, ic])  # distance across the vessel
        along = np.abs(dr * trow[ir, ic] + dc * tcol[ir, ic])
        # beyond a line's end the distance is to the end point (no tube past the end)
        distance = np.where(free[ir, ic] & (along > 0.75), np.hypot(across, along - 0.75), across)
        radius = np.where(nearest >= 0, diameter[np.maximum(nearest, 0)] / 2.0, 0.0)
        layers[k] = {"distance": distance, "across": across, "radius": radius,
                     "segment": nearest}  # fmt: skip
    return layers


def _truth_maps(layers, artery_on_top, kind, fov) -> tuple[np.ndarray, np.ndarray]:
    """The true vessel mask (the centre of a pixel inside a vessel) and the A/V map (the
    vessel on top where an artery and a vein overlap)."""
    in_a = layers[ARTERY]["distance"] <= layers[ARTERY]["radius"]
    in_v = layers[VEIN]["distance"] <= layers[VEIN]["radius"]
    a_top = artery_on_top[np.maximum(layers[ARTERY]["segment"], 0)]
    av = np.zeros(fov.shape, np.uint8)
    av[in_v] = VEIN
    av[in_a & (~in_v | a_top)] = ARTERY
    return (in_a | in_v) & fov, av


def _smooth_noise(rng: np.random.Generator, shape, sigma: float) -> np.ndarray:
    """Low-frequency noise of unit standard deviation (filtered on a coarse grid)."""
    step = max(int(sigma / 4), 1)
    small = rng.normal(size=(shape[0] // step + 2, shape[1] // step + 2))
    small = ndimage.gaussian_filter(small, sigma / step)
    small /= max(small.std(), 1e-9)
    return ndimage.zoom(small, step, order=1)[: shape[0], : shape[1]]


def _render(layers, artery_on_top, kind, diameter, fov, centre, fov_radius, disc: Disc,
            macula, pixel_mm, rng, noise) -> np.ndarray:  # fmt: skip
    shape = fov.shape
    r, c = np.indices(shape, dtype=float)
    rho = np.hypot(r - centre[0], c - centre[1]) / fov_radius
    # fundus background (linear, 0-1 per channel): orange-red, vignetting, choroidal texture
    base = np.array([0.80, 0.36, 0.13])
    vignette = np.clip(1.0 - 0.55 * rho**2.4, 0.15, 1.0)
    texture = 1.0 + 0.045 * _smooth_noise(rng, shape, 40.0) + 0.03 * _smooth_noise(rng, shape, 9.0)
    # choroidal vessels: faint darker-orange streaks, more visible in the periphery
    streaks = _smooth_noise(rng, shape, 6.0)
    tigroid = 1.0 - 0.05 * np.clip(np.abs(streaks) < 0.3, 0, 1) * np.clip(rho, 0.3, 1.0)
    image = base[None, None, :] * (vignette * texture * tigroid)[..., None]
    # a slightly greener-yellow posterior pole, redder periphery
    image[..., 1] *= 1.0 + 0.12 * np.clip(1.0 - rho, 0, 1)
    # macula: darker, browner, with a tiny foveal reflex
    dm = np.hypot(r - macula[0], c - macula[1]) * pixel_mm  # mm
    mac = np.exp(-0.5 * (dm / 0.9) ** 2)
    image *= 1.0 - np.array([0.30, 0.40, 0.35]) * mac[..., None]
    image += np.array([0.10, 0.08, 0.06]) * np.exp(-0.5 * (dm / 0.03) ** 2)[..., None]
    # optic disc: bright yellow-white rim, paler cup (a little temporal), soft edge
    dd = np.hypot(r - disc.row, c - disc.col)
    rim = 1.0 / (1.0 + np.exp((dd - disc.radius_px) / 2.0))
    halo = np.exp(-0.5 * (np.clip(dd - disc.radius_px, 0, None) / (0.25 * disc.radius_px)) ** 2)
    temporal = -1.0 if disc.col > macula[1] else 1.0
    dcup = np.hypot(r - disc.row, c - (disc.col + temporal * 0.12 * disc.radius_px))
    cup = 1.0 / (1.0 + np.exp((dcup - 0.42 * disc.radius_px) / 3.0))
    disc_colour = np.array([0.97, 0.66, 0.34])
    cup_colour = np.array([1.0, 0.86, 0.58])
    image = image * (1 - rim[..., None]) + disc_colour * rim[..., None]
    image = image * (1 - cup[..., None]) + cup_colour * cup[..., None]
    image *= 1.0 + 0.12 * (halo - rim)[..., None]  # peripapillary brightening
    # vessels: absorption with partial-volume edges; veins darker, arteries with a reflex
    # blood absorbs green and blue far more than red: vessels are dark red, not brown
    for k, weight, strength in ((VEIN, (0.30, 0.78, 0.70), 0.78),
                                (ARTERY, (0.12, 0.66, 0.58), 0.62)):  # fmt: skip
        layer = layers[k]
        radius, distance = layer["radius"], layer["distance"]
        cover = np.clip(radius - distance + 0.5, 0.0, 1.0)
        if not cover.any():
            continue
        x = np.clip(layer["across"] / np.maximum(radius + 0.5, 1e-9), 0, 1)
        profile = 0.3 + 0.7 * np.sqrt(1.0 - x**2)
        depth = strength * (1.0 - np.exp(-2.0 * radius / 4.5))  # small vessels paler
        absorb = depth * cover * profile
        if k == ARTERY:  # central light reflex on the larger arterioles
            reflex = np.exp(-0.5 * (layer["across"] / np.maximum(0.18 * radius, 0.3)) ** 2)
            absorb *= 1.0 - 0.45 * reflex * np.clip((radius - 2.5) / 2.0, 0, 1)
        image *= 1.0 - absorb[..., None] * np.array(weight)
    # optics: blur (the camera's point spread), then sensor noise, 8-bit, black outside
    image = ndimage.gaussian_filter(image, sigma=(0.9, 0.9, 0))
    image = 255.0 * np.clip(image, 0, 1)
    if noise > 0:
        image += noise * rng.normal(0.0, 2.2, image.shape)
    edge = np.clip((fov_radius - rho * fov_radius) / 1.5, 0, 1)  # black outside the field
    image *= edge[..., None]
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
