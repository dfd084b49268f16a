"""The simulation grid around the target, the applicators' heat sources, and the
measures of an ablation zone (volumes, axes, coverage, margins)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .tissue import OUTSIDE, TUMOUR

# Microwave power deposition (2.45 GHz): power penetration depth in liver,
# 1 / (2 alpha) with alpha from the Gabriel et al. 1996 (Phys Med Biol 41:2271) liver
# permittivity 43 and conductivity 1.69 S/m at 2.45 GHz: about 10 mm.
PENETRATION_MM = 10.3
CORE_RADIUS_MM = 1.0  # the antenna's radius: no tissue inside it


@dataclass
class Grid:
    """An isotropic grid aligned with LPS: voxel (i, j, k) at origin + spacing * (i, j, k)."""

    origin: np.ndarray  # LPS mm of voxel (0, 0, 0)
    spacing: float  # mm
    shape: tuple[int, int, int]  # (k, j, i)

    @property
    def affine(self) -> np.ndarray:
        affine = np.eye(4)
        affine[:3, :3] *= self.spacing
        affine[:3, 3] = self.origin
        return affine

    def points(self) -> np.ndarray:
        """LPS mm of every voxel, shape (k, j, i, 3)."""
        k, j, i = np.indices(self.shape, dtype=np.float64)
        return self.origin + self.spacing * np.stack([i, j, k], axis=-1)

    def index_of(self, lps: np.ndarray) -> tuple[int, int, int]:
        """(k, j, i) of the voxel nearest to an LPS point (clipped to the grid)."""
        i, j, k = np.rint((np.asarray(lps) - self.origin) / self.spacing).astype(int)
        nk, nj, ni = self.shape
        return (int(np.clip(k, 0, nk - 1)), int(np.clip(j, 0, nj - 1)), int(np.clip(i, 0, ni - 1)))


def grid_around(center: np.ndarray, size_mm: float, spacing_mm: float) -> Grid:
    n = round(size_mm / spacing_mm) + 1
    origin = np.asarray(center, dtype=float) - spacing_mm * (n - 1) / 2
    return Grid(origin, spacing_mm, (n, n, n))


def resample_codes(codes: np.ndarray, affine: np.ndarray, grid: Grid) -> np.ndarray:
    """Tissue codes (indexed [k, j, i] with `affine`) on `grid`, nearest neighbour."""
    inverse = np.linalg.inv(affine)
    ijk = grid.points() @ inverse[:3, :3].T + inverse[:3, 3]
    coordinates = np.moveaxis(ijk[..., ::-1], -1, 0)  # (k, j, i) first
    return ndimage.map_coordinates(codes, coordinates, order=0, mode="constant", cval=OUTSIDE)


def applicator_axes(
    target: np.ndarray, entry: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit vectors: along the applicator (entry to target) and two perpendicular to it."""
    direction = np.asarray(target, float) - np.asarray(entry, float)
    length = np.linalg.norm(direction)
    if length < 1.0:
        raise ValueError("the entry point must be at least 1 mm from the target")
    axis = direction / length
    helper = np.array([0.0, 0.0, 1.0]) if abs(axis[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = np.cross(axis, helper)
    u /= np.linalg.norm(u)
    return axis, u, np.cross(axis, u)


def applicator_centres(
    target: np.ndarray, u: np.ndarray, v: np.ndarray, count: int, spacing_mm: float
) -> list[np.ndarray]:
    """Centres of the radiating sections: 1 at the target, 2 side by side, 3 in a triangle."""
    target = np.asarray(target, float)
    if count == 1:
        return [target]
    if count == 2:
        return [target + u * spacing_mm / 2, target - u * spacing_mm / 2]
    radius = spacing_mm / np.sqrt(3.0)  # equilateral triangle of side `spacing_mm`
    angles = 2 * np.pi * np.arange(count) / count
    return [target + radius * (np.cos(a) * u + np.sin(a) * v) for a in angles]


def microwave_source(
    grid: Grid, centres: list[np.ndarray], axis: np.ndarray, power_w: float, active_length_mm: float
) -> np.ndarray:
    """Absorbed power density (W/m^3) of parallel antennas, `power_w` absorbed by each.

    Each: radial decay exp(-r / delta) / r from the antenna (cylindrical spreading and
    absorption, delta = PENETRATION_MM), Gaussian along the axis with its full width at half
    maximum equal to the active length; normalised on the grid to deposit `power_w` exactly.
    """
    points = grid.points()
    voxel_m3 = (grid.spacing * 1e-3) ** 3
    total = np.zeros(grid.shape)
    sigma = active_length_mm / 2.3548
    for centre in centres:
        offset = points - centre
        along = offset @ axis
        radial = np.linalg.norm(offset - along[..., None] * axis, axis=-1)
        shape = np.exp(-radial / PENETRATION_MM) / np.maximum(radial, CORE_RADIUS_MM)
        shape *= np.exp(-0.5 * (along / sigma) ** 2)
        total += power_w * shape / (shape.sum() * voxel_m3)
    return total


def rf_source(
    grid: Grid, centres: list[np.ndarray], axis: np.ndarray, power_w: float, exposed_mm: float
) -> np.ndarray:
    """Absorbed power density (W/m^3) of parallel radiofrequency needle electrodes.

    Around a long electrode the current density falls as 1/r, so Joule heating as 1/r^2
    (quasi-static, uniform conductivity), over the exposed tip (`exposed_mm`, with
    rounded ends), normalised to deposit `power_w` per electrode.
    """
    points = grid.points()
    voxel_m3 = (grid.spacing * 1e-3) ** 3
    total = np.zeros(grid.shape)
    for centre in centres:
        offset = points - centre
        along = offset @ axis
        radial = np.linalg.norm(offset - along[..., None] * axis, axis=-1)
        beyond = np.maximum(np.abs(along) - exposed_mm / 2, 0.0)  # past the tip's ends
        distance = np.sqrt(radial**2 + beyond**2)
        shape = 1.0 / np.maximum(distance, CORE_RADIUS_MM) ** 2
        total += power_w * shape / (shape.sum() * voxel_m3)
    return total


def axes_lengths(
    zone: np.ndarray, grid: Grid, axis: np.ndarray, u: np.ndarray, v: np.ndarray
) -> tuple[float, float]:
    """Long axis (along the applicator) and short axis (widest across it) of a zone, mm."""
    if not zone.any():
        return 0.0, 0.0
    k, j, i = np.nonzero(zone)
    points = grid.origin + grid.spacing * np.stack([i, j, k], axis=-1)

    def extent(direction: np.ndarray) -> float:
        projection = points @ direction
        return float(projection.max() - projection.min() + grid.spacing)

    across = max(
        extent(np.cos(a) * u + np.sin(a) * v) for a in np.linspace(0, np.pi, 12, endpoint=False)
    )
    return extent(axis), across


def coverage(zone: np.ndarray, region: np.ndarray) -> float:
    """Percentage of `region` inside `zone`."""
    count = int(region.sum())
    return 100.0 * int((zone & region).sum()) / count if count else float("nan")


def margin_region(
    tumour: np.ndarray, tissue: np.ndarray, margin_mm: float, spacing: float
) -> np.ndarray:
    """The tumour grown by `margin_mm` (Euclidean), kept inside `tissue` (liver and tumours)."""
    distance = ndimage.distance_transform_edt(~tumour, sampling=spacing)
    return (distance <= margin_mm) & (tissue | tumour)


def minimal_margin(zone: np.ndarray, tumour: np.ndarray, spacing: float) -> float:
    """Smallest distance (mm) from the tumour to the zone's edge; negative when the tumour
    sticks out of the zone (then minus how far its farthest part lies outside)."""
    if not tumour.any():
        return float("nan")
    outside = tumour & ~zone
    if outside.any():
        return -float(ndimage.distance_transform_edt(~zone, sampling=spacing)[outside].max())
    inside = ndimage.distance_transform_edt(zone, sampling=spacing)
    return float(inside[tumour].min()) - spacing / 2


def target_tumour(codes: np.ndarray, index: tuple[int, int, int]) -> int:
    """The tumour code at the target voxel, else that of the nearest tumour voxel (0: none)."""
    if codes[index] >= TUMOUR:
        return int(codes[index])
    tumour = codes >= TUMOUR
    if not tumour.any():
        return 0
    _, nearest = ndimage.distance_transform_edt(~tumour, return_indices=True)
    return int(codes[tuple(nearest[:, index[0], index[1], index[2]])])
