"""Scar-related ventricular tachycardia: inducibility and ablation target (see README.md)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from meditwin_desktop.core.twin import (
    N_,
    CaseView,
    Outcome,
    Parameter,
    Personalized,
    Requirement,
    Target,
    Twin,
    Uncertain,
    tr,
    view_of,
)

from . import anatomy, sites
from .model import combine, memory_estimate, simulate, split

try:
    from .verification import VERIFICATION
except ImportError:  # helper B's module not there yet
    VERIFICATION = ()

OUTLINE_STEP = 2  # the body outline is kept every 2nd voxel (electrode checks only)
ABLATIONS = ("none", "auto_isthmus", "point", "line")
SOURCES = ("labels", "lge", "ct_thickness")
MYOCARDIUM = anatomy.LABELS["myocardium"]  # pacing sites: on the myocardium labels
WALL = MYOCARDIUM + anatomy.LABELS["border_zone"] + anatomy.LABELS["scar"]  # lesions: anywhere
# in the wall (an isthmus lies in the border zone)


def prepare(view: CaseView) -> dict[str, Any]:
    """anatomy.prepare, plus the body outline on a coarse whole-image grid (to check that
    an electrode lies in the body even far from the heart's crop)."""
    view = view_of(view)
    inputs = anatomy.prepare(view)
    names = {n.lower() for n in view.label_values().values()}
    inputs["body_outline"] = None
    if names & set(anatomy.LABELS["body"]):
        grid = view.label_grid()
        filled = ndimage.binary_fill_holes(np.asarray(grid.array) > 0)
        step = OUTLINE_STEP
        affine = np.array(grid.affine, float)
        affine[:3, :3] *= step
        inputs["body_outline"] = (np.ascontiguousarray(filled[::step, ::step, ::step]), affine)
    return inputs


def _source(view: CaseView, inputs: dict[str, Any]) -> tuple[str, str]:
    if inputs.get("scar_label") is not None or inputs.get("border_zone_label") is not None:
        return "labels", tr("the case has a scar label")
    if inputs.get("modality") == "MR":
        return "lge", tr("no scar label; the active study is an MRI (LGE thresholds)")
    return "ct_thickness", tr("no scar label; the active study is a CT (wall thinning)")


def _point(value: np.ndarray) -> tuple[float, float, float]:
    return tuple(round(float(x), 1) for x in value)  # type: ignore[return-value]


def personalize(view: CaseView) -> dict[str, Personalized]:
    """Scar source, three pacing sites, the electrode and placeholder lesion points."""
    view = view_of(view)
    inputs = prepare(view)
    source, why = _source(view, inputs)
    codes, provenance = anatomy.tissue_codes(inputs, source)
    values = {"scar_source": Personalized(source, f"{why}. {provenance}")}
    for n, (point, where) in enumerate(sites.pacing_sites(inputs, codes), start=1):
        values[f"pacing_site_{n}_lps_mm"] = Personalized(_point(point), where)
    point, where = sites.electrode(inputs)
    values["electrode_lps_mm"] = Personalized(_point(point), where)
    placeholders = sites.lesion_placeholders(inputs, codes)
    if placeholders is not None:
        start, end, where = placeholders
        values["lesion_lps_mm"] = Personalized(
            _point(start), tr("{where} (move it to the target)").format(where=where)
        )
        values["line_end_lps_mm"] = Personalized(
            _point(end), tr("20 mm from the lesion point towards the base (move it)")
        )
    return values


def _point_parameter(
    name: str, label: str, help: str, *, key: int = 0, within: tuple[str, ...] = MYOCARDIUM
) -> Parameter:
    return Parameter(
        name,
        label,
        "mm",
        (0.0, 0.0, 0.0),
        -1000.0,
        1000.0,
        help=help,
        source="case",
        size=3,
        point=True,
        within=within,
        key=key,
    )


CONSENSUS = (
    "Cronin EM et al. 2019 HRS/EHRA/APHRS/LAHRS expert consensus statement on catheter "
    "ablation of ventricular arrhythmias, Heart Rhythm 2020;17:e2-e154 (non-inducibility of "
    "VT by programmed stimulation as the procedural endpoint)"
)

PARAMETERS = (
    Parameter(
        "ablation",
        N_("Ablation"),
        "",
        "none",
        choices=ABLATIONS,
        choice_labels=(
            N_("no ablation"),
            N_("automatic: across the VT isthmus"),
            N_("point lesion"),
            N_("linear lesion"),
        ),
        short_labels=("no ablation", "isthmus ablation", "point lesion", "line"),
        help=N_("auto_isthmus runs the baseline protocol first, finds the isthmus of the "
        "first VT and ablates across it, then runs the protocol again"),
        source="scenario (plan)",
        key=1,
    ),
    _point_parameter(
        "lesion_lps_mm",
        N_("Lesion point (line start)"),
        N_("Centre of a point lesion, or the start of a line: L, P, S in mm (patient "
           "coordinates); or click a view"),
        key=2,
        within=WALL,
    ),
    Parameter(
        "lesion_radius_mm",
        N_("Lesion radius"),
        "mm",
        5.0,
        2.0,
        15.0,
        help=N_("Transmural lesion: a cylinder of this radius through the wall"),
        source="irrigated RF lesions 8-12 mm across (Nakagawa H et al., Circulation "
        "1995;91:2264-2273); transmural through thinned post-infarct wall",
        key=3,
    ),
    _point_parameter(
        "line_end_lps_mm",
        N_("Line end"),
        N_("End of a linear lesion: L, P, S in mm (patient coordinates); or click a view"),
        within=WALL,
    ),
    Parameter(
        "scar_source",
        N_("Scar from"),
        "",
        "labels",
        choices=SOURCES,
        choice_labels=(N_("drawn labels"), N_("LGE-MRI thresholds"), N_("CT wall thinning")),
        source="case (personalised: labels if drawn, else by modality)",
    ),
    Parameter(
        "lge_bz_fraction",
        N_("LGE border-zone threshold"),
        "",
        anatomy.LGE_BZ_FRACTION,
        0.1,
        0.9,
        help=N_("fraction of the maximum myocardial LGE intensity"),
        source="Perez-David E et al., JACC 2011;57:184; Andreu D et al., Circ "
        "Arrhythm Electrophysiol 2011;4:674 (40 %)",
    ),
    Parameter(
        "lge_scar_fraction",
        N_("LGE dense-scar threshold"),
        "",
        anatomy.LGE_SCAR_FRACTION,
        0.2,
        1.0,
        help=N_("fraction of the maximum myocardial LGE intensity"),
        source="Perez-David 2011; Andreu 2011 (60 %)",
    ),
    Parameter(
        "ct_bz_mm",
        N_("CT border zone: wall below"),
        "mm",
        anatomy.CT_BZ_MM,
        1.0,
        10.0,
        source="Komatsu Y et al., Circ Arrhythm Electrophysiol 2013;6:342 (< 5 mm)",
    ),
    Parameter(
        "ct_scar_mm",
        N_("CT dense scar: wall below"),
        "mm",
        anatomy.CT_SCAR_MM,
        0.5,
        8.0,
        source="Ghannam M et al., J Cardiovasc Electrophysiol 2018;29:438 (thinning 2.6 +- 1.1 mm)",
    ),
    Parameter(
        "helix_endo_deg",
        N_("Fibre helix angle, endocardium"),
        "deg",
        60.0,
        -90.0,
        90.0,
        source="Streeter DD et al., Circ Res 1969;24:339; Bayer JD et al., Ann Biomed "
        "Eng 2012;40:2243",
    ),
    Parameter(
        "helix_epi_deg",
        N_("Fibre helix angle, epicardium"),
        "deg",
        -60.0,
        -90.0,
        90.0,
        source="Streeter 1969; Bayer 2012",
    ),
    _point_parameter(
        "pacing_site_1_lps_mm",
        N_("Pacing site 1"),
        N_("Stimulation site: L, P, S in mm (patient coordinates); or click a view"),
    ),
    _point_parameter(
        "pacing_site_2_lps_mm",
        N_("Pacing site 2"),
        N_("Stimulation site: L, P, S in mm (patient coordinates); or click a view"),
    ),
    _point_parameter(
        "pacing_site_3_lps_mm",
        N_("Pacing site 3"),
        N_("Stimulation site: L, P, S in mm (patient coordinates); or click a view"),
    ),
    Parameter(
        "s1_cycle_ms",
        N_("Drive-train cycle length (S1)"),
        "ms",
        600.0,
        300.0,
        1000.0,
        source="Arevalo H et al., Nat Commun 2016;7:11437; Prakosa A et al., Nat "
        "Biomed Eng 2018;2:732 (600 ms)",
        decimals=0,
    ),
    Parameter(
        "s1_count",
        N_("Drive-train beats"),
        "",
        8.0,
        2.0,
        10.0,
        help=N_("6-8 clinically; fewer for a quick look"),
        source="clinical protocol",
        decimals=0,
    ),
    Parameter(
        "shortest_coupling_ms",
        N_("Shortest coupling interval"),
        "ms",
        200.0,
        150.0,
        400.0,
        help=N_("floor of the S2/S3/S4 decrement"),
        source="clinical protocol (200 ms)",
        decimals=0,
    ),
    Parameter(
        "coupling_step_ms",
        N_("Coupling decrement"),
        "ms",
        20.0,
        5.0,
        50.0,
        help=N_("10 ms clinically; 20 ms halves the runs"),
        source="clinical protocol",
        decimals=0,
    ),
    Parameter(
        "extrastimuli",
        N_("Extrastimuli"),
        "",
        2.0,
        1.0,
        3.0,
        help=N_("1: S2; 2: S2 and S3; 3: up to S4"),
        source="Arevalo 2016; Prakosa 2018",
        decimals=0,
    ),
    Parameter(
        "sustained_ms",
        N_("Sustained VT after"),
        "ms",
        2000.0,
        500.0,
        5000.0,
        help=N_("re-entry lasting this long after the last extrastimulus is sustained VT"),
        source="in-silico convention (~2 s: Arevalo 2016); clinically 30 s",
        decimals=0,
    ),
    Parameter(
        "bz_diffusivity_factor",
        N_("Border-zone conductivity factor"),
        "",
        0.25,
        0.05,
        1.0,
        help=N_("border-zone diffusivity over healthy (0.25: conduction about half as fast)"),
        source="Arevalo H et al., PLoS One 2013;8:e68872 and 2016 (reduced "
        "border-zone conductivity); see ionic.py",
    ),
    Parameter(
        "bz_apd_factor",
        N_("Border-zone APD factor"),
        "",
        1.3,
        1.0,
        1.8,
        help=N_("border-zone action-potential duration over healthy (tau_close ratio)"),
        source="Arevalo 2013, 2016 (prolonged border-zone APD); Relan J et al., "
        "Interface Focus 2011;1:396",
    ),
    Parameter(
        "bz_recovery_factor",
        N_("Border-zone recovery factor"),
        "",
        3.0,
        1.0,
        4.0,
        help=N_("border-zone recovery of excitability (tau_open) over healthy: "
        "post-repolarisation refractoriness"),
        source="Pu J, Boyden PA, Circ Res 1997;81:110 (slowed Na-current recovery in "
        "border-zone cells); Janse MJ, Wit AL, Physiol Rev 1989;69:1049",
    ),
    _point_parameter(
        "electrode_lps_mm",
        N_("Electrode"),
        N_("Unipolar electrogram electrode: L, P, S in mm (patient coordinates); or click a "
           "view"),
        within=(),
    ),
    Parameter(
        "grid_mm",
        N_("Grid spacing"),
        "mm",
        1.0,
        0.5,
        3.0,
        help=N_("simulation grid (the diffusivities are calibrated at 1 mm)"),
        source="numerical setting (see README)",
    ),
)

# What a run with uncertainty samples (README, Uncertainty): the border zone's
# electrophysiology and the fibre angles, model constants known only within a range. Not
# the ablation (the scenarios' choice) nor the protocol. VT runs take minutes each: a run
# with uncertainty is for a cluster or a night (few samples, or the screening grid).
_HELIX = ("human fibre helix angles vary by about 10 deg (1 SD) about +-60 deg from "
          "endocardium to epicardium (Streeter DD et al., Circ Res 1969;24:339; Bayer JD et "
          "al., Ann Biomed Eng 2012;40:2243): SD 10 deg")
UNCERTAIN = (
    Uncertain("bz_diffusivity_factor", "triangular", low=0.1, high=0.5,
              source="border-zone conduction about a third to 70 % of healthy (velocity ~ "
              "sqrt(diffusivity): factor 0.1-0.5), the range of reduced border-zone "
              "conductivities in image-based VT models (Arevalo H et al., PLoS One "
              "2013;8:e68872; Nat Commun 2016;7:11437)"),
    Uncertain("bz_apd_factor", "triangular", low=1.1, high=1.6,
              source="prolonged border-zone action potentials, 10-60 % (Arevalo 2013, 2016; "
              "Relan J et al., Interface Focus 2011;1:396)"),
    Uncertain("bz_recovery_factor", "triangular", low=1.5, high=4.0,
              source="slowed recovery of excitability in border-zone cells (Pu J, Boyden PA, "
              "Circ Res 1997;81:110): post-repolarisation refractoriness 1.5-4 times"),
    Uncertain("helix_endo_deg", "normal", sd=10.0, source=_HELIX),
    Uncertain("helix_epi_deg", "normal", sd=10.0, source=_HELIX),
)  # fmt: skip

OUTCOMES = (
    Outcome(
        "inducible_vt_count",
        N_("Inducible VTs (distinct)"),
        "",
        "lower",
        help=N_("sustained VTs induced from all pacing sites, told apart by cycle length "
        "and exit site"),
        target=Target(high=0.0, source=CONSENSUS),
        resolution=0.5,
        precision=0,
    ),
    Outcome(
        "vt_cycle_length_ms",
        N_("Shortest VT cycle length"),
        "ms",
        absent=N_("no VT induced"),
        resolution=20.0,
        precision=0,
    ),
    Outcome(
        "isthmus_lps_mm",
        N_("VT isthmus"),
        "mm",
        absent=N_("no VT: no isthmus"),
        point=True,
        precision=1,
    ),
    Outcome("lesion_volume_ml", N_("Lesion volume"), "mL", "lower", resolution=0.5, precision=1),
    Outcome(
        "healthy_myocardium_ablated_pct",
        N_("Healthy myocardium ablated"),
        "%",
        "lower",
        help=N_("the share of this ventricle's healthy myocardium that the lesions destroy "
        "(of all healthy wall, not of the lesion)"),
        resolution=0.5,
        precision=1,
    ),
    Outcome("scar_volume_ml", N_("Dense scar volume"), "mL", precision=1),
    Outcome("border_zone_volume_ml", N_("Border zone volume"), "mL", precision=1),
)

TWIN = Twin(
    id="vt_ablation",
    title=N_("Scar-related ventricular tachycardia: inducibility and ablation target"),
    specialty=N_("cardiology"),
    version="1.0",
    question=N_("Is ventricular tachycardia inducible in this post-infarct left ventricle, where "
    "is its isthmus, and does a planned ablation (automatic isthmus, point or line) make it "
    "non-inducible, with how much healthy myocardium lost?"),
    references=(
        "Prakosa A et al. Personalized virtual-heart technology for guiding the ablation of "
        "infarct-related ventricular tachycardia. Nat Biomed Eng 2018;2:732-740",
        "Arevalo HJ et al. Arrhythmia risk stratification of patients after myocardial "
        "infarction using personalized heart models. Nat Commun 2016;7:11437",
        "Mitchell CC, Schaeffer DG. A two-current model for the dynamics of cardiac membrane. "
        "Bull Math Biol 2003;65:767-793",
        "Niederer SA et al. Verification of cardiac tissue electrophysiology simulators using "
        "an N-version benchmark. Phil Trans R Soc A 2011;369:4331-4351",
        "Bayer JD et al. A novel rule-based algorithm for assigning myocardial fiber "
        "orientation to computational heart models. Ann Biomed Eng 2012;40:2243-2254",
        "Perez-David E et al. J Am Coll Cardiol 2011;57:184-194; Andreu D et al. Circ "
        "Arrhythm Electrophysiol 2011;4:674-683 (LGE scar thresholds)",
        "Komatsu Y et al. Circ Arrhythm Electrophysiol 2013;6:342-350; Ghannam M et al. "
        "J Cardiovasc Electrophysiol 2018;29:438-445 (CT wall thinning)",
        "Gima K, Rudy Y. Circ Res 2002;90:889-896 (pseudo-ECG)",
        CONSENSUS,
    ),
    parameters=PARAMETERS,
    outcomes=OUTCOMES,
    requirements=(
        Requirement("label", "left ventricle myocardium", N_("(the tissue simulated)")),
        Requirement("label", "left ventricle blood pool", N_("(endocardium, long axis)")),
        Requirement("image", "CT or LGE-MRI", N_("(the labels' grid)")),
    ),
    personalize=personalize,
    prepare=prepare,
    simulate=simulate,
    split=split,
    combine=combine,
    verification=VERIFICATION,
    memory_estimate=memory_estimate,
    uncertain=UNCERTAIN,
    limitations=(
        N_("Phenomenological cells (Mitchell-Schaeffer): no ion channels, drugs or restitution "
        "beyond the model's own; border zone by three factors (conductivity, action-potential "
        "duration, recovery)."),
        N_("Left ventricle only, monodomain, no torso: the electrogram is an infinite-medium "
        "pseudo-ECG in arbitrary units, not a 12-lead ECG."),
        N_("Fibres by a helix rule, not measured; scar geometry as segmented or thresholded."),
        N_("Lesions are transmural and fully non-conducting; lesion formation (power, contact, "
        "oedema, gaps) is not modelled."),
        N_("Sustained VT means re-entry lasting `sustained_ms` (2 s), not the clinical 30 s."),
    ),
)
