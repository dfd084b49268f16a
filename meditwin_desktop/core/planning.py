"""Needle-path planning geometry (pure numpy/scipy, no Qt): what a straight applicator
from the skin to a target crosses on the label map, a default skin entry that avoids
bone and vessels, the tumour's margin distances, and the minimal margin's traffic light.

Label maps are indexed `[k, j, i]` with a 4x4 affine from `(i, j, k)` to LPS mm; names
map label values to structure names (as the case's labels do).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from meditwin_desktop.core.i18n import N_, number, tr

if TYPE_CHECKING:  # scipy and contourpy are imported where used: core.twin re-exports this
    from meditwin_desktop.core.imaging.slicing import PlaneImage

TUMOUR_WORDS = ("tumour", "tumor", "metasta", "lesion")
VESSEL_WORDS = ("vein", "artery", "aorta", "vena cava", "vessel", "portal")
BONE_WORDS = ("rib", "spine", "vertebra", "bone", "sternum", "scapula", "clavicle", "pelvi",
              "femur", "skull", "sacrum")  # fmt: skip
PASSABLE_WORDS = ("body", "skin", "fat", "muscle", "soft tissue", "subcutaneous")
SAFE_MARGIN_MM = 10.0  # Shady et al., Radiology 2016;278:601: > 10 mm, lowest local progression
SEARCH_DIRECTIONS = 800
MAX_PATH_MM = 200.0  # longest applicators in common use are 15-20 cm (30 cm exist)
LIVER_BEFORE_TUMOUR_MM = 10.0  # cross some normal liver before the tumour (less seeding)


def structure_kind(name: str) -> str:
    """'tumour', 'liver', 'vessel', 'bone', 'passable' (body wall) or 'organ'."""
    lower = name.lower()
    if any(word in lower for word in TUMOUR_WORDS):
        return "tumour"
    if any(word in lower for word in VESSEL_WORDS):
        return "vessel"
    if "liver" in lower:
        return "liver"
    if any(word in lower for word in BONE_WORDS):
        return "bone"
    if any(word in lower for word in PASSABLE_WORDS):
        return "passable"
    return "organ"


@dataclass(frozen=True)
class Crossing:
    """A structure the path crosses, from `start_mm` to `end_mm` along it (from the entry)."""

    name: str
    kind: str  # 'vessel', 'bone' or 'organ'
    start_mm: float
    end_mm: float

    def text(self) -> str:
        """'The path crosses the rib cage 32 mm from the entry (bone).'"""
        what = {"bone": N_("bone"), "vessel": N_("a vessel"), "organ": N_("another organ")}
        return tr(
            "The path crosses the {structure} {distance} mm from the entry ({what}, over "
            "{length} mm)."
        ).format(
            structure=tr(self.name),
            distance=number(self.start_mm, 0),
            what=tr(what[self.kind]),
            length=number(max(self.end_mm - self.start_mm, 0.5), 0),
        )


def _sample(labels: np.ndarray, affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Label values at LPS points (n, 3), nearest voxel; 0 outside the grid."""
    inverse = np.linalg.inv(affine)
    ijk = np.rint(points @ inverse[:3, :3].T + inverse[:3, 3]).astype(int)
    nk, nj, ni = labels.shape
    inside = (
        (ijk[:, 0] >= 0) & (ijk[:, 0] < ni) & (ijk[:, 1] >= 0) & (ijk[:, 1] < nj)
        & (ijk[:, 2] >= 0) & (ijk[:, 2] < nk)
    )  # fmt: skip
    values = np.zeros(len(points), dtype=labels.dtype)
    i, j, k = ijk[inside].T
    values[inside] = labels[k, j, i]
    return values


def _runs(values: np.ndarray, distances: np.ndarray, names: Mapping[int, str]) -> list[Crossing]:
    crossings: list[Crossing] = []
    start = 0
    for n in range(1, len(values) + 1):
        if n < len(values) and values[n] == values[start]:
            continue
        value = int(values[start])
        kind = structure_kind(names.get(value, "")) if value in names else ""
        if kind in ("vessel", "bone", "organ"):
            crossings.append(Crossing(names[value], kind, distances[start], distances[n - 1]))
        start = n
    return crossings


def path_crossings(
    labels: np.ndarray,
    affine: np.ndarray,
    names: Mapping[int, str],
    entry: np.ndarray,
    target: np.ndarray,
    step_mm: float = 0.5,
) -> list[Crossing]:
    """Vessels, bone and organs other than the liver that the straight segment from entry to
    target crosses, in order from the entry (sampled every `step_mm`, nearest voxel)."""
    entry, target = np.asarray(entry, float), np.asarray(target, float)
    length = float(np.linalg.norm(target - entry))
    count = max(int(np.ceil(length / step_mm)), 1) + 1
    distances = np.linspace(0.0, length, count)
    direction = (target - entry) / length if length > 0 else np.zeros(3)
    points = entry + distances[:, None] * direction
    return _runs(_sample(labels, affine, points), distances, names)


def _directions(count: int) -> np.ndarray:
    """Nearly uniform unit vectors (a Fibonacci sphere)."""
    n = np.arange(count) + 0.5
    z = 1 - 2 * n / count
    phi = np.pi * (1 + 5**0.5) * n
    r = np.sqrt(1 - z**2)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=-1)


@dataclass(frozen=True)
class EntryChoice:
    """A skin entry for a straight path to the target, and why it was chosen."""

    entry: np.ndarray  # LPS mm
    direction: np.ndarray  # unit vector from the target to the entry
    depth_mm: float  # from the skin to the target
    crossings: tuple[Crossing, ...]
    liver_mm: float  # normal liver crossed before the target's tumour
    searched: int  # directions tried

    def provenance(self) -> str:
        """What the choice avoided, for the baseline's 'From' column."""
        side = approach(self.direction)
        if not self.crossings:
            text = tr(
                "skin entry {depth} mm from the target ({side}), the shortest of {count} "
                "straight paths tried that cross no bone, vessel or other organ; {liver} mm "
                "of liver before the tumour"
            )
        else:
            text = tr(
                "skin entry {depth} mm from the target ({side}), the shortest of {count} "
                "straight paths tried that cross the fewest structures: {crossed}; {liver} mm "
                "of liver before the tumour"
            )
        return text.format(
            depth=number(self.depth_mm, 0),
            side=side,
            count=self.searched,
            crossed=", ".join(tr(c.name) for c in self.crossings),
            liver=number(self.liver_mm, 0),
        )


def approach(direction: np.ndarray) -> str:
    """Where an entry lies seen from the target: 'from the right, anterior'."""
    words = []
    for axis, (minus, plus) in enumerate(((N_("right"), N_("left")),
                                          (N_("anterior"), N_("posterior")),
                                          (N_("inferior"), N_("superior")))):  # fmt: skip
        if abs(direction[axis]) >= 0.35:
            words.append(tr(plus if direction[axis] > 0 else minus))
    if not words:
        return tr("from the side")
    return tr("from the {directions}").format(directions=", ".join(words))


def choose_entry(
    labels: np.ndarray,
    affine: np.ndarray,
    names: Mapping[int, str],
    target: np.ndarray,
    inside: np.ndarray | None = None,
    directions: int = SEARCH_DIRECTIONS,
    max_path_mm: float = MAX_PATH_MM,
) -> EntryChoice | None:
    """The skin entry whose straight path to `target` crosses the fewest bones and vessels,
    then the fewest other organs, then has >= 10 mm of liver before the tumour, then is
    shortest. The patient lies supine: entries on the back are not tried. `inside` marks
    the body (default: any label); the skin is where the path leaves it for good (10 mm of
    outside). None when no direction reaches the skin within `max_path_mm`."""
    target = np.asarray(target, float)
    body = labels > 0 if inside is None else inside
    step = 1.0
    distances = np.arange(0.0, max_path_mm + 10.0 + step, step)
    kinds = {v: structure_kind(n) for v, n in names.items()}
    best, best_key, tried = None, None, 0
    for direction in _directions(directions):
        if direction[1] > 0.5 or abs(direction[2]) > 0.8:
            continue  # from the back (supine) or along the body's long axis
        tried += 1
        points = target + distances[:, None] * direction
        within = _sample(body.view(np.uint8), affine, points).astype(bool)
        outside = ~within
        # the first run of >= 10 mm outside the body: the skin is just before it
        run = np.convolve(outside.astype(int), np.ones(10, int), "valid") == 10
        exits = np.flatnonzero(run)
        if not len(exits) or exits[0] == 0 or distances[exits[0] - 1] > max_path_mm:
            continue
        depth = float(distances[exits[0] - 1])
        entry = target + depth * direction
        crossings = path_crossings(labels, affine, names, entry, target, step_mm=step)
        values = _sample(labels, affine, points[: exits[0]])
        liver_mm = float(sum(kinds.get(int(v)) == "liver" for v in values)) * step
        hard = sum(c.kind in ("bone", "vessel") for c in crossings)
        soft = sum(c.kind == "organ" for c in crossings)
        key = (hard, soft, liver_mm < LIVER_BEFORE_TUMOUR_MM, depth)
        if best_key is None or key < best_key:
            best_key = key
            best = EntryChoice(entry, direction, depth, tuple(crossings), liver_mm, 0)
    if best is None:
        return None
    return EntryChoice(
        best.entry, best.direction, best.depth_mm, best.crossings, best.liver_mm, tried
    )


# -- margins ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MarginField:
    """Distance (mm) from a tumour, on a box of the label grid around it (`affine` places
    `distance[k, j, i]` in LPS); 0 inside the tumour."""

    distance: np.ndarray
    affine: np.ndarray


def spacing_of(affine: np.ndarray) -> np.ndarray:
    """Voxel size (di, dj, dk) mm of an affine."""
    return np.linalg.norm(np.asarray(affine)[:3, :3], axis=0)


def margin_field(mask: np.ndarray, affine: np.ndarray, reach_mm: float = 15.0) -> MarginField:
    """Euclidean distance from `mask` (anisotropic voxels respected) within `reach_mm` of it,
    on the bounding box of the mask grown by `reach_mm`: small, whatever the CT's size."""
    from scipy import ndimage

    if not mask.any():
        raise ValueError("the tumour label is empty")
    spacing = spacing_of(affine)
    pad = np.ceil(reach_mm / spacing[::-1]).astype(int) + 1  # (k, j, i)
    found = np.argwhere(mask)
    low = np.maximum(found.min(axis=0) - pad, 0)
    high = np.minimum(found.max(axis=0) + pad + 1, mask.shape)
    box = mask[low[0] : high[0], low[1] : high[1], low[2] : high[2]]
    distance = ndimage.distance_transform_edt(~box, sampling=spacing[::-1])
    shifted = np.array(affine, float)
    shifted[:3, 3] = affine[:3, :3] @ low[::-1] + affine[:3, 3]
    return MarginField(distance.astype(np.float32), shifted)


def target_label(labels: np.ndarray, affine: np.ndarray, names: Mapping[int, str],
                 target: np.ndarray) -> int | None:  # fmt: skip
    """The tumour label at the target, else the tumour label nearest to it (None: none)."""
    tumours = [v for v, n in names.items() if structure_kind(n) == "tumour"]
    if not tumours:
        return None
    at = int(_sample(labels, affine, np.asarray(target, float)[None])[0])
    if at in tumours:
        return at
    best, best_distance = None, np.inf
    for value in tumours:
        found = np.argwhere(labels == value)
        if not len(found):
            continue
        lps = found[:, ::-1] @ np.asarray(affine)[:3, :3].T + np.asarray(affine)[:3, 3]
        distance = float(np.min(np.linalg.norm(lps - target, axis=1)))
        if distance < best_distance:
            best, best_distance = value, distance
    return best


# -- the minimal margin's traffic light -----------------------------------------------------------
@dataclass(frozen=True)
class MarginState:
    """'green', 'amber' or 'red', and why."""

    state: str
    text: str


def margin_state(
    value: float | None,
    target_low: float | None,
    resolution: float = 0.0,
    precision: int | None = 1,
) -> MarginState:
    """Colour of a minimal ablative margin against the twin's declared target (at least
    `target_low` mm, 5 mm: Laimer et al. 2020), by the comparison's rule so that the slice
    legend, the table and the report agree (`core.comparison.TARGET_RULE`), judged on the
    value as shown (`precision` decimals): green meets the target, amber misses it by no
    more than the outcome's `resolution`, red misses it by more. A met margin under 10 mm
    says so in words (Shady et al. 2016: local progression lowest above 10 mm)."""
    if value is None or not np.isfinite(value):
        return MarginState("grey", "minimal margin not defined (no tumour near the target)")
    low = 5.0 if target_low is None else float(target_low)
    shown = round(float(value), precision) if precision is not None else float(value)
    if shown < low - resolution - 1e-9:
        return MarginState("red", f"below the {low:g} mm target: the tumour may not be covered")
    if shown < low:
        return MarginState("amber", f"within {resolution:g} mm of the {low:g} mm target")
    if shown < SAFE_MARGIN_MM:
        return MarginState(
            "green", f"meets the {low:g} mm target (under {SAFE_MARGIN_MM:g} mm, Shady 2016)"
        )
    return MarginState("green", f"at least {SAFE_MARGIN_MM:g} mm (target {low:g} mm)")


# -- contours of a 3D field on a slice -----------------------------------------------------------
def section_contours(
    values: np.ndarray,
    affine: np.ndarray,
    plane: PlaneImage,
    levels: tuple[float, ...],
    fill: float,
    oversample: int = 2,
) -> dict[float, list[np.ndarray]]:
    """Iso-lines of a field (`values[k, j, i]` placed by `affine`) where a slice cuts it:
    level -> polylines of (col, row) pixel positions of `plane` (fractional). The field is
    sampled trilinearly on the plane's pixel grid (`oversample` points per pixel), only
    over the part of the slice its box projects to; lines are traced by marching squares
    (contourpy, matplotlib's contour generator). Empty where the slice misses the field."""
    from contourpy import contour_generator
    from scipy import ndimage

    nk, nj, ni = values.shape
    corners = np.array([[i, j, k] for i in (0, ni - 1) for j in (0, nj - 1) for k in (0, nk - 1)])
    lps = corners @ np.asarray(affine)[:3, :3].T + np.asarray(affine)[:3, 3]
    normal = np.cross(plane.col_step, plane.row_step)
    normal /= np.linalg.norm(normal)
    depth = (lps - plane.origin) @ normal
    if depth.min() > 1e-6 or depth.max() < -1e-6:
        return {level: [] for level in levels}  # the slice misses the field's box
    cols, rows = zip(*(plane.from_lps(p) for p in lps), strict=True)
    shape = plane.pixels.shape
    c0, c1 = max(np.floor(min(cols)), 0), min(np.ceil(max(cols)), shape[1] - 1)
    r0, r1 = max(np.floor(min(rows)), 0), min(np.ceil(max(rows)), shape[0] - 1)
    if c1 <= c0 or r1 <= r0:
        return {level: [] for level in levels}
    c = np.arange(c0, c1 + 1e-9, 1.0 / oversample)
    r = np.arange(r0, r1 + 1e-9, 1.0 / oversample)
    cc, rr = np.meshgrid(c, r)
    points = plane.origin + cc[..., None] * plane.col_step + rr[..., None] * plane.row_step
    inverse = np.linalg.inv(affine)
    ijk = points @ inverse[:3, :3].T + inverse[:3, 3]
    sampled = ndimage.map_coordinates(
        np.asarray(values, np.float32), [ijk[..., 2], ijk[..., 1], ijk[..., 0]], order=1,
        cval=fill,
    )  # fmt: skip
    generator = contour_generator(z=sampled)
    lines = {}
    for level in levels:
        found = []
        for line in generator.lines(level):
            if len(line) >= 2:  # (x = column index, y = row index) of `sampled`
                found.append(np.column_stack([c0 + line[:, 0] / oversample,
                                              r0 + line[:, 1] / oversample]))  # fmt: skip
        lines[level] = found
    return lines
