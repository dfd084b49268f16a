"""Resample a decoded stack with gantry tilt or irregular spacing onto a regular grid.

Output slices are perpendicular to the image planes, `step` apart. Each output slice is
interpolated linearly between the two nearest input slices, each first shifted in-plane
by its own tilt offset, so the result is exact for linear intensity changes.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from meditwin_desktop.core.imaging.dicom.stacks import Resampling
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.progress import CancelledFn, check_cancelled, never_cancelled


def regularize(
    volume: Volume, plan: Resampling, *, cancelled: CancelledFn = never_cancelled
) -> Volume:
    """A new volume on the regular orthogonal grid described by `plan`."""
    source = volume.array
    fill = float(source.min())
    dtype = source.dtype
    out = np.empty((plan.count, *source.shape[1:]), np.float32)
    indices = np.arange(len(plan.distances))
    for t in range(plan.count):
        if t % 16 == 0:
            check_cancelled(cancelled)
        distance = t * plan.step
        position = float(np.interp(distance, plan.distances, indices))
        below = int(np.floor(position))
        above = min(below + 1, len(indices) - 1)
        weight = position - below
        out[t] = (1 - weight) * _aligned(source[below], plan, below, fill)
        if weight > 0:
            out[t] += weight * _aligned(source[above], plan, above, fill)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    affine = volume.affine.copy()
    normal = affine[:3, 2] / np.linalg.norm(affine[:3, 2])
    affine[:3, 2] = normal * plan.step
    meta = {**volume.meta, "instance_uids": []}  # resampled slices are no longer instances
    return Volume(out.astype(dtype), affine, meta)


def _aligned(image: np.ndarray, plan: Resampling, index: int, fill: float) -> np.ndarray:
    """Input slice `index` moved onto the output grid (undoing its tilt offset)."""
    slices = plan.distances[index] / plan.step
    columns, rows = plan.shear_pixels * slices
    if abs(columns) < 1e-6 and abs(rows) < 1e-6:
        return image.astype(np.float32)
    return ndimage.shift(image.astype(np.float32), (rows, columns), order=1, cval=fill)
