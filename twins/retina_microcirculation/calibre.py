"""Vessel calibre from the photograph's intensity profile across the vessel, not from the
binary vessel mask.

The mask's edge sits wherever the segmentation threshold put it, and an arteriole's central
light reflex can split or thin it; both bias CRAE/CRVE. Here, at each centre-line point, the
image (the green channel: blood absorbs green most; vessels dark) is sampled along the normal
to the local direction of the smoothed centre line (bilinear, sub-pixel, every 0.25 px,
averaged over three parallel lines 1 px apart, then smoothed by 0.5 px against noise) over
+-2 mask widths (the segment's median mask width: a mask split by a reflex reads ~1 px at
some points). On each side of the centre line the vessel level is that half's minimum (a
central light reflex brightens only the middle, so it does not raise the vessel level), and
the background is the highest level the profile reaches walking outward from it before it
clearly falls again (so a vessel running alongside, 1-3 px away, is not taken for
background). Each edge is then either

- "half-height": where the profile first climbs back half way from that minimum to that
  background (linear interpolation between samples), or
- "gradient": the steepest rise of the profile within a quarter width (at least 1 px) of
  that half-height point (parabolic sub-sample peak of the gradient).

Width = distance between the two edges.

"half-height" is the half-height (half-value) width of the blood column's intensity profile
used in microdensitometry of fundus photographs (Brinchmann-Hansen O, Heier H, Acta
Ophthalmol 1986, "Fundus photography of width and intensity profiles of the blood column and
the light reflex in retinal vessels": cited from an index entry, the text not read); its
insensitivity to defocus is modelled in "Reliable measurements from fundus photographs in the
presence of focusing errors", Invest Ophthalmol Vis Sci 1989;30:674-677 (abstract read here,
not the full text; authors not checked). "gradient" puts the edge where the intensity changes
fastest, as edge-refinement profile methods do (Bankhead P et al., PLoS ONE 2012;7(3):e32435
localise edges on profiles across a spline fit of the centre line: abstract read here; that
they use the gradient's extremum was not checked in the full text). For a blood column of
circular cross-section the absorption profile is rounded (path length ~ sqrt(1 - x^2)), so
the half-height width reads narrower than the column and the steepest rise lies nearer its
geometric edge; for a Gaussian-shaped profile "gradient" gives 2 sigma = 0.85 of its
half-height width. The "minimum of each half" and "highest level before a fall" rules are
this module's own choices, not taken from a paper. No published accuracy figure is claimed:
the method is checked on drawn profiles of known width (tests/test_calibre.py) and on the
synthetic fundus (phantom.py; numbers in the twin's README / the lead's report).

A point is refused (NaN) when its profile is not a clear vessel: the dip is shallower than
four times the profile's noise or than 2% of the background, the two edges are not balanced
about the centre line, or the width is under 0.5 or over 1.6 times the mask's width there (a
junction, a crossing, a neighbouring vessel). Callers fall back to the mask width there.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .measures import zone_b
from .network import VesselNetwork

STEP_PX = 0.25  # sampling step along the normal
REACH_WIDTHS = 2.0  # the profile runs over +-REACH_WIDTHS mask widths
MIN_REACH_PX = 5.0
BACKGROUND_FRACTION = 0.3  # the outer part of each side that gives its background level
MIN_DEPTH_NOISE = 4.0  # a dip must be this many background noise SDs deep
MIN_DEPTH_RELATIVE = 0.02  # and at least this fraction of the background level
METHODS = ("half-height", "gradient")
RATIO_RANGE = (0.5, 1.6)  # accepted profile width / mask width
MAX_OFFSET = 0.15  # the edges' midpoint may lie this many widths (or 1 px) off the centre line


def as_profile_image(image: np.ndarray) -> np.ndarray:
    """(H, W) float image with vessels dark: the green channel of an RGB photograph (linear
    in the light reaching the camera, unlike a contrast-equalised one), or a grey image as
    given."""
    array = np.asarray(image)
    if array.ndim == 3:
        if array.shape[2] < 2:
            return array[..., 0].astype(np.float32)
        return array[..., 1].astype(np.float32)
    if array.ndim != 2:
        raise ValueError(f"image must be (H, W) or (H, W, 3), not {array.shape}")
    return array.astype(np.float32)


def zone_b_points(network: VesselNetwork, margin_px: float = 0.0) -> list[np.ndarray]:
    """Per segment, which centre-line points lie in zone B (`measures.zone_b`), widened by
    `margin_px` on both sides: the points `profile_widths` needs for CRAE/CRVE."""
    inner, outer = zone_b(network)
    chosen = []
    for path in network.paths:
        p = np.asarray(path, float).reshape(-1, 2)
        d = network.disc.distance(p[:, 0], p[:, 1])
        chosen.append((d >= inner - margin_px) & (d <= outer + margin_px))
    return chosen


def _normals(path: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Smoothed centre (sub-pixel), unit tangent and unit normal at each path point."""
    p = np.asarray(path, float).reshape(-1, 2)
    if len(p) >= 3:
        sigma = min(2.0, (len(p) - 1) / 3.0)
        centre = ndimage.gaussian_filter1d(p, sigma, axis=0, mode="nearest")
        k = int(min(3, len(p) - 1))
        idx = np.arange(len(p))
        tangent = centre[np.minimum(idx + k, len(p) - 1)] - centre[np.maximum(idx - k, 0)]
    elif len(p) == 2:
        centre = p
        tangent = np.repeat((p[1] - p[0])[None], 2, axis=0)
    else:
        centre = p
        tangent = np.tile([0.0, 1.0], (len(p), 1))
    norm = np.hypot(tangent[:, 0], tangent[:, 1])
    tangent = np.where(norm[:, None] > 0, tangent / np.maximum(norm, 1e-9)[:, None], [0.0, 1.0])
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    return centre, tangent, normal


def _steepest(
    t: np.ndarray, y: np.ndarray, near: float, direction: int, window: float, lo: float, hi: float
) -> float:
    """Offset of the steepest outward rise of the (smoothed) profile `y` within `window` px
    of `near` and inside [lo, hi] (parabolic sub-sample peak of the gradient); `near` when
    the steepest point is at the window's end (no peak inside it)."""
    step = float(t[1] - t[0])
    grad = direction * np.gradient(y, step)
    pick = np.flatnonzero((np.abs(t - near) <= window) & (t >= lo) & (t <= hi))
    if pick.size < 3:
        return near
    m = int(pick[np.argmax(grad[pick])])
    if m in (pick[0], pick[-1]):
        return near
    g0, g1, g2 = grad[m - 1], grad[m], grad[m + 1]
    curve = g0 - 2.0 * g1 + g2
    shift = 0.5 * (g0 - g2) / curve if curve < 0 else 0.0
    return float(t[m] + np.clip(shift, -0.5, 0.5) * step)


def vessel_width(
    offsets: np.ndarray, profile: np.ndarray, reference_px: float, method: str = "half-height"
) -> float:
    """Width (px) of one dark-vessel profile sampled at `offsets` (even steps, increasing,
    centred on the vessel's centre line); NaN when the profile is not a clear vessel.
    `reference_px` (the mask's width) sets how far from the centre line the vessel's core is
    looked for. `method`: "half-height" (edges at half depth) or "gradient" (edges at the
    steepest rise near the half-depth points)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    t = np.asarray(offsets, float)
    raw = np.asarray(profile, float)
    if len(t) < 8:
        return float("nan")
    step = float(t[1] - t[0])
    y = ndimage.gaussian_filter1d(raw, 0.5 / step, mode="nearest")  # 0.5 px: noise only
    reach = float(min(-t[0], t[-1]))
    outer = np.abs(t) >= (1.0 - BACKGROUND_FRACTION) * reach
    # noise: scatter of the raw samples about the smoothed profile in the outer parts (MAD)
    noise = 1.4826 * float(np.median(np.abs((raw - y)[outer]))) * np.sqrt(2.0)
    core = max(0.6 * reference_px, 1.0)
    left = (t >= -core) & (t <= 0)
    right = (t >= 0) & (t <= core)
    if not left.any() or not right.any():
        return float("nan")
    edges = []
    for side, direction in ((left, -1), (right, 1)):
        i_min = int(np.flatnonzero(side)[np.argmin(y[side])])
        # walk outward up the vessel's wall to the background: the highest level reached
        # before the profile falls clearly again (a neighbouring vessel) or ends
        i, i_peak = i_min, i_min
        while 0 <= i + direction < len(y):
            i += direction
            if y[i] > y[i_peak]:
                i_peak = i
            elif y[i] < y[i_peak] - max(3.0 * noise, 0.1 * (y[i_peak] - y[i_min])):
                break
        bottom, background = float(y[i_min]), float(y[i_peak])
        depth = background - bottom
        if depth <= MIN_DEPTH_NOISE * noise or depth <= MIN_DEPTH_RELATIVE * abs(background):
            return float("nan")
        if abs(t[i_peak] - t[i_min]) < 0.5:
            return float("nan")
        level = bottom + 0.5 * depth
        i = i_min
        while y[i + direction] < level:
            i += direction  # stops at i_peak at the latest (y there is above the level)
        j = i + direction
        # linear interpolation between sample i (below the level) and j (at or above)
        frac = (level - y[i]) / max(y[j] - y[i], 1e-12)
        edge = t[i] + direction * float(np.clip(frac, 0.0, 1.0)) * step
        if method == "gradient":
            lo, hi = sorted((t[i_min], t[i_peak]))
            edge = _steepest(t, y, edge, direction, max(1.0, 0.25 * reference_px), lo, hi)
        edges.append(edge)
    width = float(edges[1] - edges[0])
    if abs(0.5 * (edges[0] + edges[1])) > max(1.0, MAX_OFFSET * width):
        return float("nan")  # the edges are not balanced about the centre line
    return width


def profile_widths(
    network: VesselNetwork,
    image: np.ndarray,
    points: list[np.ndarray] | None = None,
    *,
    mask_widths: list[np.ndarray] | None = None,
    method: str = "half-height",
) -> list[np.ndarray]:
    """Per segment, the width (px) of the intensity profile across the vessel at each
    centre-line point of `network.paths[k]` (`method` "half-height" or "gradient", see the
    module docstring); NaN where the point was not asked for (`points[k]`, a bool array per
    segment, e.g. `zone_b_points(network)`; None: every point) or its profile is not a
    clear vessel.

    `image`: the photograph (RGB: its green channel is used; better than a contrast-
    equalised image, whose grey levels are not linear in the light) or a grey image with
    vessels dark. `mask_widths` (per point, px; default `network.widths_px`, else the
    segment's `diameter_px`): their median over the segment sets how far the profile
    reaches and the plausible range of the answer.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    grey = as_profile_image(image)
    if points is not None and len(points) != network.n_edges:
        raise ValueError(f"points has {len(points)} entries for {network.n_edges} segments")
    if mask_widths is None and len(network.widths_px) == network.n_edges:
        mask_widths = network.widths_px
    out: list[np.ndarray] = []
    for k, path in enumerate(network.paths):
        path = np.asarray(path, float).reshape(-1, 2)
        n = len(path)
        result = np.full(n, np.nan)
        want = np.ones(n, bool) if points is None else np.asarray(points[k], bool).ravel()
        if n == 0 or want.size != n or not want.any():
            out.append(result)
            continue
        ref = np.full(n, float(network.diameter_px[k]))
        if mask_widths is not None:
            given = np.asarray(mask_widths[k], float).ravel()
            valid = given[np.isfinite(given) & (given > 0)] if given.size == n else given[:0]
            if valid.size:  # the segment's median: a mask split by a light reflex reads ~1 px
                ref = np.full(n, float(np.median(valid)))
        centre, tangent, normal = _normals(path)
        index = np.flatnonzero(want & np.isfinite(ref) & (ref > 0))
        if index.size == 0:
            out.append(result)
            continue
        reach = np.maximum(REACH_WIDTHS * ref[index], MIN_REACH_PX)
        m = int(np.ceil(reach.max() / STEP_PX))
        t = STEP_PX * np.arange(-m, m + 1)  # one grid through 0, cropped per point below
        along = np.array([-1.0, 0.0, 1.0])  # three parallel lines, averaged
        base = centre[index][:, None, :] + along[None, :, None] * tangent[index][:, None, :]
        coords = base[:, :, None, :] + t[None, None, :, None] * normal[index][:, None, None, :]
        samples = ndimage.map_coordinates(
            grey, [coords[..., 0].ravel(), coords[..., 1].ravel()], order=1, mode="nearest"
        ).reshape(len(index), 3, len(t))
        profiles = samples.mean(axis=1)
        for j, i in enumerate(index.tolist()):
            keep = np.abs(t) <= reach[j] + 1e-9
            width = vessel_width(t[keep], profiles[j, keep], float(ref[i]), method)
            if np.isfinite(width) and RATIO_RANGE[0] * ref[i] <= width <= RATIO_RANGE[1] * ref[i]:
                result[i] = width
        out.append(result)
    return out
