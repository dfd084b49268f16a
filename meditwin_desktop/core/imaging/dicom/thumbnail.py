"""A small greyscale preview of a series: its middle image, windowed to 8 bits."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from meditwin_desktop.core.imaging.dicom.assemble import load_series
from meditwin_desktop.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Window an image to 0..255 between its 1st and 99th percentiles."""
    lo, hi = np.percentile(image, [1, 99])
    scale = 255.0 / max(float(hi - lo), 1e-6)
    return np.clip((image.astype(np.float32) - lo) * scale, 0, 255).astype(np.uint8)


def series_thumbnail(
    files: Sequence[Path],
    size: int = 160,
    *,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> np.ndarray:
    """The middle file's middle frame, at most `size` pixels on its longer side (uint8)."""
    middle = sorted(files)[len(files) // 2]
    [volume, *_] = load_series([middle], cancelled=cancelled)
    image = volume.array[volume.shape[0] // 2]
    step = max(1, int(np.ceil(max(image.shape) / size)))
    return np.ascontiguousarray(to_uint8(image[::step, ::step]))
