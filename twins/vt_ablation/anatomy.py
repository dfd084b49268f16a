"""The twin's inputs: the left ventricle from the case's labels, its scar and its wall.

`prepare(view)` finds the labels by name, crops them around the left-ventricular
myocardium and derives what the tissue model needs: transmural coordinate and wall
thickness (distance transforms to the endocardium and the epicardium), the long axis
(principal axis of the blood pool, base -> apex), the image intensities (for LGE
thresholds), the myocardial surface (for maps). `tissue_codes(...)` turns these into the
solver's tissue codes from one of three sources: drawn labels, LGE-MRI intensity
thresholds or CT wall thinning. `fibre_field(...)` (in `fibres`) gives rule-based fibres.

Positions are LPS mm; arrays are indexed [k, j, i] on the crop, whose affine is returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import ndimage

from meditwin_desktop.core.twin import CaseView, TwinInputError, mask_surface, number, tr, view_of
from meditwin_desktop.core.twin_case import Grid

from .fibres import fibre_field as fibre_field  # re-exported: part of this module's API

# accepted label names (case-insensitive) for each structure
LABELS: dict[str, tuple[str, ...]] = {
    "myocardium": ("left ventricle myocardium", "lv myocardium", "myocardium"),
    "blood_pool": ("left ventricle blood pool", "lv blood pool", "left ventricle cavity"),
    "scar": ("scar", "dense scar", "infarct"),
    "border_zone": ("border zone", "grey zone"),
    "body": ("body", "torso", "body outline"),
}
CROP_MARGIN_MM = 5.0

# Tissue codes of `tissue_codes` (the solver treats 0 and 3 as non-conducting).
OUTSIDE, HEALTHY, BORDER_ZONE, DENSE_SCAR = 0, 1, 2, 3
SOURCES = ("labels", "lge", "ct_thickness")

# LGE-MRI signal-intensity thresholds as fractions of the maximum myocardial intensity:
# core (dense scar) >= 60 %, border zone 40-60 % (Andreu D et al., Circ Arrhythm
# Electrophysiol 2011;4:674-683; the same core/border-zone scheme in Perez-David E et al.,
# J Am Coll Cardiol 2011;57:184-194). Cited from the literature as known; the full texts
# could not be re-read offline here.
LGE_BZ_FRACTION = 0.4
LGE_SCAR_FRACTION = 0.6
# CT wall thinning: wall thickness < 5 mm is "thinned" myocardium (Komatsu Y et al., Circ
# Arrhythm Electrophysiol 2013;6:342-350, cited as known); the thinned areas beside VT
# ridges measure 2.6 +- 1.1 mm and the ridges 4.2 +- 1.2 mm (Ghannam M et al., J Cardiovasc
# Electrophysiol 2018;29:438-445, abstract checked). Defaults: border zone < 5 mm, dense
# scar < 3 mm (within one SD above Ghannam's thinning mean).
CT_BZ_MM = 5.0
CT_SCAR_MM = 3.0


def _find(view: CaseView, key: str) -> np.ndarray | None:
    """Union of the labels whose name is one of LABELS[key] (None when there is none)."""
    wanted = set(LABELS[key])
    names = [n for n in view.label_values().values() if n.lower() in wanted]
    if not names:
        return None
    mask = np.zeros(view.label_grid().array.shape, bool)
    for name in names:
        mask |= view.mask(name)
    return mask


def _label_name(view: CaseView, key: str) -> str:
    wanted = set(LABELS[key])
    return next((n for n in view.label_values().values() if n.lower() in wanted), key)


def _crop_box(mask: np.ndarray, spacing: np.ndarray) -> tuple[slice, slice, slice]:
    """Bounding box of `mask` [k, j, i] plus CROP_MARGIN_MM, clipped to the grid."""
    k, j, i = (np.flatnonzero(mask.any(axis=axes)) for axes in ((1, 2), (0, 2), (0, 1)))
    margin = np.ceil(CROP_MARGIN_MM / spacing[::-1]).astype(int)  # per k, j, i
    return tuple(
        slice(max(int(idx[0]) - m, 0), min(int(idx[-1]) + m + 1, n))
        for idx, m, n in zip((k, j, i), margin, mask.shape, strict=True)
    )  # type: ignore[return-value]


def _crop_affine(affine: np.ndarray, box: tuple[slice, slice, slice]) -> np.ndarray:
    shift = np.eye(4)
    shift[:3, 3] = [box[2].start, box[1].start, box[0].start]
    return np.asarray(affine, float) @ shift


def _intensity(view: CaseView, shape: tuple[int, ...], affine: np.ndarray) -> np.ndarray | None:
    """The image sampled on the crop grid (trilinear), or None without a 3D image."""
    try:
        image: Grid = view.image_grid()
    except KeyError:
        return None
    k, j, i = np.indices(shape, dtype=float)
    ijk1 = np.stack([i.ravel(), j.ravel(), k.ravel(), np.ones(i.size)])
    source = np.linalg.inv(image.affine) @ affine @ ijk1  # crop voxel -> image voxel
    coords = source[[2, 1, 0]]  # (k, j, i) order for map_coordinates
    values = ndimage.map_coordinates(np.asarray(image.array, np.float32), coords, order=1,
                                     mode="nearest")  # fmt: skip
    return values.reshape(shape).astype(np.float32)


def wall_distances(
    myo: np.ndarray,
    pool: np.ndarray,
    spacing_kji: np.ndarray,
    long_axis: np.ndarray,
    affine: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Distances (mm, voxel centre to voxel centre) of every voxel to the blood pool
    (endocardium) and to the outside of the ventricle (epicardium). Outside voxels beyond
    the base plane do not count as epicardium (the flat base cut is no wall surface)."""
    d_endo = ndimage.distance_transform_edt(~pool, sampling=spacing_kji)
    outside = ~(myo | pool)
    u = _along(myo.shape, affine, long_axis)
    base = float(u[myo].min())  # the long axis points base -> apex
    outside &= u > base + 1.5 * float(spacing_kji.max())
    d_epi = ndimage.distance_transform_edt(~outside, sampling=spacing_kji)
    return d_endo.astype(np.float32), d_epi.astype(np.float32)


def _along(shape: tuple[int, ...], affine: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Projection (mm) of every voxel's LPS position on `axis`."""
    direction = affine[:3, :3].T @ axis  # d(projection)/d(i, j, k)
    k, j, i = (np.arange(n, dtype=np.float32) for n in shape)
    return (
        direction[2] * k[:, None, None]
        + direction[1] * j[None, :, None]
        + direction[0] * i[None, None, :]
        + float(affine[:3, 3] @ axis)
    ).astype(np.float32)


def long_axis(myo: np.ndarray, pool: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Unit LPS vector of the principal axis of the blood pool, oriented base -> apex: the
    myocardium closes over the apex, so it reaches further beyond the pool on that side."""
    points = np.argwhere(pool)[:, ::-1].astype(float) @ affine[:3, :3].T  # (i, j, k) -> LPS
    centred = points - points.mean(axis=0)
    _, _, vt = np.linalg.svd(centred[:: max(1, len(centred) // 20000)], full_matrices=False)
    axis = vt[0]
    u_pool = _along(pool.shape, affine, axis)
    beyond_plus = float(u_pool[myo].max() - u_pool[pool].max())
    beyond_minus = float(u_pool[pool].min() - u_pool[myo].min())
    return axis if beyond_plus >= beyond_minus else -axis


def prepare(view: CaseView) -> dict[str, Any]:
    """The inputs of the VT twin (picklable): labels around the left ventricle, cropped to
    the myocardium + CROP_MARGIN_MM, and what is derived from them (see module doc)."""
    view = view_of(view)
    myo_label = _find(view, "myocardium")
    if myo_label is None or not myo_label.any():
        raise TwinInputError(
            tr(
                "The VT twin needs the left-ventricular myocardium: draw it and name it 'left "
                "ventricle myocardium' (also accepted: 'LV myocardium', 'myocardium')."
            )
        )
    pool_label = _find(view, "blood_pool")
    if pool_label is None or not pool_label.any():
        raise TwinInputError(
            tr(
                "The VT twin needs the left-ventricular cavity: draw it and name it 'left "
                "ventricle blood pool' (also accepted: 'LV blood pool', 'left ventricle "
                "cavity')."
            )
        )
    scar_label, bz_label, body_label = (_find(view, key) for key in ("scar", "border_zone", "body"))
    grid = view.label_grid()
    wall = myo_label | (scar_label if scar_label is not None else False)
    wall = wall | (bz_label if bz_label is not None else False)
    box = _crop_box(wall, grid.spacing)
    affine = _crop_affine(grid.affine, box)
    myo = np.ascontiguousarray(wall[box])
    pool = np.ascontiguousarray(pool_label[box]) & ~myo
    spacing_kji = np.asarray(grid.spacing[::-1], float)
    axis = long_axis(myo, pool, affine)
    d_endo, d_epi = wall_distances(myo, pool, spacing_kji, axis, affine)
    step = float(spacing_kji.mean())
    thickness = np.where(myo, d_endo + d_epi - step, 0.0).astype(np.float32)
    transmural = np.where(
        myo, np.clip((d_endo - 0.5 * step) / np.maximum(thickness, step), 0.0, 1.0), 0.0
    ).astype(np.float32)
    points, faces = mask_surface(myo, affine)
    surface_index = _nearest_voxel(myo, affine, points)
    modality = next((s.modality for s in view.studies if s.active), "") or ""

    def crop(mask: np.ndarray | None) -> np.ndarray | None:
        return None if mask is None else np.ascontiguousarray(mask[box])

    return {
        "myocardium": myo,
        "blood_pool": pool,
        "scar_label": crop(scar_label),
        "border_zone_label": crop(bz_label),
        "scar_name": _label_name(view, "scar"),
        "border_zone_name": _label_name(view, "border_zone"),
        "intensity": _intensity(view, myo.shape, affine),
        "thickness_mm": thickness,
        "transmural": transmural,
        "long_axis": axis,
        "affine": affine,
        "body": crop(body_label),
        "modality": modality.upper(),
        "voxel_ml": grid.voxel_ml,
        "surface_points": np.asarray(points, np.float32),
        "surface_faces": np.asarray(faces, np.int64),
        "surface_index": surface_index,
    }


def _nearest_voxel(mask: np.ndarray, affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(k, j, i) of the voxel of `mask` nearest to each LPS point (p, 3)."""
    if len(points) == 0:
        return np.zeros((0, 3), np.int64)
    ijk = (np.asarray(points, float) - affine[:3, 3]) @ np.linalg.inv(affine[:3, :3]).T
    kji = np.clip(np.rint(ijk[:, ::-1]).astype(np.int64), 0, np.array(mask.shape) - 1)
    spacing = np.linalg.norm(affine[:3, :3], axis=0)[::-1]
    _, nearest = ndimage.distance_transform_edt(~mask, sampling=spacing, return_indices=True)
    return np.stack([nearest[axis][tuple(kji.T)] for axis in range(3)], axis=1)


def _ml(mask: np.ndarray, voxel_ml: float) -> float:
    return float(mask.sum()) * voxel_ml


def tissue_codes(
    inputs: Mapping[str, Any],
    source: str,
    *,
    lge_bz_fraction: float = LGE_BZ_FRACTION,
    lge_scar_fraction: float = LGE_SCAR_FRACTION,
    ct_bz_mm: float = CT_BZ_MM,
    ct_scar_mm: float = CT_SCAR_MM,
) -> tuple[np.ndarray, str]:
    """uint8 codes on the crop (0 outside, 1 healthy, 2 border zone, 3 dense scar) from
    `source` ("labels", "lge" or "ct_thickness"), and a sentence saying where they came from.
    TwinInputError when the case cannot give that source."""
    myo = np.asarray(inputs["myocardium"], bool)
    voxel_ml = float(inputs.get("voxel_ml", float(np.prod(_spacing(inputs))) / 1000.0))
    codes = np.where(myo, HEALTHY, OUTSIDE).astype(np.uint8)
    if source == "labels":
        scar, bz = inputs.get("scar_label"), inputs.get("border_zone_label")
        if scar is None and bz is None:
            raise TwinInputError(
                tr(
                    "No scar label in this case: draw the dense scar and name it 'scar' (and "
                    "the border zone 'border zone'), or derive the scar from the image: choose "
                    "'LGE-MRI thresholds' (on an LGE-MRI) or 'CT wall thinning' (on a CT)."
                )
            )
        parts = []
        if bz is not None:
            codes[np.asarray(bz, bool) & myo] = BORDER_ZONE
            volume = number(_ml(np.asarray(bz, bool) & myo, voxel_ml), 1)
            parts.append(f"'{inputs.get('border_zone_name', 'border zone')}' ({volume} mL)")
        if scar is not None:
            codes[np.asarray(scar, bool) & myo] = DENSE_SCAR
            volume = number(_ml(np.asarray(scar, bool) & myo, voxel_ml), 1)
            parts.insert(0, f"'{inputs.get('scar_name', 'scar')}' ({volume} mL)")
        return codes, tr("Scar from the labels {labels}.").format(labels=tr(" and ").join(parts))
    if source == "lge":
        intensity = inputs.get("intensity")
        if intensity is None or inputs.get("modality", "") == "CT":
            raise TwinInputError(
                tr(
                    "Scar from LGE thresholds needs a late-gadolinium-enhancement MRI as the "
                    "active study (this one is {modality}); use 'CT wall thinning' on a CT "
                    "or draw the scar as a label."
                ).format(modality=inputs.get("modality") or tr("not an image"))
            )
        if not 0.0 < lge_bz_fraction < lge_scar_fraction <= 1.0:
            raise TwinInputError(
                tr("LGE thresholds: 0 < border-zone fraction < scar fraction <= 1.")
            )
        values = np.asarray(intensity, np.float32)[myo]
        top = float(values.max())
        codes_myo = np.full(values.shape, HEALTHY, np.uint8)
        codes_myo[values >= lge_bz_fraction * top] = BORDER_ZONE
        codes_myo[values >= lge_scar_fraction * top] = DENSE_SCAR
        codes[myo] = codes_myo
        return codes, tr(
            "Scar from LGE intensity: dense scar >= {scar}% and border zone "
            "{bz}-{scar}% of the maximum myocardial signal ({scar_ml} mL and "
            "{bz_ml} mL; Perez-David 2011, Andreu 2011)."
        ).format(
            scar=number(lge_scar_fraction * 100, 0),
            bz=number(lge_bz_fraction * 100, 0),
            scar_ml=number(_ml(codes == DENSE_SCAR, voxel_ml), 1),
            bz_ml=number(_ml(codes == BORDER_ZONE, voxel_ml), 1),
        )
    if source == "ct_thickness":
        if not 0.0 < ct_scar_mm < ct_bz_mm:
            raise TwinInputError(
                tr("CT thinning thresholds: 0 < scar thickness < border zone.")
            )
        thickness = np.asarray(inputs["thickness_mm"], np.float32)
        codes[myo & (thickness < ct_bz_mm)] = BORDER_ZONE
        codes[myo & (thickness < ct_scar_mm)] = DENSE_SCAR
        return codes, tr(
            "Scar from CT wall thinning: wall < {scar} mm dense scar, < {bz} mm "
            "border zone ({scar_ml} mL and {bz_ml} mL; Komatsu 2013, Ghannam 2018)."
        ).format(
            scar=_g(ct_scar_mm),
            bz=_g(ct_bz_mm),
            scar_ml=number(_ml(codes == DENSE_SCAR, voxel_ml), 1),
            bz_ml=number(_ml(codes == BORDER_ZONE, voxel_ml), 1),
        )
    raise TwinInputError(
        tr("Unknown scar source '{source}' (one of: {sources}).").format(
            source=source, sources=", ".join(SOURCES)
        )
    )


def _g(value: float) -> str:
    """`value` as `{:g}` writes it, with the language's decimal separator."""
    text = f"{value:g}"
    return text.replace(".", number(0.5, 1)[1]) if "e" not in text else text


def _spacing(inputs: Mapping[str, Any]) -> np.ndarray:
    """Voxel size along i, j, k (mm) of the crop."""
    return np.linalg.norm(np.asarray(inputs["affine"], float)[:3, :3], axis=0)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice overlap of two masks (1 when both are empty)."""
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


__all__ = ["LABELS", "dice", "fibre_field", "long_axis", "prepare", "tissue_codes"]
