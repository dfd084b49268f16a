"""One scenario of the retina twin: analyse the chosen photograph (field of view, vessels,
disc, network, artery/vein), measure it (CRAE, CRVE, AVR, tortuosity, fractal dimension),
then solve blood flow through the measured network at the scenario's pressures, with a
narrowing or an occlusion; outcomes, overlays on the photograph and tables."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from meditwin_desktop.core.twin import (
    N_,
    Cancelled,
    Overlay,
    Result,
    Table,
    TwinInputError,
    number,
    tr,
)

from . import artery_vein, calibre, flow, fundus, measures, vessel_graph
from .inputs import chosen_photo, pixel_scale, visit_of
from .network import ARTERY, KIND_NAMES, VEIN, VesselNetwork

# Mean ocular perfusion pressure = 2/3 x MAP - IOP: the pressure in the ophthalmic artery is
# taken as 2/3 of the brachial mean arterial pressure in the sitting position (Costa VP et
# al. Acta Ophthalmol 2014;92:e252-e266, review of ocular perfusion pressure in glaucoma).
OPHTHALMIC_FRACTION = 2.0 / 3.0
# The central retinal vein's pressure at the disc equals or slightly exceeds the intraocular
# pressure (it must, to stay open): the outflow pressure is taken as the IOP.
REFERENCE_SBP, REFERENCE_DBP, REFERENCE_IOP = 120.0, 80.0, 15.0  # a normal adult
ISCHAEMIA_THRESHOLD = 0.5  # a territory below half its reference flow counts as ischaemic
OCCLUSION_REACH = 0.03  # the clicked point must lie within 3 % of the image's size of a vessel
OCCLUSIONS = ("none", "branch vein", "branch artery")
MIN_DISC_PX = 80  # a disc narrower than this leaves zone-B vessels ~3 px wide
KNUDTSON_MIN = 4  # fewer zone-B vessels of a kind: no CRAE/CRVE (the summary reads low)


def mean_arterial_pressure(sbp: float, dbp: float) -> float:
    """MAP = DBP + (SBP - DBP) / 3 (mmHg)."""
    return dbp + (sbp - dbp) / 3.0


_ANALYSED: OrderedDict[str, tuple[fundus.FundusAnalysis, VesselNetwork]] = OrderedDict()
_KEEP = 4  # photographs whose analysis a worker keeps (~30 MB each at 1000 x 1000)


def analyse_photo(
    pixels: np.ndarray, corrections=()
) -> tuple[fundus.FundusAnalysis, VesselNetwork]:
    """The photograph's analysis and its labelled vessel network (corrections applied).
    Deterministic, so the scenarios of one visit run by one worker share it (kept for the
    last few photographs: a scenario of pressures or an occlusion then costs its flow
    solve, not seconds of image analysis). The result is shared: do not change it."""
    rgb = np.ascontiguousarray(pixels)
    key = hashlib.blake2b(rgb.tobytes(), digest_size=16)
    key.update(repr((rgb.shape, rgb.dtype.str, tuple(corrections))).encode())
    digest = key.hexdigest()
    if digest in _ANALYSED:
        _ANALYSED.move_to_end(digest)
        return _ANALYSED[digest]
    _ANALYSED[digest] = _analyse(rgb, corrections)
    while len(_ANALYSED) > _KEEP:
        _ANALYSED.popitem(last=False)
    return _ANALYSED[digest]


def _analyse(rgb: np.ndarray, corrections) -> tuple[fundus.FundusAnalysis, VesselNetwork]:
    analysis = fundus.analyse(rgb)
    network = vessel_graph.build_network(analysis.vessels, analysis.disc, fov=analysis.fov)
    if not fundus.as_float_image(rgb)[1]:  # colour (a red-free image saved as RGB is grey)
        network = artery_vein.classify_arteries_veins(network, rgb, analysis.fov)
    for row, col, kind in corrections:  # (row, column, ARTERY|VEIN) on this photograph
        segment = vessel_graph.segment_at(network, row, col, max_distance_px=_reach(network))
        if segment is None:
            analysis.warnings.append(tr(
                "The artery/vein correction at row {row}, column {col} is not on a vessel: it "
                "was not used."
            ).format(row=number(row, 0), col=number(col, 0)))  # fmt: skip
            continue
        network = artery_vein.set_kind(network, segment, kind)
    return analysis, network


def _reach(network: VesselNetwork) -> float:
    return max(5.0, OCCLUSION_REACH * max(network.shape))


def _temporal_sign(eye: str, network: VesselNetwork) -> int:
    """+1 when the temporal side is toward larger columns: the left eye's (the macula lies
    left of the disc in a right eye's photograph); unknown eye: toward the image's centre."""
    if eye == "right":
        return -1
    if eye == "left":
        return 1
    return 1 if network.disc.col < network.shape[1] / 2 else -1


def _occluded(params: Mapping[str, Any], network: VesselNetwork) -> tuple[list[int], str]:
    """The segment clicked for an occlusion (the nearest of its kind) and its description."""
    choice = str(params["occlusion"])
    if choice == "none":
        return [], ""
    kind = VEIN if choice == "branch vein" else ARTERY
    row, col = (float(v) for v in params["occlusion_at"])
    of_kind = network.subset(network.kind == kind)
    found = vessel_graph.segment_at(of_kind, row, col, max_distance_px=_reach(network))
    if found is None:
        raise TwinInputError(
            tr(
                "No {kind} within {reach} px of the occlusion point (row {row}, column "
                "{col}): click on the {kind} to occlude (Twins > the scenario > "
                "Occlusion point ← photograph)."
            ).format(
                kind=tr(KIND_NAMES[kind]),
                reach=number(_reach(network), 0),
                row=number(row, 0),
                col=number(col, 0),
            )
        )
    segment = int(np.flatnonzero(network.kind == kind)[found])
    return [segment], tr(
        "{choice} occlusion at row {row}, column {col}"
    ).format(choice=tr(choice), row=number(row, 0), col=number(col, 0))


def simulate(params: Mapping[str, Any], inputs: Mapping[str, Any], progress, cancelled) -> Result:
    """One scenario: analysis, measures, flow, outcomes, overlays and tables."""
    photo = chosen_photo(inputs, str(params["visit"]), str(params["eye"]))
    progress(0.05, tr("analysing the photograph"))
    marks = [(r, c, k) for r, c, k, date in inputs.get("av_corrections", ())
             if date in ("", visit_of(photo))]  # marks made on this photograph  # fmt: skip
    analysis, network = analyse_photo(photo["pixels"], marks)
    if cancelled():
        raise Cancelled()
    warnings = list(analysis.warnings)
    if not np.isin(network.kind, (ARTERY, VEIN)).any():
        raise TwinInputError(
            tr(
                "A grey (red-free) photograph: arteries and veins cannot be told apart by "
                "colour. Mark the main arteries and veins (right-click on the photograph > "
                "Mark the vessel here as artery / vein), then run again."
            )
        )
    if network.disc.diameter_px < MIN_DISC_PX:
        warnings.append(
            tr(
                "Low resolution: the optic disc is {diameter} px across (under "
                "{minimum} px), so zone-B vessels are a few pixels wide: calibres, "
                "tortuosity and fractal dimension are unreliable."
            ).format(diameter=number(network.disc.diameter_px, 0), minimum=MIN_DISC_PX)
        )
    pixel_um, scale_note = pixel_scale(photo, float(params["pixel_um"]),
                                       network.disc.diameter_px,
                                       float(params["disc_diameter_mm"]))  # fmt: skip
    if float(params["pixel_um"]) <= 0 and not photo.get("pixel_mm"):  # the disc's scale
        warnings.append(scale_note[0].upper() + scale_note[1:] + ".")
    else:  # a camera's pixel size is for an average eye: this eye's magnification differs
        pixel_um *= float(params.get("ocular_magnification", 1.0))
    progress(0.5, tr("measuring the vessels"))
    widths = None
    if params["calibre_from"] == "profile":  # the photograph's own grey levels, not CLAHE's
        widths = calibre.profile_widths(network, photo["pixels"], calibre.zone_b_points(network))
    summary = measures.calibres(network, pixel_um, widths=widths)
    narrowing = 1.0 - float(params["arteriolar_narrowing_pct"]) / 100.0
    scale = np.where(network.kind == ARTERY, narrowing, 1.0)
    crae = summary.crae_um * narrowing if np.isfinite(summary.crae_um) else None
    crve = summary.crve_um if np.isfinite(summary.crve_um) else None
    notes: dict[str, str] = {}
    for name, count, word in (("crae_um", summary.n_arteries, N_("arterioles")),
                              ("crve_um", summary.n_veins, N_("venules"))):  # fmt: skip
        if 0 < count < KNUDTSON_MIN:
            notes[name] = (tr(
                "only {count} {word} cross zone B: the revised Knudtson summary of fewer than "
                "{knudtson_min} vessels reads low (it assumes six), so it is not given; mark "
                "vessels or check the photograph"
            ).format(count=count, word=tr(word), knudtson_min=KNUDTSON_MIN))  # fmt: skip
            crae, crve = (None, crve) if name == "crae_um" else (crae, None)
    if crae is None or crve is None:
        why = "; ".join(summary.notes) or tr("no vessel of that kind crosses zone B")
        for name, value in (("crae_um", crae), ("crve_um", crve)):
            if value is None:
                notes.setdefault(name, why)
        notes["avr"] = notes.get("crae_um") or notes.get("crve_um") or why
    else:
        for name, words in (("crae_um", ("venul", "veinul")),
                            ("crve_um", ("arteriol", "artériol"))):
            mine = [n for n in summary.notes  # not the other's (English or French notes)
                    if not any(word in n.lower() for word in words)]
            if mine:
                notes[name] = "; ".join(mine)
        if summary.notes:
            notes["avr"] = "; ".join(summary.notes)
    if crae is not None and crve is not None and crae >= crve:
        notes["avr"] = (
            tr(
                "arteriolar calibre at or above venular: arteries and veins are probably "
                "swapped in zone B; check the artery/vein map and mark vessels"
            )
        )
    if params["calibre_from"] == "mask":
        for name in ("crae_um", "crve_um"):
            notes[name] = "; ".join(filter(None, (tr("measured on the vessel mask (narrower for "
                                                     "arterioles than the profile)"),
                                                  notes.get(name))))  # fmt: skip
    progress(0.65, tr("solving blood flow"))
    sbp, dbp, iop = float(params["sbp_mmhg"]), float(params["dbp_mmhg"]), float(params["iop_mmhg"])
    map_mmhg = mean_arterial_pressure(sbp, dbp)
    settings = flow.FlowSettings(OPHTHALMIC_FRACTION * map_mmhg, iop,  # narrowing is
                                 haematocrit=float(params["haematocrit"]),  # generalised:
                                 narrow_beds=True)  # the unseen arterioles too  # fmt: skip
    if settings.inflow_mmhg <= iop:
        raise TwinInputError(
            tr(
                "At blood pressure {sbp}/{dbp} mmHg the ophthalmic artery pressure "
                "({inflow_mmhg} mmHg, 2/3 of the mean arterial pressure) does not exceed the "
                "intraocular pressure ({iop} mmHg): the retina is not perfused."
            ).format(
                sbp=number(sbp, 0),
                dbp=number(dbp, 0),
                inflow_mmhg=number(settings.inflow_mmhg, 0),
                iop=number(iop, 0),
            )
        )
    occluded, occlusion_text = _occluded(params, network)
    if params["occlusion"] == "none" and any(float(v) for v in params["occlusion_at"]):
        warnings.append(tr(
            "An occlusion point is set but Branch occlusion is 'none': nothing is occluded "
            "(choose branch vein or branch artery)."
        ))  # fmt: skip
    for name, label in (("sbp_mmhg", N_("systolic")), ("dbp_mmhg", N_("diastolic")),
                        ("iop_mmhg", N_("intraocular"))):  # fmt: skip
        if name not in inputs.get("entered", (name,)):
            warnings.append(tr(
                "The {label} pressure is not in the clinical form: {value} mmHg (the default "
                "or the scenario's) was used."
            ).format(label=tr(label), value=number(float(params[name]), 0)))  # fmt: skip
    solution = flow.solve_flow(network, pixel_um, settings, occluded=occluded,
                               diameter_scale=scale)  # fmt: skip
    reference = flow.solve_flow(
        network, pixel_um,
        flow.FlowSettings(OPHTHALMIC_FRACTION * mean_arterial_pressure(REFERENCE_SBP,
                                                                       REFERENCE_DBP),
                          REFERENCE_IOP, haematocrit=float(params["haematocrit"])),
    )  # fmt: skip
    territory = flow.territories(network, solution, analysis.fov)
    drained = flow.territories(network, solution, analysis.fov, venous=True)
    # starved: its feeding arteriole or draining venule (a vein occlusion) carries under half
    # its flow at a normal pressure (perfusion failing: the model has no autoregulation), or
    # under half its flow at these pressures without the occlusion and narrowing (a local loss)
    intact = flow.solve_flow(network, pixel_um, settings) if occluded or narrowing != 1 else None
    starved = np.zeros(network.shape, bool)
    for ref in (reference, intact):
        if ref is None:
            continue
        starved |= flow.ischaemic_map(territory, solution.terminal_flow_ul_min,
                                      ref.terminal_flow_ul_min, ISCHAEMIA_THRESHOLD)  # fmt: skip
        starved |= flow.ischaemic_map(drained, solution.venous_terminal_flow_ul_min,
                                      {k: abs(v) for k, v in
                                       ref.venous_terminal_flow_ul_min.items()},
                                      ISCHAEMIA_THRESHOLD)  # fmt: skip
    starved &= analysis.fov
    ischaemic = 100.0 * float(starved.sum()) / max(int(analysis.fov.sum()), 1)
    quadrants = flow.perfusion_by_quadrant(network, solution, territory, pixel_um,
                                           _temporal_sign(str(params["eye"]), network))  # fmt: skip
    warnings.extend(tr("Flow model: {text}").format(text=text)
                    for text in [*solution.notes, *solution.left_out])
    if occlusion_text:
        warnings.append(tr("Scenario: {occlusion}.").format(occlusion=occlusion_text))
    progress(0.9, tr("drawing the maps"))
    outcomes = {
        "crae_um": crae,
        "crve_um": crve,
        "avr": None if crae is None or crve is None else crae / crve,
        "total_flow_ul_min": float(solution.total_inflow_ul_min),
        "ischaemic_area_pct": float(ischaemic),
        "tortuosity_index": _finite(measures.tortuosity(network)),
        "fractal_dimension": _finite(measures.fractal_dimension(analysis.vessels, analysis.fov)),
        "vessel_density_pct": _finite(measures.vessel_density(analysis.vessels, analysis.fov)),
        "branching_angle_deg": _finite(_median(measures.branching_angles(network))),
    }
    notes["total_flow_ul_min"] = (
        tr(
            "no autoregulation in the model: flow is proportional to the perfusion pressure "
            "(2/3 MAP - IOP = {value} mmHg); a healthy retina keeps its flow nearly constant "
            "over a wide range, so a change with blood pressure or IOP alone is an upper bound"
        ).format(value=number(settings.inflow_mmhg - iop, 0))
    )
    if outcomes["tortuosity_index"] is None:
        notes["tortuosity_index"] = tr("no vessel segment long enough to measure")
    if outcomes["branching_angle_deg"] is None:
        notes["branching_angle_deg"] = tr("no bifurcation found")
    study = str(photo["study"])
    overlays = {
        "vessels": Overlay(tr("Vessel mask"), analysis.vessels.astype(np.uint8), study),
        "artery_vein": Overlay(tr("Arteries and veins"), _av_map(network), study,
                               categories=(tr("artery"), tr("vein")),
                               colours=("#ff3b30", "#2f7bff")),
        "flow": Overlay(tr("Blood flow"), flow.flow_map(network, solution), study, "µL/min"),
        "ischaemic": Overlay(tr("Ischaemic area"), starved.astype(np.uint8), study),
        "perfusion": Overlay(tr("Perfusion vs a normal pressure"), _relative_perfusion(
            territory, solution, reference), study, "%"),
    }  # fmt: skip
    tables = _tables(photo, pixel_um, scale_note, summary, network, quadrants, solution,
                     settings, map_mmhg)  # fmt: skip
    progress(1.0, tr("done"))
    return Result(outcomes=outcomes, overlays=overlays, tables=tables, warnings=warnings,
                  notes=notes)  # fmt: skip


def _finite(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _median(values: np.ndarray) -> float | None:
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else None


def _av_map(network: VesselNetwork) -> np.ndarray:
    """1 on arteries widened to their calibre, 2 on veins, nan elsewhere."""
    kinds = np.asarray(network.kind, float)
    return network.paint(np.where(np.isin(kinds, (ARTERY, VEIN)), kinds, np.nan))


def _relative_perfusion(territory: np.ndarray, solution, reference) -> np.ndarray:
    """Each territory's flow as a percentage of its flow at the reference pressures."""
    image = np.full(territory.shape, np.nan)
    for node, value in solution.terminal_flow_ul_min.items():
        ref = reference.terminal_flow_ul_min.get(node, 0.0)
        if ref > 0:
            image[territory == node] = 100.0 * value / ref
    return image


def _tables(photo, pixel_um, scale_note, summary, network, quadrants, solution, settings,
            map_mmhg) -> dict[str, Table]:  # fmt: skip
    kinds = {ARTERY: tr("artery"), VEIN: tr("vein")}
    lengths = network.length_px * pixel_um / 1000.0
    image = Table(
        tr("The photograph and its scale"), (tr("item"), tr("value")),
        [(tr("visit"), str(photo["date"])), (tr("eye"), tr(photo["eye"])),
         (tr("size"), f"{network.shape[1]} x {network.shape[0]} px"), (tr("scale"), scale_note),
         (tr("optic disc"), tr("centre row {row}, column {col}; {diameter} mm across").format(
             row=number(network.disc.row, 0), col=number(network.disc.col, 0),
             diameter=number(network.disc.diameter_px * pixel_um / 1000, 2))),
         (tr("segments"), tr(
             "{arterial} arterial, {venous} venous, {unlabelled} unlabelled").format(
             arterial=int(np.sum(network.kind == ARTERY)),
             venous=int(np.sum(network.kind == VEIN)),
             unlabelled=int(np.sum(~np.isin(network.kind, (ARTERY, VEIN)))))),
         (tr("vessel length"), tr("arteries {arteries} mm, veins {veins} mm").format(
             arteries=number(lengths[network.kind == ARTERY].sum(), 1),
             veins=number(lengths[network.kind == VEIN].sum(), 1)))],
    )  # fmt: skip
    zone = measures.zone_b_widths(network, pixel_um)
    rows = [(kinds[kind], int(segment), round(width, 1))
            for kind in (ARTERY, VEIN) for segment, width in sorted(
                zone.get(kind, []), key=lambda item: -item[1])]  # fmt: skip
    zone_table = Table(tr("Zone B vessels (0.5-1 disc diameter from the disc margin)"),
                       (tr("kind"), tr("segment"), tr("calibre")), rows,
                       ("", "", "µm"))  # fmt: skip
    quadrant_table = Table(
        tr("Perfusion per quadrant"), (tr("quadrant"), tr("flow")),
        [(tr(name), round(value, 2)) for name, value in quadrants.items()], ("", "µL/min"),
    )  # fmt: skip
    perfusion = settings.inflow_mmhg - settings.outflow_mmhg
    pressures = Table(
        tr("Pressures"), (tr("item"), tr("value")),
        [(tr("mean arterial pressure"), f"{number(map_mmhg, 0)} mmHg"),
         (tr("ophthalmic artery (2/3 of MAP)"), f"{number(settings.inflow_mmhg, 0)} mmHg"),
         (tr("central retinal vein (= IOP)"), f"{number(settings.outflow_mmhg, 0)} mmHg"),
         (tr("ocular perfusion pressure"), f"{number(perfusion, 0)} mmHg"),
         (tr("haematocrit"), number(settings.haematocrit, 2)),
         (tr("total inflow / outflow"), f"{number(solution.total_inflow_ul_min, 2)} / "
                                        f"{number(solution.total_outflow_ul_min, 2)} µL/min")],
    )  # fmt: skip
    return {"image": image, "zone_b": zone_table, "quadrants": quadrant_table,
            "pressures": pressures}  # fmt: skip
