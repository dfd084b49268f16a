"""Label maps against images: bring a label map onto an image's voxel grid."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.volume import LabelMap, Volume


def fit_labels_to(labels: LabelMap, image: Volume) -> LabelMap:
    """`labels` on `image`'s grid: unchanged when the grids match, else resampled.

    Resampling is nearest-neighbour in patient space (LPS), as 3D Slicer does for label
    maps; voxels of the image outside the label map get 0. Raises InputError when the
    two do not overlap at all (a label map of another patient or series).
    """
    if labels.volume.same_grid(image):
        return labels
    nk, nj, ni = image.shape
    k, j, i = np.meshgrid(np.arange(nk), np.arange(nj), np.arange(ni), indexing="ij")
    lps = image.index_to_lps(np.stack([i, j, k], axis=-1).reshape(-1, 3))
    source = labels.volume.lps_to_index(lps)
    resampled = ndimage.map_coordinates(
        labels.volume.array, [source[:, 2], source[:, 1], source[:, 0]], order=0, cval=0
    ).reshape(image.shape)
    if not resampled.any() and labels.volume.array.any():
        raise InputError(
            tr(
                "The label map does not overlap this image: it belongs to another series or "
                "patient, or its geometry is wrong."
            )
        )
    meta = {**labels.volume.meta, "resampled_from": labels.volume.shape}
    return LabelMap(
        Volume(resampled.astype(labels.volume.array.dtype), image.affine.copy(), meta),
        dict(labels.labels),
    )
