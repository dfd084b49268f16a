"""A unipolar virtual electrogram (pseudo-ECG) at an electrode in an infinite homogeneous
volume conductor (Plonsey 1969; the form used by Gima & Rudy 2002 Circ Res 90:889):

    phi(t) = -K * integral over the tissue of grad v . grad(1/r) dV

with r the distance to the electrode (mm) and v the dimensionless Mitchell-Schaeffer
potential; K = a^2 sigma_i / (4 sigma_e) is left out, so phi is in arbitrary units (a.u.).

Discretisation: on the voxel grid, with no flux into non-conducting voxels (the same
boundary as the tissue model), the integral is the sum over pairs of face neighbours of
(v_b - v_a)(g_b - g_a) dV / h^2 (g = 1/r), which is linear in v: phi(t) = w . v(t) with
weights w computed once. Interior weights are the discrete Laplacian of 1/r, which is
nearly zero away from the electrode, so w is concentrated on the tissue's boundary (the
integral equals a surface integral of v d(1/r)/dn); the interior weights still add up
coherently over a large activated region, so every node is used (protocol._observe reduces
each chunk of recorded potentials to phi at once, keeping memory to one chunk).
"""

from __future__ import annotations

import numpy as np

from meditwin_desktop.core.twin import tr


def weights(
    index: np.ndarray, shape: tuple[int, int, int], affine: np.ndarray, electrode_lps
) -> np.ndarray:
    """Weights w (n,) with phi = w . v for nodes at grid positions `index` (n, 3) (k, j, i)."""
    electrode = np.asarray(electrode_lps, float)
    affine = np.asarray(affine, float)
    positions = index[:, ::-1] @ affine[:3, :3].T + affine[:3, 3]
    g = 1.0 / np.maximum(np.linalg.norm(positions - electrode, axis=1), 1e-3)
    spacing_kji = np.linalg.norm(affine[:3, :3], axis=0)[::-1]
    volume = float(np.prod(spacing_kji))
    node_of = np.full(shape, -1, np.int64)
    node_of[tuple(index.T)] = np.arange(len(index))
    w = np.zeros(len(index))
    for axis in range(3):
        step = np.zeros(3, int)
        step[axis] = 1
        neighbour = index + step
        ok = neighbour[:, axis] < shape[axis]
        a = np.flatnonzero(ok)
        b = node_of[tuple(neighbour[ok].T)]
        a, b = a[b >= 0], b[b >= 0]
        c = -volume / spacing_kji[axis] ** 2 * (g[b] - g[a])
        np.add.at(w, b, c)
        np.subtract.at(w, a, c)
    return w


def electrode_note(inside_body: bool | None, in_myocardium: bool, checked: bool = True) -> str:
    """Why the electrogram is not shown or what it means ('' when it is a normal one).
    `inside_body` None with `checked`: the electrode lies outside the image."""
    if not checked:
        return tr(
            "No body outline label in this case: the electrode's position was not checked "
            "(the electrogram assumes it lies in the torso, off the heart)."
        )
    if inside_body is None:
        return tr(
            "The electrode lies outside the image: it cannot be checked against the body "
            "outline (the electrogram assumes it is in the torso)."
        )
    if inside_body is False:
        return tr(
            "The electrode lies outside the body outline: no electrogram (place it on "
            "the chest or in the torso)."
        )
    if in_myocardium:
        return tr(
            "The electrode lies in the myocardium: the curve is a local (contact) "
            "electrogram dominated by the tissue under it, not a far-field pseudo-ECG."
        )
    return ""
