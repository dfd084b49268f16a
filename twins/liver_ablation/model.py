"""Thermal ablation and resection of liver tumours on the patient's labelled CT.

`simulate(params, inputs, progress, cancelled)`: inputs come from `prepare` (tissue codes
of the whole CT, its affine, tumour names); parameters are in their declared units.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import ndimage

from meditwin_desktop.core.twin import N_, Field, Result, TimeSeries, number, path_crossings, tr

from . import bioheat, geometry
from .devices import calibration_note
from .tissue import LIVER, OTHER, TUMOUR, VESSEL, properties

FLR_THRESHOLD_PCT = {"normal": 20.0, "after chemotherapy": 30.0, "cirrhosis": 40.0}
CEM43_NECROSIS_MIN = 240.0  # liver: Dewhirst et al. 2003 (Int J Hyperthermia 19:267)
# what the user reads: one whole template per liver condition and per probe (French agrees)
CONDITION_WARNINGS = {
    "normal": N_("Future liver remnant {flr}% is below {threshold}% (normal liver)."),
    "after chemotherapy": N_(
        "Future liver remnant {flr}% is below {threshold}% (after chemotherapy liver)."
    ),
    "cirrhosis": N_("Future liver remnant {flr}% is below {threshold}% (cirrhosis liver)."),
}
PROBE_LABELS = {
    "tumour centre": N_("Temperature at the tumour centre"),
    "tumour edge": N_("Temperature at the tumour edge"),
    "nearest vessel wall": N_("Temperature at the nearest vessel wall"),
}


def _point(params: Mapping[str, Any], name: str) -> np.ndarray:
    return np.array(params[f"{name}_lps_mm"], dtype=float)


def resection_mask(points: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """Which LPS points (n, 3) the resection removes (the plane's right or left side)."""
    if params["resection"] == "none":
        return np.zeros(len(points), dtype=bool)
    angle = np.radians(params["resection_angle_deg"])
    normal = np.array([np.cos(angle), np.sin(angle), 0.0])  # sagittal plane turned about S
    signed = (points - np.array([params["resection_l_mm"], 0.0, 0.0])) @ normal
    return signed < 0 if params["resection"] == "remove right part" else signed > 0


def future_liver_remnant(
    codes: np.ndarray, affine: np.ndarray, params: Mapping[str, Any], ablated_liver_ml: float
) -> tuple[float, float]:
    """(FLR as % of the functional liver, functional liver mL); tumours are not functional."""
    k, j, i = np.nonzero(codes == LIVER)
    voxel_ml = abs(np.linalg.det(affine[:3, :3])) / 1000.0
    liver_ml = len(k) * voxel_ml
    if liver_ml == 0:
        return float("nan"), 0.0
    points = np.stack([i, j, k], axis=-1) @ affine[:3, :3].T + affine[:3, 3]
    removed_ml = int(resection_mask(points, params).sum()) * voxel_ml
    remnant = liver_ml - removed_ml - ablated_liver_ml
    return 100.0 * max(remnant, 0.0) / liver_ml, liver_ml


def memory_estimate(params: Mapping[str, Any], inputs: Mapping[str, Any]) -> float:
    """Peak bytes one run adds to its process, for the runner's admission control.

    Measured on the demo CT (VmHWM around `simulate`, twins/liver_ablation/tests/
    test_memory_estimate.py): ~180 B per voxel of the simulation grid (2.8 M voxels:
    497 MB; 4.2 M: 746 MB), plus the liver-remnant step on the whole CT (~1 B per CT
    voxel and some 45 B per liver voxel); rounded up, so the estimate errs high.
    """
    n = round(float(params["region_mm"]) / float(params["grid_mm"])) + 1
    codes = inputs["codes"]
    liver_voxels = int(np.count_nonzero(codes == LIVER))
    return 190.0 * n**3 + 1.0 * codes.size + 64.0 * liver_voxels  # the path check: ~nothing


def simulate(
    params: Mapping[str, Any],
    inputs: Mapping[str, Any],
    progress: Callable[[float, str], None],
    cancelled: Callable[[], bool],
) -> Result:
    codes_full, affine = inputs["codes"], inputs["affine"]
    target, entry = _point(params, "target"), _point(params, "entry")
    spacing = float(params["grid_mm"])
    warnings: list[str] = []
    grid = geometry.grid_around(target, params["region_mm"], spacing)
    codes = geometry.resample_codes(codes_full, affine, grid)
    axis, u, v = geometry.applicator_axes(target, entry)
    count = int(params["n_applicators"])
    centres = geometry.applicator_centres(target, u, v, count, params["applicator_spacing_mm"])
    make_source = geometry.rf_source if params["modality"] == "rf" else geometry.microwave_source
    source = make_source(
        grid,
        centres,
        axis,
        params["power_w"] * params["absorbed_fraction"],
        params["active_length_mm"],
    )
    k, rho_c, perfusion = properties(
        codes, params.get("liver_conductivity_w_mk"), params.get("liver_perfusion_per_s")
    )
    tissue = bioheat.Tissue(k, rho_c, perfusion, codes == VESSEL)
    index = grid.index_of(target)
    tumour_code = geometry.target_tumour(codes, index)
    tumour = codes == tumour_code if tumour_code else np.zeros(codes.shape, bool)
    probes = [("tumour centre", index)]
    if tumour.any():
        edge = tumour & ~ndimage.binary_erosion(tumour)
        points = np.argwhere(edge)
        far = points[np.argmax(np.linalg.norm(points - np.array(index), axis=1))]
        probes.append(("tumour edge", tuple(int(x) for x in far)))
    vessel = codes == VESSEL
    wall = ~vessel & (ndimage.distance_transform_edt(~vessel, sampling=spacing) <= 1.5 * spacing)
    if wall.any():
        distance = np.linalg.norm(np.argwhere(wall) - np.array(index), axis=1)
        probes.append(
            ("nearest vessel wall", tuple(int(x) for x in np.argwhere(wall)[np.argmin(distance)]))
        )
    if not params["ablation"]:
        heating = bioheat.no_heating(codes.shape, len(probes))
    else:
        heating = bioheat.heat(
            tissue,
            source,
            spacing * 1e-3,
            params["time_s"],
            cool_down_s=params["cool_down_s"],
            probes=tuple(p for _, p in probes),
            progress=progress,
            cancelled=cancelled,
        )
    if heating.clamped:
        warnings.append(tr("Tissue reached 100 C near the antenna (vaporisation, not modelled)."))
    zone = heating.damage >= params["damage_threshold"]
    resected = resection_mask(grid.points().reshape(-1, 3), params).reshape(codes.shape)
    treated = zone | (resected & ((codes == LIVER) | (codes >= TUMOUR)))  # ablated or removed
    voxel_ml = spacing**3 / 1000.0
    border = np.zeros(zone.shape, bool)
    border[[0, -1], :, :] = border[:, [0, -1], :] = border[:, :, [0, -1]] = True
    if (zone & border).any():
        warnings.append(
            tr("The ablation zone reaches the edge of the simulated region; enlarge it.")
        )
    if (tumour & border).any():
        warnings.append(tr("The target tumour extends beyond the simulated region."))
    liver_tissue = (codes == LIVER) | (codes >= TUMOUR)
    long_axis, short_axis = geometry.axes_lengths(zone, grid, axis, u, v)
    ablated_liver_ml = float((zone & (codes == LIVER) & ~resected).sum()) * voxel_ml
    flr, _ = future_liver_remnant(codes_full, affine, params, ablated_liver_ml)
    threshold = FLR_THRESHOLD_PCT[params["liver_condition"]]
    if flr < threshold:
        warnings.append(
            tr(CONDITION_WARNINGS[params["liver_condition"]]).format(
                flr=number(flr), threshold=number(threshold)
            )
        )
    outcomes = {
        "ablation_volume_ml": float(zone.sum()) * voxel_ml,
        "ablation_long_axis_mm": long_axis,
        "ablation_short_axis_mm": short_axis,
        "tumor_coverage_pct": geometry.coverage(treated, tumour),
        "coverage_5mm_pct": geometry.coverage(
            treated, geometry.margin_region(tumour, liver_tissue, 5.0, spacing)
        ),
        "coverage_10mm_pct": geometry.coverage(
            treated, geometry.margin_region(tumour, liver_tissue, 10.0, spacing)
        ),
        "min_margin_mm": geometry.minimal_margin(treated, tumour, spacing),
        "vessel_wall_ablated_ml": float((zone & wall).sum()) * voxel_ml,
        "critical_ablated_ml": float((zone & (codes == OTHER)).sum()) * voxel_ml,
        "flr_pct": float(flr),
        "cem43_volume_ml": float((heating.cem43 >= CEM43_NECROSIS_MIN).sum()) * voxel_ml,
        "max_temperature_c": float(heating.peak.max()),
    }
    notes: dict[str, str] = {}
    if params["ablation"]:
        calibration = calibration_note(params["modality"], params["absorbed_fraction"])
        for name in ("ablation_volume_ml", "ablation_long_axis_mm", "ablation_short_axis_mm"):
            notes[name] = calibration
        short = calibration_note(params["modality"], params["absorbed_fraction"], False)
        warnings.append(tr("Zone size {note}.").format(note=short))
        if "labels" in inputs:  # the applicator's path on the patient's labels
            crossings = path_crossings(
                inputs["labels"], affine, inputs["label_names"], entry, target
            )
            warnings.extend(c.text() for c in crossings)
    if not tumour.any():
        warnings.append(tr("No tumour near the target: coverage and margins are not defined."))
        for name in (
            "tumor_coverage_pct",
            "coverage_5mm_pct",
            "coverage_10mm_pct",
            "min_margin_mm",
        ):
            outcomes[name] = None  # undefined, not 0 %: nothing to cover
            notes[name] = tr("no tumour within the simulated region around the target")
    series = {
        name.replace(" ", "_"): TimeSeries(
            tr(PROBE_LABELS[name]), "°C", heating.times, heating.probes[:, n], "s"
        )
        for n, (name, _) in enumerate(probes)
    }
    fields = {
        "peak_temperature": Field(
            tr("Peak temperature"), "°C", heating.peak.astype(np.float32), grid.affine
        ),
        "ablation_zone": Field(
            tr("Ablation zone (Arrhenius)"), "", zone.astype(np.float32), grid.affine
        ),
    }
    return Result(outcomes=outcomes, series=series, fields=fields, warnings=warnings, notes=notes)
