"""A target point described as a surgeon reads it: the structure under it (a lesion and the
organ around it), the liver segment or side where the labels allow, and its depth from the
skin along the applicator's path, not only as coordinates.

Pure numpy/scipy on a `LabelMap` (and optionally the CT `Volume`); no Qt.

Rules, stated so the board can weigh them:
- Structure: the label of the voxel nearest the target. A lesion (tumour, metastasis,
  lesion) is placed in the labelled structure that touches most of its surface.
- Liver segment: from labels named like Couinaud segments ('segment 7', 'S7', 'Couinaud
  VII') when the case has them. Without segments, the side of the liver only when the
  target is clearly (>= `SIDE_MARGIN_MM`) right or left of a sagittal plane through the
  inferior vena cava's centre (a stand-in for Cantlie's line, which runs from the
  gallbladder fossa to the IVC); closer than that, no side is claimed.
- Skin: walking from the image edge along the line entry -> target (extended beyond the
  entry), the first voxel inside the body: any label, or HU > -300 when there are no
  labels.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from meditwin_desktop.core.i18n import number, tr
from meditwin_desktop.core.imaging.geometry import position_text
from meditwin_desktop.core.imaging.volume import LabelMap, Volume

BODY_HU = -300.0  # above this a voxel is tissue, not air (when there are no labels)
SIDE_MARGIN_MM = 20.0  # how far from the IVC plane a side of the liver is claimed
_LESION = re.compile(r"tumou?r|metasta|lesion|nodule", re.IGNORECASE)
_SEGMENT = re.compile(
    r"^(?:couinaud\s*(?:segment)?\s*|segment\s*|seg\.?\s*|s)([1-8]|i{1,3}|iv|vi{0,3})([ab]?)$",
    re.IGNORECASE,
)
_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V", "6": "VI", "7": "VII", "8": "VIII"}
_RIGHT_SEGMENTS = {"V", "VI", "VII", "VIII"}


@dataclass(frozen=True)
class TargetDescription:
    """Where a target lies, in anatomical terms."""

    point: tuple[float, float, float]  # LPS mm
    structure: str  # the label under the target ('' when unlabelled)
    organ: str  # the organ it lies in (for a lesion, the structure around it)
    region: str  # 'Couinaud segment VII', 'right liver', or '' when not determined
    region_basis: str  # how `region` was found, or why there is none
    depth_mm: float | None  # from the skin to the target along the path
    skin: tuple[float, float, float] | None  # where the path enters the body (LPS mm)
    lesion_depth_mm: float | None  # from the skin to the lesion's edge along the path
    crossed: tuple[str, ...]  # labelled structures the path crosses, skin to target

    def lines(self) -> list[str]:
        """The description as report lines."""
        where = tr(self.structure) if self.structure else tr("no labelled structure")
        if self.organ and self.organ != self.structure:
            where += tr(", in the {organ}").format(organ=tr(self.organ))
        if self.region:
            where += f", {self.region}"
        lines = [tr("Target: {where} ({point} mm).").format(where=where,
                                                           point=lps_text(self.point))]
        if self.region_basis:
            lines.append("  " + tr("Segment/side: {basis}.").format(basis=self.region_basis))
        if self.depth_mm is None:
            lines.append("  " + tr("Depth: the path does not meet the body (no skin found "
                                   "along it)."))
        else:
            depth = "  " + tr("Depth: {depth} mm from the skin to the target along the "
                              "path").format(depth=number(self.depth_mm, 0))
            if self.lesion_depth_mm is not None and self.structure:
                depth += " " + tr("({depth} mm to the edge of the {structure})").format(
                    depth=number(self.lesion_depth_mm, 0), structure=tr(self.structure))
            lines.append(depth + tr("; skin entry at {point} mm.").format(
                point=lps_text(self.skin)))
        if self.crossed:
            crossed = " → ".join(tr(name) for name in self.crossed)
            lines.append("  " + tr("The path crosses: {structures}.").format(
                structures=crossed))
        return lines


def lps_text(point) -> str:
    """'R 94.0 / A 12.0 / S 38.0' for an LPS point (the letters a radiologist reads)."""
    return position_text(point)


def is_lesion(name: str) -> bool:
    """Whether a label names a lesion (tumour, metastasis, lesion, nodule)."""
    return bool(_LESION.search(name))


def describe_target(
    labels: LabelMap | None,
    target,
    entry=None,
    image: Volume | None = None,
) -> TargetDescription:
    """Describe `target` (LPS mm); `entry` (LPS mm) is a point on the path outside the
    target (the depth is measured along entry -> target); `image` gives HU where there are
    no labels."""
    target = np.asarray(target, float)
    structure = organ = region = basis = ""
    if labels is not None:
        value = _value_at(labels.volume, target)
        label = labels.labels.get(value)
        structure = label.name if label is not None else ""
        organ = structure
        if label is not None and is_lesion(structure):
            organ = _surrounding(labels, value, target)
        region, basis = _region(labels, target, organ)
    depth = skin = lesion_depth = None
    crossed: tuple[str, ...] = ()
    grid = labels.volume if labels is not None else image
    if entry is not None and grid is not None:
        direction = np.asarray(entry, float) - target
        if np.linalg.norm(direction) > 0:
            skin, crossed, lesion_depth = _walk(labels, image, grid, target, direction, structure)
            if skin is not None:
                depth = float(np.linalg.norm(skin - target))
                skin = tuple(round(float(v), 1) for v in skin)
    return TargetDescription(
        point=tuple(round(float(v), 1) for v in target),
        structure=structure,
        organ=organ,
        region=region,
        region_basis=basis,
        depth_mm=depth,
        skin=skin,
        lesion_depth_mm=lesion_depth,
        crossed=crossed,
    )


def _value_at(volume: Volume, point: np.ndarray) -> int:
    index = np.round(volume.lps_to_index(point)).astype(int)
    if not volume.contains_index(index):
        return 0
    i, j, k = index
    return int(volume.array[k, j, i])


def _surrounding(labels: LabelMap, value: int, target: np.ndarray, reach_mm: float = 80.0) -> str:
    """The labelled structure touching most of the surface of the lesion under `target`."""
    volume = labels.volume
    centre = np.round(volume.lps_to_index(target)).astype(int)[::-1]  # k, j, i
    reach = np.ceil(reach_mm / volume.spacing[::-1]).astype(int)
    low = np.maximum(centre - reach, 0)
    high = np.minimum(centre + reach + 1, volume.shape)
    crop = volume.array[tuple(slice(a, b) for a, b in zip(low, high, strict=True))]
    pieces, _ = ndimage.label(crop == value)
    piece = pieces[tuple(centre - low)]
    lesion = pieces == piece if piece else crop == value
    ring = ndimage.binary_dilation(lesion, iterations=2) & ~lesion
    counts = Counter(int(v) for v in crop[ring] if v != value and v != 0)
    for other, _ in counts.most_common():
        name = labels.labels[other].name if other in labels.labels else ""
        if name and name.lower() != "body" and not is_lesion(name):
            return name
    return labels.labels[counts.most_common(1)[0][0]].name if counts else ""


def segment_name(label_name: str) -> str:
    """'VII' for a label named like a Couinaud segment ('segment 7', 'S7'), else ''."""
    match = _SEGMENT.match(label_name.strip())
    if not match:
        return ""
    code = match.group(1).upper()
    return _ROMAN.get(code, code) + match.group(2).upper()


def _region(labels: LabelMap, target: np.ndarray, organ: str) -> tuple[str, str]:
    segments = {v: segment_name(lab.name) for v, lab in labels.labels.items()}
    segments = {v: s for v, s in segments.items() if s}
    if segments:
        nearest = _nearest_of(labels.volume, target, set(segments), 15.0)
        if nearest is not None:
            return (tr("Couinaud segment {segment}").format(segment=segments[nearest]),
                    tr("from the case's segment labels"))
        return "", tr("no segment label within 15 mm of the target")
    if organ.lower() != "liver":
        return "", ""
    try:
        ivc = labels.by_name("inferior vena cava")
    except KeyError:
        return "", tr("the labels have no Couinaud segments and no inferior vena cava")
    index = np.argwhere(labels.volume.array == ivc.value)
    if not len(index):
        return "", tr("the labels have no Couinaud segments and no inferior vena cava")
    plane_l = float(labels.volume.index_to_lps(index.mean(axis=0)[::-1])[0])
    offset = float(target[0]) - plane_l  # L is positive: > 0 lies to the patient's left
    if offset > 0:
        rule = tr(
            "the labels have no Couinaud segments; the target lies {distance} mm left of a "
            "sagittal plane through the inferior vena cava (a stand-in for Cantlie's line)"
        )
    else:
        rule = tr(
            "the labels have no Couinaud segments; the target lies {distance} mm right of a "
            "sagittal plane through the inferior vena cava (a stand-in for Cantlie's line)"
        )
    rule = rule.format(distance=number(abs(offset), 0))
    if abs(offset) < SIDE_MARGIN_MM:
        return "", rule + tr(", too close (< {margin} mm) to name a side").format(
            margin=number(SIDE_MARGIN_MM, 0))
    return (tr("left liver") if offset > 0 else tr("right liver")), rule


def _nearest_of(volume: Volume, point: np.ndarray, values: set[int], within_mm: float):
    centre = np.round(volume.lps_to_index(point)).astype(int)[::-1]
    reach = np.ceil(within_mm / volume.spacing[::-1]).astype(int)
    low = np.maximum(centre - reach, 0)
    high = np.minimum(centre + reach + 1, volume.shape)
    crop = volume.array[tuple(slice(a, b) for a, b in zip(low, high, strict=True))]
    where = np.argwhere(np.isin(crop, list(values)))
    if not len(where):
        return None
    distance = np.linalg.norm((where + low - centre) * volume.spacing[::-1], axis=1)
    best = int(np.argmin(distance))
    if distance[best] > within_mm:
        return None
    return int(crop[tuple(where[best])])


def _walk(labels, image, grid: Volume, target, direction, structure: str):
    """(skin point, structures crossed skin -> target, depth of the lesion's edge)."""
    unit = direction / np.linalg.norm(direction)
    step = float(grid.spacing.min()) / 3
    far = _exit_distance(grid, target, unit)
    distances = np.arange(far, -step / 2, -step)  # from the image edge inwards to the target
    points = target + distances[:, None] * unit
    if labels is not None:
        values = _sample(labels.volume, points, order=0, outside=0).astype(int)
        inside = values != 0
    else:
        values = None
        inside = _sample(image, points, order=1, outside=-1000.0) > BODY_HU
    hits = np.flatnonzero(inside)
    if not len(hits):
        return None, (), None
    first = hits[0]
    skin = points[first]
    crossed: list[str] = []
    lesion_depth = None
    if values is not None:
        for n, value in enumerate(values[first:], start=first):
            name = labels.labels[value].name if value in labels.labels else ""
            if not name or name.lower() == "body" or (crossed and crossed[-1] == name):
                continue
            crossed.append(name)
            if name == structure and lesion_depth is None and is_lesion(name):
                lesion_depth = float(distances[first] - distances[n])
    return skin, tuple(crossed), lesion_depth


def _exit_distance(grid: Volume, target: np.ndarray, unit: np.ndarray) -> float:
    """How far from `target` along `unit` the line leaves the image (mm)."""
    nk, nj, ni = grid.shape
    diagonal = float(np.linalg.norm(grid.spacing * np.array([ni, nj, nk])))
    step = float(grid.spacing.min()) / 2
    distances = np.arange(0.0, diagonal + step, step)
    index = grid.lps_to_index(target + distances[:, None] * unit)
    inside = np.all((index > -0.5) & (index < np.array([ni, nj, nk]) - 0.5), axis=1)
    outside = np.flatnonzero(~inside)
    return float(distances[outside[0] - 1]) if len(outside) and outside[0] > 0 else 0.0


def _sample(volume: Volume, points: np.ndarray, order: int, outside: float) -> np.ndarray:
    index = volume.lps_to_index(points)[:, ::-1].T  # k, j, i rows
    return ndimage.map_coordinates(volume.array, index, order=order, cval=outside, mode="constant")
