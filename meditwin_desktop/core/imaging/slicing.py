"""Anatomical slices (axial, coronal, sagittal) through a `Volume`, in radiological display.

Screen axes follow the radiological convention: axial seen from the feet (patient's
right on screen left, anterior up), coronal seen from the front, sagittal seen from
the patient's left (anterior on screen left). Volumes whose axes are within ~2.5
degrees of the patient axes are sliced by indexing (no copy, no interpolation);
others are resampled onto the anatomical plane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from meditwin_desktop.core.imaging.geometry import direction_letter
from meditwin_desktop.core.imaging.volume import Volume

_ALIGNED_COSINE = 0.999


@dataclass(frozen=True)
class Orientation:
    """A display plane: LPS directions of screen right, screen down, and 'next slice'."""

    name: str
    right: tuple[float, float, float]
    down: tuple[float, float, float]
    normal: tuple[float, float, float]

    def edge_letters(self) -> dict[str, str]:
        """Anatomical letters at the left, right, top and bottom screen edges."""
        right, down = np.array(self.right), np.array(self.down)
        return {
            "left": direction_letter(-right),
            "right": direction_letter(right),
            "top": direction_letter(-down),
            "bottom": direction_letter(down),
        }


AXIAL = Orientation("axial", (1, 0, 0), (0, 1, 0), (0, 0, 1))
CORONAL = Orientation("coronal", (1, 0, 0), (0, 0, -1), (0, -1, 0))
SAGITTAL = Orientation("sagittal", (0, 1, 0), (0, 0, -1), (1, 0, 0))
ORIENTATIONS = {o.name: o for o in (AXIAL, CORONAL, SAGITTAL)}


@dataclass(frozen=True)
class PlaneImage:
    """A 2D slice: `pixels[row, col]` with the LPS geometry of its pixel grid."""

    pixels: np.ndarray
    origin: np.ndarray  # LPS of pixel (row 0, col 0)
    col_step: np.ndarray  # LPS vector from one column to the next (mm)
    row_step: np.ndarray  # LPS vector from one row to the next (mm)
    index: int  # slice number along the normal, 0-based
    count: int  # number of slices along the normal
    slice_step_mm: float  # distance between slices along the normal

    @property
    def pixel_size(self) -> tuple[float, float]:
        """(width, height) of one pixel in mm."""
        return float(np.linalg.norm(self.col_step)), float(np.linalg.norm(self.row_step))

    def to_lps(self, col: float, row: float) -> np.ndarray:
        """LPS position of a (fractional) pixel position; pixel centres are integers."""
        return self.origin + col * self.col_step + row * self.row_step

    def from_lps(self, lps: np.ndarray) -> tuple[float, float]:
        """(col, row) of the projection of an LPS point onto this plane."""
        d = np.asarray(lps, float) - self.origin
        col = float(d @ self.col_step / (self.col_step @ self.col_step))
        row = float(d @ self.row_step / (self.row_step @ self.row_step))
        return col, row


def _axis_for(direction: np.ndarray, vector: np.ndarray) -> tuple[int, int, float]:
    cosines = direction.T @ np.asarray(vector, float)
    axis = int(np.argmax(np.abs(cosines)))
    return axis, 1 if cosines[axis] > 0 else -1, abs(float(cosines[axis]))


def is_axis_aligned(volume: Volume) -> bool:
    """Whether each voxel axis lies within ~2.5 degrees of a patient axis."""
    axes = [_axis_for(volume.direction, np.eye(3)[a]) for a in range(3)]
    return len({a for a, _, _ in axes}) == 3 and all(c > _ALIGNED_COSINE for *_, c in axes)


def slice_through(
    volume: Volume, orientation: Orientation, point_lps: np.ndarray, *, nearest: bool = False
) -> PlaneImage:
    """The slice of `volume` in `orientation` nearest to `point_lps` (clamped to the volume).

    `nearest` selects nearest-neighbour resampling for oblique volumes (label maps).
    """
    if is_axis_aligned(volume):
        return _indexed_slice(volume, orientation, point_lps)
    return _resampled_slice(volume, orientation, point_lps, 0 if nearest else 1)


def _indexed_slice(volume: Volume, o: Orientation, point_lps: np.ndarray) -> PlaneImage:
    direction = volume.direction
    (ar, sr, _), (ad, sd, _), (an, sn, _) = (
        _axis_for(direction, v) for v in (o.right, o.down, o.normal)
    )
    dims = (volume.shape[2], volume.shape[1], volume.shape[0])  # sizes along i, j, k
    ijk = volume.lps_to_index(point_lps)
    index_along = int(np.clip(np.rint(ijk[an]), 0, dims[an] - 1))
    take = [slice(None)] * 3
    take[2 - an] = index_along
    pixels = volume.array[tuple(take)]
    remaining = [d for d in (0, 1, 2) if d != 2 - an]  # array dims left, in order
    if remaining.index(2 - ad) == 1:
        pixels = pixels.T
    if sd < 0:
        pixels = pixels[::-1, :]
    if sr < 0:
        pixels = pixels[:, ::-1]
    origin_ijk = np.zeros(3)
    origin_ijk[an] = index_along
    origin_ijk[ar] = 0 if sr > 0 else dims[ar] - 1
    origin_ijk[ad] = 0 if sd > 0 else dims[ad] - 1
    columns = volume.affine[:3, :3]
    number = index_along if sn > 0 else dims[an] - 1 - index_along
    return PlaneImage(
        pixels=pixels,
        origin=volume.index_to_lps(origin_ijk),
        col_step=columns[:, ar] * sr,
        row_step=columns[:, ad] * sd,
        index=number,
        count=dims[an],
        slice_step_mm=float(volume.spacing[an]),
    )


def _resampled_slice(
    volume: Volume, o: Orientation, point_lps: np.ndarray, order: int
) -> PlaneImage:
    right, down, normal = (np.asarray(v, float) for v in (o.right, o.down, o.normal))
    step = float(volume.spacing.min())
    nk, nj, ni = volume.shape
    corners = volume.index_to_lps(
        np.array([[i, j, k] for i in (0, ni - 1) for j in (0, nj - 1) for k in (0, nk - 1)])
    )
    lo_r, hi_r = (corners @ right).min(), (corners @ right).max()
    lo_d, hi_d = (corners @ down).min(), (corners @ down).max()
    lo_n, hi_n = (corners @ normal).min(), (corners @ normal).max()
    depth = float(np.clip(np.asarray(point_lps, float) @ normal, lo_n, hi_n))
    cols = int(np.floor((hi_r - lo_r) / step)) + 1
    rows = int(np.floor((hi_d - lo_d) / step)) + 1
    origin = lo_r * right + lo_d * down + depth * normal
    c, r = np.meshgrid(np.arange(cols), np.arange(rows))
    lps = origin + (c[..., None] * step) * right + (r[..., None] * step) * down
    ijk = volume.lps_to_index(lps)
    fill = float(volume.array.min())
    pixels = ndimage.map_coordinates(
        volume.array, [ijk[..., 2], ijk[..., 1], ijk[..., 0]], order=order, cval=fill
    ).astype(volume.array.dtype)
    count = int(np.floor((hi_n - lo_n) / step)) + 1
    return PlaneImage(
        pixels=pixels,
        origin=origin,
        col_step=right * step,
        row_step=down * step,
        index=round((depth - lo_n) / step),
        count=count,
        slice_step_mm=step,
    )
