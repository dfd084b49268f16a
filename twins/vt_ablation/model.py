"""The VT twin's run: tissue, lesions, programmed stimulation, and what it found.

`simulate(params, inputs, progress, cancelled)` runs the protocol from every pacing site in
turn, or from the one site a part of a split run names (`params["_site"]`, 1-3); `split`
gives one part per pacing site (the runner runs them in parallel workers) and `combine`
merges their results (distinct VTs across sites, the shortest cycle length, the first VT's
isthmus and maps). Deterministic: no random numbers anywhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from meditwin_desktop.core.twin import (
    N_,
    Field,
    Result,
    Table,
    TimeSeries,
    TwinInputError,
    number,
    tr,
)

from . import anatomy, ecg, ionic, isthmus, lesions, monodomain, protocol, sites

SITES = (1, 2, 3)
OUTSIDE, HEALTHY, BORDER_ZONE, DENSE_SCAR, LESION = 0, 1, 2, 3, 4  # LESION: shown only
MEMBRANE_FRAMES = 150  # time-slider frames of the membrane potential on the surface
BACKEND = "numba"
VT_COLUMNS = (
    N_("pacing site"),
    N_("extrastimuli"),
    N_("cycle length"),
    N_("exit L"),
    N_("exit P"),
    N_("exit S"),
    N_("isthmus L"),
    N_("isthmus P"),
    N_("isthmus S"),
)
VT_UNITS = ("", "ms", "ms", "mm", "mm", "mm", "mm", "mm", "mm")
PROTOCOL_COLUMNS = (
    N_("pacing site"),
    N_("extrastimuli"),
    N_("captured"),
    N_("result"),
    N_("activity after"),
    N_("VT cycle length"),
)
PROTOCOL_UNITS = ("", "ms", "", "", "ms", "ms")

Progress = Callable[[float, str], None]


def _part(progress: Progress, low: float, high: float) -> Progress:
    def report(fraction: float, message: str) -> None:
        progress(low + (high - low) * min(max(fraction, 0.0), 1.0), message)

    return report


def _translated(texts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(tr(text) for text in texts)


def settings(params: Mapping[str, Any]) -> protocol.Settings:
    """The protocol's settings from the parameters."""
    cycle = float(params["s1_cycle_ms"])
    return protocol.Settings(
        s1_cycle_ms=cycle,
        s1_count=round(params["s1_count"]),
        first_coupling_ms=max(
            protocol.FIRST_COUPLING_FRACTION * cycle, float(params["shortest_coupling_ms"])
        ),
        shortest_coupling_ms=float(params["shortest_coupling_ms"]),
        coupling_step_ms=float(params["coupling_step_ms"]),
        extrastimuli=round(params["extrastimuli"]),
        sustained_ms=float(params["sustained_ms"]),
    )


def cells_and_diffusivity(params: Mapping[str, Any]):
    """Cell parameters and diffusivities per conducting code, border zone from its factors."""
    border = dataclasses.replace(
        ionic.BORDER_ZONE,
        tau_close=ionic.HEALTHY.tau_close * float(params["bz_apd_factor"]),
        tau_open=ionic.HEALTHY.tau_open * float(params.get("bz_recovery_factor", 1.0)),
    )
    factor = float(params["bz_diffusivity_factor"])
    d_long, d_trans = ionic.HEALTHY_D
    cells = {HEALTHY: ionic.HEALTHY, BORDER_ZONE: border}
    diffusivity = {HEALTHY: ionic.HEALTHY_D, BORDER_ZONE: (d_long * factor, d_trans * factor)}
    return cells, diffusivity


def resample(array: np.ndarray, affine: np.ndarray, grid_mm: float):
    """Nearest-neighbour resampling of a [k, j, i(, c)] array to an isotropic `grid_mm`
    grid with the same orientation and first voxel: (array, affine)."""
    spacing = np.linalg.norm(np.asarray(affine)[:3, :3], axis=0)  # i, j, k
    if np.allclose(spacing, grid_mm):
        return array, np.asarray(affine, float)
    shape = array.shape[:3]
    picks = []
    for axis, n in enumerate(shape):  # axis k, j, i -> spacing index 2 - axis
        step = grid_mm / spacing[2 - axis]
        count = int(np.floor((n - 1) / step + 1e-9)) + 1
        picks.append(np.minimum(np.rint(np.arange(count) * step).astype(int), n - 1))
    out = array[np.ix_(*picks)]
    new_affine = np.array(affine, float)
    new_affine[:3, :3] = affine[:3, :3] / spacing * grid_mm
    return out, new_affine


@dataclass
class Tissue:
    """The heart of one scenario on the image crop and on the simulation grid."""

    codes: np.ndarray  # uint8 crop codes 0-3 with lesions made 0
    lesion: np.ndarray  # bool crop
    base_codes: np.ndarray  # before lesions
    provenance: str
    sim_codes: np.ndarray  # on the simulation grid (0-3, lesions 0)
    sim_barrier: np.ndarray  # dense scar or lesion on the simulation grid
    sim_affine: np.ndarray
    model: monodomain.TissueModel


def tissue_codes(params: Mapping[str, Any], inputs: Mapping[str, Any]) -> tuple[np.ndarray, str]:
    """Crop tissue codes from the chosen scar source (anatomy.tissue_codes)."""
    return anatomy.tissue_codes(
        inputs,
        str(params["scar_source"]),
        lge_bz_fraction=float(params["lge_bz_fraction"]),
        lge_scar_fraction=float(params["lge_scar_fraction"]),
        ct_bz_mm=float(params["ct_bz_mm"]),
        ct_scar_mm=float(params["ct_scar_mm"]),
    )


def build_tissue(
    params: Mapping[str, Any],
    inputs: Mapping[str, Any],
    base: np.ndarray,
    provenance: str,
    lesion: np.ndarray,
    fibres: np.ndarray,
) -> Tissue:
    """Lesions applied, resampled to `grid_mm`, discretised (monodomain.build_model)."""
    affine = np.asarray(inputs["affine"], float)
    codes = lesions.apply(base, lesion)
    grid_mm = float(params["grid_mm"])
    sim_codes, sim_affine = resample(codes, affine, grid_mm)
    barrier_crop = (base == DENSE_SCAR) | lesion
    sim_barrier, _ = resample(barrier_crop, affine, grid_mm)
    sim_fibres, _ = resample(fibres, affine, grid_mm)
    solver_codes = np.where(sim_codes == DENSE_SCAR, OUTSIDE, sim_codes).astype(np.uint8)
    cells, diffusivity = cells_and_diffusivity(params)
    model = monodomain.build_model(solver_codes, sim_affine, sim_fibres, cells, diffusivity)
    if model.n == 0:
        raise TwinInputError(
            tr("No conducting myocardium is left to simulate (all scar or ablated).")
        )
    return Tissue(
        codes, lesion, base, provenance, np.asarray(sim_codes), sim_barrier, sim_affine, model
    )


def planned_lesion(params: Mapping[str, Any], inputs: Mapping[str, Any]) -> np.ndarray:
    """The point or line lesion the parameters ask for (empty for none / auto_isthmus)."""
    myocardium = np.asarray(inputs["myocardium"], bool)
    kind = params["ablation"]
    if kind not in ("point", "line"):
        return np.zeros(myocardium.shape, bool)
    common = dict(transmural=inputs.get("transmural"), thickness_mm=inputs.get("thickness_mm"))
    affine = np.asarray(inputs["affine"], float)
    radius = float(params["lesion_radius_mm"])
    if kind == "point":
        return lesions.point_lesion(myocardium, affine, params["lesion_lps_mm"], radius, **common)
    return lesions.line_lesion(
        myocardium, affine, params["lesion_lps_mm"], params["line_end_lps_mm"], radius, **common
    )


def site_point(params: Mapping[str, Any], site: int) -> np.ndarray:
    return np.asarray(params[f"pacing_site_{site}_lps_mm"], float)


def _stimulus_check(model: monodomain.TissueModel, params: Mapping[str, Any], site: int) -> None:
    point = site_point(params, site)
    try:
        model.node_at(point)
    except ValueError:
        raise TwinInputError(
            tr(
                "Pacing site {site} (L {l} P {p} S {s} mm) is not on conducting myocardium "
                "(none within 3 mm: scar, a lesion, or off the heart). Move it onto healthy "
                "wall."
            ).format(site=site, l=number(point[0], 1), p=number(point[1], 1),
                     s=number(point[2], 1))
        ) from None


@dataclass
class Baseline:
    """The auto_isthmus target: the first VT induced at baseline and its isthmus."""

    lesion: np.ndarray
    note: str
    isthmus_lps: np.ndarray | None


def auto_isthmus_lesion(
    params: Mapping[str, Any],
    inputs: Mapping[str, Any],
    base: np.ndarray,
    provenance: str,
    fibres: np.ndarray,
    progress: Progress,
    cancelled: Callable[[], bool],
) -> Baseline:
    """Run the baseline protocol from the sites in order until a sustained VT; ablate across
    its isthmus (lesions.transecting_lesion)."""
    empty = np.zeros(base.shape, bool)
    tissue = build_tissue(params, inputs, base, provenance, empty, fibres)
    for n, site in enumerate(SITES):
        _stimulus_check(tissue.model, params, site)
        found = protocol.induce(
            tissue.model,
            site,
            site_point(params, site),
            settings(params),
            progress=_part(progress, n / 3, (n + 1) / 3),
            cancelled=cancelled,
            backend=BACKEND,
        )
        if found.vt is None:
            continue
        channel = _isthmus(tissue, found.vt)
        if channel is None:
            return Baseline(
                empty,
                tr(
                    "The baseline VT from pacing site {site} (cycle length {cycle} ms) has no "
                    "isthmus bounded by scar: nothing was ablated."
                ).format(site=site, cycle=number(found.vt.cycle_length_ms, 0)),
                None,
            )
        lesion = lesions.transecting_lesion(
            np.asarray(inputs["myocardium"], bool),
            np.isin(base, (HEALTHY, BORDER_ZONE)),
            np.asarray(inputs["affine"], float),
            channel.centroid_lps,
            channel.direction,
            float(params["lesion_radius_mm"]),
            isthmus.REACH_MM,
            transmural=inputs.get("transmural"),
            thickness_mm=inputs.get("thickness_mm"),
        )
        c = channel.centroid_lps
        note = tr(
            "Automatic isthmus ablation: the baseline protocol (no lesion) induced VT from "
            "pacing site {site} (cycle length {cycle} ms); its isthmus at L {l} P {p} S {s} mm "
            "was ablated across its width ({volume} mL), then the protocol was run again on "
            "the ablated heart."
        ).format(
            site=site,
            cycle=number(found.vt.cycle_length_ms, 0),
            l=number(c[0], 1),
            p=number(c[1], 1),
            s=number(c[2], 1),
            volume=number(lesion.sum() * _voxel_ml(inputs), 2),
        )
        return Baseline(lesion, note, c)
    return Baseline(
        empty,
        tr(
            "Automatic isthmus ablation: no VT was induced at baseline from any "
            "pacing site, so there is no isthmus to ablate."
        ),
        None,
    )


def _isthmus(tissue: Tissue, vt: protocol.VT) -> isthmus.Isthmus | None:
    return isthmus.find(
        tissue.model.index,
        tissue.model.shape,
        tissue.sim_affine,
        tissue.sim_codes,
        tissue.sim_barrier,
        vt.activation,
        vt.cycle_length_ms,
    )


MODEL_SCALE = N_(
    "model scale: the Mitchell-Schaeffer tissue's refractory period is ~450 ms at a 600 ms "
    "drive (human ventricle 250-300 ms), so model VTs are slower than the patient's; "
    "compare scenarios with each other, not with the clinical VT's cycle length"
)
OFF_WALL_MM = 1.5  # a lesion point farther than this from the wall is said to be off it


def _lesion_warnings(
    params: Mapping[str, Any], inputs: Mapping[str, Any], lesion: np.ndarray
) -> list[str]:
    """What is wrong with a planned point or line lesion that still ablates something: an
    end off the wall (placed in the cavity or outside), or a lesion much smaller than its
    nominal transmural cylinder."""
    kind = params["ablation"]
    if kind not in ("point", "line"):
        return []
    myocardium = np.asarray(inputs["myocardium"], bool)
    affine = np.asarray(inputs["affine"], float)
    radius = float(params["lesion_radius_mm"])
    ends = {
        "point": ((N_("lesion point"), "lesion_lps_mm"),),
        "line": ((N_("line start"), "lesion_lps_mm"), (N_("line end"), "line_end_lps_mm")),
    }[kind]
    out = []
    for what, name in ends:
        distance, _ = lesions.nearest_myocardium_mm(myocardium, affine, params[name], radius)
        if np.isfinite(distance) and distance > OFF_WALL_MM:
            out.append(tr("The {what} lies {distance} mm off the left-ventricular wall (in "
                          "the cavity or outside): the lesion was placed on the nearest wall; "
                          "move the point onto the wall.").format(
                what=tr(what), distance=number(distance, 1)))  # fmt: skip
    thickness = np.asarray(inputs.get("thickness_mm", np.zeros(0)), float)
    wall = float(np.nanmedian(thickness[myocardium])) if thickness.size else 10.0
    nominal = np.pi * radius**2 * wall / 1000.0  # mL: a cylinder through the wall
    volume = float(lesion.sum()) * _voxel_ml(inputs)
    if kind == "point" and 0 < volume < 0.25 * nominal:
        out.append(tr("The lesion ablates only {volume} mL of wall, under a quarter of a "
                      "transmural lesion of {radius} mm radius ({nominal} mL): it grazes "
                      "the wall's edge.").format(
            volume=number(volume, 2), radius=_g(radius), nominal=number(nominal, 2)))  # fmt: skip
    return out


def _g(value: float) -> str:
    """`value` as `{:g}` writes it, with the language's decimal separator."""
    text = f"{value:g}"
    return text.replace(".", number(0.5, 1)[1]) if "e" not in text else text


def _voxel_ml(inputs: Mapping[str, Any]) -> float:
    return float(abs(np.linalg.det(np.asarray(inputs["affine"], float)[:3, :3]))) / 1000.0


def _surface_nodes(
    model: monodomain.TissueModel, inputs: Mapping[str, Any], grid_mm: float
) -> np.ndarray:
    """Node of each surface vertex (nearest conducting node within 1.5 voxels; -1: none,
    a vertex over scar or a lesion)."""
    points = np.asarray(inputs.get("surface_points", np.zeros((0, 3))), float)
    if not len(points):
        return np.zeros(0, np.int64)
    spacing = float(np.linalg.norm(np.asarray(inputs["affine"])[:3, :3], axis=0).max())
    reach = 1.5 * max(grid_mm, spacing)
    distance, node = cKDTree(model.lps()).query(points, distance_upper_bound=reach)
    return np.where(np.isfinite(distance), node, -1).astype(np.int64)


def _on_surface(values: np.ndarray, vertex_nodes: np.ndarray) -> np.ndarray:
    out = np.full(vertex_nodes.shape + values.shape[:-1][::-1], np.nan, np.float32)
    ok = vertex_nodes >= 0
    out[ok] = values[..., vertex_nodes[ok]].T if values.ndim > 1 else values[vertex_nodes[ok]]
    return out


def _surface_field(
    label: str,
    unit: str,
    values: np.ndarray,
    inputs: Mapping[str, Any],
    times: np.ndarray | None = None,
) -> Field:
    return Field(
        label,
        unit,
        values,
        points=np.asarray(inputs["surface_points"], np.float32),
        faces=np.asarray(inputs["surface_faces"]),
        times=times,
    )


def _electrode(
    params: Mapping[str, Any], inputs: Mapping[str, Any], model: monodomain.TissueModel
) -> tuple[np.ndarray | None, str]:
    """Electrogram weights on all nodes (None: no curve) and a note."""
    point = np.asarray(params["electrode_lps_mm"], float)
    affine = np.asarray(inputs["affine"], float)
    ijk = np.linalg.inv(affine) @ np.r_[point, 1.0]
    kji = np.rint(ijk[:3][::-1]).astype(int)
    shape = np.asarray(inputs["myocardium"]).shape
    inside_crop = bool(np.all((kji >= 0) & (kji < shape)))
    inside_body = None
    outline = inputs.get("body_outline")
    if outline is not None:
        inside_body = sites.inside(outline[0], outline[1], point)
    in_myo = inside_crop and bool(np.asarray(inputs["myocardium"])[tuple(kji)])
    note = ecg.electrode_note(inside_body, in_myo, checked=outline is not None)
    if inside_body is False:
        return None, note
    weights = ecg.weights(model.index, model.shape, model.affine, point)
    return weights, note


def simulate_site(
    params: Mapping[str, Any],
    inputs: Mapping[str, Any],
    site: int,
    progress: Progress,
    cancelled: Callable[[], bool],
    *,
    baseline: Baseline | None = None,
) -> Result:
    """The protocol from one pacing site on this scenario's heart."""
    base, provenance = tissue_codes(params, inputs)
    fibres = anatomy.fibre_field(
        inputs, float(params["helix_endo_deg"]), float(params["helix_epi_deg"])
    )
    warnings: list[str] = []
    notes: dict[str, str] = {}
    lesion = planned_lesion(params, inputs)
    span = (0.0, 1.0)
    if params["ablation"] == "auto_isthmus":
        if baseline is None:
            baseline = auto_isthmus_lesion(
                params, inputs, base, provenance, fibres, _part(progress, 0.0, 0.5), cancelled
            )
        lesion = baseline.lesion
        warnings.append(baseline.note)
        span = (0.5, 1.0)
    conducting = np.isin(base, (HEALTHY, BORDER_ZONE))
    if params["ablation"] in ("point", "line") and not (lesion & conducting).any():
        warnings.append(
            tr(
                "The lesion ablates no conducting tissue (it lies in dense scar): it "
                "cannot change the VT circuit."
            )
        )
    warnings.extend(_lesion_warnings(params, inputs, lesion))
    if float(params["grid_mm"]) > 1.0 + 1e-9:
        warnings.append(
            tr(
                "Grid {grid} mm: the conductivities are calibrated at 1 mm; "
                "on a coarser grid conduction is slower (across fibres in the border zone about "
                "9 % at 2 mm, 17 % at 3 mm, and it may block), which can create or abolish a "
                "VT. Use 1 mm for a decision."
            ).format(grid=_g(float(params["grid_mm"])))
        )
    tissue = build_tissue(params, inputs, base, provenance, lesion, fibres)
    _stimulus_check(tissue.model, params, site)
    model = tissue.model
    vertex_nodes = _surface_nodes(model, inputs, float(params["grid_mm"]))
    weights, electrode_note = _electrode(params, inputs, model)
    trace_nodes = np.unique(vertex_nodes[vertex_nodes >= 0])
    found = protocol.induce(
        model,
        site,
        site_point(params, site),
        settings(params),
        trace_nodes=trace_nodes,
        ecg_weights=weights,
        progress=_part(progress, *span),
        cancelled=cancelled,
        backend=BACKEND,
    )
    if found.note:  # a drive train that did not capture, a VT observed longer...
        warnings.append(tr("Pacing site {site}: {note}.").format(site=site, note=found.note))
    voxel_ml = _voxel_ml(inputs)
    healthy = base == HEALTHY
    outcomes: dict[str, Any] = {
        "inducible_vt_count": 1.0 if found.vt is not None else 0.0,
        "vt_cycle_length_ms": None,
        "isthmus_lps_mm": None,
        "lesion_volume_ml": float((lesion & np.asarray(inputs["myocardium"], bool)).sum())
        * voxel_ml,
        "healthy_myocardium_ablated_pct": 100.0
        * float((lesion & healthy).sum())
        / max(int(healthy.sum()), 1),
        "scar_volume_ml": float((base == DENSE_SCAR).sum()) * voxel_ml,
        "border_zone_volume_ml": float((base == BORDER_ZONE).sum()) * voxel_ml,
    }
    vt_rows = []
    if found.vt is None:
        notes["vt_cycle_length_ms"] = tr("no sustained VT induced")
        notes["isthmus_lps_mm"] = tr("no sustained VT induced: no circuit, no isthmus")
        if baseline is not None and baseline.isthmus_lps is not None:  # the one ablated
            outcomes["isthmus_lps_mm"] = tuple(round(float(x), 1) for x in baseline.isthmus_lps)
            notes["isthmus_lps_mm"] = tr(
                "the baseline VT's isthmus, ablated in this scenario: no VT after the ablation"
            )
    else:
        vt = found.vt
        outcomes["vt_cycle_length_ms"] = vt.cycle_length_ms
        notes["vt_cycle_length_ms"] = tr(MODEL_SCALE)
        channel = _isthmus(tissue, vt)
        where = (np.nan,) * 3
        if channel is None:
            notes["isthmus_lps_mm"] = tr(
                "the VT circuit has no passage bounded by scar on both "
                "sides (functional re-entry or around the whole scar)"
            )
        else:
            where = tuple(round(float(x), 1) for x in channel.centroid_lps)
            outcomes["isthmus_lps_mm"] = where
        vt_rows.append(
            (
                site,
                " / ".join(f"{c:.0f}" for c in vt.couplings),
                round(vt.cycle_length_ms, 1),
                *(round(float(x), 1) for x in vt.exit_lps),
                *where,
            )
        )
    rows = [
        (
            site,
            t.label,
            tr("yes") if t.captured else tr("no"),
            tr(t.outcome),
            round(t.activity_ms),
            None if t.cycle_length_ms is None else round(t.cycle_length_ms, 1),
        )
        for t in found.trials
    ]
    tables = {
        "protocol": Table(
            tr("Programmed stimulation"), _translated(PROTOCOL_COLUMNS), rows, PROTOCOL_UNITS
        ),
        "vts": Table(tr("Sustained VTs induced"), _translated(VT_COLUMNS), vt_rows, VT_UNITS),
    }
    fields = _fields(inputs, tissue, found, vertex_nodes, trace_nodes, site)
    series = {}
    if found.trace is not None and found.trace.ecg is not None:
        title = tr("sustained VT") if found.vt is not None else tr("last captured extrastimulus")
        series["electrogram"] = TimeSeries(
            tr("Unipolar electrogram at the electrode (site {site}, {title})").format(
                site=site, title=title
            ),
            "a.u.",
            found.trace.times,
            found.trace.ecg.astype(np.float64),
            time_unit="ms",
        )
    if electrode_note:
        warnings.append(electrode_note)
    return Result(
        outcomes=outcomes,
        series=series,
        fields=fields,
        warnings=warnings,
        notes=notes,
        tables=tables,
    )


def _fields(
    inputs: Mapping[str, Any],
    tissue: Tissue,
    found: protocol.SiteResult,
    vertex_nodes: np.ndarray,
    trace_nodes: np.ndarray,
    site: int,
) -> dict[str, Field]:
    shown = np.where(
        tissue.lesion & np.asarray(inputs["myocardium"], bool), LESION, tissue.codes
    ).astype(np.float32)
    fields = {
        "tissue": Field(
            tr("Tissue: 1 healthy, 2 border zone, 3 dense scar, 4 lesion"),
            "",
            shown,
            affine=np.asarray(inputs["affine"], float),
        )
    }
    ablated = tissue.lesion & np.asarray(inputs["myocardium"], bool)
    if ablated.any():  # 0/1: outlined on the slices, a surface in the 3D results
        fields["lesion"] = Field(
            tr("Ablation lesion"), "", ablated.astype(np.float32),
            affine=np.asarray(inputs["affine"], float),
        )  # fmt: skip
    if not len(vertex_nodes):
        return fields
    if found.paced_activation is not None:
        fields["activation"] = _surface_field(
            tr("Activation time, paced beat from site {site}").format(site=site),
            "ms",
            _on_surface(found.paced_activation, vertex_nodes),
            inputs,
        )
    if found.vt is not None:
        fields["vt_activation"] = _surface_field(
            tr("VT activation within one cycle ({cycle} ms), site {site}").format(
                cycle=number(found.vt.cycle_length_ms, 0), site=site
            ),
            "ms",
            _on_surface(found.vt.activation, vertex_nodes),
            inputs,
        )
    trace = found.trace
    if trace is not None and len(trace.v_times):
        frames = np.unique(np.linspace(0, len(trace.v_times) - 1, MEMBRANE_FRAMES).astype(int))
        column = np.full(tissue.model.n, -1, np.int64)
        column[trace_nodes] = np.arange(len(trace_nodes))
        ok = vertex_nodes >= 0
        values = np.full((len(frames), len(vertex_nodes)), np.nan, np.float32)
        values[:, ok] = trace.v[frames][:, column[vertex_nodes[ok]]]
        fields["membrane"] = _surface_field(
            tr("Membrane potential (0 rest .. 1 excited), site {site}").format(site=site),
            "",
            values,
            inputs,
            times=np.asarray(trace.v_times[frames], float),
        )
    return fields


def simulate(
    params: Mapping[str, Any],
    inputs: Mapping[str, Any],
    progress: Progress,
    cancelled: Callable[[], bool],
) -> Result:
    """One part (`params["_site"]`) or every pacing site in turn, combined."""
    if "_site" in params:
        return simulate_site(params, inputs, int(params["_site"]), progress, cancelled)
    baseline = None
    if params["ablation"] == "auto_isthmus":  # found once, shared by the sites
        base, provenance = tissue_codes(params, inputs)
        fibres = anatomy.fibre_field(
            inputs, float(params["helix_endo_deg"]), float(params["helix_epi_deg"])
        )
        baseline = auto_isthmus_lesion(
            params, inputs, base, provenance, fibres, _part(progress, 0.0, 0.4), cancelled
        )
    results = []
    low = 0.4 if baseline is not None else 0.0
    parts = [{**params, "_site": site} for site in SITES]
    for n, part in enumerate(parts):
        step = (1.0 - low) / len(SITES)
        results.append(
            simulate_site(
                part,
                inputs,
                int(part["_site"]),
                _part(progress, low + n * step, low + (n + 1) * step),
                cancelled,
                baseline=baseline,
            )
        )
    return combine(params, inputs, results)


def split(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One part per pacing site; `auto_isthmus` is one part (its lesion needs the baseline
    protocol from the sites in turn: in separate parts each would repeat it)."""
    if params["ablation"] == "auto_isthmus":
        return [dict(params)]
    return [{**params, "_site": site} for site in SITES]


def _vts(result: Result) -> list[tuple[protocol.VT, tuple]]:
    table = result.tables.get("vts")
    found = []
    for row in table.rows if table else []:
        vt = protocol.VT(int(row[0]), (), float(row[2]), np.array(row[3:6], float), np.zeros(0))
        found.append((vt, row))
    return found


def combine(params: Mapping[str, Any], inputs: Mapping[str, Any], results: list[Result]) -> Result:
    """One result from the sites' results: distinct VTs (protocol.VT.same_as), the shortest
    cycle length, the first VT's isthmus and maps (else site 1's)."""
    if not results:
        raise TwinInputError(tr("No pacing site was simulated."))
    every = [pair for result in results for pair in _vts(result)]
    sites = len({row[0] for r in results if "protocol" in r.tables
                 for row in r.tables["protocol"].rows}) or len(results)  # fmt: skip
    # (an auto_isthmus run is one part that ran every site itself)
    distinct = protocol.distinct([vt for vt, _ in every])
    first = next((r for r in results if r.outcomes.get("inducible_vt_count")), results[0])
    outcomes = dict(results[0].outcomes)
    outcomes["inducible_vt_count"] = float(len(distinct))
    notes: dict[str, str] = {}
    if distinct:
        outcomes["vt_cycle_length_ms"] = min(vt.cycle_length_ms for vt in distinct)
        outcomes["isthmus_lps_mm"] = first.outcomes.get("isthmus_lps_mm")
        if outcomes["isthmus_lps_mm"] is None:
            notes["isthmus_lps_mm"] = first.notes.get("isthmus_lps_mm", tr("no isthmus found"))
        if len(every) > len(distinct):
            notes["inducible_vt_count"] = tr(
                "{induced} sustained VTs induced from {sites} pacing sites, {distinct} distinct "
                "(cycle lengths within {cycle} ms and exit sites within {exit} mm are the same "
                "VT)"
            ).format(
                induced=len(every),
                sites=sites,
                distinct=len(distinct),
                cycle=number(protocol.DISTINCT_CL_MS, 0),
                exit=number(protocol.DISTINCT_EXIT_MM, 0),
            )
    else:
        outcomes["vt_cycle_length_ms"] = None
        outcomes["isthmus_lps_mm"] = None
        notes["vt_cycle_length_ms"] = tr(
            "no sustained VT induced from {sites} pacing site(s)"
        ).format(sites=sites)
        notes["isthmus_lps_mm"] = tr("no sustained VT induced: no circuit, no isthmus")
        notes["inducible_vt_count"] = tr(
            "no sustained VT from the programmed stimulation at {sites} pacing "
            "site(s): no channel through the scar supported re-entry under this protocol "
            "(the protocol table shows each coupling tried)"
        ).format(sites=sites)
        ablated = results[0].outcomes.get("isthmus_lps_mm")
        if params["ablation"] == "auto_isthmus" and ablated is not None:
            outcomes["isthmus_lps_mm"] = ablated
            notes["isthmus_lps_mm"] = tr(
                "the baseline VT's isthmus, ablated in this scenario: no VT after the ablation"
            )
    if not outcomes.get("scar_volume_ml"):
        notes["scar_volume_ml"] = tr(
            "no dense scar in this case (none labelled or above the thresholds): without "
            "scar there is no substrate for scar-related re-entry"
        )
    tables = {}
    for key in ("protocol", "vts"):
        parts = [r.tables[key] for r in results if key in r.tables]
        if parts:
            tables[key] = Table(
                parts[0].label,
                parts[0].columns,
                [row for t in parts for row in t.rows],
                parts[0].units,
            )
    warnings: list[str] = []
    for result in results:
        warnings.extend(w for w in result.warnings if w not in warnings)
    return Result(
        outcomes=outcomes,
        series=dict(first.series),
        fields=dict(first.fields),
        warnings=warnings,
        notes=notes,
        tables=tables,
    )


def memory_estimate(params: Mapping[str, Any], inputs: Mapping[str, Any]) -> float:
    """Peak bytes of one part (one pacing site): ~2 kB per simulation node (operator,
    state, checkpoints, recordings), one chunk of every node's potential for the
    electrogram (float32, twice while stacked), the membrane frames kept at the surface
    nodes, ~60 B per crop voxel (codes, fibres, lesions)."""
    myocardium = np.asarray(inputs["myocardium"], bool)
    spacing = np.linalg.norm(np.asarray(inputs["affine"], float)[:3, :3], axis=0)
    nodes = float(myocardium.sum()) * float(np.prod(spacing)) / float(params["grid_mm"]) ** 3
    surface = len(np.asarray(inputs.get("surface_points", np.zeros((0, 3)))))
    chunk = (protocol.CHUNK_MS / protocol.ECG_MS + 1) * nodes * 4.0 * 2
    frames = float(params["sustained_ms"]) / protocol.MEMBRANE_MS + 1
    return 2000.0 * nodes + chunk + 4.0 * frames * min(surface, nodes) + 60.0 * myocardium.size
