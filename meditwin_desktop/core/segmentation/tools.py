"""Mask operations on volumes (numpy + scipy.ndimage), each a pure function.

Region growing is ITK's "connected threshold": the voxels within [low, high] connected
(6-neighbourhood) to the seed. Hole filling keeps the background connected to the
border, through `ndimage.label`, which releases the GIL (ndimage's own
`binary_fill_holes` holds it for hundreds of milliseconds on large volumes).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import decimal_separator, tr
from meditwin_desktop.core.imaging.volume import Volume

Index = tuple[int, int, int]  # (k, j, i) array index


def seed_index(volume: Volume, lps: np.ndarray) -> Index:
    """Array index (k, j, i) of the voxel at an LPS point; InputError outside the image."""
    ijk = np.round(volume.lps_to_index(lps)).astype(int)
    if not volume.contains_index(ijk):
        raise InputError(tr("The seed point lies outside the image."))
    return int(ijk[2]), int(ijk[1]), int(ijk[0])


def _g(value: float) -> str:
    """`value` as `:g` writes it, with the decimal separator of the language."""
    text = f"{value:g}"
    return text.replace(".", decimal_separator())


def threshold(array: np.ndarray, low: float, high: float) -> np.ndarray:
    """Voxels with low <= value <= high."""
    if low > high:
        raise InputError(
            tr("The threshold range is empty: {low} is above {high}.").format(
                low=_g(low), high=_g(high)
            )
        )
    return (array >= low) & (array <= high)


def component_at(mask: np.ndarray, seed: Index) -> np.ndarray:
    """The connected part of `mask` that contains `seed` (empty if the seed is outside it)."""
    if not mask[seed]:
        return np.zeros_like(mask)
    labels, _ = ndimage.label(mask)
    return labels == labels[seed]


def region_grow(array: np.ndarray, seed: Index, low: float, high: float) -> np.ndarray:
    """Connected threshold: voxels in [low, high] connected to the seed."""
    if not low <= array[seed] <= high:
        raise InputError(
            tr(
                "The seed's value ({value}) is outside the range [{low}, {high}]; widen the "
                "range or move the seed."
            ).format(value=_g(float(array[seed])), low=_g(low), high=_g(high))
        )
    return component_at(threshold(array, low, high), seed)


def seed_range(
    array: np.ndarray, seed: Index, radius: int = 2, factor: float = 2.5
) -> tuple[float, float]:
    """A suggested range: mean +/- factor x std of the seed's neighbourhood."""
    k, j, i = seed
    patch = array[
        max(k - radius, 0) : k + radius + 1,
        max(j - radius, 0) : j + radius + 1,
        max(i - radius, 0) : i + radius + 1,
    ].astype(np.float64)
    mean, std = float(patch.mean()), float(patch.std())
    return mean - factor * std, mean + factor * std


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest connected part of `mask`."""
    labels, count = ndimage.label(mask)
    if count <= 1:
        return mask.copy()
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == int(np.argmax(sizes))


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """`mask` plus every background region not connected to the volume's border."""
    background, count = ndimage.label(~mask)
    faces = (
        background[0],
        background[-1],
        background[:, 0],
        background[:, -1],
        background[:, :, 0],
        background[:, :, -1],
    )
    hole = np.ones(count + 1, bool)  # lookup: is this background region a hole?
    hole[0] = False
    for face in faces:
        hole[np.unique(face)] = False
    return mask | hole[background]


def ball(radius_mm: float, spacing: np.ndarray) -> np.ndarray:
    """A structuring element approximating a ball of `radius_mm` on a (k, j, i) grid."""
    sk, sj, si = spacing[2], spacing[1], spacing[0]
    rk, rj, ri = (max(int(radius_mm // s), 0) for s in (sk, sj, si))
    k, j, i = np.ogrid[-rk : rk + 1, -rj : rj + 1, -ri : ri + 1]
    return (k * sk) ** 2 + (j * sj) ** 2 + (i * si) ** 2 <= radius_mm**2 + 1e-9


def opening(mask: np.ndarray, radius_mm: float, spacing: np.ndarray) -> np.ndarray:
    """Remove parts thinner than about 2 x radius (erosion then dilation)."""
    return ndimage.binary_opening(mask, structure=ball(radius_mm, spacing))


def closing(mask: np.ndarray, radius_mm: float, spacing: np.ndarray) -> np.ndarray:
    """Close gaps narrower than about 2 x radius (dilation then erosion)."""
    structure = ball(radius_mm, spacing)
    pad = max(structure.shape) // 2 + 1
    padded = np.pad(mask, pad)  # so that closing does not stick to the border
    return ndimage.binary_closing(padded, structure=structure)[pad:-pad, pad:-pad, pad:-pad]


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice overlap of two masks (1 = identical)."""
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total
