"""Label statistics: volume and image values inside each label."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meditwin_desktop.core.imaging.volume import LabelMap, Volume


@dataclass(frozen=True)
class LabelStatistics:
    """One label's size and the image values inside it."""

    value: int
    name: str
    voxels: int
    volume_ml: float
    mean: float
    std: float


_SLAB = 2  # slices per pass: each numpy call stays short (bincount holds the GIL)


def label_statistics(labels: LabelMap, image: Volume) -> list[LabelStatistics]:
    """Voxel count, volume, mean and SD of `image` in every label (same grid).

    One pass of `np.bincount` per slab of slices (counts, sums, sums of squares),
    accumulated in float64.
    """
    array = labels.volume.array
    size = int(array.max()) + 1 if array.size else 1
    counts = np.zeros(size)
    sums = np.zeros(size)
    squares = np.zeros(size)
    for start in range(0, array.shape[0], _SLAB):
        slab = array[start : start + _SLAB].ravel()
        values = image.array[start : start + _SLAB].ravel().astype(np.float64)
        counts += np.bincount(slab, minlength=size)
        sums += np.bincount(slab, weights=values, minlength=size)
        squares += np.bincount(slab, weights=values * values, minlength=size)
    voxel_ml = float(np.prod(labels.volume.spacing)) / 1000.0
    out = []
    for value in np.flatnonzero(counts[1:]) + 1:
        n = counts[value]
        mean = sums[value] / n
        variance = max(squares[value] / n - mean * mean, 0.0)
        label = labels.labels.get(int(value))
        name = label.name if label else f"label {value}"
        out.append(LabelStatistics(int(value), name, int(n), n * voxel_ml, mean, variance**0.5))
    return out


def region_statistics(values: np.ndarray, pixel_area_mm2: float) -> dict[str, float]:
    """Mean, std, min, max and area of a set of pixel values (an ROI on a slice)."""
    values = np.asarray(values, np.float64)
    if values.size == 0:
        return {"pixels": 0, "area_mm2": 0.0}
    return {
        "pixels": int(values.size),
        "area_mm2": values.size * pixel_area_mm2,
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(values.min()),
        "max": float(values.max()),
    }
