"""Assemble the images of a DICOM series into `Volume`s with LPS geometry.

Slices are sorted by their position along the slice normal (never by file name or
InstanceNumber); the slice spacing comes from the positions, not SliceThickness.
A series holding several stacks (orientations, sizes, repeated positions) gives
several volumes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom

from meditwin_desktop.core.errors import DicomError
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.progress import (
    CancelledFn,
    ProgressFn,
    check_cancelled,
    never_cancelled,
    no_progress,
)

log = logging.getLogger(__name__)

_ORIENTATION_DECIMALS = 4  # direction cosines equal to 1e-4 belong to one stack
_POSITION_TOLERANCE_MM = 1e-3
_SPACING_TOLERANCE = 0.01  # relative deviation from the median slice step


@dataclass
class _Slice:
    dataset: pydicom.Dataset
    path: Path
    row_dir: np.ndarray  # LPS direction of increasing column index i
    col_dir: np.ndarray  # LPS direction of increasing row index j
    position: np.ndarray  # LPS of the first transmitted pixel


def _read(path: Path) -> pydicom.Dataset:
    try:
        return pydicom.dcmread(path)
    except Exception as error:
        raise DicomError(f"Cannot read {path.name}: {error}") from error


def _geometry(ds: pydicom.Dataset, path: Path) -> _Slice:
    orientation = ds.get("ImageOrientationPatient")
    position = ds.get("ImagePositionPatient")
    if orientation is None or position is None:
        # A single 2D image (X-ray, secondary capture) has no patient geometry.
        orientation, position = [1, 0, 0, 0, 1, 0], [0, 0, 0]
    cosines = np.asarray(orientation, dtype=float)
    row_dir, col_dir = cosines[:3], cosines[3:]
    return _Slice(ds, path, row_dir, col_dir, np.asarray(position, dtype=float))


def _stack_key(item: _Slice) -> tuple:
    ds = item.dataset
    spacing = tuple(np.round(np.asarray(ds.get("PixelSpacing", [1, 1]), float), 4))
    return (
        tuple(np.round(np.concatenate([item.row_dir, item.col_dir]), _ORIENTATION_DECIMALS)),
        int(ds.Rows),
        int(ds.Columns),
        spacing,
    )


def _pixels(ds: pydicom.Dataset, path: Path) -> np.ndarray:
    try:
        pixels = ds.pixel_array
    except Exception as error:
        syntax = ds.file_meta.get("TransferSyntaxUID", "unknown") if ds.file_meta else "unknown"
        raise DicomError(
            f"Cannot decode the pixels of {path.name} (transfer syntax {syntax}): {error}"
        ) from error
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    if slope == 1 and intercept.is_integer():
        return pixels.astype(np.int32) + int(intercept) if intercept else pixels
    return pixels.astype(np.float64) * slope + intercept


def _as_compact(values: np.ndarray) -> np.ndarray:
    """int16 when the rescaled values are integers that fit, else float32."""
    if np.issubdtype(values.dtype, np.integer) or np.all(np.mod(values, 1) == 0):
        lo, hi = values.min(), values.max()
        if lo >= -32768 and hi <= 32767:
            return values.astype(np.int16)
        if np.issubdtype(values.dtype, np.integer):
            return values.astype(np.int32)
    return values.astype(np.float32)


def _assemble_stack(items: list[_Slice], warnings: list[str]) -> Volume:
    first = items[0]
    normal = np.cross(first.row_dir, first.col_dir)
    items = sorted(items, key=lambda s: float(np.dot(normal, s.position)))
    distances = np.array([float(np.dot(normal, s.position)) for s in items])
    ds = first.dataset
    row_spacing, col_spacing = (float(v) for v in ds.get("PixelSpacing", [1.0, 1.0]))
    if len(items) > 1:
        steps = np.diff(distances)
        if np.any(steps < _POSITION_TOLERANCE_MM):
            raise DicomError(
                "This series has several images at the same position (e.g. several echoes or "
                "time points) that could not be separated; it cannot be shown as one volume."
            )
        step = float(np.median(steps))
        if np.any(np.abs(steps - step) > _SPACING_TOLERANCE * step):
            warnings.append(
                f"Irregular slice spacing ({steps.min():.3f}-{steps.max():.3f} mm); "
                f"the volume uses the median {step:.3f} mm."
            )
        slice_vector = (items[-1].position - items[0].position) / (len(items) - 1)
        if np.linalg.norm(np.cross(slice_vector / np.linalg.norm(slice_vector), normal)) > 1e-3:
            warnings.append("Slices are not stacked along their normal (gantry tilt).")
    else:
        slice_thickness = float(ds.get("SpacingBetweenSlices") or ds.get("SliceThickness") or 1.0)
        slice_vector = normal * slice_thickness
    affine = np.eye(4)
    affine[:3, 0] = first.row_dir * col_spacing
    affine[:3, 1] = first.col_dir * row_spacing
    affine[:3, 2] = slice_vector
    affine[:3, 3] = items[0].position
    array = np.stack([_pixels(s.dataset, s.path) for s in items])
    meta = {
        "modality": str(ds.get("Modality", "")),
        "series_uid": str(ds.get("SeriesInstanceUID", "")),
        "series_description": str(ds.get("SeriesDescription", "")),
        "patient_id": str(ds.get("PatientID", "")),
        "patient_name": str(ds.get("PatientName", "")),
        "files": [str(s.path) for s in items],
        "warnings": warnings,
    }
    window = _default_window(ds)
    if window:
        meta["window"] = window
    return Volume(_as_compact(array), affine, meta)


def _default_window(ds: pydicom.Dataset) -> tuple[float, float] | None:
    center, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if center is None or width is None:
        return None
    return _first_number(center), _first_number(width)


def _first_number(value) -> float:
    """The first value of a possibly multi-valued DS."""
    return float(value[0]) if isinstance(value, pydicom.multival.MultiValue) else float(value)


def load_series(
    files: Sequence[Path],
    *,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> list[Volume]:
    """Read the files of one series and return one `Volume` per stack they form."""
    if not files:
        raise DicomError("The series has no files.")
    slices: list[_Slice] = []
    for index, path in enumerate(files):
        if index % 8 == 0:
            check_cancelled(cancelled)
            progress(0.9 * index / len(files), f"Reading image {index + 1}/{len(files)}")
        ds = _read(Path(path))
        if "PixelData" not in ds:
            log.info("skipping %s: no pixel data", path)
            continue
        if int(ds.get("NumberOfFrames") or 1) > 1:
            raise DicomError(
                f"{Path(path).name} is a multi-frame image; multi-frame series are not supported "
                "by this version."
            )
        slices.append(_geometry(ds, Path(path)))
    if not slices:
        raise DicomError("No image in this series has pixel data.")
    stacks: dict[tuple, list[_Slice]] = defaultdict(list)
    for item in slices:
        stacks[_stack_key(item)].append(item)
    volumes = []
    for items in stacks.values():
        check_cancelled(cancelled)
        volumes.append(_assemble_stack(items, []))
    volumes.sort(key=lambda v: -v.array.size)
    progress(1.0, "Series loaded")
    return volumes
