"""Ablation lesions on the image grid: transmural point lesions and linear lesions.

A radiofrequency lesion is modelled as non-conducting tissue (tissue code 0): a cylinder of
radius `radius_mm` through the wall along the local transmural direction (the gradient of
the 0 endo .. 1 epi coordinate), limited to the connected piece of wall it starts in; with
no transmural field, a sphere of that radius. A line is a row of such lesions every half
radius from its start to its end (catheter drags of overlapping point lesions).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from meditwin_desktop.core.twin import N_, TwinInputError, number, tr

DEFAULT_HALF_LENGTH_MM = 15.0  # without a wall thickness: half the length of the cylinder


def _spacing(affine: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.asarray(affine)[:3, :3], axis=0)  # along i, j, k


def _box(shape: Sequence[int], affine: np.ndarray, centre: np.ndarray, reach_mm: float):
    """Slices [k, j, i] of the voxels within `reach_mm` of `centre` (a bounding box) and the
    LPS positions (kk, jj, ii, 3) of the voxels in it; None when the box is outside."""
    inverse = np.linalg.inv(affine)
    ijk = inverse[:3, :3] @ centre + inverse[:3, 3]
    half = reach_mm / _spacing(affine) + 1.0
    low = np.floor(ijk - half).astype(int)
    high = np.ceil(ijk + half).astype(int) + 1
    size = np.array(shape[::-1])  # (ni, nj, nk)
    low, high = np.clip(low, 0, size), np.clip(high, 0, size)
    if np.any(high <= low):
        return None
    box = (slice(low[2], high[2]), slice(low[1], high[1]), slice(low[0], high[0]))
    k, j, i = np.meshgrid(*(np.arange(s.start, s.stop) for s in box), indexing="ij")
    points = np.stack([i, j, k], axis=-1) @ np.asarray(affine)[:3, :3].T + affine[:3, 3]
    return box, points


def nearest_myocardium_mm(
    myocardium: np.ndarray, affine: np.ndarray, point: np.ndarray, reach_mm: float
) -> tuple[float, tuple[int, int, int] | None]:
    """Distance (mm) from `point` to the nearest myocardial voxel centre within `reach_mm`
    and that voxel's (k, j, i); (inf, None) when there is none that close."""
    found = _box(myocardium.shape, affine, point, reach_mm)
    if found is None:
        return float("inf"), None
    box, points = found
    inside = myocardium[box]
    if not inside.any():
        return float("inf"), None
    distance = np.where(inside, np.linalg.norm(points - point, axis=-1), np.inf)
    flat = int(np.argmin(distance))
    if not np.isfinite(distance.flat[flat]) or distance.flat[flat] > reach_mm:
        return float("inf"), None
    local = np.unravel_index(flat, distance.shape)
    return float(distance.flat[flat]), tuple(
        int(s.start + n) for s, n in zip(box, local, strict=True)
    )


def transmural_direction(
    transmural: np.ndarray,
    myocardium: np.ndarray,
    affine: np.ndarray,
    voxel: tuple[int, int, int],
    window_mm: float = 4.0,
) -> np.ndarray | None:
    """Unit LPS vector from endocardium to epicardium at `voxel`: the least-squares gradient
    of the transmural coordinate over the myocardium within `window_mm`; None when flat."""
    spacing = _spacing(affine)
    centre = np.array([voxel[2], voxel[1], voxel[0]], float) @ affine[:3, :3].T + affine[:3, 3]
    found = _box(myocardium.shape, affine, centre, window_mm)
    if found is None:
        return None
    box, points = found
    near = myocardium[box] & (np.linalg.norm(points - centre, axis=-1) <= window_mm)
    values = np.asarray(transmural[box], float)[near]
    if len(values) < 4 or np.ptp(values) <= 0:
        return None
    design = np.column_stack([points[near] - centre, np.ones(len(values))])
    gradient = np.linalg.lstsq(design, values, rcond=None)[0][:3]
    norm = float(np.linalg.norm(gradient))
    if norm * float(spacing.min()) < 1e-6:
        return None
    return gradient / norm


def point_lesion(
    myocardium: np.ndarray,
    affine: np.ndarray,
    centre,
    radius_mm: float,
    *,
    transmural: np.ndarray | None = None,
    thickness_mm: np.ndarray | None = None,
    name: str = N_("Lesion"),
) -> np.ndarray:
    """Voxels [k, j, i] a transmural lesion centred at `centre` (LPS mm) ablates.

    TwinInputError when no myocardium lies within `radius_mm` of the centre (a point off
    the heart)."""
    centre = np.asarray(centre, float)
    _distance, seed = nearest_myocardium_mm(myocardium, affine, centre, radius_mm)
    if seed is None:
        raise TwinInputError(
            tr(
                "{name} at L {l} P {p} S {s} mm is not on the myocardium: no myocardial voxel "
                "within its radius ({radius} mm). Pick the point on the left-ventricular wall."
            ).format(
                name=tr(name),
                l=number(centre[0], 1),
                p=number(centre[1], 1),
                s=number(centre[2], 1),
                radius=f"{radius_mm:g}".replace(".", number(0.5, 1)[1]),
            )
        )
    axis = None
    if transmural is not None:
        axis = transmural_direction(transmural, myocardium, affine, seed)
    half = DEFAULT_HALF_LENGTH_MM
    if thickness_mm is not None and np.isfinite(thickness_mm[seed]) and thickness_mm[seed] > 0:
        half = float(thickness_mm[seed]) + radius_mm  # through the whole wall from anywhere
    reach = float(np.hypot(half, radius_mm)) if axis is not None else radius_mm
    box, points = _box(myocardium.shape, affine, centre, reach)
    offset = points - centre
    if axis is None:
        inside = np.linalg.norm(offset, axis=-1) <= radius_mm
    else:
        along = offset @ axis
        radial = np.linalg.norm(offset - along[..., None] * axis, axis=-1)
        inside = (radial <= radius_mm) & (np.abs(along) <= half)
    inside &= myocardium[box]
    pieces, _ = ndimage.label(inside, structure=np.ones((3, 3, 3), bool))
    local_seed = tuple(int(v - s.start) for v, s in zip(seed, box, strict=True))
    piece = pieces[local_seed]
    mask = np.zeros(myocardium.shape, bool)
    if piece:
        mask[box] = pieces == piece  # the wall it starts in, not the wall across the cavity
    else:  # the seed voxel itself lies outside the cylinder (a point just off the wall)
        mask[seed] = True
    return mask


def line_lesion(
    myocardium: np.ndarray,
    affine: np.ndarray,
    start,
    end,
    radius_mm: float,
    *,
    transmural: np.ndarray | None = None,
    thickness_mm: np.ndarray | None = None,
) -> np.ndarray:
    """Voxels a linear lesion from `start` to `end` ablates: transmural point lesions every
    half radius along the segment. Both ends must lie on the myocardium (TwinInputError);
    points between them over the cavity add nothing."""
    start, end = np.asarray(start, float), np.asarray(end, float)
    length = float(np.linalg.norm(end - start))
    count = max(int(np.ceil(length / (0.5 * radius_mm))), 1)
    mask = np.zeros(myocardium.shape, bool)
    for n in range(count + 1):
        point = start + (end - start) * n / count
        name = N_("Lesion") if n == 0 else N_("Line end") if n == count else ""
        if not name:  # a middle point: only where it touches the wall
            if nearest_myocardium_mm(myocardium, affine, point, radius_mm)[1] is None:
                continue
            name = N_("Line point")
        mask |= point_lesion(
            myocardium,
            affine,
            point,
            radius_mm,
            transmural=transmural,
            thickness_mm=thickness_mm,
            name=name,
        )
    return mask


def apply(codes: np.ndarray, lesion: np.ndarray) -> np.ndarray:
    """Tissue codes with the lesion made non-conducting (0); a new array."""
    ablated = codes.copy()
    ablated[lesion] = 0
    return ablated


def transecting_lesion(
    myocardium: np.ndarray,
    conducting: np.ndarray,
    affine: np.ndarray,
    centre,
    direction,
    radius_mm: float,
    reach_mm: float,
    *,
    transmural: np.ndarray | None = None,
    thickness_mm: np.ndarray | None = None,
) -> np.ndarray:
    """A lesion across a channel (the `auto_isthmus` target): a transmural point lesion at
    `centre` plus the conducting tissue connected to it within `radius_mm` of the plane
    through `centre` normal to the conduction `direction`, up to `reach_mm` + `radius_mm`
    from the centre: the channel's whole cross-section, bounded by the scar on its sides."""
    centre = np.asarray(centre, float)
    direction = np.asarray(direction, float) / np.linalg.norm(direction)
    mask = point_lesion(
        myocardium,
        affine,
        centre,
        radius_mm,
        transmural=transmural,
        thickness_mm=thickness_mm,
        name=N_("Isthmus lesion"),
    )
    reach = reach_mm + radius_mm
    box, points = _box(myocardium.shape, affine, centre, reach)
    offset = points - centre
    slab = (np.abs(offset @ direction) <= radius_mm) & (np.linalg.norm(offset, axis=-1) <= reach)
    slab &= conducting[box]
    pieces, _ = ndimage.label(slab | mask[box], structure=np.ones((3, 3, 3), bool))
    touching = np.unique(pieces[mask[box] & (pieces > 0)])
    mask[box] |= np.isin(pieces, touching[touching > 0]) & slab
    return mask
