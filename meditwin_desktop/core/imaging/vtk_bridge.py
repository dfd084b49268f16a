"""numpy <-> VTK for volumes, in one place.

VTK objects are built in index space (origin 0, spacing 1, identity direction) and the
volume's voxel->LPS affine is applied afterwards, to mesh points or as an actor's user
matrix. That keeps any orientation (oblique, flipped) exact with every VTK filter and
mapper, whether or not it honours vtkImageData's direction matrix.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv


def index_image(array: np.ndarray, name: str = "values") -> pv.ImageData:
    """A `[k, j, i]` array as VTK image data in index space (no copy for contiguous input)."""
    nk, nj, ni = array.shape
    image = pv.ImageData(dimensions=(ni, nj, nk))
    image.point_data[name] = np.ascontiguousarray(array).reshape(-1)
    image.point_data.active_scalars_name = name
    return image


def transform_points(points: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Apply a 4x4 affine to `(n, 3)` points."""
    return points @ affine[:3, :3].T + affine[:3, 3]
