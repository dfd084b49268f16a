"""Compare a `Volume` with a NIfTI image written by another tool (e.g. dcm2niix).

Both are brought to the closest canonical (RAS+) voxel order with nibabel, which undoes
axis permutations and flips (dcm2niix flips rows, for instance); then the world geometry
and the voxels can be compared directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import nibabel as nib
import numpy as np

from meditwin_desktop.core.imaging.geometry import lps_affine_to_ras
from meditwin_desktop.core.imaging.volume import Volume


@dataclass
class Difference:
    """How far our volume is from the reference."""

    shape_equal: bool
    origin_mm: float  # largest difference of the corner voxel position
    spacing_mm: float  # largest difference of voxel sizes
    direction: float  # largest difference of direction cosines
    voxels_equal: bool
    max_voxel_difference: float


def canonical(array_ijk: np.ndarray, affine_ras: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Array (x, y, z[, t]) and affine reoriented to the closest RAS+ axes."""
    image = nib.as_closest_canonical(nib.Nifti1Image(array_ijk, affine_ras))
    return np.asanyarray(image.dataobj), image.affine


def compare(
    volume: Volume, reference: nib.Nifti1Image, time_index: int | None = None
) -> Difference:
    """Geometry and voxel differences between `volume` and (one time point of) `reference`."""
    ours, ours_affine = canonical(volume.array.transpose(2, 1, 0), lps_affine_to_ras(volume.affine))
    data = reference.get_fdata(dtype=np.float64)
    if time_index is not None:
        data = data[..., time_index]
    elif data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    theirs, theirs_affine = canonical(data, reference.affine)
    shape_equal = ours.shape == theirs.shape
    spacing_ours = np.linalg.norm(ours_affine[:3, :3], axis=0)
    spacing_theirs = np.linalg.norm(theirs_affine[:3, :3], axis=0)
    cosines = np.abs(ours_affine[:3, :3] / spacing_ours - theirs_affine[:3, :3] / spacing_theirs)
    voxel_difference = (
        float(np.max(np.abs(ours.astype(np.float64) - theirs))) if shape_equal else np.inf
    )
    return Difference(
        shape_equal=shape_equal,
        origin_mm=float(np.max(np.abs(ours_affine[:3, 3] - theirs_affine[:3, 3]))),
        spacing_mm=float(np.max(np.abs(spacing_ours - spacing_theirs))),
        direction=float(np.max(cosines)),
        voxels_equal=shape_equal and voxel_difference == 0,
        max_voxel_difference=voxel_difference,
    )
