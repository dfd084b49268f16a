"""Label map -> smooth closed surfaces per label, with VTK's SurfaceNets (vtkSurfaceNets3D).

SurfaceNets is VTK's filter built for label maps: one pass over the whole map, shared
boundaries between touching labels, constrained smoothing (Schroeder et al., 2022). It
plays the part of flying edges + windowed-sinc smoothing, and its meshes are closed.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyvista as pv
from vtkmodules.vtkFiltersCore import vtkQuadricDecimation, vtkSurfaceNets3D

from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.volume import LabelMap
from meditwin_desktop.core.imaging.vtk_bridge import index_image, transform_points
from meditwin_desktop.core.progress import (
    CancelledFn,
    ProgressFn,
    check_cancelled,
    never_cancelled,
    no_progress,
)


def _extract(
    array: np.ndarray, affine: np.ndarray, values: list[int], iterations: int
) -> dict[int, pv.PolyData]:
    """SurfaceNets over `array` for `values`, split per label, points in LPS mm.

    The array is padded by one empty voxel, so a label touching the image border still
    gives a closed (printable) surface.
    """
    padded = np.pad(array, 1)
    affine = affine @ np.array([[1, 0, 0, -1], [0, 1, 0, -1], [0, 0, 1, -1], [0, 0, 0, 1.0]])
    nets = vtkSurfaceNets3D()
    nets.SetInputData(index_image(padded))
    nets.SetNumberOfLabels(len(values))
    for index, value in enumerate(values):
        nets.SetLabel(index, value)  # labels not listed count as background
    nets.SetOutputMeshTypeToTriangles()
    nets.SetSmoothing(iterations > 0)
    nets.SetNumberOfIterations(max(iterations, 1))
    nets.Update()
    mesh = pv.wrap(nets.GetOutput())
    if mesh.n_cells == 0:
        return {}
    # regular_faces is a zero-copy view of VTK's connectivity and from_regular_faces
    # builds the cells without a Python-side loop: `faces` and `PolyData(points, faces)`
    # each held the GIL ~80 ms on a 1.2 M-triangle surface, stalling the GUI thread.
    triangles = mesh.regular_faces
    points = transform_points(np.asarray(mesh.points, float), affine)
    if len(values) == 1:
        return {values[0]: pv.PolyData.from_regular_faces(points, triangles)}
    boundary = np.asarray(mesh.cell_data["BoundaryLabels"])
    surfaces = {}
    for value in values:
        selected = triangles[(boundary == value).any(axis=1)]
        if len(selected) == 0:
            continue
        used, inverse = np.unique(selected, return_inverse=True)
        surfaces[value] = pv.PolyData.from_regular_faces(points[used], inverse.reshape(-1, 3))
    return surfaces


# a surface keeps at least this many triangles (or all it has) under a display budget: small
# structures (a 3 k-triangle tumour) would turn faceted long before the budget notices them
_FLOOR_STILL = 4_000
_FLOOR_INTERACTION = 1_500


def label_surfaces(
    label_map: LabelMap,
    values: Iterable[int] | None = None,
    *,
    smoothing_iterations: int = 16,
    max_triangles: int | None = None,
    interaction_triangles: int | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> dict[int, pv.PolyData]:
    """Closed triangle surfaces in LPS mm for each requested label present in the map.

    `max_triangles` (for display: software OpenGL draws ~3 k triangles per ms) is the
    budget of all the surfaces together, shared in proportion to their triangle counts
    (a small one keeps its detail). A surface far over its share is re-extracted from
    the label sampled every f-th voxel (closed and smooth), one a little over it is
    decimated (quadric error, the shape kept). With a budget, each surface also carries
    a lighter copy for drawing while the view moves (see `interaction_surface`), within
    `interaction_triangles` in all (default a quarter of the budget). Exports pass no
    budget and keep full detail.
    """
    array = label_map.volume.array
    present = set(np.unique(array).tolist()) - {0}
    wanted = sorted(present if values is None else present & set(values))
    if not wanted:
        return {}
    progress(0.05, tr("Extracting surfaces"))
    affine = label_map.volume.affine
    surfaces = _extract(array, affine, wanted, smoothing_iterations)
    check_cancelled(cancelled)
    counts = {value: mesh.n_cells for value, mesh in surfaces.items()}
    still = _shares(counts, max_triangles, _FLOOR_STILL) if max_triangles else counts
    if max_triangles and interaction_triangles is None:
        interaction_triangles = max_triangles // 4
    moving = _shares(still, interaction_triangles, _FLOOR_INTERACTION) if max_triangles else {}
    for n, value in enumerate(list(surfaces)):
        check_cancelled(cancelled)
        progress(
            0.5 + 0.5 * n / len(surfaces),
            tr("Surface {n}/{total}").format(n=n + 1, total=len(surfaces)),
        )
        target = still[value]
        if surfaces[value].n_cells >= 4 * target:  # a coarser grid first: much faster
            step = int(np.sqrt(surfaces[value].n_cells / target))
            coarse = affine @ np.diag([step, step, step, 1.0])
            surfaces.update(
                _extract(array[::step, ::step, ::step], coarse, [value], smoothing_iterations)
            )
        mesh = _normals(_decimate(surfaces[value], target))
        if value in moving and moving[value] < mesh.n_cells:
            lighter = _normals(_decimate(mesh, moving[value]))
            _set_attribute(mesh, _LIGHTER, lighter)
        surfaces[value] = mesh
    progress(1.0, tr("Surfaces ready"))
    return surfaces


_LIGHTER = "meditwin_interaction_surface"
# pyvista >= 0.45 refuses new public attributes unless set this way
_set_attribute = getattr(pv, "set_new_attribute", setattr)


def interaction_surface(mesh: pv.PolyData) -> pv.PolyData | None:
    """The lighter copy of a display surface drawn while the view moves (None: none)."""
    return getattr(mesh, _LIGHTER, None)


def _shares(counts: dict[int, int], budget: int | None, floor: int) -> dict[int, int]:
    """Triangles each surface may keep so that all keep about `budget` in total.

    Each keeps the same fraction r of its triangles (uniform detail on screen), but at
    least `floor` (or all it has): r found by bisection.
    """
    if not budget or sum(counts.values()) <= budget:
        return dict(counts)

    def kept(r: float) -> dict[int, int]:
        return {v: min(n, max(int(n * r), floor)) for v, n in counts.items()}

    low, high = 0.0, 1.0
    for _ in range(40):
        middle = (low + high) / 2
        if sum(kept(middle).values()) > budget:
            high = middle
        else:
            low = middle
    return kept(low)


def _decimate(mesh: pv.PolyData, target: int) -> pv.PolyData:
    """The mesh with about `target` triangles (quadric decimation, volume kept), or itself."""
    if mesh.n_cells <= target:
        return mesh
    decimate = vtkQuadricDecimation()
    decimate.SetInputData(mesh)
    decimate.SetTargetReduction(1.0 - target / mesh.n_cells)
    decimate.VolumePreservationOn()
    decimate.Update()
    return pv.wrap(decimate.GetOutput())


def _normals(mesh: pv.PolyData) -> pv.PolyData:
    """Point normals for smooth shading, computed here (off the GUI thread), once."""
    return mesh.compute_normals(split_vertices=False, auto_orient_normals=False)


def mask_surface(
    mask: np.ndarray,
    affine: np.ndarray,
    *,
    smoothing_iterations: int = 16,
    max_triangles: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A closed, smoothed triangle surface of a boolean mask indexed [k, j, i] (SurfaceNets):
    points (p, 3) in LPS mm and faces (m, 3); empty arrays for an empty mask. Twins reach it
    through `core.twin.mask_surface` (results drawn on the surface: activation maps)."""
    surfaces = _extract(np.asarray(mask, np.uint8), np.asarray(affine, float), [1],
                        smoothing_iterations)  # fmt: skip
    if 1 not in surfaces:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int64)
    mesh = surfaces[1]
    if max_triangles and mesh.n_cells > max_triangles:
        mesh = _decimate(mesh, max_triangles)
    return np.asarray(mesh.points, float), np.asarray(mesh.regular_faces, np.int64)
