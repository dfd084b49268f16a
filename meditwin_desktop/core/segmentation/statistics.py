"""Label statistics: volume and image values inside each label."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

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
    minimum: float
    maximum: float


def label_statistics(labels: LabelMap, image: Volume) -> list[LabelStatistics]:
    """Statistics of every label present (values from `image`, on the same grid)."""
    array = labels.volume.array
    present = [int(v) for v in np.unique(array) if v != 0]
    if not present:
        return []
    voxel_ml = float(np.prod(labels.volume.spacing)) / 1000.0
    values = image.array.astype(np.float64)
    counts = ndimage.sum_labels(np.ones_like(array, dtype=np.int64), array, present)
    means = ndimage.mean(values, array, present)
    stds = np.sqrt(np.maximum(ndimage.variance(values, array, present), 0))
    lows = ndimage.minimum(values, array, present)
    highs = ndimage.maximum(values, array, present)
    out = []
    for n, value in enumerate(present):
        label = labels.labels.get(value)
        out.append(
            LabelStatistics(
                value,
                label.name if label else f"label {value}",
                int(counts[n]),
                float(counts[n]) * voxel_ml,
                float(means[n]),
                float(stds[n]),
                float(lows[n]),
                float(highs[n]),
            )
        )
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
