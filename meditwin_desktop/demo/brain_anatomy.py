"""The `alzheimer-mci` demo's head: a synthetic T1-weighted (MP-RAGE-like) brain MRI with
exact labels of both hippocampi and of the intracranial space.

Analytic shapes in LPS millimetres (+x left, +y posterior, +z superior; the brain placed
roughly as in MNI space, the anterior commissure near the origin) painted on a
150 x 180 x 150 grid of 1.2 mm voxels (axial slices), in arbitrary MR signal units with the
T1 contrast of an MP-RAGE: fat > white matter > grey matter > CSF > cortical bone and air.
The cortex is folded: sulci are the zero sheets of a smooth random field reaching 14 mm
under the brain surface, grey matter is the 2.6 mm under every pial surface (brain surface
or sulcal wall); deep grey nuclei, lateral ventricles with temporal horns, hippocampi,
cerebellum, brainstem, orbits and sinuses complete it. Then partial volume (blur), a smooth
receive-coil bias field and Rician noise (magnitude of complex Gaussian noise), seeded:
the same output on every run.

Labels: "left hippocampus", "right hippocampus" and "intracranial" (the intracranial space
not taken by a hippocampus: brain, CSF, ventricles), so "intracranial" + both hippocampi is
the intracranial volume (~1450 mL, about a woman's total intracranial volume). `build` sizes
the hippocampi so that both hippocampi / the "intracranial" label equal the ratio asked for
(the patient's drawn value at the MRI visit), to within a few voxels.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import ndimage

from meditwin_desktop.core.imaging.dicom.write import SeriesHeader
from meditwin_desktop.core.imaging.dicom.write import write_mr_series as _write_mr
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.progress import (
    CancelledFn,
    ProgressFn,
    never_cancelled,
    no_progress,
)

SHAPE = (150, 180, 150)  # (nk, nj, ni): z, y, x
SPACING = (1.2, 1.2, 1.2)  # (di, dj, dk) mm
ORIGIN = (-89.4, -90.4, -98.8)  # LPS of voxel (0, 0, 0)
SEED = 20261119
NOISE = 14.0  # standard deviation of each of the two Gaussian noise channels (signal units)
WINDOW = (380.0, 900.0)  # display window (centre, width) written in the DICOM

# T1 MP-RAGE signal (arbitrary units), fat brightest, then white matter, grey matter, CSF
SIGNAL = {
    "air": 0.0, "skin": 380.0, "fat": 700.0, "muscle": 290.0, "bone": 45.0, "marrow": 340.0,
    "csf": 115.0, "grey matter": 400.0, "white matter": 640.0, "caudate": 440.0,
    "putamen": 470.0, "thalamus": 520.0, "hippocampus": 405.0, "brainstem": 570.0,
    "cerebellar cortex": 420.0, "cerebellar white matter": 600.0, "vitreous": 95.0,
    "lens": 360.0, "spinal cord": 520.0,
}  # fmt: skip

LEFT_HIPPOCAMPUS, RIGHT_HIPPOCAMPUS, INTRACRANIAL = 1, 2, 3
LABELS: dict[int, tuple[str, tuple[int, int, int]]] = {
    LEFT_HIPPOCAMPUS: ("left hippocampus", (220, 216, 20)),
    RIGHT_HIPPOCAMPUS: ("right hippocampus", (30, 200, 230)),
    INTRACRANIAL: ("intracranial", (96, 104, 120)),  # muted: it covers the whole brain
}

# the intracranial space: an ellipsoid above a skull base (anterior, middle, posterior fossae)
ICV_CENTER = (0.0, 17.0, 12.0)
ICV_SEMI = (65.5, 84.5, 65.5)
CSF_RIM_MM = 2.8  # CSF between the inner table and the brain (widened by atrophy)
CORTEX_MM = 2.6  # cortical grey matter thickness
SULCUS_DEPTH_MM = 14.0
SULCUS_HALF_WIDTH_MM = 0.8  # CSF in a sulcus (a widened sulcus: an older brain)
# scalp and skull layers outwards from the inner table: (thickness mm, tissue)
LAYERS = (("bone", 1.5), ("marrow", 2.5), ("bone", 1.5), ("muscle", 1.5), ("fat", 3.5),
          ("skin", 1.5))  # fmt: skip

# hippocampus centre line, head to tail (left side; the right one mirrored), and its radii
HIPPOCAMPUS_PATH = ((24.0, 8.0, -22.0), (29.0, 22.0, -13.0), (26.0, 36.0, -3.0),
                    (20.0, 42.0, 4.0))  # fmt: skip
HIPPOCAMPUS_RADII = (6.0, 4.5, 3.5, 2.5)
LEFT_SHARE = 0.48  # the left hippocampus's share of both (a slight asymmetry, left smaller)


def skull_floor(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Height (z, mm) of the skull base: anterior fossa (front), middle fossa (temporal
    lobes), posterior fossa (cerebellum)."""
    del x
    middle = 1.0 / (1.0 + np.exp(-(y + 20.0) / 4.0))
    posterior = 1.0 / (1.0 + np.exp(-(y - 34.0) / 5.0))
    return -18.0 - 24.0 * middle - 18.0 * posterior


def _ellipsoid_depth(x, y, z, center, semi) -> np.ndarray:
    """Approximate distance (mm) inside an ellipsoid's surface (negative outside): the
    normalised radius's shortfall over its gradient, exact at the surface."""
    u = [(p - c) / s for p, c, s in zip((x, y, z), center, semi, strict=True)]
    radius = np.sqrt(u[0] ** 2 + u[1] ** 2 + u[2] ** 2) + 1e-6
    gradient = np.sqrt(sum((ui / s) ** 2 for ui, s in zip(u, semi, strict=True))) / radius
    return (1.0 - radius) / gradient


def _grid(shape=SHAPE, spacing=SPACING, origin=ORIGIN):
    nk, nj, ni = shape
    x = (origin[0] + spacing[0] * np.arange(ni, dtype=np.float32))[None, None, :]
    y = (origin[1] + spacing[1] * np.arange(nj, dtype=np.float32))[None, :, None]
    z = (origin[2] + spacing[2] * np.arange(nk, dtype=np.float32))[:, None, None]
    return x, y, z


def _smooth_field(rng: np.random.Generator, cell: int, sigma: float) -> np.ndarray:
    """A smooth unit-variance random field on the grid (coarse noise, upsampled, blurred)."""
    coarse = rng.standard_normal(tuple(n // cell + 2 for n in SHAPE)).astype(np.float32)
    field = ndimage.zoom(coarse, cell, order=1, prefilter=False)[: SHAPE[0], : SHAPE[1], : SHAPE[2]]
    field = ndimage.gaussian_filter(field, sigma)
    return (field - field.mean()) / field.std()


def _ellipsoid(x, y, z, center, semi) -> np.ndarray:
    return sum(((p - c) / s) ** 2 for p, c, s in zip((x, y, z), center, semi, strict=True)) <= 1


def _box(x, y, z, lo, hi):
    """Index slices of the LPS box [lo, hi] on the grid, and its x, y, z coordinates."""
    region = tuple(
        slice(int(np.searchsorted(c.ravel(), a)), int(np.searchsorted(c.ravel(), b, "right")))
        for c, a, b in ((z, lo[2], hi[2]), (y, lo[1], hi[1]), (x, lo[0], hi[0]))
    )
    return region, x[..., region[2]], y[:, region[1]], z[region[0]]


def _tube(x, y, z, points, radii) -> tuple[tuple[slice, ...], np.ndarray]:
    """A polyline tube whose radius varies linearly along each segment: the index region of
    its bounding box and its mask there."""
    points = np.asarray(points, float)
    pad = max(radii) + 1.0
    region, x, y, z = _box(x, y, z, points.min(axis=0) - pad, points.max(axis=0) + pad)
    mask = np.zeros(np.broadcast_shapes(x.shape, y.shape, z.shape), bool)
    for a, b, ra, rb in zip(points[:-1], points[1:], radii[:-1], radii[1:], strict=True):
        d = b - a
        t = ((x - a[0]) * d[0] + (y - a[1]) * d[1] + (z - a[2]) * d[2]) / float(d @ d)
        t = np.clip(t, 0.0, 1.0)
        dist2 = (x - a[0] - t * d[0]) ** 2 + (y - a[1] - t * d[1]) ** 2 + (z - a[2] - t * d[2]) ** 2
        mask |= dist2 <= (ra + (rb - ra) * t) ** 2
    return region, mask


def _mirror(points, side: float) -> list[tuple[float, float, float]]:
    return [(side * p[0], p[1], p[2]) for p in points]


def _ventricle_paths(side: float) -> list[tuple[list, list]]:
    """One lateral ventricle (left: side +1): frontal horn to occipital horn, and the
    temporal horn curving down and forward from the atrium to above the hippocampal head."""
    body = _mirror([(9.0, -22.0, 12.0), (12.0, -6.0, 20.0), (15.0, 14.0, 22.0),
                    (24.0, 32.0, 14.0), (20.0, 52.0, 6.0)], side)  # fmt: skip
    temporal = _mirror([(24.0, 32.0, 14.0), (31.0, 28.0, -2.0), (32.0, 16.0, -12.0),
                        (28.0, 4.0, -19.0)], side)  # fmt: skip
    return [(body, [6.0, 6.5, 6.0, 7.0, 3.0]), (temporal, [5.0, 3.5, 2.8, 2.2])]


def _hippocampus_mask(x, y, z, side: float, scale: float) -> np.ndarray:
    radii = [r * scale for r in HIPPOCAMPUS_RADII]
    region, tube = _tube(x, y, z, _mirror(HIPPOCAMPUS_PATH, side), radii)
    mask = np.zeros(SHAPE, bool)
    mask[region] = tube
    return mask


def _paint_head(image: np.ndarray, x, y, z, texture: np.ndarray) -> np.ndarray:
    """Scalp, skull, face and neck; returns the mask of the tissue below the skull base."""
    offsets = np.cumsum([0.0, *(t for _, t in LAYERS)])
    outer = [tuple(s + o for s in ICV_SEMI) for o in offsets]
    # neck and face: soft tissue (muscle with fat) below and in front of the cranium
    neck = ((x / 50.0) ** 2 + ((y - 18.0) / 56.0) ** 2 <= 1) & (z < -30.0)
    face = _ellipsoid(x, y, z, (0.0, -22.0, -38.0), (62.0, 64.0, 46.0))
    soft = neck | face
    image[soft] = np.where(texture[soft] > 1.6, SIGNAL["fat"], SIGNAL["muscle"])
    for (tissue, _), semi in reversed(list(zip(LAYERS, outer[1:], strict=True))):
        image[_ellipsoid(x, y, z, ICV_CENTER, semi)] = SIGNAL[tissue]
    inner = _ellipsoid(x, y, z, ICV_CENTER, ICV_SEMI)
    base = inner & (z < skull_floor(x, y))  # skull base: bone, marrow, sinuses, orbits
    image[base] = np.where(texture[base] > 0.3, SIGNAL["marrow"], SIGNAL["bone"])
    for side in (-1.0, 1.0):
        orbit = _ellipsoid(x, y, z, (side * 32.0, -52.0, -30.0), (17.0, 19.0, 15.0))
        image[orbit] = SIGNAL["fat"]
        image[_ellipsoid(x, y, z, (side * 32.0, -58.0, -30.0), (11.5, 11.5, 11.5))] = SIGNAL[
            "vitreous"
        ]
        image[_ellipsoid(x, y, z, (side * 32.0, -68.5, -30.0), (4.0, 1.8, 4.0))] = SIGNAL["lens"]
    image[_ellipsoid(x, y, z, (0.0, -52.0, -44.0), (11.0, 20.0, 16.0))] = SIGNAL["air"]  # nose
    image[_ellipsoid(x, y, z, (0.0, -10.0, -34.0), (12.0, 9.0, 7.0))] = SIGNAL["air"]  # sphenoid
    # spine below the posterior fossa: vertebral bodies and the spinal canal with its cord
    column = ((x / 16.0) ** 2 + ((y - 24.0) / 14.0) ** 2 <= 1) & (z < -62.0)
    image[column] = SIGNAL["marrow"]
    canal = (x**2 + (y - 42.0) ** 2 <= 8.0**2) & (z < -60.0)
    image[canal] = SIGNAL["csf"]
    return base


def _paint_brain(image: np.ndarray, x, y, z, rng: np.random.Generator) -> np.ndarray:
    """CSF, cerebrum (folded cortex), cerebellum, brainstem, deep grey nuclei and
    ventricles inside the intracranial space; returns the intracranial mask."""
    depth = np.minimum(_ellipsoid_depth(x, y, z, ICV_CENTER, ICV_SEMI), z - skull_floor(x, y))
    intracranial = depth > 0
    image[intracranial] = SIGNAL["csf"]
    # sulci: zero sheets of a smooth field, to SULCUS_DEPTH_MM under the brain surface;
    # |f| / |grad f| is the distance (mm) to the sheet
    field = _smooth_field(rng, cell=4, sigma=1.5)
    gradient = np.sqrt(sum(g**2 for g in np.gradient(field, SPACING[0]))) + 1e-3
    brain_depth = depth - CSF_RIM_MM
    sheet = np.hypot(np.abs(field) / gradient, np.maximum(brain_depth - SULCUS_DEPTH_MM, 0.0))
    # interhemispheric fissure everywhere but the arch of the corpus callosum and the
    # diencephalon under it; Sylvian fissure between the temporal and the frontal/parietal
    fissure_reach = ((y - 3.0) / 40.0) ** 2 + ((z - 2.0) / 26.0) ** 2 > 1.0
    sheet = np.where(fissure_reach, np.minimum(sheet, np.abs(x)), sheet)
    sylvian = np.abs(z - (-6.0 + 0.25 * (y + 10.0)))
    lateral = (np.abs(x) > 36.0) & (y > -30.0) & (y < 34.0)
    sheet = np.where(lateral, np.minimum(sheet, sylvian), sheet)
    pial = np.minimum(brain_depth, sheet - SULCUS_HALF_WIDTH_MM)
    # below the basal ganglia the cerebrum is the temporal lobes only, beside the cisterns
    # around the brainstem (an ellipsoid), into which the hippocampi bulge
    pial = np.minimum(pial, -_ellipsoid_depth(x, y, z, (0.0, 16.0, -42.0), (30.0, 30.0, 40.0)))
    cerebellum = np.zeros(intracranial.shape, bool)
    for side in (-1.0, 1.0):
        cerebellum |= _ellipsoid(x, y, z, (side * 22.0, 60.0, -35.0), (30.0, 25.0, 19.0))
    tentorium = np.zeros(intracranial.shape, bool)
    for side in (-1.0, 1.0):
        tentorium |= _ellipsoid(x, y, z, (side * 22.0, 60.0, -35.0), (33.5, 28.5, 22.5))
    cerebrum = intracranial & (pial > 0) & ~tentorium & (z > -44.0)
    image[cerebrum] = np.where(pial[cerebrum] < CORTEX_MM, SIGNAL["grey matter"],
                               SIGNAL["white matter"])  # fmt: skip
    cerebellum &= intracranial & (brain_depth > 0)
    radial = np.sqrt((x / 2.0) ** 2 + (y - 44.0) ** 2 + (z + 28.0) ** 2)  # folia fan out
    folia = 0.5 + 0.5 * np.sin(radial * 2.0 * np.pi / 4.0) > 0.75  # thin CSF between folia
    image[cerebellum] = np.where(folia[cerebellum], 250.0, SIGNAL["cerebellar cortex"])
    for side in (-1.0, 1.0):
        core = _ellipsoid(x, y, z, (side * 16.0, 56.0, -30.0), (12.0, 12.0, 9.0))
        image[core & cerebellum] = SIGNAL["cerebellar white matter"]
    region, stem = _tube(x, y, z, [(0.0, 18.0, -2.0), (0.0, 26.0, -30.0), (0.0, 34.0, -60.0),
                                   (0.0, 42.0, -110.0)], [10.0, 12.0, 8.5, 6.5])  # fmt: skip
    stem &= intracranial[region] | (z[region[0]] < -55.0)
    image[region][stem] = SIGNAL["brainstem"]
    image[_ellipsoid(x, y, z, (0.0, 44.0, -30.0), (5.0, 3.5, 7.0))] = SIGNAL["csf"]  # 4th v.
    for side in (-1.0, 1.0):
        image[_ellipsoid(x, y, z, (side * 13.0, -12.0, 10.0), (5.5, 10.0, 8.0))] = SIGNAL["caudate"]
        image[_ellipsoid(x, y, z, (side * 25.0, -2.0, 2.0), (6.0, 14.0, 9.0))] = SIGNAL["putamen"]
        image[_ellipsoid(x, y, z, (side * 11.0, 18.0, 6.0), (8.5, 14.0, 9.0))] = SIGNAL["thalamus"]
        image[_ellipsoid(x, y, z, (side * 22.0, -2.0, -22.0), (7.0, 7.5, 7.0))] = SIGNAL[
            "grey matter"
        ]  # amygdala, in front of the hippocampal head
        for path, radii in _ventricle_paths(side):
            region, tube = _tube(x, y, z, path, radii)
            image[region][tube] = SIGNAL["csf"]
    image[_ellipsoid(x, y, z, (0.0, 13.0, 4.0), (2.5, 13.0, 10.0))] = SIGNAL["csf"]  # 3rd v.
    return intracranial


def _size_hippocampi(x, y, z, intracranial: np.ndarray, ratio: float) -> dict[float, np.ndarray]:
    """Each hippocampus's mask, scaled so that both / (intracranial minus both) = `ratio`."""
    total = int(intracranial.sum())
    both = ratio * total / (1.0 + ratio)  # voxels of both hippocampi
    masks = {}
    for side, share in ((1.0, LEFT_SHARE), (-1.0, 1.0 - LEFT_SHARE)):
        wanted, scale = share * both, 1.0
        for _ in range(12):  # secant on the radius scale (volume ~ scale^2)
            mask = _hippocampus_mask(x, y, z, side, scale) & intracranial
            count = int(mask.sum())
            if abs(count - wanted) <= 1.0:
                break
            scale *= np.sqrt(wanted / max(count, 1))
        masks[side] = mask
    return masks


def build(hippocampus_ratio: float = 0.0041) -> tuple[Volume, LabelMap]:
    """The T1 head MRI and its labels; both hippocampi / the intracranial label =
    `hippocampus_ratio` (a fraction, e.g. 0.0041)."""
    if not 0.001 <= hippocampus_ratio <= 0.008:
        raise ValueError(f"hippocampus ratio {hippocampus_ratio} outside 0.001-0.008")
    rng = np.random.default_rng(SEED)
    x, y, z = _grid()
    image = np.zeros(SHAPE, np.float32)
    texture = _smooth_field(rng, cell=3, sigma=1.0)
    _paint_head(image, x, y, z, texture)
    intracranial = _paint_brain(image, x, y, z, rng)
    hippocampi = _size_hippocampi(x, y, z, intracranial, hippocampus_ratio)
    labels = np.zeros(SHAPE, np.uint8)
    labels[intracranial] = INTRACRANIAL
    for side, value in ((1.0, LEFT_HIPPOCAMPUS), (-1.0, RIGHT_HIPPOCAMPUS)):
        image[hippocampi[side]] = SIGNAL["hippocampus"]
        labels[hippocampi[side]] = value
    image = ndimage.gaussian_filter(image, 0.6)  # partial volume
    # receive-coil non-uniformity: brighter near the top and the back of the head (+-6 %)
    bias = 1.0 + 0.04 * (z - 10.0) / 90.0 + 0.03 * (y - 17.0) / 90.0 - 0.03 * (x / 90.0) ** 2
    real = image * bias + NOISE * rng.standard_normal(SHAPE, dtype=np.float32)
    imaginary = NOISE * rng.standard_normal(SHAPE, dtype=np.float32)
    magnitude = np.hypot(real, imaginary)  # Rician noise, as in a magnitude image
    affine = np.diag([*SPACING, 1.0])
    affine[:3, 3] = ORIGIN
    meta = {"modality": "MR", "window": WINDOW}
    mr = Volume(np.clip(np.rint(magnitude), 0, 4095).astype(np.uint16), affine, meta)
    table = {value: Label(value, name, color) for value, (name, color) in LABELS.items()}
    return mr, LabelMap(Volume(labels, affine.copy()), table)


def hippocampus_ratio(labels: LabelMap) -> float:
    """Both hippocampi over the "intracranial" label's volume, as measured on `labels`."""
    both = labels.volume_ml("left hippocampus") + labels.volume_ml("right hippocampus")
    return both / labels.volume_ml("intracranial")


# the MP-RAGE sequence written in the demo's DICOM (as in the ADNI 3 T protocol)
MPRAGE = {"ScanningSequence": ["GR", "IR"], "SequenceVariant": ["SP", "MP"], "ScanOptions": "",
          "MRAcquisitionType": "3D", "RepetitionTime": "2300", "EchoTime": "2.98",
          "InversionTime": "900", "FlipAngle": "9", "MagneticFieldStrength": "3"}  # fmt: skip


def write_mr_series(
    volume: Volume,
    out_dir: Path,
    header: SeriesHeader,
    *,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> list[Path]:
    """Write the demo's T1 volume as an MP-RAGE MR series (`core.imaging.dicom.write`)."""
    header = replace(header, extra={**MPRAGE, **header.extra})
    window = volume.meta.get("window", WINDOW)
    return _write_mr(volume, out_dir, header, window=window, progress=progress,
                     cancelled=cancelled)  # fmt: skip
