"""`Volume`: a 3D image with its patient geometry; `LabelMap`: a volume of named labels.

The array is indexed `[k, j, i]` (slice, row, column). `affine` maps voxel index
`(i, j, k, 1)` to LPS millimetres (see `geometry`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(eq=False)
class Volume:
    """A 3D image on a patient grid."""

    array: np.ndarray
    affine: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.array.ndim != 3:
            raise ValueError(f"a Volume needs a 3D array, got shape {self.array.shape}")
        self.affine = np.asarray(self.affine, dtype=float)
        if self.affine.shape != (4, 4):
            raise ValueError("affine must be 4x4")

    @property
    def shape(self) -> tuple[int, int, int]:
        """Array shape `(nk, nj, ni)`."""
        return self.array.shape  # type: ignore[return-value]

    @property
    def spacing(self) -> np.ndarray:
        """Voxel size along i, j, k in mm."""
        return np.linalg.norm(self.affine[:3, :3], axis=0)

    @property
    def origin(self) -> np.ndarray:
        """LPS position (mm) of the centre of voxel (0, 0, 0)."""
        return self.affine[:3, 3].copy()

    @property
    def direction(self) -> np.ndarray:
        """3x3 matrix whose columns are the unit LPS directions of i, j, k."""
        return self.affine[:3, :3] / self.spacing

    def index_to_lps(self, ijk: np.ndarray) -> np.ndarray:
        """Voxel indices `(..., 3)` as (i, j, k) to LPS mm."""
        ijk = np.asarray(ijk, dtype=float)
        return ijk @ self.affine[:3, :3].T + self.affine[:3, 3]

    def lps_to_index(self, lps: np.ndarray) -> np.ndarray:
        """LPS mm `(..., 3)` to continuous voxel indices (i, j, k)."""
        lps = np.asarray(lps, dtype=float)
        inverse = np.linalg.inv(self.affine)
        return lps @ inverse[:3, :3].T + inverse[:3, 3]

    def contains_index(self, ijk: np.ndarray) -> bool:
        """Whether rounded voxel indices (i, j, k) fall inside the array."""
        i, j, k = np.round(np.asarray(ijk)).astype(int)
        nk, nj, ni = self.shape
        return 0 <= i < ni and 0 <= j < nj and 0 <= k < nk

    def center_lps(self) -> np.ndarray:
        """LPS position of the volume's centre."""
        nk, nj, ni = self.shape
        return self.index_to_lps(np.array([(ni - 1) / 2, (nj - 1) / 2, (nk - 1) / 2]))

    def value_range(self) -> tuple[float, float]:
        """Minimum and maximum voxel value."""
        return float(self.array.min()), float(self.array.max())

    def same_grid(self, other: Volume, tolerance_mm: float = 1e-3) -> bool:
        """Whether `other` has the same shape and voxel positions (within tolerance)."""
        if self.shape != other.shape:
            return False
        nk, nj, ni = self.shape
        corners = np.array([[0, 0, 0], [ni - 1, nj - 1, nk - 1], [ni - 1, 0, 0], [0, nj - 1, 0]])
        return bool(
            np.all(np.abs(self.index_to_lps(corners) - other.index_to_lps(corners)) < tolerance_mm)
        )


@dataclass(frozen=True)
class Label:
    """One structure of a label map."""

    value: int
    name: str
    color: tuple[int, int, int]


@dataclass(eq=False)
class LabelMap:
    """An integer volume whose values name structures (0 is background)."""

    volume: Volume
    labels: dict[int, Label]

    def __post_init__(self) -> None:
        if not np.issubdtype(self.volume.array.dtype, np.integer):
            raise ValueError("a label map needs an integer array")

    def by_name(self, name: str) -> Label:
        """The label called `name` (case-insensitive); KeyError if absent."""
        for label in self.labels.values():
            if label.name.lower() == name.lower():
                return label
        raise KeyError(name)

    def mask(self, name: str) -> np.ndarray:
        """Boolean mask of the label called `name`."""
        return self.volume.array == self.by_name(name).value

    def volume_ml(self, name: str) -> float:
        """Volume of a label in millilitres."""
        voxel_mm3 = float(np.prod(self.volume.spacing))
        return float(self.mask(name).sum()) * voxel_mm3 / 1000.0
