"""Retinal microcirculation: vessel calibres, shape and perfusion from a fundus photograph
(fundus analysis + Poiseuille network flow with small-vessel viscosity; README.md)."""

from __future__ import annotations

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

from .inputs import (
    EYES,
    TYPICAL_DISC_MM,
    UNDATED,
    default_photo,
    eye_text,
    prepare,
    visit_of,
)
from .model import OCCLUSIONS, simulate
from .verification import VERIFICATION

__all__ = ["TWIN", "personalize", "prepare", "simulate"]

_PRIES = ("Pries AR, Secomb TW, Gessner T et al. Resistance to blood flow in microvessels in "
          "vivo. Circ Res 1994;75:904-915 (apparent viscosity)")  # fmt: skip
_KNUDTSON = ("Knudtson MD, Lee KE, Hubbard LD et al. Revised formulas for summarizing retinal "
             "vessel diameters. Curr Eye Res 2003;27:143-149 (CRAE, CRVE)")  # fmt: skip
_OPP = ("Costa VP, Harris A, Anderson D et al. Ocular perfusion pressure in glaucoma. Acta "
        "Ophthalmol 2014;92:e252-e266 (ophthalmic artery pressure ~ 2/3 MAP)")  # fmt: skip
_WONG = ("Wong TY, Klein R, Sharrett AR et al. Retinal arteriolar narrowing and risk of "
         "coronary heart disease in men and women. JAMA 2002;287:1153-1159")  # fmt: skip
_CHASE = ("Fraz MM, Remagnino P, Hoppe A et al. An ensemble classification-based approach "
          "applied to retinal blood vessel segmentation. IEEE Trans Biomed Eng 2012;59:"
          "2538-2548 (CHASE_DB1; Owen CG et al. IOVS 2009;50:2004-2010)")  # fmt: skip

_BENNETT = ("Bennett AG, Rudnicka AR, Edgar DF. Graefes Arch Clin Exp Ophthalmol "
            "1994;232:361-367 (retinal scale proportional to axial length - 1.82 mm)")
PARAMETERS = (
    Parameter("visit", N_("Visit (photograph date)"), "", UNDATED, value_type="date", key=1,
              source="the case's photographs",
              help=N_("The fundus photograph of this date is analysed; a scenario may take "
              "another visit to compare them side by side (1900-01-01: a photograph whose "
              "file gives no date)")),
    Parameter("eye", N_("Eye"), "", "not stated", choices=EYES, key=2, source="the photograph",
              choice_labels=(N_("right"), N_("left"), N_("not stated")),
              help=N_("Which eye's photograph of that visit (from the file when it says)")),
    Parameter("sbp_mmhg", N_("Systolic blood pressure"), "mmHg", 120.0, 60.0, 260.0, decimals=0,
              short_labels=("SBP",), source="clinical form"),
    Parameter("dbp_mmhg", N_("Diastolic blood pressure"), "mmHg", 80.0, 30.0, 160.0, decimals=0,
              short_labels=("DBP",), source="clinical form"),
    Parameter("iop_mmhg", N_("Intraocular pressure"), "mmHg", 15.0, 0.0, 80.0, decimals=0,
              short_labels=("IOP",), source="clinical form; normal 10-21 mmHg",
              help=N_("The central retinal vein's outflow pressure (glaucoma: raised)")),
    Parameter("arteriolar_narrowing_pct", N_("Arteriolar narrowing"), "%", 0.0, -30.0, 60.0,
              decimals=0, short_labels=("narrowing",), source="scenario",
              help=N_("Every measured arteriole's calibre made this much narrower (negative: "
              "wider); CRAE and the flow follow")),
    Parameter("occlusion", N_("Branch occlusion"), "", "none", choices=OCCLUSIONS,
              choice_labels=(N_("none"), N_("branch vein"), N_("branch artery")),
              short_labels=("no occlusion", "BRVO", "BRAO"), source="scenario",
              help=N_("Occlude the vein or artery nearest the occlusion point and everything "
              "it drains or feeds")),
    Parameter("occlusion_at", N_("Occlusion point"), "px", (0.0, 0.0), 0.0, 100000.0, size=2,
              on_photo=True, source="a click on the photograph",
              help=N_("Row and column of the photograph's pixel: click on the vessel")),
    Parameter("calibre_from", N_("Calibres measured on"), "", "profile",
              choices=("profile", "mask"),
              choice_labels=(N_("the vessel's intensity profile (half height)"),
                             N_("the vessel mask")),
              short_labels=("profile calibres", "mask calibres"),
              source="half-height width: Brinchmann-Hansen O, Heier H. Acta Ophthalmol 1986",
              help=N_("Zone-B calibres (CRAE, CRVE) from the width at half depth of the vessel's "
              "intensity profile across it (the default: within 7 % of the true widths on the "
              "synthetic fundus), or from the segmented mask (narrower for arterioles). "
              "Compare visits measured the same way")),
    Parameter("haematocrit", N_("Haematocrit"), "", 0.45, 0.15, 0.7, decimals=2,
              source="normal adult 0.40-0.50; from haemoglobin x 3 when entered",
              help=N_("Blood viscosity in the vessels (Pries 1994) rises with it")),
    Parameter("pixel_um", N_("Pixel size (0: from the file or the disc)"), "µm", 0.0, 0.0,
              100.0, decimals=2, source="the file's pixel spacing, else the disc",
              help=N_("0 takes the file's pixel spacing; without one, the optic disc is taken as "
              "the disc diameter below (an assumption, said on the results)")),
    Parameter("disc_diameter_mm", N_("Optic disc diameter (scale without pixel size)"), "mm",
              TYPICAL_DISC_MM, 1.0, 3.0, decimals=2,
              source="Jonas JB et al. IOVS 1988;29:1151-1158 (mean ~1.8 mm)"),
    Parameter("ocular_magnification", N_("Ocular magnification (scale with a pixel size)"), "x",
              1.0, 0.8, 1.25, decimals=2, source=_BENNETT,
              help=N_("The pixel size of a fundus camera holds for an average eye; this eye's "
              "axial length changes the scale on the retina (1: an average eye). Used when "
              "the scale comes from a pixel size, not from the disc")),
)  # fmt: skip

# What a run with uncertainty samples (README, Uncertainty): the measured pressures and
# haematocrit with their measurement and day-to-day error, and the assumed disc size (the
# scale when the file gives no pixel size). Not the scenarios' levers (narrowing, occlusion).
_OFFICE_BP = ("Warren RE, Marshall T, Padfield PL, Chrubasik S. Br J Gen Pract 2010;60:675-680: "
              "within-individual CV of office blood pressure 8.6 % (systolic and diastolic)")
UNCERTAIN = (
    Uncertain("sbp_mmhg", "normal", relative_sd=0.086, source=_OFFICE_BP),
    Uncertain("dbp_mmhg", "normal", relative_sd=0.086, source=_OFFICE_BP),
    Uncertain("iop_mmhg", "normal", sd=2.0,
              source="Dielemans I et al. Graefes Arch Clin Exp Ophthalmol 1994;232:141-144: "
              "Goldmann tonometry, inter-observer difference SD 2.4 mmHg (1.7 per reading), "
              "rounded up to 2 mmHg"),
    Uncertain("haematocrit", "normal", relative_sd=0.05,
              source="haematocrit = haemoglobin / MCHC: the normal MCHC of 32-36 g/dL makes "
              "haemoglobin x 3 off by up to 6 %; within-subject biological CV about 3 % "
              "(Ricos C et al. Scand J Clin Lab Invest 1999;59:491-500): SD 5 % of the value"),
    Uncertain("ocular_magnification", "normal", sd=0.05,
              source=f"{_BENNETT}; adult axial length about 23.5 +- 1.1 mm (1 SD), so the "
              "scale varies by 1.1 / (23.5 - 1.82) = 5 % (1 SD); matters only with a pixel "
              "size"),
    Uncertain("disc_diameter_mm", "normal", sd=0.3,
              source="Jonas JB et al. IOVS 1988;29:1151-1158: optic disc 1.92 +- 0.29 mm "
              "vertically, 1.76 +- 0.31 mm horizontally (457 normal eyes); matters only "
              "without a pixel size"),
)  # fmt: skip

OUTCOMES = (
    Outcome("crae_um", N_("CRAE (arteriolar calibre)"), "µm", better="higher", precision=0,
            resolution=5.0, absent=N_("no arteriole in zone B"),
            help=N_("Central retinal artery equivalent, revised Knudtson formula over the six "
            "largest arterioles in zone B; narrower with hypertension. On synthetic "
            "photographs with known vessels it lay within 12 % of the truth (5 photographs): "
            "a smaller change between visits may not be real")),
    Outcome("crve_um", N_("CRVE (venular calibre)"), "µm", precision=0, resolution=5.0,
            absent=N_("no venule in zone B"),
            help=N_("Central retinal vein equivalent (revised Knudtson); wider with "
            "inflammation, diabetes and smoking. Within 10 % of the truth on synthetic "
            "photographs (5)")),
    Outcome("avr", N_("Arteriole-to-venule ratio"), "", better="higher", precision=2,
            resolution=0.03, absent=N_("CRAE or CRVE missing"),
            help=N_("CRAE / CRVE; lower with generalised arteriolar narrowing (hypertension)")),
    Outcome("total_flow_ul_min", N_("Total retinal blood flow (model)"), "µL/min",
            better="higher", precision=1, resolution=1.0,
            help=N_("Poiseuille flow through the measured network with derived capillary beds, "
            "no autoregulation; below published measured totals (0.25-1 times on the "
            "photographs tried; README): compare scenarios, not with a measurement")),
    Outcome("ischaemic_area_pct", N_("Ischaemic area"), "%", better="lower", precision=1,
            resolution=1.0, target=Target(high=1.0, source="no hypoperfused retina"),
            help=N_("Share of the field of view whose feeding arteriole or draining venule "
            "carries less than half its flow at a normal pressure (120/80 mmHg, IOP 15)")),
    Outcome("tortuosity_index", N_("Tortuosity"), "", precision=3, resolution=0.005,
            help=N_("Length-weighted mean of arc / chord - 1 over the segments")),
    Outcome("fractal_dimension", N_("Fractal dimension"), "", precision=3, resolution=0.01,
            help=N_("Box counting on the vessel mask; lower with vascular rarefaction")),
    Outcome("vessel_density_pct", N_("Vessel density"), "%", precision=1, resolution=0.5,
            help=N_("Vessel area / field of view")),
    Outcome("branching_angle_deg", N_("Branching angle (median)"), "deg", precision=0,
            resolution=3.0, absent=N_("no bifurcation"),
            help=N_("Angle between the daughters at each bifurcation")),
)  # fmt: skip


def personalize(view: CaseView) -> dict[str, Personalized]:
    """The photograph on screen (its date and eye), the pressures and haematocrit."""
    view = view_of(view)
    inputs = prepare(view)
    photo = default_photo(inputs, view)
    count = len(inputs["photos"])
    where = tr("the latest photograph of the {eye} ({count} in the case)").format(
        eye=eye_text(photo["eye"]), count=count)
    values = {
        "visit": Personalized(visit_of(photo), where if photo["date"] else
                              tr("{where}; its file gives no date ({undated} stands for it)")
                              .format(where=where, undated=UNDATED)),
        "eye": Personalized(photo["eye"], tr("from the photograph's file") if photo["eye"] !=
                            "not stated" else tr("the file does not say")),
    }  # fmt: skip
    clinical = view.clinical
    for name in ("sbp_mmhg", "dbp_mmhg", "iop_mmhg"):
        if clinical.get(name) is not None:
            values[name] = Personalized(float(clinical[name]), tr("clinical form"))
    if clinical.get("hemoglobin_g_dl") is not None:
        hct = min(0.7, max(0.15, 3.0 * float(clinical["hemoglobin_g_dl"]) / 100.0))
        values["haematocrit"] = Personalized(round(hct, 2),
                                             tr("haemoglobin x 3 (clinical form)"))
    return values


TWIN = Twin(
    id="retina_microcirculation",
    title=N_("Retinal microcirculation"),
    specialty=N_("ophthalmology / cardiovascular"),
    version="1.1",
    question=N_("How narrow are this patient's retinal arterioles (CRAE, CRVE, AVR), how "
    "tortuous and how rich is the network, and how does retinal perfusion respond to blood "
    "pressure, intraocular pressure, arteriolar narrowing or a branch occlusion?"),
    references=(_KNUDTSON, _PRIES, _OPP, _WONG, _CHASE),
    parameters=PARAMETERS,
    outcomes=OUTCOMES,
    requirements=(
        Requirement(
            "photo",
            "fundus",
            N_(" (a colour fundus photograph on screen: add one in Studies > Add a photograph…)"),
        ),
    ),
    personalize=personalize,
    prepare=prepare,
    simulate=simulate,
    uncertain=UNCERTAIN,
    limitations=(
        N_("Steady flow: no pulsatility, no autoregulation (a real retina keeps its flow over a "
        "range of perfusion pressures), no vessel compliance, one haematocrit everywhere."),
        N_("The capillary beds are symmetric Murray trees derived from each terminal's calibre, "
        "not measured: total flow is below published measurements (0.25-1 times)."),
        N_("Zone-B calibres come from each vessel's intensity profile (or the mask) and depend "
        "on the scale (the file's pixel size, else a 1.8 mm disc assumed); absolute values "
        "differ between tools: compare visits measured the same way."),
        N_("Automatic artery/vein labels can be wrong: check the artery/vein map and mark "
        "vessels as artery or vein by right-clicking them on the photograph."),
    ),
    verification=VERIFICATION,
)
