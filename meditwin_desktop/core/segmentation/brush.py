"""The voxels a round brush covers on a displayed slice."""

from __future__ import annotations

import numpy as np

from meditwin_desktop.core.imaging.slicing import PlaneImage
from meditwin_desktop.core.imaging.volume import Volume


def brush_voxels(
    volume: Volume, plane: PlaneImage, center_lps: np.ndarray, radius_mm: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(k, j, i) index arrays of the voxels under a disc on the slice `plane`.

    The disc is drawn in the plane's pixels (true millimetres) and each pixel mapped to
    the voxel it shows, so it works for resampled (oblique) slices as well.
    """
    rows, cols = plane.pixels.shape
    dx, dy = plane.pixel_size
    col0, row0 = plane.from_lps(center_lps)
    c_lo, c_hi = int(np.floor(col0 - radius_mm / dx)), int(np.ceil(col0 + radius_mm / dx))
    r_lo, r_hi = int(np.floor(row0 - radius_mm / dy)), int(np.ceil(row0 + radius_mm / dy))
    c, r = np.meshgrid(
        np.arange(max(c_lo, 0), min(c_hi, cols - 1) + 1),
        np.arange(max(r_lo, 0), min(r_hi, rows - 1) + 1),
    )
    inside = ((c - col0) * dx) ** 2 + ((r - row0) * dy) ** 2 <= radius_mm**2
    lps = plane.origin + c[inside, None] * plane.col_step + r[inside, None] * plane.row_step
    ijk = np.round(volume.lps_to_index(lps.reshape(-1, 3))).astype(int)
    nk, nj, ni = volume.shape
    ok = (ijk >= 0).all(1) & (ijk[:, 0] < ni) & (ijk[:, 1] < nj) & (ijk[:, 2] < nk)
    unique = np.unique(ijk[ok], axis=0)
    return unique[:, 2], unique[:, 1], unique[:, 0]
