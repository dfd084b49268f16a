"""Image analysis of a colour fundus photograph: field of view, quality checks, contrast
normalisation, vessel segmentation and the optic disc.

Libraries: scikit-image (exposure.equalize_adapthist for CLAHE, transform.resize,
morphology.remove_small_objects, transform.hough_circle, feature.canny) and scipy.ndimage
(Gaussian derivative filters, grey closings, labelling). Vessels come from a small bundled
perceptron on multi-scale Hessian / top-hat / intensity features (fundus_features.py, trained
on CHASE_DB1 children 01-07; data/README.md). Every scale is set by the FOV diameter: the image
is resampled so that its FOV is `WORK_DIAMETER` pixels across, analysed, and the results are
resampled back to the photograph's pixels.

Coordinates are (row, column) pixels of the photograph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from skimage.exposure import equalize_adapthist
from skimage.morphology import remove_small_objects
from skimage.transform import resize

from meditwin_desktop.core.twin import N_, TwinInputError, number, tr

from .fundus_disc import locate_disc
from .fundus_features import (
    TEST_CHILDREN,
    TRAIN_CHILDREN,
    WORK_DIAMETER,
    features,
    fill_outside,
    load_model,
    vessel_probability,
)
from .network import Disc

_FOV_THRESHOLD = 25 / 255  # red channel above this is inside the camera's field of view
_NOT_FUNDUS = N_("this does not look like a fundus photograph")


@dataclass
class FundusAnalysis:
    """The analysis of one photograph (all arrays have the photograph's (H, W))."""

    fov: np.ndarray  # bool field of view
    enhanced: np.ndarray  # float32 CLAHE green, 0..1, vessels DARK
    vesselness: np.ndarray  # float32 vessel probability 0..1 (0 outside the FOV)
    vessels: np.ndarray  # bool vessel mask
    disc: Disc
    warnings: list[str] = field(default_factory=list)


def as_float_image(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """(H, W, 3) float32 in 0..1 and whether the input had no colour (grey (H, W), or RGB
    with three equal channels). Accepts uint8, uint16 (12-bit data scaled by 4095) and float
    in 0..1; an alpha channel is dropped."""
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[-1] == 4:
        a = a[..., :3]
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=-1)
    if a.ndim != 3 or a.shape[-1] != 3 or min(a.shape[:2]) < 64:
        raise TwinInputError(
            tr(
                "The image has shape {shape}: a fundus photograph must be a grey or colour "
                "picture of at least 64 x 64 pixels."
            ).format(shape=a.shape)
        )
    if a.dtype == np.uint8:
        f = a.astype(np.float32) / 255.0
    elif a.dtype == np.uint16:
        f = a.astype(np.float32) / (4095.0 if a.max() <= 4095 else 65535.0)
    elif np.issubdtype(a.dtype, np.floating):
        f = np.clip(a.astype(np.float32), 0.0, 1.0)
    else:
        raise TwinInputError(tr(
            "Unsupported pixel type {dtype}: use 8- or 16-bit images."
        ).format(dtype=a.dtype))
    step = max(1, int(max(f.shape[:2]) // 500))
    sub = f[::step, ::step]
    grey = (
        float(np.abs(sub[..., 0] - sub[..., 1]).mean() + np.abs(sub[..., 1] - sub[..., 2]).mean())
        < 2e-3
    )
    return f, grey


def field_of_view(rgb: np.ndarray) -> np.ndarray:
    """Bool (H, W) field of view: red channel above 25/255, opened, holes filled, largest
    component. Raises TwinInputError when there is no round bright field on a dark surround."""
    f, _ = as_float_image(rgb)
    h, w = f.shape[:2]
    k = max(1, int(max(h, w) // 1000))
    small = f[::k, ::k, 0] > _FOV_THRESHOLD
    small = ndi.binary_opening(small, iterations=2)
    lab, n = ndi.label(small)
    if n == 0:
        raise TwinInputError(
            tr(
                "No field of view found (the image is dark throughout): {not_fundus}."
            ).format(not_fundus=tr(_NOT_FUNDUS))
        )
    sizes = ndi.sum_labels(small, lab, index=np.arange(1, n + 1))
    small = ndi.binary_fill_holes(lab == 1 + int(np.argmax(sizes)))
    frac = float(small.mean())
    cs = [max(2, s // 20) for s in small.shape]
    corners = [
        small[: cs[0], : cs[1]],
        small[: cs[0], -cs[1] :],
        small[-cs[0] :, : cs[1]],
        small[-cs[0] :, -cs[1] :],
    ]
    n_corner = sum(float(c.mean()) > 0.5 for c in corners)
    if frac < 0.15 or frac > 0.95 or n_corner >= 2:
        raise TwinInputError(
            tr(
                "No field of view found: a fundus photograph shows a round bright retina on a "
                "dark surround, and this image does not ({frac}% of it is bright, {n_corner} "
                "bright corners): {not_fundus}."
            ).format(frac=number(100 * (frac), 0), n_corner=n_corner, not_fundus=tr(_NOT_FUNDUS))
        )
    rows = np.minimum(np.arange(h) // k, small.shape[0] - 1)
    cols = np.minimum(np.arange(w) // k, small.shape[1] - 1)
    return small[rows][:, cols]


def _fov_diameter(fov: np.ndarray) -> float:
    rows = np.flatnonzero(fov.any(1))
    cols = np.flatnonzero(fov.any(0))
    return float(max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1))


def check_quality(rgb: np.ndarray, fov: np.ndarray) -> list[str]:
    """Clinician-readable warnings for a poor but usable photograph; TwinInputError for an
    unusable one (blank, under- or over-exposed, colours unlike a retina)."""
    f, grey = as_float_image(rgb)
    step = max(1, int(max(f.shape[:2]) // 700))
    inside = f[::step, ::step][fov[::step, ::step]]
    if len(inside) < 100:
        raise TwinInputError(tr(
            "The field of view is too small to analyse: {not_fundus}."
        ).format(not_fundus=tr(_NOT_FUNDUS)))
    lum = inside.mean(axis=1)
    warnings: list[str] = []
    if float(inside[:, 1].std()) < 0.01:
        raise TwinInputError(
            tr(
                "The image is blank (no detail inside the field of view): no vessels can be "
                "measured."
            )
        )
    if float(lum.mean()) < 0.06:
        raise TwinInputError(
            tr("The photograph is under-exposed (almost black): retake it with more light.")
        )
    white = float((inside.min(axis=1) > 0.94).mean())
    if white > 0.3:
        raise TwinInputError(
            tr(
                "The photograph is over-exposed ({white}% of the retina is white): retake it."
            ).format(white=number(100 * (white), 0))
        )
    if not grey:  # a fundus camera clips red first (vessels stay visible in green), then
        clipped = float((inside[:, 0] > 0.98).mean())  # green: a white retina comes late
        if clipped > 0.15:  # CHASE_DB1's children: up to 84 %, vessels fine, colours not
            warnings.append(
                tr(
                    "Red channel saturated on {clipped}% of the retina: the colours that tell "
                    "arteries from veins are partly lost; check the artery/vein map and mark "
                    "vessels."
                ).format(clipped=number(100 * (clipped), 0))
            )
    if grey:
        warnings.append(
            tr(
                "Grey (red-free) image: analysed from its single channel; colour checks "
                "skipped."
            )
        )
    else:
        med = np.median(inside, axis=0)
        if not (med[0] > med[1] and med[0] > med[2]):
            raise TwinInputError(
                tr(
                    "The colours are not those of a retina (a fundus photograph is "
                    "red-orange): {not_fundus}."
                ).format(not_fundus=tr(_NOT_FUNDUS))
            )
    if float(lum.mean()) < 0.12:
        warnings.append(tr("Dark photograph: thin vessels may be missed."))
    if white > 0.05:
        warnings.append(tr(
            "Partly over-exposed photograph ({white}% of the retina is white)."
        ).format(white=number(100 * (white), 0)))
    ch = 0 if grey else 1
    if float(inside[:, ch].std()) < 0.03:
        warnings.append(
            tr(
                "Low contrast photograph (media opacity or blur?): vessel measures are less "
                "reliable."
            )
        )
    return warnings


@dataclass
class _Work:
    """The photograph cropped to its FOV and resampled to the working scale."""

    shape: tuple[int, int]  # photograph
    box: tuple[int, int, int, int]  # r0, r1, c0, c1 crop in the photograph
    scale: float  # working pixels per photograph pixel
    rgb: np.ndarray  # (h, w, 3) float32 working image
    fov: np.ndarray  # (h, w) bool
    e: np.ndarray  # inverted CLAHE green (vessels bright), 0..1

    def resize_to_work(self, image: np.ndarray, order: int = 1) -> np.ndarray:
        r0, r1, c0, c1 = self.box
        return resize(
            image[r0:r1, c0:c1],
            self.fov.shape,
            order=order,
            anti_aliasing=False,
            preserve_range=True,
        )

    def to_photo(self, image: np.ndarray, fill: float = 0.0) -> np.ndarray:
        r0, r1, c0, c1 = self.box
        out = np.full(self.shape, fill, np.float32)
        out[r0:r1, c0:c1] = resize(
            image.astype(np.float32), (r1 - r0, c1 - c0), order=1, anti_aliasing=False
        )
        return out


def prepare(rgb: np.ndarray, fov: np.ndarray | None = None) -> _Work:
    """Crop to the FOV, resample so the FOV is WORK_DIAMETER pixels across, CLAHE the green."""
    f, _ = as_float_image(rgb)
    fov = field_of_view(f) if fov is None else np.asarray(fov, bool)
    h, w = fov.shape
    rows, cols = np.flatnonzero(fov.any(1)), np.flatnonzero(fov.any(0))
    pad = 8
    box = (
        max(0, rows[0] - pad),
        min(h, rows[-1] + 1 + pad),
        max(0, cols[0] - pad),
        min(w, cols[-1] + 1 + pad),
    )
    scale = WORK_DIAMETER / _fov_diameter(fov)
    r0, r1, c0, c1 = box
    out_shape = (max(16, round((r1 - r0) * scale)), max(16, round((c1 - c0) * scale)))
    crop = f[r0:r1, c0:c1]
    anti = scale < 1
    work_rgb = resize(crop, out_shape, order=1, anti_aliasing=anti).astype(np.float32)
    work_fov = resize(fov[r0:r1, c0:c1].astype(np.float32), out_shape, order=1) > 0.5
    work_fov = ndi.binary_erosion(work_fov, iterations=2)
    green = work_rgb[..., 1]
    lo, hi = np.percentile(green[work_fov], [0.5, 99.5])
    green = np.clip((green - lo) / max(hi - lo, 1e-6), 0, 1)
    green = fill_outside(green, work_fov)
    clahe = equalize_adapthist(green, clip_limit=0.01).astype(np.float32)
    return _Work((h, w), box, scale, work_rgb, work_fov, 1.0 - clahe)


def enhance(rgb: np.ndarray, fov: np.ndarray) -> np.ndarray:
    """(H, W) float32 contrast-normalised green (CLAHE, skimage.exposure.equalize_adapthist
    at the working scale), 0..1 with vessels DARK; 0 outside the FOV."""
    work = prepare(rgb, fov)
    return work.to_photo(1.0 - work.e) * np.asarray(fov, bool)


def _segment(work: _Work) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    model = load_model()
    prob = vessel_probability(features(work.e, work.fov), work.fov, model)
    mask = remove_small_objects(prob >= float(model["threshold"]), max_size=40)
    return prob, mask, model["threshold"]


def _to_photo_mask(
    work: _Work, prob: np.ndarray, threshold: float, fov: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    p = work.to_photo(prob)
    p *= fov
    mask = p >= threshold
    min_size = max(4, int(40 / work.scale**2))
    return remove_small_objects(mask, max_size=min_size), p


def segment_vessels(
    rgb: np.ndarray, fov: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(bool vessel mask, float32 vesselness 0..1) at the photograph's size."""
    f, _ = as_float_image(rgb)
    fov = field_of_view(f) if fov is None else np.asarray(fov, bool)
    work = prepare(f, fov)
    prob, _, th = _segment(work)
    return _to_photo_mask(work, prob, float(th), fov)


def find_disc(rgb: np.ndarray, fov: np.ndarray, vessels: np.ndarray | None = None) -> Disc:
    """The optic disc (brightest compact region where the vessels converge; radius by a
    circular Hough transform): see fundus_disc.locate_disc. TwinInputError when none is
    plausible."""
    f, _ = as_float_image(rgb)
    work = prepare(f, fov)
    if vessels is None:
        _, vmask, _ = _segment(work)
    else:
        vmask = work.resize_to_work(np.asarray(vessels, np.float32)) > 0.5
    return _disc_to_photo(work, locate_disc(work.rgb, work.fov, vmask, WORK_DIAMETER))


def _disc_to_photo(work: _Work, d: Disc) -> Disc:
    r0, _, c0, _ = work.box
    s = work.scale
    return Disc(
        row=float(r0 + (d.row + 0.5) / s - 0.5),
        col=float(c0 + (d.col + 0.5) / s - 0.5),
        radius_px=float(d.radius_px / s),
        confidence=float(d.confidence),
    )


def vessel_hub_rank(disc: Disc, vessels: np.ndarray, fov: np.ndarray) -> float:
    """Fraction of the FOV whose vessel-area density (the mask's share of the FOV pixels
    under a Gaussian of 0.05 FOV diameter, scipy.ndimage) is below the highest density on the
    disc: near 1 where the vessels converge on the disc. Checks `find_disc` against any
    vessel mask."""
    k = max(1, int(max(np.shape(fov)) // 400))  # on a grid of at most ~400 pixels a side
    fov = np.asarray(fov, bool)[::k, ::k]
    sigma = 0.05 * _fov_diameter(fov)
    inside = fov.astype(np.float32)
    dens = ndi.gaussian_filter(np.asarray(vessels, np.float32)[::k, ::k] * inside, sigma)
    dens /= np.maximum(ndi.gaussian_filter(inside, sigma), 1e-3)  # no dip at the FOV edge
    rows, cols = np.indices(fov.shape) * k
    on_disc = (disc.distance(rows, cols) <= max(disc.radius_px, k)) & fov
    peak = float(dens[on_disc].max()) if on_disc.any() else 0.0
    return float((dens[fov] < peak).mean())


def analyse(rgb: np.ndarray) -> FundusAnalysis:
    """FOV, quality warnings, CLAHE green, vesselness, vessel mask and optic disc of one
    photograph (grey or RGB, uint8/uint16). TwinInputError for a photograph that cannot be
    analysed (not a fundus, blank, badly exposed, no optic disc)."""
    f, _ = as_float_image(rgb)
    fov = field_of_view(f)
    warnings = check_quality(f, fov)
    work = prepare(f, fov)
    prob, wmask, th = _segment(work)
    frac = float(wmask[work.fov].mean())
    if frac < 0.01:
        raise TwinInputError(tr(
            "No retinal vessels found ({frac}% of the field): {not_fundus}."
        ).format(frac=number(100 * (frac), 1), not_fundus=tr(_NOT_FUNDUS)))
    if frac > 0.3:
        raise TwinInputError(
            tr(
                "{frac}% of the field looks like vessels (a retina has about 10%): the image "
                "is noise or texture, {not_fundus}."
            ).format(frac=number(100 * (frac), 0), not_fundus=tr(_NOT_FUNDUS))
        )
    if frac < 0.04:
        warnings.append(
            tr(
                "Few vessels found ({frac}% of the field of view): check the photograph's "
                "focus."
            ).format(frac=number(100 * (frac), 1))
        )
    disc = _disc_to_photo(work, locate_disc(work.rgb, work.fov, wmask, WORK_DIAMETER))
    if disc.confidence < 0.5:
        warnings.append(
            tr(
                "Optic disc uncertain (confidence {confidence}): check its circle on the image."
            ).format(confidence=number(disc.confidence, 2))
        )
    vessels, vesselness = _to_photo_mask(work, prob, float(th), fov)
    enhanced = work.to_photo(1.0 - work.e) * fov
    return FundusAnalysis(fov, enhanced, vesselness, vessels, disc, warnings)


def score(mask: np.ndarray, truth: np.ndarray, fov: np.ndarray) -> dict[str, float]:
    """Pixel agreement of `mask` with `truth` inside `fov`: sensitivity, specificity,
    precision, f1 (= Dice) and accuracy."""
    m, t, v = (np.asarray(a, bool) for a in (mask, truth, fov))
    m, t = m[v], t[v]
    tp = float(np.count_nonzero(m & t))
    fp = float(np.count_nonzero(m & ~t))
    fn = float(np.count_nonzero(~m & t))
    tn = float(m.size) - tp - fp - fn
    return {
        "sensitivity": tp / max(tp + fn, 1.0),
        "specificity": tn / max(tn + fp, 1.0),
        "precision": tp / max(tp + fp, 1.0),
        "f1": 2 * tp / max(2 * tp + fp + fn, 1.0),
        "accuracy": (tp + tn) / max(float(m.size), 1.0),
    }


_SCORES = ("sensitivity", "specificity", "precision", "f1", "accuracy")


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    """Mean of each score; nan when there is nothing to average (no held-out image)."""
    return {k: float(np.mean([r[k] for r in rows])) if rows else float("nan") for k in _SCORES}


def score_chase(folder: Path, names: Sequence[str] | None = None) -> dict:
    """Score `analyse()` on CHASE_DB1 against the 1st observer inside the FOV (the FOV found
    by `field_of_view`), and the 2nd observer with the same `score`.

    `names` like 'Image_08L'; default: the children the bundled model was NOT trained on
    (08-14). Images of training children are scored but flagged and left out of the means.
    Returns {'images': {name: {..., 'trained_on': bool, 'second_observer': {...}}},
    'mean': method mean over held-out images, 'second_observer_mean': ..., 'n_held_out'}.
    """
    import skimage.io

    folder = Path(folder)
    if names is None:
        names = [f"Image_{c}{e}" for c in TEST_CHILDREN for e in "LR"]
    images, held, second = {}, [], []
    for name in names:
        rgb = skimage.io.imread(folder / f"{name}.jpg")
        truth = skimage.io.imread(folder / f"{name}_1stHO.png") > 0
        other = skimage.io.imread(folder / f"{name}_2ndHO.png") > 0
        result = analyse(rgb)
        s = score(result.vessels, truth, result.fov)
        s2 = score(other, truth, result.fov)
        trained = name[6:8] in TRAIN_CHILDREN
        images[name] = {**s, "trained_on": trained, "second_observer": s2}
        if not trained:
            held.append(s)
            second.append(s2)
    return {
        "images": images,
        "mean": _mean(held),
        "second_observer_mean": _mean(second),
        "n_held_out": len(held),
    }
