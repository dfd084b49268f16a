"""Rule-based myocardial fibres: a helix angle varying linearly across the wall.

At every myocardial voxel a local frame: transmural e_t (gradient of the transmural
coordinate, endo -> epi), circumferential e_c = long_axis x e_t, and e_l = e_t x e_c (the
base -> apex direction in the wall's tangent plane). The fibre is e_c rotated about e_t by
the helix angle alpha(t) = alpha_endo + (alpha_epi - alpha_endo) * t (t: 0 endo .. 1 epi):
f = cos(alpha) e_c + sin(alpha) e_l. Fibres are axes (f and -f are the same fibre); with
the usual sign convention (circumferential counter-clockwise seen from the base, apex ->
base longitudinal, angle positive counter-clockwise seen from outside) this is a helix of
+alpha_endo at the endocardium and alpha_epi at the epicardium.

Sources: Streeter DD et al., Circ Res 1969;24:339-347 (helix angle varies smoothly, about
+60 deg endocardium to -60 deg epicardium); Bayer JD et al., Ann Biomed Eng
2012;40:2243-2254 (LDRB rule-based fibres; alpha_endo = +60, alpha_epi = -60 used here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import ndimage

HELIX_ENDO_DEG = 60.0
HELIX_EPI_DEG = -60.0


def _unit(v: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Rows of `v` (..., 3) normalised; rows shorter than 1e-6 replaced by `fallback`'s."""
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    small = norm < 1e-6
    return np.where(small, fallback, v / np.where(small, 1.0, norm))


def transmural_direction(inputs: Mapping[str, Any]) -> np.ndarray:
    """Unit endo -> epi direction (n, 3) LPS at each myocardial voxel (np.nonzero order):
    gradient of the transmural coordinate smoothed inside the wall (normalised Gaussian,
    sigma 1 voxel); where it vanishes, the radial direction away from the long axis."""
    myo = np.asarray(inputs["myocardium"], bool)
    affine = np.asarray(inputs["affine"], float)
    t = np.asarray(inputs["transmural"], np.float32)
    weight = ndimage.gaussian_filter(myo.astype(np.float32), 1.0)
    smooth = ndimage.gaussian_filter(np.where(myo, t, 0.0).astype(np.float32), 1.0)
    smooth = np.where(weight > 1e-3, smooth / np.maximum(weight, 1e-3), 0.0)
    kji = np.nonzero(myo)
    grads_kji = [g[kji] for g in np.gradient(smooth)]  # d/dk, d/dj, d/di (per voxel)
    # gradient in LPS: d/dx = sum over index axes of (d/d index) * (d index / dx)
    inverse = np.linalg.inv(affine[:3, :3])  # rows: d(i, j, k)/d(x, y, z)
    g_ijk = np.stack(grads_kji[::-1], axis=1)  # (n, 3) in i, j, k
    grad = g_ijk @ inverse
    axis = np.asarray(inputs["long_axis"], float)
    points = np.stack(kji[::-1], axis=1) @ affine[:3, :3].T + affine[:3, 3]
    pool = np.argwhere(np.asarray(inputs["blood_pool"], bool))[:, ::-1]
    centre = pool.mean(axis=0) if len(pool) else np.stack(kji[::-1], 1).mean(0)
    centre = affine[:3, :3] @ centre + affine[:3, 3]
    offset = points - centre
    radial = offset - np.outer(offset @ axis, axis)
    radial = _unit(radial, axis)
    return _unit(grad, radial)


def fibre_field(
    inputs: Mapping[str, Any],
    helix_endo_deg: float = HELIX_ENDO_DEG,
    helix_epi_deg: float = HELIX_EPI_DEG,
) -> np.ndarray:
    """Unit fibre directions, float32 [k, j, i, 3] in LPS on the crop of `inputs`
    (`anatomy.prepare`), zero outside the myocardium."""
    myo = np.asarray(inputs["myocardium"], bool)
    axis = np.asarray(inputs["long_axis"], float)
    e_t = transmural_direction(inputs)
    any_perpendicular = np.cross(axis, [1.0, 0.0, 0.0] if abs(axis[0]) < 0.9 else [0, 1.0, 0])
    e_c = _unit(np.cross(axis, e_t), any_perpendicular / np.linalg.norm(any_perpendicular))
    e_l = np.cross(e_t, e_c)
    t = np.asarray(inputs["transmural"], np.float32)[myo].astype(float)
    alpha = np.radians(helix_endo_deg + (helix_epi_deg - helix_endo_deg) * t)[:, None]
    fibres = np.zeros((*myo.shape, 3), np.float32)
    fibres[myo] = (np.cos(alpha) * e_c + np.sin(alpha) * e_l).astype(np.float32)
    return fibres
