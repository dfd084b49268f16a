"""Label map -> smooth closed surfaces per label, with VTK's SurfaceNets (vtkSurfaceNets3D).

SurfaceNets is VTK's filter built for label maps: one pass over the whole map, shared
boundaries between touching labels, constrained smoothing (Schroeder et al., 2022).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyvista as pv
import vtk

from meditwin_desktop.core.imaging.volume import LabelMap
from meditwin_desktop.core.imaging.vtk_bridge import index_image, transform_points
from meditwin_desktop.core.progress import (
    CancelledFn,
    ProgressFn,
    check_cancelled,
    never_cancelled,
    no_progress,
)


def _cluster(surface: pv.PolyData, max_triangles: int, voxel_mm: float) -> pv.PolyData:
    """Fewer triangles by merging vertices on a grid about sqrt(n/max) voxels wide."""
    cell_mm = voxel_mm * float(np.sqrt(surface.n_cells / max_triangles))
    extent = np.array(surface.bounds).reshape(3, 2) @ np.array([-1.0, 1.0])
    clustering = vtk.vtkQuadricClustering()
    clustering.SetInputData(surface)
    clustering.SetNumberOfDivisions(*np.maximum(np.ceil(extent / cell_mm), 2).astype(int))
    clustering.Update()
    return pv.wrap(clustering.GetOutput())


def label_surfaces(
    label_map: LabelMap,
    values: Iterable[int] | None = None,
    *,
    smoothing_iterations: int = 16,
    max_triangles: int | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> dict[int, pv.PolyData]:
    """Closed triangle surfaces in LPS mm for each requested label present in the map.

    `max_triangles` caps each surface by quadric clustering (VTK's fast linear-time
    decimation: 0.2 s for a million triangles, where quadric decimation takes 10 s), for
    display, since a software OpenGL renders a million triangles slowly; exports keep the
    full resolution.
    """
    present = set(np.unique(label_map.volume.array).tolist()) - {0}
    wanted = sorted(present if values is None else present & set(values))
    if not wanted:
        return {}
    progress(0.05, "Extracting surfaces")
    nets = vtk.vtkSurfaceNets3D()
    nets.SetInputData(index_image(label_map.volume.array))
    nets.SetNumberOfLabels(len(wanted))
    for index, value in enumerate(wanted):
        nets.SetLabel(index, value)  # labels not listed count as background
    nets.SetOutputMeshTypeToTriangles()
    nets.SetSmoothing(smoothing_iterations > 0)
    nets.SetNumberOfIterations(max(smoothing_iterations, 1))
    nets.Update()
    check_cancelled(cancelled)
    mesh = pv.wrap(nets.GetOutput())
    if mesh.n_cells == 0:
        return {}
    boundary = np.asarray(mesh.cell_data["BoundaryLabels"])
    triangles = mesh.faces.reshape(-1, 4)[:, 1:]
    points = transform_points(np.asarray(mesh.points, float), label_map.volume.affine)
    surfaces: dict[int, pv.PolyData] = {}
    for n, value in enumerate(wanted):
        check_cancelled(cancelled)
        progress(0.5 + 0.5 * n / len(wanted), f"Surface {n + 1}/{len(wanted)}")
        selected = triangles[(boundary == value).any(axis=1)]
        if len(selected) == 0:
            continue
        used, inverse = np.unique(selected, return_inverse=True)
        faces = np.column_stack([np.full(len(selected), 3), inverse.reshape(-1, 3)])
        surface = pv.PolyData(points[used], faces.ravel())
        if max_triangles and surface.n_cells > max_triangles:
            surface = _cluster(surface, max_triangles, float(label_map.volume.spacing.mean()))
        surfaces[value] = surface.compute_normals(split_vertices=False, auto_orient_normals=False)
    progress(1.0, "Surfaces ready")
    return surfaces
