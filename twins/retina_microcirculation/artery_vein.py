"""Artery / vein labelling of a vessel network from the colour photograph, and a clinician's
correction.

Unsupervised, per image (no trained model):
1. features per segment, sampled along its centre line and normalised by the local background
   (a Gaussian average of the photograph with the vessels left out): red and green intensity
   of the vessel core, the central light reflex (centre brighter than the two sides at a
   quarter of the calibre), the log calibre, and the red / green optical density ratio
   (OD = -log(vessel / background) per channel). Arterioles are lighter and redder, show a
   central reflex and are narrower than venules: the features of Grisan & Ruggeri 2003 ("A
   divide et impera strategy for automatic classification of retinal vessels into arteries
   and veins", Proc. IEEE EMBS 25:890-893) and of Vazquez et al. 2010 (ICIAR, LNCS 6112:50-59).
   The density ratio is the principle of two-wavelength retinal oximetry (Beach JM et al.,
   J Appl Physiol 1999;86:748-758: the ratio of optical densities at an oxygen-sensitive and
   an isosbestic wavelength rises as saturation falls): deoxygenated venous blood absorbs
   more red light. Here the camera's broad red and green bands stand in for the oximeter's
   narrow ones, so the ratio is only compared within the image, never to a calibrated
   saturation;
2. the density ratio is split into two classes at its length-weighted Otsu threshold (its
   vote, weight 0.5); the colour features, corrected for calibre (thin vessels look lighter
   whatever their kind; slope fitted within each kind) and standardised within each quadrant
   around the disc, give the rest (weight 0.5);
3. a band made of an artery and a vein touching side by side (near the disc, often: one wide
   band and one centre line in the mask) is split along the border where the ratio steps
   across it (the venous side also the darker) into two parallel segments between the same
   nodes, each with its own calibre. Cutting a centre line where it runs from an arteriole
   into a venule was tried too: it did not raise the phantom's accuracy and, each piece
   getting a free end, it cut more vessel trees off the disc, so it is not done;
4. propagation along the network: segments meeting at a node pull each other towards the
   same label (unless both carry clear, opposite evidence: then the node is more likely a
   crossing the graph could not resolve) and the two vessels of a crossing towards opposite
   labels (an artery crosses a vein; the rule Niemeijer et al. 2009, Proc. SPIE 7260:72601F
   and Vazquez et al. also use), as a length-weighted average over the network (a sparse
   linear solve). It is soft on purpose: a crossing the graph misreads as a bifurcation would
   otherwise give one label to a whole artery and vein network.
5. zone B (the ring CRAE and CRVE are measured in, `measures.zone_b`): the vessels crossing
   it get a second look. Veins absorb more green light than arteries of the same calibre
   (darker and wider: the cue graders and Grisan & Ruggeri / Vazquez et al. use); among the
   wider half of the ring's vessels (thin ones are too faint for it), the log green optical
   density is fitted against log calibre with a two-class term, and each vessel's offset
   from the midline (weight 0.5) is added to its propagated score. A vessel whose label
   changes carries the new label outward (away from the disc) to the segments of its former
   kind that branch from it, not across a crossing or to the other half of a side-by-side
   pair. An alternation prior around the disc (arteries and veins in pairs) was planned
   and not built.
`av_confidence` is 0.5 + half the propagated score's magnitude (0.5: a coin toss). No
published accuracy is claimed for this combination: the tests measure it on drawn images and
the phantom with known labels (centre-line accuracy 0.81-0.87 on the measured network of
phantom seeds 0, 1, 2, 22, against 0.68-0.78 with the colour score alone).
"""

from __future__ import annotations

import copy

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix, diags, identity
from scipy.sparse.linalg import spsolve

from meditwin_desktop.core.twin import TwinInputError, tr

from .measures import zone_b
from .network import ARTERY, UNKNOWN, VEIN, VesselNetwork, path_normals
from .vessel_graph import _dedupe_with, _path_length, crossings, tree_labels

# propagation strengths: working choices checked on the phantom (tests), not published values
_PROPAGATION = 0.6  # share of a segment's label taken from its neighbours
_CROSSING_WEIGHT = 0.5  # weight of a crossing partner (opposite label) against a branch
_CLASH = 0.4  # evidence of this size on both sides, with opposite signs, cuts a link
_ODR_WEIGHT = 0.5  # share of the optical density ratio in a segment's evidence
_MIN_OD = 0.03  # green optical density below which a centre-line point is too faint to use
# side-by-side artery and vein (working choices checked on the phantom, not published values)
_PAIR_MIN_POINTS = 10  # centre-line points
_PAIR_MIN_WIDTH_PX = 5.0  # a band narrower than this is not two vessels
_PAIR_SAMPLES = 8  # samples each side of the centre across the band
_PAIR_AGREEMENT = 0.5  # net share of each side's samples of that side's kind
_PAIR_DARKER = 1.3  # the venous side's green optical density against the arterial side's
_PAIR_MIN_SIDE = 0.25  # each vessel of a pair spans at least this share of the band
_PAIR_SHARE = 0.5  # share of the segment's inner points that must be pair points


def segment_features(
    network: VesselNetwork, rgb: np.ndarray, fov: np.ndarray | None = None
) -> np.ndarray:
    """(K, 5) per segment: red core / background, green core / background, central reflex
    (green, relative to background), log calibre relative to the image median, and the
    red-to-green optical density ratio of the vessel's centre (OD = -log(centre /
    background) per channel; larger in venules: see `optical_density_ratio`)."""
    image = _check_rgb(rgb, network.shape)
    background, smooth = _background(network, image, fov)
    return _features(network, background, smooth)


def _widths(network: VesselNetwork) -> list[np.ndarray]:
    if network.widths_px and len(network.widths_px) == network.n_edges:
        return network.widths_px
    return [np.full(len(p), d) for p, d in zip(network.paths, network.diameter_px, strict=True)]


def _background(
    network: VesselNetwork, image: np.ndarray, fov: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The photograph's local background (a Gaussian average with the vessels left out) and
    the lightly smoothed photograph, both (rows, columns, 3) float."""
    diam = np.asarray(network.diameter_px, float)
    keep = ~_vessel_raster(network, _widths(network))
    if fov is not None:
        keep &= np.asarray(fov, bool)
    sigma = float(np.clip(3.0 * np.percentile(diam, 90) if len(diam) else 10.0, 8.0, 60.0))
    weight = ndimage.gaussian_filter(keep.astype(np.float32), sigma)
    background = np.empty(image.shape, np.float32)
    for ch in range(3):
        num = ndimage.gaussian_filter(image[..., ch] * keep, sigma)
        background[..., ch] = np.maximum(num / np.maximum(weight, 1e-3), 1.0)
    return background, ndimage.gaussian_filter(image, (0.7, 0.7, 0))


def _features(network: VesselNetwork, background: np.ndarray, smooth: np.ndarray) -> np.ndarray:
    """`segment_features` from a precomputed background and smoothed photograph."""
    k = network.n_edges
    shape = background.shape[:2]
    diam = np.asarray(network.diameter_px, float)
    widths = _widths(network)
    med_d = float(np.median(diam[diam > 0])) if np.any(diam > 0) else 1.0
    feats = np.full((k, 5), np.nan)
    for s, path in enumerate(network.paths):
        path = np.asarray(path, float)
        if len(path) > 6:
            path, wpx = path[2:-2], np.asarray(widths[s], float)[2:-2]
        else:
            wpx = np.asarray(widths[s], float)
        if len(path) == 0:
            continue
        normal = path_normals(np.asarray(path, float))
        off = np.maximum(wpx / 4.0, 0.75)[:, None]
        r, c = path[:, 0], path[:, 1]
        bg = background[np.clip(r.astype(int), 0, shape[0] - 1),
                        np.clip(c.astype(int), 0, shape[1] - 1)]  # fmt: skip

        def sample(ch: int, shift: np.ndarray, rr=r, cc=c, nn=normal) -> np.ndarray:
            coords = [rr + shift[:, 0] * nn[:, 0], cc + shift[:, 0] * nn[:, 1]]
            return ndimage.map_coordinates(smooth[..., ch], coords, order=1, mode="nearest")

        zero = np.zeros_like(off)
        red = sample(0, zero)
        green = sample(1, zero)
        sides = 0.5 * (sample(1, off) + sample(1, -off))
        core_red = np.median((red + 0.5 * (sample(0, off) + sample(0, -off))) / 2 / bg[:, 0])
        core_green = np.median((green + sides) / 2 / bg[:, 1])
        reflex = np.median((green - sides) / bg[:, 1])
        od_red = -np.log(np.clip(red / bg[:, 0], 1e-3, 2.0))
        od_green = -np.log(np.clip(green / bg[:, 1], 1e-3, 2.0))
        seen = od_green > _MIN_OD
        odr = float(np.median(od_red[seen] / od_green[seen])) if seen.sum() >= 2 else np.nan
        feats[s] = (core_red, core_green, reflex, np.log(max(diam[s], 0.5) / med_d), odr)
    return feats


def artery_scores(
    network: VesselNetwork, rgb: np.ndarray, fov: np.ndarray | None = None
) -> np.ndarray:
    """(K,) per-segment evidence in [-1, 1] (> 0: arteriole), before propagation.

    Thin vessels look lighter whatever their kind (partial volume and blur), so the colour
    and reflex features are first corrected for calibre (least-squares line against log
    calibre over the image); each corrected feature is then standardised (median and
    interquartile range) within its quadrant around the disc, and the score is their sum
    minus half the standardised log calibre, split at zero (the quadrant's median: arterioles
    and venules come in roughly equal numbers around the disc)."""
    return _votes(network, segment_features(network, rgb, fov))


def _votes(network: VesselNetwork, feats: np.ndarray) -> np.ndarray:
    """The optical density ratio's vote (weight `_ODR_WEIGHT`) plus the colour score's."""
    vote = _colour_vote(network, feats)
    split = _density_split(feats[:, 4], np.asarray(network.length_px, float))
    if split is None:
        return vote
    threshold, half_gap = split
    density = np.clip((threshold - feats[:, 4]) / half_gap, -1.0, 1.0)
    have = np.isfinite(density)
    vote[have] = _ODR_WEIGHT * density[have] + (1.0 - _ODR_WEIGHT) * vote[have]
    return vote


def _colour_vote(network: VesselNetwork, feats: np.ndarray) -> np.ndarray:
    """The calibre-corrected colour score of each segment in [-1, 1] (> 0: arteriole)."""
    k = network.n_edges
    valid = np.all(np.isfinite(feats[:, :4]), axis=1)
    vote = np.zeros(k)
    if valid.sum() < 2:
        return vote
    f = feats[valid, :4]
    sector = _quadrant(network)[valid]
    # the calibre slope is fitted within each kind (a class term in the regression), so that
    # arterioles being narrower than venules is not mistaken for the partial-volume effect;
    # the kinds come from the previous pass (the first from the uncorrected features)
    label = np.where(_artery_score(_local_z(f, sector)) >= 0, 1.0, -1.0)
    for _ in range(8):
        design = np.column_stack([np.ones(len(f)), f[:, 3], label])
        coef = np.linalg.lstsq(design, f[:, :3], rcond=None)[0]
        corrected = np.column_stack([f[:, :3] - np.outer(f[:, 3], coef[1]), f[:, 3]])
        z = _local_z(corrected, sector)
        new = np.where(_artery_score(z) >= 0, 1.0, -1.0)
        if np.array_equal(new, label):
            break
        label = new
    vote[valid] = np.clip(_artery_score(z) / 2.0, -1.0, 1.0)
    return vote


def _density_split(odr: np.ndarray, length: np.ndarray) -> tuple[float, float] | None:
    """The optical density ratio's two-class split: the length-weighted Otsu threshold and
    half the gap between the two classes' medians (None with fewer than 4 segments)."""
    ok = np.isfinite(odr)
    if ok.sum() < 4:
        return None
    x, w = odr[ok], np.maximum(length[ok], 1.0)
    order = np.argsort(x)
    xs, ws = x[order], w[order]
    cw = np.cumsum(ws)
    cx = np.cumsum(ws * xs)
    w0, w1 = cw[:-1], cw[-1] - cw[:-1]
    m0, m1 = cx[:-1] / w0, (cx[-1] - cx[:-1]) / w1
    cut = int(np.argmax(w0 * w1 * (m0 - m1) ** 2))
    threshold = 0.5 * (xs[cut] + xs[cut + 1])
    low, high = x[x <= threshold], x[x > threshold]
    half_gap = 0.5 * (np.median(high) - np.median(low)) if low.size and high.size else 0.0
    return float(threshold), float(max(half_gap, 1e-3))


def split_side_by_side(
    network: VesselNetwork, rgb: np.ndarray, fov: np.ndarray | None = None
) -> tuple[VesselNetwork, list[tuple[int, int]]]:
    """An artery and a vein that run touching each other (near the disc, often) leave one
    wide band in the vessel mask and one centre line between them. Such a segment is split
    into two parallel segments between the same two nodes, one on each side of the border
    where the optical density ratio (red / green) steps from an arteriole's to a venule's
    across the band; each gets its own calibre. Returns the network (the first half keeps
    the segment's index, the second is appended) and the (first, second) index pairs."""
    image = _check_rgb(rgb, network.shape)
    background, smooth = _background(network, image, fov)
    feats = _features(network, background, smooth)
    return _split_pairs(network, feats, background, smooth)


def _split_pairs(
    network: VesselNetwork, feats: np.ndarray, background: np.ndarray, smooth: np.ndarray
) -> tuple[VesselNetwork, list[tuple[int, int]]]:
    """Side-by-side pairs split (see `split_side_by_side`): the pairs returned are (half kept
    at the segment's index, half appended)."""
    split = _density_split(feats[:, 4], np.asarray(network.length_px, float))
    if split is None:
        return network, []
    threshold, half_gap = split
    edges = [tuple(int(v) for v in e) for e in np.asarray(network.edges, int)]
    paths = [np.asarray(p, int) for p in network.paths]
    wlist = [np.asarray(w, float) for w in _widths(network)]
    diam = list(np.asarray(network.diameter_px, float))
    pairs, changed = [], set()
    for k in range(len(paths)):
        found = _pair_profile(paths[k].astype(float), wlist[k], background, smooth,
                              threshold, half_gap)  # fmt: skip
        if found is None:
            continue
        (p1, w1), (p2, w2) = found
        paths[k], wlist[k] = _dedupe_with(p1, w1, network.shape)
        p2, w2 = _dedupe_with(p2, w2, network.shape)
        paths.append(p2)
        wlist.append(w2)
        edges.append(edges[k])
        diam.append(0.0)
        changed |= {k, len(paths) - 1}
        pairs.append((k, len(paths) - 1))
    if not pairs:
        return network, []
    n = len(paths)
    length = np.concatenate([np.asarray(network.length_px, float),
                             np.zeros(n - network.n_edges)])  # fmt: skip
    for k in changed:
        diam[k] = _central_median(wlist[k])
        length[k] = _path_length(paths[k])
    return VesselNetwork(
        nodes=network.nodes, edges=np.array(edges, int).reshape(-1, 2),
        diameter_px=np.array(diam, float), length_px=length,
        kind=np.full(n, UNKNOWN, np.int8), paths=paths, disc=network.disc,
        shape=network.shape, widths_px=wlist, av_confidence=np.zeros(n),
    ), pairs  # fmt: skip


def _central_median(widths: np.ndarray) -> float:
    n = len(widths)
    if n == 0:
        return 0.0
    return float(np.median(widths[int(0.2 * n) : max(int(np.ceil(0.8 * n)), int(0.2 * n) + 1)]))


def _pair_profile(
    path: np.ndarray,
    widths: np.ndarray,
    background: np.ndarray,
    smooth: np.ndarray,
    threshold: float,
    half_gap: float,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None:
    """The two halves (path, widths) of a segment that is an artery and a vein side by side,
    or None. Across the band (at 2 * _PAIR_SAMPLES + 1 points from edge to edge) each sample's
    red / green optical density ratio is compared with the image's artery/vein threshold;
    a point is a pair point when one border splits the samples into arteriole-like on one
    side and venule-like on the other (at least _PAIR_AGREEMENT of them), each side at least
    a quarter of the band, and the venule's side the darker in green (`_PAIR_DARKER`). The
    segment is split when most of its points are pair points with
    the venule on the same side."""
    n = len(path)
    if n < _PAIR_MIN_POINTS or np.median(widths) < _PAIR_MIN_WIDTH_PX:
        return None
    normal = path_normals(np.asarray(path, float))
    u = np.linspace(-0.45, 0.45, 2 * _PAIR_SAMPLES + 1)
    shift = u[None, :] * widths[:, None]
    rr = path[:, 0:1] + shift * normal[:, 0:1]
    cc = path[:, 1:2] + shift * normal[:, 1:2]
    centre = np.clip(np.rint(path).astype(int), 0, np.array(background.shape[:2]) - 1)
    bg = background[centre[:, 0], centre[:, 1]]
    od = []
    for ch in (0, 1):
        v = ndimage.map_coordinates(smooth[..., ch], [rr.ravel(), cc.ravel()], order=1,
                                    mode="nearest").reshape(rr.shape)  # fmt: skip
        od.append(-np.log(np.clip(v / bg[:, ch : ch + 1], 1e-3, 2.0)))
    seen = od[1] > _MIN_OD
    ratio = np.where(seen, od[0] / np.where(seen, od[1], 1.0), np.nan)
    margin = 0.3 * half_gap
    venous = np.where(ratio > threshold + margin, 1.0, np.where(ratio < threshold - margin,
                                                                 -1.0, 0.0))  # fmt: skip
    m = len(u)
    lo = int(np.ceil(_PAIR_MIN_SIDE * m))
    cuts = np.arange(lo, m - lo + 1)  # border between sample cut-1 and cut
    csum = np.cumsum(venous, axis=1)
    left_mean = csum[:, cuts - 1] / cuts
    right_mean = (csum[:, -1:] - csum[:, cuts - 1]) / (m - cuts)
    # venule on the + side: the - side's samples arteriole-like, the + side's venule-like
    score = np.where(left_mean * right_mean < 0,
                     np.minimum(np.abs(left_mean), np.abs(right_mean)), 0.0)  # fmt: skip
    best = np.argmax(score, axis=1)
    agree = score[np.arange(n), best]
    side = np.sign(right_mean[np.arange(n), best])
    # the venule's side must also be the darker one in green (a reflex or noise at an
    # arteriole's edge can tip the ratio, not the darkness)
    gsum = np.cumsum(od[1], axis=1)
    g_left = gsum[np.arange(n), cuts[best] - 1] / cuts[best]
    g_right = (gsum[:, -1] - gsum[np.arange(n), cuts[best] - 1]) / (m - cuts[best])
    venous_dark = np.where(side > 0, g_right, g_left)
    arterial_dark = np.maximum(np.where(side > 0, g_left, g_right), _MIN_OD)
    agree = np.where(venous_dark >= _PAIR_DARKER * arterial_dark, agree, 0.0)
    pair = agree >= _PAIR_AGREEMENT
    inner = np.zeros(n, bool)
    inner[2:-2] = True
    pick = pair & inner
    if pick.sum() < _PAIR_SHARE * inner.sum():
        return None
    main = np.sign(np.sum(side[pick]))
    pick &= side == main
    if main == 0 or pick.sum() < _PAIR_SHARE * inner.sum():
        return None
    # the border's relative position across the band, filled in and smoothed along the vessel
    border = np.full(n, np.nan)
    border[pick] = (u[cuts[best[pick]] - 1] + u[cuts[best[pick]]]) / 2
    idx = np.arange(n)
    border = np.interp(idx, idx[pick], border[pick])
    border = ndimage.median_filter(border, size=5, mode="nearest")
    edge = 0.5 * widths
    b = border * widths  # offset of the border from the centre line, px along the normal
    width_neg, width_pos = b + edge, edge - b  # the halves on the -normal and +normal sides
    off_neg, off_pos = (b - edge) / 2.0, (b + edge) / 2.0
    # a calibre along a vessel changes slowly: a running median over about two band widths
    # keeps the border's wobble (and a junction's blob) out of each half's calibre
    window = int(2 * np.median(widths)) | 1
    width_neg = ndimage.median_filter(width_neg, size=window, mode="nearest")
    width_pos = ndimage.median_filter(width_pos, size=window, mode="nearest")
    halves = []
    for off, w in ((off_neg, width_neg), (off_pos, width_pos)):
        p = path + off[:, None] * normal
        p[0], p[-1] = path[0], path[-1]
        halves.append((np.rint(p).astype(int), np.maximum(w, 1.0)))
    return halves[0], halves[1]


def classify_arteries_veins(
    network: VesselNetwork, rgb: np.ndarray, fov: np.ndarray | None = None
) -> VesselNetwork:
    """A copy of `network` with `kind` (ARTERY / VEIN) and `av_confidence` in [0.5, 1] set
    from the colour photograph (see the module docstring for the method)."""
    k = network.n_edges
    if k == 0:
        return _copy(network)
    image = _check_rgb(rgb, network.shape)
    background, smooth = _background(network, image, fov)
    feats = _features(network, background, smooth)
    network, pairs = _split_pairs(network, feats, background, smooth)
    if pairs:
        feats = _features(network, background, smooth)
    out = _copy(network)
    k = network.n_edges
    vote = _votes(network, feats)
    length = np.maximum(np.asarray(network.length_px, float), 1.0)
    # propagation: a length-weighted average over the network in which segments meeting
    # at a bifurcation (a degree-3 node) pull each other towards the same label and the two
    # vessels of a crossing towards opposite labels
    edges = np.asarray(network.edges, int)
    degree = network.degree()
    rows, cols, vals = [], [], []
    for n in np.flatnonzero(degree >= 3):
        segs = np.flatnonzero((edges == n).any(axis=1))
        for i in segs:
            for j in segs:
                # no pull between two segments whose own evidence clearly disagrees: the
                # node is more likely a crossing the graph could not resolve
                clash = vote[i] * vote[j] < -_CLASH * _CLASH
                if i != j and not clash:
                    rows.append(i), cols.append(j), vals.append(1.0)
    for a, b in crossings(network):
        rows += [a, b]
        cols += [b, a]
        vals += [-_CROSSING_WEIGHT, -_CROSSING_WEIGHT]
    link = coo_matrix((vals, (rows, cols)), shape=(k, k)).tocsr()
    norm = np.asarray(abs(link).sum(axis=1)).ravel()
    step = diags(1.0 / np.where(norm > 0, norm, 1.0)) @ link
    system = (identity(k) - _PROPAGATION * step).tocsc()
    weighted = spsolve(system, vote * length)
    total = spsolve(system, length * 1.0)
    score = np.clip(weighted / np.maximum(np.abs(total), 1e-9), -1.0, 1.0)
    out.kind = np.where(score >= 0, ARTERY, VEIN).astype(np.int8)
    out.av_confidence = 0.5 + 0.5 * np.abs(score)
    _zone_b_pass(out, score, background, smooth, pairs)
    return out


# the zone-B pass (working choices checked on the phantom, not published values)
_ZB_MIN_POINTS = 3  # centre-line points inside the ring for a vessel to cross it
_ZB_DARK_WEIGHT = 0.5  # weight of the calibre-corrected green density against the score


def zone_b_members(network: VesselNetwork) -> tuple[np.ndarray, list[np.ndarray]]:
    """Segments crossing zone B (at least `_ZB_MIN_POINTS` centre-line points between its
    radii, `measures.zone_b`) and, for each, the boolean mask of its points inside."""
    inner, outer = zone_b(network)
    members, inside = [], []
    for k, path in enumerate(network.paths):
        path = np.asarray(path, float).reshape(-1, 2)
        d = network.disc.distance(path[:, 0], path[:, 1])
        mask = (d >= inner) & (d <= outer)
        if mask.sum() >= _ZB_MIN_POINTS:
            members.append(k)
            inside.append(mask)
    return np.array(members, int), inside


def _ring_features(
    network: VesselNetwork, members: np.ndarray, inside: list[np.ndarray],
    background: np.ndarray, smooth: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """(M, 4) per zone-B vessel, on its points inside the ring: angle around the disc
    (degrees), mean calibre (px), median green optical density and median red / green
    optical density ratio of the centre line."""
    widths = _widths(network)
    shape = background.shape[:2]
    out = np.full((len(members), 4), np.nan)
    for i, (k, mask) in enumerate(zip(members.tolist(), inside, strict=True)):
        q = np.asarray(network.paths[k], float)[mask]
        w = np.asarray(widths[k], float)[mask]
        rc = np.clip(np.rint(q).astype(int), 0, np.array(shape) - 1)
        bg = background[rc[:, 0], rc[:, 1]]
        red = ndimage.map_coordinates(smooth[..., 0], q.T, order=1, mode="nearest")
        green = ndimage.map_coordinates(smooth[..., 1], q.T, order=1, mode="nearest")
        od_r = -np.log(np.clip(red / bg[:, 0], 1e-3, 2.0))
        od_g = -np.log(np.clip(green / bg[:, 1], 1e-3, 2.0))
        seen = od_g > _MIN_OD
        mid = q.mean(axis=0)
        angle = np.degrees(np.arctan2(mid[0] - network.disc.row, mid[1] - network.disc.col))
        odr = float(np.median(od_r[seen] / od_g[seen])) if seen.sum() >= 2 else np.nan
        out[i] = (angle, float(np.mean(w)), float(np.median(od_g)), odr)
    return out


def _zone_b_pass(
    out: VesselNetwork, score: np.ndarray, background: np.ndarray, smooth: np.ndarray,
    pairs: list[tuple[int, int]],
) -> None:  # fmt: skip
    """Relabel the vessels crossing zone B jointly (in place), then carry each change
    outward along the vessel's tree."""
    members, inside = zone_b_members(out)
    if len(members) < 4:
        return
    feats = _ring_features(out, members, inside, background, smooth)
    width, od_g = feats[:, 1], feats[:, 2]
    evidence = np.clip(score[members], -1.0, 1.0).copy()
    # darkness for the calibre: veins absorb more green than arteries of the same width
    # only the ring's wider half: thin vessels' green density is too faint and noisy to
    # help (on the phantom it lowered their accuracy from 0.88 to 0.75)
    ok = (width >= np.median(width)) & (od_g > _MIN_OD)
    if ok.sum() >= 4:
        x, y = np.log(width[ok]), np.log(od_g[ok])
        resid = np.full(len(members), np.nan)
        label = np.where(evidence[ok] >= 0, 1.0, -1.0)
        for _ in range(8):
            design = np.column_stack([np.ones(ok.sum()), x, label])
            coef = np.linalg.lstsq(design, y, rcond=None)[0]
            r = y - coef[0] - coef[1] * x
            # labels are +-1: the two kinds lie at +-coef[2] about the midline r = 0
            z = np.clip(-r / max(abs(coef[2]), 1e-3), -1.0, 1.0)  # > 0: lighter
            new = np.where(z + evidence[ok] >= 0, 1.0, -1.0)
            if np.array_equal(new, label):
                break
            label = new
        resid[ok] = z if coef[2] < 0 else 0.0
        have = np.isfinite(resid)
        evidence[have] += _ZB_DARK_WEIGHT * resid[have]
    new_kind = np.where(evidence >= 0, ARTERY, VEIN).astype(np.int8)
    old = out.kind.copy()
    for i, k in enumerate(members.tolist()):
        out.kind[k] = new_kind[i]
        out.av_confidence[k] = 0.5 + 0.5 * min(abs(evidence[i]), 1.0)
    changed = [k for k in members.tolist() if out.kind[k] != old[k]]
    if changed:
        _carry_outward(out, old, changed, set(members.tolist()), pairs)


def _carry_outward(
    out: VesselNetwork, old: np.ndarray, changed: list[int], fixed: set[int],
    pairs: list[tuple[int, int]],
) -> None:  # fmt: skip
    """Give each relabelled zone-B vessel's outward tree its new kind (in place): from the
    segment's node farther from the disc, every segment that starts there (its other end
    farther out), had the segment's former kind and is not the other vessel of a crossing or
    the other half of a side-by-side pair, and so on outward."""
    edges = np.asarray(out.edges, int)
    nd = out.disc.distance(out.nodes[:, 0], out.nodes[:, 1])
    first_near = nd[edges[:, 0]] <= nd[edges[:, 1]]
    near = np.where(first_near, edges[:, 0], edges[:, 1])
    far = np.where(first_near, edges[:, 1], edges[:, 0])
    starting: dict[int, list[int]] = {}
    for k, n in enumerate(near.tolist()):
        starting.setdefault(n, []).append(k)
    partner: dict[int, set[int]] = {}
    for a, b in [*crossings(out), *pairs]:
        partner.setdefault(a, set()).add(b)
        partner.setdefault(b, set()).add(a)
    for k in changed:
        seen, stack = {k}, [k]
        while stack:
            s = stack.pop()
            for j in starting.get(int(far[s]), []):
                if j in seen or j in fixed or j in partner.get(s, set()) or old[j] != old[k]:
                    continue
                seen.add(j)
                out.kind[j] = out.kind[k]
                stack.append(j)


def set_kind(
    network: VesselNetwork, segment: int, kind: int, *, propagate: bool = True
) -> VesselNetwork:
    """A copy of `network` where `segment` (and, with `propagate`, every segment of the same
    vessel tree and of the same present kind, joined through bifurcations but not across
    crossings: `tree_labels(by_kind=True)`) has `kind`, with confidence 1 (a clinician's
    correction). Keeping to the present kind leaves alone the other vessel of a crossing the
    graph joined as a bifurcation, and the other half of a side-by-side pair."""
    if kind not in (ARTERY, VEIN, UNKNOWN):
        raise TwinInputError(tr(
            "Unknown vessel kind {kind}: use artery, vein or unknown."
        ).format(kind=repr(kind)))
    if not 0 <= int(segment) < network.n_edges:
        raise TwinInputError(
            tr(
                "There is no vessel segment {segment}: click on a vessel's centre line."
            ).format(segment=segment)
        )
    out = _copy(network)
    if out.av_confidence is None:
        out.av_confidence = np.zeros(out.n_edges, float)
    if propagate:
        tree = tree_labels(network, by_kind=True)
        pick = tree == tree[int(segment)]
    else:
        pick = np.zeros(out.n_edges, bool)
        pick[int(segment)] = True
    out.kind[pick] = kind
    out.av_confidence[pick] = 1.0
    return out


# ------------------------------------------------------------------------------------------


def _copy(network: VesselNetwork) -> VesselNetwork:
    out = copy.copy(network)
    out.kind = np.array(network.kind, np.int8, copy=True)
    out.av_confidence = (
        np.zeros(network.n_edges, float)
        if network.av_confidence is None
        else np.array(network.av_confidence, float, copy=True)
    )
    return out


def _check_rgb(rgb: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    image = np.asarray(rgb)
    if image.ndim != 3 or image.shape[2] < 3:
        raise TwinInputError(
            tr(
                "A colour photograph (rows, columns, 3) is needed to tell arteries from veins; "
                "got shape {shape}."
            ).format(shape=image.shape)
        )
    if image.shape[:2] != tuple(shape):
        raise TwinInputError(
            tr(
                "The photograph {shape} and the vessel network {shape2} differ in size."
            ).format(shape=image.shape[:2], shape2=tuple(shape))
        )
    return image[..., :3].astype(np.float32)


def _vessel_raster(network: VesselNetwork, widths: list[np.ndarray]) -> np.ndarray:
    """Approximate vessel mask: each centre-line point widened by half its calibre + 2 px
    (nearest centre-line point decides)."""
    radius = np.zeros(network.shape, np.float32)
    for path, w in zip(network.paths, widths, strict=True):
        path = np.asarray(path, int)
        if len(path):
            r = np.clip(np.asarray(w, float) / 2 + 2, 1, 30)
            radius[path[:, 0], path[:, 1]] = np.maximum(radius[path[:, 0], path[:, 1]], r)
    if not (radius > 0).any():
        return np.zeros(network.shape, bool)
    dist, (ri, ci) = ndimage.distance_transform_edt(radius == 0, return_indices=True)
    return dist <= radius[ri, ci]


def _robust_z(x: np.ndarray) -> np.ndarray:
    med = np.median(x, axis=0)
    spread = np.percentile(x, 75, axis=0) - np.percentile(x, 25, axis=0)
    spread = np.where(spread > 1e-9, spread, np.maximum(np.std(x, axis=0), 1e-9))
    return (x - med) / spread


def _local_z(x: np.ndarray, sector: np.ndarray) -> np.ndarray:
    """Robust z-scores within each quadrant with at least 8 segments, else image-wide."""
    z = _robust_z(x)
    for q in range(4):
        pick = sector == q
        if pick.sum() >= 8:
            z[pick] = _robust_z(x[pick])
    return z


def _quadrant(network: VesselNetwork) -> np.ndarray:
    """Quadrant (0-3) around the disc of each segment's middle point."""
    mids = np.array([np.asarray(p, float)[len(p) // 2] if len(p) else (np.nan, np.nan)
                     for p in network.paths]).reshape(-1, 2)  # fmt: skip
    angle = np.arctan2(mids[:, 0] - network.disc.row, mids[:, 1] - network.disc.col)
    return np.nan_to_num((np.degrees(angle) + 180.0) // 90.0, nan=0).astype(int) % 4


def _artery_score(z: np.ndarray) -> np.ndarray:
    """Lighter red and green core, stronger reflex, narrower: larger for arterioles."""
    return z[:, 0] + z[:, 1] + z[:, 2] - 0.5 * z[:, 3]
