"""Lesion measurements on label maps: RECIST 1.1 diameters, lesion volumes, study alignment.

Pure (no Qt). Conventions of the follow-up data contract (issue 19):

- a lesion's longest axial diameter is a `Measurement` named `LONGEST` (mm), a lymph
  node's short axis `SHORT_AXIS` (mm), its segmented volume `VOLUME` (mL);
- `target` is the lesion's identity across studies, "organ: name" ("liver: tumour 1");
- `date` is the study's date, `source` "labels of study <date>" when measured here.

Diameters (RECIST 1.1, Eisenhauer et al., Eur J Cancer 2009;45:228-247, section 3.2 and
appendix I): the longest diameter in the axial plane, on the slice where it is largest; for a
node, the short axis is the longest diameter perpendicular to the long axis in that plane.
The in-plane outline of a voxel mask is taken as the midpoints of its boundary voxel edges
(the points half a voxel out from a boundary voxel's centre along i and j, where the
neighbour is outside): voxel centres under-estimate a diameter (by up to ~1.7 voxels on
discs), voxel corners over-estimate it (by up to ~1.1 voxels); edge midpoints stay within
0.8 voxel on digitised discs and ellipses at any orientation (tests/unit/test_lesions.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from meditwin_desktop.core.case import Measurement
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr

LONGEST = "longest diameter"
SHORT_AXIS = "short axis"
VOLUME = "lesion volume"

UNKNOWN_ORGAN = "unknown organ"
NODE_ORGAN = "lymph node"
LESION_PREFIXES = ("tumour", "tumor", "lesion", "metastasis", "node")
ORGAN_LABELS = ("liver", "lung", "right lung", "left lung", "lungs", "kidney", "right kidney",
                "left kidney", "spleen", "pancreas", "adrenal", "right adrenal", "left adrenal",
                "adrenal gland", "brain", "bone", "peritoneum", "stomach", "colon", "bladder",
                "prostate", "uterus", "thyroid", "breast", "skin")  # fmt: skip
# TotalSegmentator-like names ("lung_upper_lobe_left", "kidney_right") are normalised first
ORGAN_MARGIN_MM = 2.0  # a lesion belongs to the organ label it touches most within this margin
BODY_HU = -300.0  # above this, a voxel is body (air and lung below)
AXIAL_COSINE = 0.9  # a series whose slice normal is within ~25 degrees of S-I is axial


def lesion_organ(target: str) -> str:
    """The organ of a lesion target "organ: name" (the text before ':'), else "unknown organ"."""
    organ, sep, _ = target.partition(":")
    organ = organ.strip()
    return organ if sep and organ else UNKNOWN_ORGAN


def organ_name(label_name: str) -> str:
    """The organ an organ label stands for: "right lung", "left lung" and the lobes are one
    organ, "lung" (RECIST 1.1 counts the lungs as one organ for the two-lesions-per-organ
    rule); underscores read as spaces ("kidney_left" is "left kidney")."""
    name = " ".join(label_name.strip().lower().replace("_", " ").split())
    if "lung" in name.split():
        return "lung"
    for side in ("left", "right"):
        if name.endswith(f" {side}"):
            name = f"{side} {name[: -len(side) - 1]}"
    return name


def _is_organ(label_name: str, organ_labels: Sequence[str]) -> bool:
    return organ_name(label_name) in {organ_name(o) for o in organ_labels}


def is_node(name: str) -> bool:
    """Whether a label or target names a lymph node (measured by its short axis)."""
    text = name.strip().lower()
    return text.startswith("node") or text.startswith(NODE_ORGAN) or "lymph node" in text


@dataclass(frozen=True)
class Diameters:
    """RECIST diameters of one lesion: the longest axial diameter and its short axis (mm),
    the slice they were measured on (-1 for an empty mask) and the LPS ends (mm) of the longest
    diameter (to draw it)."""

    longest_mm: float
    short_axis_mm: float
    slice_index: int
    ends: tuple[np.ndarray, np.ndarray] = field(compare=False)


def _plane_basis(affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal in-plane axes (LPS) of a slice: i's direction and the part of j's
    direction orthogonal to it."""
    a = np.asarray(affine, float)[:3, :3]
    e1 = a[:, 0] / np.linalg.norm(a[:, 0])
    e2 = a[:, 1] - (a[:, 1] @ e1) * e1
    return e1, e2 / np.linalg.norm(e2)


def _outline_points(slice_mask: np.ndarray) -> np.ndarray:
    """In-plane index coordinates (i, j) of the midpoints of the slice mask's boundary voxel
    edges, shape (n, 2)."""
    padded = np.pad(slice_mask, 1)
    points = []
    for dj, di in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        neighbour = np.roll(padded, (-dj, -di), axis=(0, 1))[1:-1, 1:-1]
        jj, ii = np.nonzero(slice_mask & ~neighbour)
        points.append(np.column_stack([ii + 0.5 * di, jj + 0.5 * dj]))
    return np.concatenate(points).astype(float)


def _hull(points: np.ndarray) -> np.ndarray:
    """Vertices of the 2D convex hull, counter-clockwise; the points themselves when they are
    collinear (a one-voxel-wide lesion)."""
    try:
        return points[ConvexHull(points).vertices]
    except (QhullError, ValueError):
        return points


def _chord(hull: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """Longest chord of a convex polygon along direction `v` (unit, perpendicular to `u`):
    (length, its position along u). The chord length is concave along u, so it is largest at
    one of the vertices' positions."""
    if len(hull) < 3:
        return 0.0, 0.0, 0.0
    along_u = hull @ u
    along_v = hull @ v
    nxt = np.roll(np.arange(len(hull)), -1)
    best = (0.0, 0.0, 0.0)
    for c in np.unique(along_u):
        a, b = along_u - c, along_u[nxt] - c
        crossing = (a * b <= 0) & (a != b)
        t = a[crossing] / (a[crossing] - b[crossing])
        vs = along_v[crossing] + t * (along_v[nxt][crossing] - along_v[crossing])
        vs = np.concatenate([vs, along_v[along_u == c]])
        if len(vs) and vs.max() - vs.min() > best[0]:
            best = (float(vs.max() - vs.min()), float(c), float(vs.min()))
    return best


def axial_diameters(mask: np.ndarray, affine: np.ndarray) -> Diameters:
    """RECIST 1.1 diameters of a lesion mask indexed [k, j, i] on a grid with `affine`
    ((i, j, k, 1) -> LPS mm): the longest in-plane diameter over the slices, and the longest
    diameter perpendicular to it on that slice. An empty mask gives zeros (a lesion gone)."""
    mask = np.asarray(mask, bool)
    if mask.ndim != 3:
        raise ValueError(f"a lesion mask needs 3 dimensions [k, j, i], got {mask.shape}")
    affine = np.asarray(affine, float)
    normal = np.cross(affine[:3, 0], affine[:3, 1])
    if abs(normal[2]) < AXIAL_COSINE * np.linalg.norm(normal):
        raise InputError(tr(
            "This series is not axial (its slices are sagittal, coronal or oblique): RECIST "
            "diameters are measured on axial slices. Measure with the ruler on the axial view."
        ))  # fmt: skip
    e1, e2 = _plane_basis(affine)
    to_plane = np.array([[affine[:3, 0] @ e1, affine[:3, 1] @ e1],
                         [affine[:3, 0] @ e2, affine[:3, 1] @ e2]])  # fmt: skip
    best: tuple[float, int, np.ndarray, np.ndarray] | None = None
    for k in np.nonzero(mask.any(axis=(1, 2)))[0]:
        hull_ij = _hull(_outline_points(mask[k]))
        hull = hull_ij @ to_plane.T  # mm in the plane (e1, e2)
        d = np.linalg.norm(hull[:, None, :] - hull[None, :, :], axis=-1)
        a, b = np.unravel_index(int(np.argmax(d)), d.shape)
        if best is None or d[a, b] > best[0] + 1e-9:
            best = (float(d[a, b]), int(k), hull_ij, np.array([a, b]))
    if best is None:
        zero = np.zeros(3)
        return Diameters(0.0, 0.0, -1, (zero, zero.copy()))
    longest, k, hull_ij, (a, b) = best
    hull = hull_ij @ to_plane.T
    u = hull[b] - hull[a]
    u = u / np.linalg.norm(u) if longest > 0 else np.array([1.0, 0.0])
    v = np.array([-u[1], u[0]])
    short, _, _ = _chord(hull, u, v)
    ends = tuple(
        affine[:3, :3] @ np.array([hull_ij[n, 0], hull_ij[n, 1], float(k)]) + affine[:3, 3]
        for n in (a, b)
    )
    return Diameters(longest, short, k, ends)  # type: ignore[arg-type]


def _is_lesion_label(name: str, names: Sequence[str] | None) -> bool:
    if names is not None:
        return name.lower() in {n.lower() for n in names}
    return name.strip().lower().startswith(LESION_PREFIXES)


def _touching_organs(
    labels: Any, box: tuple[slice, ...], lesion: np.ndarray, organ_labels: Sequence[str]
) -> dict:
    """Voxels of each organ label within ORGAN_MARGIN_MM of the lesion (its crop `lesion` at
    `box` of the label array): organ -> count."""
    spacing = labels.volume.spacing  # (di, dj, dk)
    array = labels.volume.array
    pad = np.ceil(ORGAN_MARGIN_MM / spacing[::-1]).astype(int) + 1
    lo = np.maximum([b.start - p for b, p in zip(box, pad, strict=True)], 0)
    hi = np.minimum([b.stop + p for b, p in zip(box, pad, strict=True)], array.shape)
    outer = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    local = np.zeros(tuple(hi - lo), bool)
    local[tuple(slice(b.start - a, b.stop - a) for b, a in zip(box, lo, strict=True))] = lesion
    distance = ndimage.distance_transform_edt(~local, sampling=spacing[::-1])
    values = array[outer][distance <= ORGAN_MARGIN_MM]
    counts: dict[str, int] = {}
    for label in labels.labels.values():
        if _is_organ(label.name, organ_labels):
            n = int(np.count_nonzero(values == label.value))
            organ = organ_name(label.name)
            counts[organ] = counts.get(organ, 0) + n
    return counts


def _crop(labels: Any, value: int, boxes: list) -> tuple[np.ndarray, np.ndarray, tuple | None]:
    """The label's mask cropped to its bounding box, the affine of that crop, and the box
    (None for an empty label): a lesion is measured without a full-volume mask."""
    affine = np.asarray(labels.volume.affine, float)
    box = boxes[value - 1] if 0 < value <= len(boxes) else None
    if box is None:
        return np.zeros((1, 1, 1), bool), affine, None
    crop = labels.volume.array[box] == value
    shifted = affine.copy()
    shifted[:3, 3] = (affine @ np.array([box[2].start, box[1].start, box[0].start, 1.0]))[:3]
    return crop, shifted, box


def measure_labels(
    case: Any,
    names: Sequence[str] | None = None,
    *,
    organ_labels: Sequence[str] = ORGAN_LABELS,
) -> list[Measurement]:
    """Measure every lesion label of every study with labels.

    Lesion labels are those listed in `names`, or by default those whose name starts with
    "tumour", "tumor", "lesion", "metastasis" or "node". Each gives, dated with its study,
    `LONGEST` (or `SHORT_AXIS` for a node: its name starts with "node") and `VOLUME`, with
    target "organ: label name"; the organ is the organ label the lesion touches most within
    2 mm, over all studies (so that the target is the same at every date; "lymph node" for
    nodes, "unknown organ" when it touches none). A label present but empty at one study
    measures 0.0 (the lesion is gone), not missing. Each lesion is measured on its bounding
    box (memory: a few crops, never a mask of the whole volume per lesion).
    """
    rows: list[tuple[Any, str, Diameters, float]] = []
    organ_votes: dict[str, dict[str, int]] = {}
    for study in case.studies:
        labels = study.labels
        if labels is None:
            continue
        boxes = ndimage.find_objects(np.asarray(labels.volume.array))
        voxel_ml = float(np.prod(labels.volume.spacing)) / 1000.0
        for label in sorted(labels.labels.values(), key=lambda lab: lab.value):
            if not _is_lesion_label(label.name, names):
                continue
            crop, affine, box = _crop(labels, int(label.value), boxes)
            count = int(np.count_nonzero(crop)) if box is not None else 0
            rows.append((study, label.name, axial_diameters(crop, affine), count * voxel_ml))
            votes = organ_votes.setdefault(label.name.lower(), {})
            if count and not is_node(label.name):
                for organ, n in _touching_organs(labels, box, crop, organ_labels).items():
                    votes[organ] = votes.get(organ, 0) + n
    measurements = []
    for study, name, diameters, volume_ml in rows:
        if is_node(name):
            organ = NODE_ORGAN
        else:
            votes = {o: n for o, n in organ_votes[name.lower()].items() if n > 0}
            organ = max(votes, key=votes.__getitem__) if votes else UNKNOWN_ORGAN
        target = f"{organ}: {name}"
        source = f"labels of study {study.date}" if study.date else "labels of a study"
        if is_node(name):
            measurements.append(Measurement(SHORT_AXIS, round(diameters.short_axis_mm, 2), "mm",
                                            study.date, target, source))  # fmt: skip
        else:
            measurements.append(Measurement(LONGEST, round(diameters.longest_mm, 2), "mm",
                                            study.date, target, source))  # fmt: skip
        measurements.append(Measurement(VOLUME, round(volume_ml, 3), "mL", study.date, target,
                                        source))  # fmt: skip
    return measurements


def _label_centroid(study: Any, label: str) -> np.ndarray | None:
    labels = study.labels
    if labels is None:
        return None
    try:
        mask = labels.mask(label)
    except KeyError:
        return None
    where = np.argwhere(mask)
    if len(where) == 0:
        return None
    kji = where.mean(axis=0)
    return labels.volume.index_to_lps(kji[::-1])


BODY_STEP = 4  # the body outline is found on every 4th voxel (memory; the centre moves < 1 mm)


def _body_centroid(study: Any) -> np.ndarray | None:
    image = study.image
    array = getattr(image, "array", None)
    if array is None or np.ndim(array) != 3:
        return None
    body = np.asarray(array)[::BODY_STEP, ::BODY_STEP, ::BODY_STEP] > BODY_HU
    components, n = ndimage.label(body)
    if n == 0:
        return None
    sizes = np.bincount(components.ravel())
    sizes[0] = 0
    kji = np.array(ndimage.center_of_mass(components == int(np.argmax(sizes)))) * BODY_STEP
    return image.index_to_lps(kji[::-1])


def centroid_alignment(fixed: Any, moving: Any, label: str = "liver") -> tuple[np.ndarray, str]:
    """Rigid translation (LPS mm, shape (3,)) that aligns study `moving` on study `fixed`
    by matching centroids, `moving - fixed`, and what was matched: the named label's centre
    when both studies have it, else the body's (the largest connected region above -300 HU
    of the loaded images; CT only). InputError when neither is available."""
    a, b = _label_centroid(fixed, label), _label_centroid(moving, label)
    if a is not None and b is not None:
        return b - a, tr("the {label} centre").format(label=tr(label))
    modalities = {getattr(s, "modality", "") for s in (fixed, moving)}
    if modalities <= {"CT", ""}:
        a, b = _body_centroid(fixed), _body_centroid(moving)
        if a is not None and b is not None:
            return b - a, tr("the body centre")
    raise InputError(
        tr("The two studies cannot be aligned automatically: they do not both have a '{label}' "
           "label, and the body outline is found only on two loaded CT images. Align them by "
           "hand (the nudge buttons).").format(label=label)
    )  # fmt: skip


def centroid_offset(fixed: Any, moving: Any, label: str = "liver") -> np.ndarray:
    """`centroid_alignment`'s translation alone."""
    return centroid_alignment(fixed, moving, label)[0]
