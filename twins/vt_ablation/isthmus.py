"""The isthmus of a re-entrant VT: the narrow conducting passage bounded by scar on both
sides that the circuit goes through (Stevenson et al. 1993 Circulation 88:1647; de Chillou
et al. 2002 Circulation 105:726), found from the VT's activation map and the tissue codes.

A conducting node is *flanked* when, along one of the 13 grid directions, marching through
conducting tissue reaches a barrier (dense scar or an earlier lesion) within `reach_mm` on
both sides; marching stops at non-myocardium (the cavity or outside), so the endocardial and
epicardial surfaces do not flank. Flanked nodes that the VT activates form passages
(26-connected pieces); the isthmus is the piece holding most nodes that activate near the
cycle's quietest moment (the wavefront in the narrow, slow pathway: `protocol.cycle_map`
starts its clock there). Its direction of conduction is the least-squares gradient of the
activation time over it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

REACH_MM = 10.0  # channels in post-infarct scar are 2-20 mm wide (de Chillou 2002: most
# isthmuses < 30 mm long, widths of a few mm to ~15 mm): 10 mm either side covers 20 mm
QUIET_FRACTION = 0.15  # of the cycle, either side of its quietest moment


@dataclass
class Isthmus:
    """The isthmus of one VT."""

    nodes: np.ndarray  # node indices
    centroid_lps: np.ndarray  # (3,) mm: of its nodes, moved to the nearest of them
    direction: np.ndarray  # (3,) unit vector of conduction along it (LPS)

    @property
    def size(self) -> int:
        """Number of nodes."""
        return len(self.nodes)


def _directions() -> list[np.ndarray]:
    steps = [np.array(d) for d in itertools.product((-1, 0, 1), repeat=3) if any(d)]
    return [d for d in steps if tuple(d) > (0, 0, 0)]  # one of each opposite pair: 13


def flanked(
    index: np.ndarray,
    shape: tuple[int, int, int],
    spacing_kji: np.ndarray,
    conducting: np.ndarray,
    barrier: np.ndarray,
    reach_mm: float = REACH_MM,
) -> np.ndarray:
    """Which nodes (rows of `index`, (k, j, i)) have a barrier within `reach_mm` on both
    sides along some direction, marching through conducting voxels only."""
    result = np.zeros(len(index), bool)
    size = np.array(shape)
    for d in _directions():
        step_mm = float(np.linalg.norm(d * spacing_kji))
        steps = max(int(reach_mm // step_mm), 1)
        hits = []
        for sign in (1, -1):
            alive = np.ones(len(index), bool)
            hit = np.zeros(len(index), bool)
            for s in range(1, steps + 1):
                where = index + sign * s * d
                inside = np.all((where >= 0) & (where < size), axis=1)
                alive &= inside
                k, j, i = np.where(alive[:, None], where, 0).T
                hit |= alive & barrier[k, j, i]
                alive &= conducting[k, j, i]
                if not alive.any():
                    break
            hits.append(hit)
        result |= hits[0] & hits[1]
    return result


def find(
    index: np.ndarray,
    shape: tuple[int, int, int],
    affine: np.ndarray,
    codes: np.ndarray,
    barrier: np.ndarray,
    activation: np.ndarray,
    cycle_ms: float,
    reach_mm: float = REACH_MM,
) -> Isthmus | None:
    """The isthmus of a VT from its cycle map `activation` (n,) (nan: not activated) on the
    grid of `codes` (uint8 [k, j, i]: 1, 2 conduct); None when no flanked passage is active."""
    spacing_kji = np.linalg.norm(np.asarray(affine)[:3, :3], axis=0)[::-1]
    conducting = (codes == 1) | (codes == 2)
    active = np.isfinite(activation)
    candidates = flanked(index, shape, spacing_kji, conducting, barrier, reach_mm) & active
    if not candidates.any():
        return None
    grid = np.zeros(shape, bool)
    grid[tuple(index[candidates].T)] = True
    pieces, count = ndimage.label(grid, structure=np.ones((3, 3, 3), bool))
    node_piece = pieces[tuple(index.T)] * candidates
    quiet = active & (
        (activation <= QUIET_FRACTION * cycle_ms) | (activation >= (1 - QUIET_FRACTION) * cycle_ms)
    )
    quiet_counts = np.bincount(node_piece[quiet], minlength=count + 1)[1:]
    sizes = np.bincount(node_piece, minlength=count + 1)[1:]
    score = quiet_counts * (sizes.max() + 1) + sizes  # quiet nodes first, then size
    best = int(np.argmax(score)) + 1
    nodes = np.flatnonzero(node_piece == best)
    points = np.column_stack([index[nodes][:, ::-1], np.ones(len(nodes))]) @ affine[:3].T
    centroid = points.mean(axis=0)
    centroid = points[int(np.argmin(np.linalg.norm(points - centroid, axis=1)))]
    return Isthmus(nodes, centroid, _direction(points, activation[nodes], cycle_ms))


def _direction(points: np.ndarray, times: np.ndarray, cycle_ms: float) -> np.ndarray:
    """Unit direction of conduction: gradient of activation time (unwrapped around the
    cycle's cut) by least squares; the points' long axis when that is degenerate."""
    unwrapped = np.where(times > 0.5 * cycle_ms, times - cycle_ms, times)
    centred = points - points.mean(axis=0)
    if len(points) >= 4:
        design = np.column_stack([centred, np.ones(len(points))])
        gradient = np.linalg.lstsq(design, unwrapped, rcond=None)[0][:3]
        norm = float(np.linalg.norm(gradient))
        if norm > 1e-9:
            return gradient / norm
    if len(points) >= 2:
        return np.linalg.svd(centred, full_matrices=False)[2][0]
    return np.array([1.0, 0.0, 0.0])
