"""The vessel network measured on (or drawn into) a fundus photograph, in pixels: the one
data type the image analysis, the measures and the flow model share."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from meditwin_desktop.core.twin import N_

UNKNOWN, ARTERY, VEIN = 0, 1, 2
KIND_NAMES = {UNKNOWN: N_("unknown"), ARTERY: N_("artery"), VEIN: N_("vein")}


@dataclass(frozen=True)
class Disc:
    """The optic disc: centre (row, column) and radius in pixels; `confidence` in [0, 1]."""

    row: float
    col: float
    radius_px: float
    confidence: float = 1.0

    @property
    def diameter_px(self) -> float:
        """Disc diameter in pixels."""
        return 2.0 * self.radius_px

    def distance(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Distance in pixels of points from the disc centre."""
        return np.hypot(np.asarray(rows, float) - self.row, np.asarray(cols, float) - self.col)


@dataclass
class VesselNetwork:
    """Vessel segments between nodes (bifurcations, crossings, ends), in image pixels.

    `edges[k] = (start, end)`: for a tree traced from the disc, `start` is the end nearer
    the disc. `paths[k]` is the segment's centre line, (N, 2) integer (row, column) from
    start to end; `widths_px[k]` the calibre at each of those points (when measured);
    `diameter_px[k]` the segment's representative calibre (median over its central part).
    `kind[k]` is ARTERY, VEIN or UNKNOWN; `av_confidence[k]` in [0, 1].
    """

    nodes: np.ndarray  # (M, 2) float (row, column)
    edges: np.ndarray  # (K, 2) int node indices
    diameter_px: np.ndarray  # (K,) float
    length_px: np.ndarray  # (K,) float, along the centre line
    kind: np.ndarray  # (K,) int8
    paths: list[np.ndarray]  # K arrays (N_k, 2) int (row, column)
    disc: Disc
    shape: tuple[int, int]  # the photograph's (rows, columns)
    widths_px: list[np.ndarray] = field(default_factory=list)  # K arrays (N_k,), optional
    av_confidence: np.ndarray | None = None  # (K,) float

    @property
    def n_edges(self) -> int:
        """Number of segments."""
        return len(self.edges)

    def degree(self) -> np.ndarray:
        """Number of segments meeting at each node."""
        return np.bincount(np.asarray(self.edges, int).ravel(), minlength=len(self.nodes))

    def subset(self, keep: np.ndarray) -> VesselNetwork:
        """The same network with only the segments where `keep` (bool, (K,)) is true (nodes
        kept, so indices stay valid)."""
        keep = np.asarray(keep, bool)
        index = np.flatnonzero(keep)
        return VesselNetwork(
            nodes=self.nodes, edges=self.edges[keep], diameter_px=self.diameter_px[keep],
            length_px=self.length_px[keep], kind=self.kind[keep],
            paths=[self.paths[i] for i in index], disc=self.disc, shape=self.shape,
            widths_px=[self.widths_px[i] for i in index] if self.widths_px else [],
            av_confidence=None if self.av_confidence is None else self.av_confidence[keep],
        )  # fmt: skip

    def paint(self, values: np.ndarray) -> np.ndarray:
        """Float image: each segment's value on its centre line widened to its calibre
        (per-point widths when measured), nan elsewhere and where a segment's value is nan
        (the flow on each vessel, its artery/vein code...)."""
        value = np.full(self.shape, np.nan)
        radius = np.zeros(self.shape)
        centre = np.zeros(self.shape, bool)
        rows, columns = self.shape
        for k, path in enumerate(self.paths):
            if not np.isfinite(values[k]):
                continue
            path = np.asarray(path, int).reshape(-1, 2)
            inside = (path[:, 0] >= 0) & (path[:, 0] < rows)
            inside &= (path[:, 1] >= 0) & (path[:, 1] < columns)
            r = np.full(len(path), self.diameter_px[k] / 2.0)
            if self.widths_px and len(self.widths_px[k]) == len(path):
                half = np.asarray(self.widths_px[k], float) / 2.0
                r = np.where(np.isfinite(half) & (half > 0), half, r)
            path, r = path[inside], r[inside]
            value[path[:, 0], path[:, 1]] = values[k]
            radius[path[:, 0], path[:, 1]] = np.maximum(r, 0.5)
            centre[path[:, 0], path[:, 1]] = True
        if not centre.any():
            return value
        distance, (ri, ci) = ndimage.distance_transform_edt(~centre, return_indices=True)
        out = value[ri, ci]
        out[distance > radius[ri, ci]] = np.nan
        return out

    def edge_map(self) -> np.ndarray:
        """(rows, columns) int image: index k of the segment whose centre line passes
        through a pixel, -1 elsewhere."""
        image = np.full(self.shape, -1, np.int32)
        for k, path in enumerate(self.paths):
            path = np.asarray(path, int)
            inside = (path[:, 0] >= 0) & (path[:, 0] < self.shape[0])
            inside &= (path[:, 1] >= 0) & (path[:, 1] < self.shape[1])
            image[path[inside, 0], path[inside, 1]] = k
        return image


def path_normals(path: np.ndarray, k: int = 3) -> np.ndarray:
    """Unit normal (row, column) at each point of a centre line, from the chord between the
    points k before and k after it ((0, 1)'s normal where the chord is empty)."""
    path = np.asarray(path, float)
    n = len(path)
    lo = np.clip(np.arange(n) - k, 0, n - 1)
    hi = np.clip(np.arange(n) + k, 0, n - 1)
    tangent = path[hi] - path[lo]
    norm = np.hypot(tangent[:, 0], tangent[:, 1])
    tangent[norm == 0] = (0.0, 1.0)
    norm[norm == 0] = 1.0
    tangent /= norm[:, None]
    return np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
