"""Personalised positions: pacing sites, a virtual electrode and placeholder lesion points,
from the prepared inputs (anatomy.prepare) and the tissue codes.

Pacing sites follow the clinical programmed-stimulation sites (RV apex and a second site;
Wellens 1972; the virtual-heart studies pace from several LV sites: Arevalo 2016 used 19
sites, Prakosa 2018 7): all three on the healthy left-ventricular endocardium:
1. the apical septum (the LV side of the RV apex, the usual clinical site);
2. the lateral base (far from an antero-septal or inferior scar);
3. near the scar: the healthy endocardium 3-8 mm from the scar or border zone, closest
   to their centre (pacing next to the substrate is the most inducing site).
The septum faces the right ventricle: right-anterior in the patient (LPS -x, -y).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import ndimage

from meditwin_desktop.core.twin import number, tr

SEPTAL = np.array([-1.0, -1.0, 0.0]) / np.sqrt(2.0)  # towards the RV: right, anterior (LPS)
ANTERIOR_LEFT = np.array([1.0, -1.0, 0.0]) / np.sqrt(2.0)  # a precordial (V4-V5-like) lead
ELECTRODE_GAP_MM = 20.0  # electrode distance beyond the epicardium
NEAR_SCAR_MM = (3.0, 8.0)


def _positions(mask: np.ndarray, affine: np.ndarray) -> np.ndarray:
    return np.argwhere(mask)[:, ::-1] @ affine[:3, :3].T + affine[:3, 3]


def _perpendicular(direction: np.ndarray, axis: np.ndarray) -> np.ndarray:
    d = direction - (direction @ axis) * axis
    return d / np.linalg.norm(d)


def pacing_sites(inputs: Mapping[str, Any], codes: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """Three (LPS point, provenance) pairs on the healthy endocardium (see module doc)."""
    affine = np.asarray(inputs["affine"], float)
    myo = np.asarray(inputs["myocardium"], bool)
    pool = np.asarray(inputs["blood_pool"], bool)
    axis = np.asarray(inputs["long_axis"], float)
    spacing = np.linalg.norm(affine[:3, :3], axis=0)[::-1]
    endo = (codes == 1) & ndimage.binary_dilation(pool, structure=np.ones((3, 3, 3), bool))
    if not endo.any():
        endo = codes == 1
    if not endo.any():
        endo = myo
    points = _positions(endo, affine)
    wall = _positions(myo, affine)
    centre = wall.mean(axis=0)
    along = (wall - centre) @ axis
    low, high = float(along.min()), float(along.max())
    s = ((points - centre) @ axis - low) / max(high - low, 1e-9)  # 0 base .. 1 apex
    radial = points - centre - np.outer((points - centre) @ axis, axis)
    radial /= np.maximum(np.linalg.norm(radial, axis=1, keepdims=True), 1e-9)
    septal = _perpendicular(SEPTAL, axis)

    def best(score: np.ndarray, band: tuple[float, float]) -> np.ndarray:
        score = np.where((s >= band[0]) & (s <= band[1]), score, -np.inf)
        if not np.isfinite(score).any():
            score = np.where(np.isfinite(score), score, 0.0)
        return points[int(np.argmax(score))]

    sites = [
        (
            best(radial @ septal, (0.65, 0.85)),
            tr("apical septum (the LV side of the right-ventricular apex), healthy endocardium"),
        ),
        (best(-(radial @ septal), (0.1, 0.3)), tr("lateral base, healthy endocardium")),
    ]
    substrate = (codes == 2) | (codes == 3)
    if substrate.any():
        distance = ndimage.distance_transform_edt(~substrate, sampling=spacing)[endo]
        target = _positions(substrate, affine).mean(axis=0)
        gap = np.linalg.norm(points - target, axis=1)
        near = (distance >= NEAR_SCAR_MM[0]) & (distance <= NEAR_SCAR_MM[1])
        if near.any():
            pick = np.flatnonzero(near)[int(np.argmin(gap[near]))]
            sites.append(
                (
                    points[pick],
                    tr(
                        "healthy endocardium {distance} mm from the scar's border zone, "
                        "nearest the scar's centre"
                    ).format(distance=number(distance[pick], 0)),
                )
            )
    if len(sites) < 3:
        anterior = _perpendicular(np.array([0.0, -1.0, 0.0]), axis)
        sites.append(
            (
                best(radial @ anterior, (0.4, 0.6)),
                tr("mid anterior wall, healthy endocardium (no scar near the endocardium)"),
            )
        )
    return [(np.round(p, 1), why) for p, why in sites]


def electrode(inputs: Mapping[str, Any]) -> tuple[np.ndarray, str]:
    """A virtual electrode ELECTRODE_GAP_MM beyond the anterolateral epicardium (a
    precordial lead's direction), pulled back inside the body outline when there is one."""
    affine = np.asarray(inputs["affine"], float)
    myo = np.asarray(inputs["myocardium"], bool)
    axis = np.asarray(inputs["long_axis"], float)
    wall = _positions(myo, affine)
    centre = wall.mean(axis=0)
    direction = _perpendicular(ANTERIOR_LEFT, axis)
    reach = float(((wall - centre) @ direction).max())
    point = centre + (reach + ELECTRODE_GAP_MM) * direction
    why = tr(
        "{gap} mm beyond the anterolateral epicardium (precordial V4-V5 direction)"
    ).format(gap=number(ELECTRODE_GAP_MM, 0))
    outline = inputs.get("body_outline")
    if outline is not None:
        mask, box_affine = outline
        for back in np.arange(0.0, reach + ELECTRODE_GAP_MM, 2.0):
            if inside(mask, box_affine, point - back * direction):
                if back > 0:
                    why += tr(", moved {back} mm inwards to lie inside the body").format(
                        back=number(back, 0)
                    )
                point = point - back * direction
                break
    return np.round(point, 1), why


def inside(mask: np.ndarray, affine: np.ndarray, point) -> bool | None:
    """Whether an LPS point lies in `mask` (None: outside its grid)."""
    ijk = np.linalg.inv(affine) @ np.r_[np.asarray(point, float), 1.0]
    kji = np.rint(ijk[:3][::-1]).astype(int)
    if np.any(kji < 0) or np.any(kji >= mask.shape):
        return None
    return bool(mask[tuple(kji)])


def lesion_placeholders(
    inputs: Mapping[str, Any], codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, str] | None:
    """A lesion point on the wall nearest the centre of the scar and border zone, and a line
    end 20 mm from it towards the base, both on the myocardium (placeholders to move)."""
    substrate = (codes == 2) | (codes == 3)
    if not substrate.any():
        return None
    affine = np.asarray(inputs["affine"], float)
    myo = np.asarray(inputs["myocardium"], bool)
    wall = _positions(myo, affine)
    centre = _positions(substrate, affine).mean(axis=0)
    start = wall[int(np.argmin(np.linalg.norm(wall - centre, axis=1)))]
    towards = start - 20.0 * np.asarray(inputs["long_axis"], float)
    end = wall[int(np.argmin(np.linalg.norm(wall - towards, axis=1)))]
    return np.round(start, 1), np.round(end, 1), tr("wall nearest the centre of the scar")
