"""Patient-coordinate conventions, in one place.

Inside MEDITWIN every position is DICOM LPS in millimetres: +x towards the patient's
left, +y posterior, +z superior. NIfTI (and 3D Slicer) use RAS; the two differ by a
sign on x and y. This module is the only place that converts.
"""

import numpy as np

from meditwin_desktop.core.i18n import number

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
RAS_TO_LPS = LPS_TO_RAS  # the flip is its own inverse

# Unit LPS vector -> the letter of the anatomical direction it points to.
_LETTERS = {(0, 1): "L", (0, -1): "R", (1, 1): "P", (1, -1): "A", (2, 1): "S", (2, -1): "I"}


def lps_affine_to_ras(affine_lps: np.ndarray) -> np.ndarray:
    """Voxel->LPS affine to voxel->RAS affine (for NIfTI)."""
    return LPS_TO_RAS @ np.asarray(affine_lps, dtype=float)


def ras_affine_to_lps(affine_ras: np.ndarray) -> np.ndarray:
    """Voxel->RAS affine (NIfTI) to voxel->LPS affine."""
    return RAS_TO_LPS @ np.asarray(affine_ras, dtype=float)


def direction_letter(vector: np.ndarray) -> str:
    """Anatomical letter(s) an LPS direction points towards, dominant first (e.g. 'L', 'LA')."""
    v = np.asarray(vector, dtype=float)
    order = np.argsort(-np.abs(v))
    letters = [
        _LETTERS[(int(axis), 1 if v[axis] > 0 else -1)]
        for axis in order
        if abs(v[axis]) > 0.3 * abs(v[order[0]]) and abs(v[axis]) > 1e-6
    ]
    return "".join(letters)


def position_text(lps, decimals: int = 1) -> str:
    """A position as clinicians read it: "R 94.4 / A 14.0 / S 38.0" (mm), each coordinate
    with the letter of the side it lies on (as 3D Slicer and Horos show it)."""
    parts = []
    for axis, value in enumerate(np.asarray(lps, float)[:3]):
        letter = _LETTERS[(axis, 1 if value >= 0 else -1)]
        parts.append(f"{letter} {number(abs(value), decimals)}")
    return " / ".join(parts)


def offset_text(normal, position: float, decimals: int = 1) -> str:
    """A slice position along its normal as a side and a distance: "I 38.0 mm"."""
    side = np.asarray(normal, float) * (1 if position >= 0 else -1)
    return f"{direction_letter(side)} {number(abs(position), decimals)} mm"


def affine_from(origin, direction, spacing) -> np.ndarray:
    """4x4 voxel (i, j, k) -> LPS affine from origin, 3x3 direction (columns) and spacing."""
    affine = np.eye(4)
    affine[:3, :3] = np.asarray(direction, float) @ np.diag(np.asarray(spacing, float))
    affine[:3, 3] = np.asarray(origin, float)
    return affine
