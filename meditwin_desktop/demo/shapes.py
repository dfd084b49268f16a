"""Painting analytic shapes (ellipsoids, cylinders, tapered tubes) into a label + HU grid."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Canvas:
    """A label map and an HU image on an axis-aligned LPS grid, painted shape by shape."""

    def __init__(
        self, shape: tuple[int, int, int], spacing: Sequence[float], origin: Sequence[float]
    ):
        nk, nj, ni = shape
        self.spacing = np.asarray(spacing, float)  # (di, dj, dk)
        self.origin = np.asarray(origin, float)
        self.x = (self.origin[0] + self.spacing[0] * np.arange(ni)).astype(np.float32)
        self.y = (self.origin[1] + self.spacing[1] * np.arange(nj)).astype(np.float32)
        self.z = (self.origin[2] + self.spacing[2] * np.arange(nk)).astype(np.float32)
        self.labels = np.zeros(shape, np.uint8)
        self.hu = np.full(shape, -1000.0, np.float32)

    def box(self, lo: Sequence[float], hi: Sequence[float]):
        """Index slices and broadcastable x, y, z coordinates of an LPS bounding box."""

        def axis(coords: np.ndarray, a: float, b: float) -> slice:
            start = int(np.searchsorted(coords, a, side="left"))
            stop = int(np.searchsorted(coords, b, side="right"))
            return slice(start, max(start, stop))

        si, sj, sk = (
            axis(c, a, b) for c, a, b in zip((self.x, self.y, self.z), lo, hi, strict=True)
        )
        x = self.x[si][None, None, :]
        y = self.y[sj][None, :, None]
        z = self.z[sk][:, None, None]
        return (sk, sj, si), x, y, z

    def paint(self, region, mask: np.ndarray, label: int, hu: float | np.ndarray, *, only=None):
        """Set label and HU where `mask` holds in `region` (optionally only over labels `only`)."""
        mask = np.broadcast_to(mask, self.labels[region].shape)
        if only is not None:
            mask = mask & np.isin(self.labels[region], only)
        self.labels[region][mask] = label
        if np.ndim(hu) == 0:
            self.hu[region][mask] = hu
        else:
            self.hu[region][mask] = np.broadcast_to(hu, mask.shape)[mask]

    def ellipsoid(self, center, semi, label: int, hu, *, rotation=None, only=None, where=None):
        """Paint an ellipsoid; `rotation` columns are its local axes in LPS."""
        c = np.asarray(center, float)
        s = np.asarray(semi, float)
        r = np.eye(3) if rotation is None else np.asarray(rotation, float)
        extent = np.sqrt(((r * s) ** 2).sum(axis=1))
        region, x, y, z = self.box(c - extent, c + extent)
        d = (x - c[0], y - c[1], z - c[2])
        total = 0.0
        for axis in range(3):
            local = d[0] * r[0, axis] + d[1] * r[1, axis] + d[2] * r[2, axis]
            total = total + (local / s[axis]) ** 2
        mask = total <= 1.0
        if where is not None:
            mask &= where(x, y, z)
        self.paint(region, mask, label, hu, only=only)

    def tube(self, points, radii, label: int, hu, *, only=None):
        """Paint a polyline tube whose radius varies linearly between its points."""
        points = np.asarray(points, float)
        radii = np.broadcast_to(np.asarray(radii, float), (len(points),))
        for (a, ra), (b, rb) in zip(
            zip(points[:-1], radii[:-1], strict=True),
            zip(points[1:], radii[1:], strict=True),
            strict=True,
        ):
            pad = max(ra, rb)
            region, x, y, z = self.box(np.minimum(a, b) - pad, np.maximum(a, b) + pad)
            d = b - a
            length2 = float(d @ d)
            px, py, pz = x - a[0], y - a[1], z - a[2]
            t = np.clip((px * d[0] + py * d[1] + pz * d[2]) / length2, 0.0, 1.0)
            dist2 = (px - t * d[0]) ** 2 + (py - t * d[1]) ** 2 + (pz - t * d[2]) ** 2
            self.paint(region, dist2 <= (ra + (rb - ra) * t) ** 2, label, hu, only=only)
