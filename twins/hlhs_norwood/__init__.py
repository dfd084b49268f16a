"""Newborn with hypoplastic left heart: which source of pulmonary blood flow at the Norwood
operation (modified Blalock-Taussig shunt or RV-PA conduit)? See README.md."""

from __future__ import annotations

from typing import Any

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
    number,
    tr,
    view_of,
)

from .form import CLINICAL_FIELDS
from .model import REFERENCE_MAP_MMHG, simulate
from .verification import VERIFICATION

VENTRICLE_LABELS = ("single ventricle", "ventricle", "right ventricle", "systemic ventricle")
_FROM_FORM = N_("from the clinical form")


def _clinical(case: CaseView, key: str):
    value = case.clinical.get(key)
    return None if value in (None, "") else value


def personalize(case: CaseView) -> dict[str, Personalized]:
    """Body size, heart rate, haemoglobin, SVR from the blood pressure, ventricle volume."""
    case = view_of(case)
    values: dict[str, Personalized] = {}
    for key in ("weight_kg", "height_cm", "heart_rate_bpm", "hemoglobin_g_dl"):
        value = _clinical(case, key)
        if value is not None:
            values[key] = Personalized(float(value), tr(_FROM_FORM))
    systolic, diastolic = _clinical(case, "sbp_mmhg"), _clinical(case, "dbp_mmhg")
    if systolic is not None and diastolic is not None:
        mean = float(diastolic) + (float(systolic) - float(diastolic)) / 3.0
        scale = min(max(mean / REFERENCE_MAP_MMHG, 0.5), 2.0)
        values["svr_scale"] = Personalized(
            round(scale, 2),
            tr(
                "mean arterial pressure {mean} mmHg (BP {systolic}/{diastolic}) against "
                "{reference} mmHg in the reference newborn (first-order: pressure "
                "proportional to resistance)"
            ).format(
                mean=number(mean),
                systolic=number(float(systolic)),
                diastolic=number(float(diastolic)),
                reference=number(REFERENCE_MAP_MMHG),
            ),
            sd=round(MAP_SD_MMHG / REFERENCE_MAP_MMHG, 3),  # the measured MAP's error
        )
    spvo2 = _clinical(case, "spvo2_pct")
    if spvo2 is not None:
        values["spvo2_pct"] = Personalized(float(spvo2), tr(_FROM_FORM))
    for name in case.label_names:
        if name.lower() in VENTRICLE_LABELS:
            volume = case.label_volume_ml(name)
            values["ventricle_edv_ml"] = Personalized(
                round(volume, 1),
                tr("volume of label '{name}' (taken as end-diastolic)").format(name=name),
            )
            break
    return values


def prepare(case: CaseView) -> dict[str, Any]:
    """Measured values the results are compared with (nothing heavy: no image needed)."""
    case = view_of(case)
    measured = _clinical(case, "sao2_pct")
    return {"measured_sao2_pct": float(measured) if measured is not None else None}


def _p(name, label, unit, default, low=None, high=None, help="", source="", choices=(),
       choice_labels=(), **more):  # fmt: skip
    return Parameter(name, label, unit, default, low, high, help, source, tuple(choices),
                     choice_labels=tuple(choice_labels), **more)  # fmt: skip


# A cuff (oscillometric) mean arterial pressure against the radial arterial line in ill
# preterm and full-term neonates: 4.8 +- 9.8 mmHg (1492 pairs): the error of a measured MAP,
# taken whole (an arterial line, usual after the Norwood, does better).
MAP_SD_MMHG = 9.8
MAP_ERROR = ("oscillometric against intra-arterial MAP in ill preterm and full-term neonates, "
             "J Am Soc Hypertens 2014;8:36-44")  # fmt: skip
# What a run with uncertainty samples (README, Uncertainty): the resistances and oxygen
# consumption nobody measures in this baby, and the blood-pressure-based SVR with the
# pressure's error. Not the shunt (the scenarios' choice).
UNCERTAIN = (
    Uncertain("pvr_scale", "lognormal", relative_sd=0.35,
              source="assumed, no published neonatal distribution found: PVR is not measured "
              "before or just after the Norwood and the reference is calibrated (README); "
              "halved to doubled at 95 % (exp(1.96 x 0.35) = 2.0), the range of the "
              "README's PVR scenarios"),
    Uncertain("svr_scale", "normal", sd=0.25, from_case=True,
              source=f"with a blood pressure in the case: the cuff MAP's error, SD "
              f"{MAP_SD_MMHG} mmHg ({MAP_ERROR}) / {REFERENCE_MAP_MMHG} mmHg = "
              f"{MAP_SD_MMHG / REFERENCE_MAP_MMHG:.3f}; without one, an assumed SD of 0.25 "
              "(the reference newborn's resistances stand in for this baby's)"),
    Uncertain("vo2_ml_min_m2", "normal", sd=15.0,
              source="Li J et al. (respiratory mass spectrometry after the Norwood, "
              "2006-2008): 120-180 mL/min/m2, read as 2 SD either side of 150: SD 15"),
)  # fmt: skip
SCALING = "Reference newborn, scaled by weight (allometry); see README"
CALIBRATED = "calibrated: reference newborn to typical post-Norwood values (README)"

TWIN = Twin(
    id="hlhs_norwood",
    title=N_("Hypoplastic left heart: Norwood shunt choice"),
    specialty="cardiology",
    version="1.1",
    question=N_("For this newborn, which source of pulmonary blood flow at the Norwood "
    "operation - a 3.0, 3.5 or 4.0 mm modified Blalock-Taussig shunt or a right-ventricle-"
    "to-pulmonary-artery (Sano) conduit - balances pulmonary and systemic flow best?"),
    references=(
        "Migliavacca F, Pennati G, Dubini G, et al. Am J Physiol Heart Circ Physiol "
        "2001;280:H2076-86 (lumped model of the Norwood circulation; the model family)",
        "Barnea O, Austin EH, Richman B, Santamore WP. J Am Coll Cardiol 1994;24:1376-81 "
        "(oxygen delivery versus Qp/Qs)",
        "Hsia TY, Cosentino D, Corsini C, et al. Circulation 2011;124:S204-10 (BT 3.5 mm vs "
        "RV-PA 5 mm: systemic O2 delivery 591 vs 640 mL/min/m2)",
        "Stergiopulos N, Meister JJ, Westerhof N. Am J Physiol 1996;270:H2050-9 (ventricular "
        "activation function)",
        "Haycock GB, Schwartz GJ, Wisotsky DH. J Pediatr 1978;93:62-6 (body surface area)",
        "Ohye RG et al. N Engl J Med 2010;362:1980-92 (SVR trial: BT shunt vs RV-PA conduit)",
    ),
    parameters=(
        _p(
            "shunt_type",
            N_("Shunt"),
            "",
            "bt",
            choices=("bt", "sano"),
            choice_labels=(N_("modified BT shunt"), N_("RV-PA (Sano) conduit")),
            short_labels=("BT", "Sano"),
            key=True,
            source="scenario (the surgical options compared in the SVR trial, Ohye 2010)",
            help=N_("bt: modified Blalock-Taussig (innominate artery to pulmonary artery); "
            "sano: right ventricle to pulmonary artery conduit (unvalved)"),
        ),
        _p(
            "shunt_diameter_mm",
            N_("Shunt diameter"),
            "mm",
            3.5,
            2.5,
            6.0,
            help=N_("Inner diameter of the graft (BT 3.0-4.0 mm, Sano 5-6 mm); a Sano conduit "
            "is 5 mm unless set"),
            source="surgical practice: BT 3.5 mm, RV-PA conduit 5 or 6 mm (SVR trial, Ohye 2010)",
            key=True,
            decimals=1,
            variant_of="shunt_type",
            variant_defaults=(("sano", 5.0),),
        ),
        _p("weight_kg", N_("Weight"), "kg", 3.5, 1.5, 6.0, source=SCALING),
        _p(
            "height_cm",
            N_("Length"),
            "cm",
            50.0,
            35.0,
            65.0,
            help=N_("For the body surface area"),
            source="Haycock 1978",
        ),
        _p(
            "heart_rate_bpm",
            N_("Heart rate"),
            "bpm",
            140.0,
            80.0,
            220.0,
            source="neonatal normal range",
        ),
        _p(
            "pvr_scale",
            N_("Pulmonary vascular resistance"),
            "x reference",
            1.0,
            0.3,
            4.0,
            help=N_("Multiplies the reference PVR (0.59 mmHg s/mL at 3.5 kg, about 2.2 WU m2)"),
            source=CALIBRATED,
        ),
        _p(
            "svr_scale",
            N_("Systemic vascular resistance"),
            "x reference",
            1.0,
            0.3,
            3.0,
            help=N_("Multiplies the systemic (upper body, lower body, coronary) resistances"),
            source=CALIBRATED,
        ),
        _p(
            "contractility_scale",
            N_("Ventricular contractility"),
            "x reference",
            1.0,
            0.3,
            2.0,
            help=N_("Multiplies the end-systolic elastance (poor function < 1)"),
            source=CALIBRATED,
        ),
        _p(
            "ventricle_edv_ml",
            N_("Ventricular end-diastolic volume"),
            "mL",
            0.0,
            0.0,
            80.0,
            help=N_("0: expected for body size; from a segmented ventricle when there is one"),
            source="case",
        ),
        _p(
            "hemoglobin_g_dl",
            N_("Haemoglobin"),
            "g/dL",
            15.0,
            8.0,
            22.0,
            source="typical neonatal target after the Norwood",
        ),
        _p(
            "vo2_ml_min_m2",
            N_("Oxygen consumption"),
            "mL/min/m2",
            140.0,
            80.0,
            250.0,
            help=N_("Whole-body O2 consumption"),
            source="measured after the Norwood, 120-180 "
            "mL/min/m2 (Li J et al., mass spectrometry, 2006-2008)",
        ),
        _p(
            "spvo2_pct",
            N_("Pulmonary venous saturation"),
            "%",
            97.0,
            70.0,
            100.0,
            help=N_("Lower with lung disease"),
            source="Barnea 1994 (assumed near-full saturation)",
        ),
        _p(
            "blood_volume_ml_kg",
            N_("Blood volume"),
            "mL/kg",
            85.0,
            60.0,
            110.0,
            source="neonatal blood volume 80-90 mL/kg (paediatric physiology texts)",
        ),
        _p(
            "bt_length_mm",
            N_("BT shunt length"),
            "mm",
            20.0,
            10.0,
            40.0,
            source="surgical anatomy",
        ),
        _p(
            "sano_length_mm",
            N_("Sano conduit length"),
            "mm",
            30.0,
            15.0,
            50.0,
            source="surgical anatomy",
        ),
        _p(
            "shunt_loss_k",
            N_("Shunt loss coefficient"),
            "",
            5.0,
            1.0,
            12.0,
            help=N_("Entrance, exit, curvature and anastomosis losses (K rho v^2 / 2)"),
            source=CALIBRATED,
        ),
    ),
    # Clinical precision and resolution (differences no larger are the same: no "best"):
    # saturations to 1 % with pulse oximetry good to about 2-3 %; pressures to 1 mmHg with a
    # clinical resolution of 2 mmHg (1 for the low atrial and filling pressures); flows
    # indexed to 0.1 L/min/m2 (Fick and Doppler differ by about 10 %).
    outcomes=(
        Outcome(
            "qp_qs",
            N_("Qp/Qs"),
            "",
            help=N_("Pulmonary to systemic flow ratio (1 is balanced)"),
            target=Target(
                0.8,
                1.2,
                "a balanced single-ventricle circulation, Qp/Qs about 1: Barnea et al., J Am "
                "Coll Cardiol 1994;24:1376-81 (systemic O2 delivery peaks near Qp/Qs 1); "
                "Migliavacca et al., Am J Physiol Heart Circ Physiol 2001;280:H2076-86",
            ),
            resolution=0.1,
            precision=2,
        ),
        Outcome(
            "sao2_pct",
            N_("Arterial saturation"),
            "%",
            help=N_("Neither higher nor lower is better: too low is hypoxaemia; too high is "
            "pulmonary overcirculation at the expense of systemic flow"),
            target=Target(
                75.0,
                85.0,
                "a balanced circulation after the Norwood operation (SaO2 about 75-85 % with "
                "Qp/Qs near 1): Barnea et al., J Am Coll Cardiol 1994;24:1376-81; Hsia et al., "
                "Circulation 2011;124:S204-10",
            ),
            resolution=2.0,
            precision=0,
        ),
        Outcome(
            "svo2_pct",
            N_("Mixed venous saturation"),
            "%",
            "higher",
            help=N_("Systemic oxygen delivery against consumption"),
            target=Target(
                low=30.0,
                source="above the anaerobic threshold of about 30 % (Hoffman et al., Ann "
                "Thorac Surg 2000;70:1515-20); the twin warns below it",
            ),
            resolution=2.0,
            precision=0,
        ),
        Outcome(
            "do2_ml_min_m2",
            N_("Systemic oxygen delivery"),
            "mL/min/m2",
            "higher",
            resolution=20.0,
            precision=0,
        ),
        Outcome(
            "cardiac_index_l_min_m2",
            N_("Ventricular output (Qp + Qs)"),
            "L/min/m2",
            help=N_("Total output of the single ventricle, indexed"),
            precision=1,
        ),
        Outcome(
            "systemic_index_l_min_m2",
            N_("Systemic flow (Qs)"),
            "L/min/m2",
            "higher",
            resolution=0.2,
            precision=1,
        ),
        Outcome("aortic_systolic_mmhg", N_("Aortic systolic pressure"), "mmHg", precision=0),
        Outcome(
            "aortic_diastolic_mmhg",
            N_("Aortic diastolic pressure"),
            "mmHg",
            "higher",
            resolution=2.0,
            precision=0,
        ),
        Outcome("aortic_mean_mmhg", N_("Mean aortic pressure"), "mmHg", precision=0),
        Outcome(
            "coronary_perfusion_mmhg",
            N_("Coronary perfusion pressure"),
            "mmHg",
            "higher",
            help=N_("Aortic diastolic minus ventricular end-diastolic pressure"),
            target=Target(
                low=20.0,
                source="the twin's own warning level (README); no published newborn "
                "threshold was verified",
            ),
            resolution=2.0,
            precision=0,
        ),
        Outcome(
            "pulmonary_mean_mmhg",
            N_("Mean pulmonary artery pressure"),
            "mmHg",
            "lower",
            resolution=2.0,
            precision=0,
        ),
        Outcome(
            "atrial_mean_mmhg",
            N_("Mean atrial pressure"),
            "mmHg",
            "lower",
            resolution=1.0,
            precision=0,
        ),
        Outcome(
            "ventricular_edp_mmhg",
            N_("Ventricular end-diastolic pressure"),
            "mmHg",
            "lower",
            resolution=1.0,
            precision=0,
        ),
        Outcome("ejection_fraction_pct", N_("Ejection fraction"), "%", precision=0),
        Outcome(
            "shunt_regurgitant_pct",
            N_("Shunt regurgitant fraction"),
            "%",
            "lower",
            help=N_("Backward over forward shunt flow (diastolic regurgitation of a Sano)"),
            resolution=2.0,
            precision=0,
        ),
    ),
    requirements=(
        Requirement(
            "clinical",
            "weight_kg",
            N_("(in kg; a newborn: body size scales the model)"),
            minimum=1.5,
            maximum=6.0,
        ),
    ),
    personalize=personalize,
    prepare=prepare,
    simulate=simulate,
    verification=VERIFICATION,
    clinical_fields=CLINICAL_FIELDS,
    uncertain=UNCERTAIN,
    limitations=(
        N_("Lumped (0D) model: no wave propagation, no 3D flow in the arch or anastomoses; "
        "the shunt's pressure drop uses one loss coefficient calibrated on the reference."),
        N_("Parameters are those of a reference newborn scaled by weight, not measured in this "
        "baby; only weight, length, heart rate, haemoglobin, blood pressure (SVR) and a "
        "segmented ventricle volume personalise it."),
        N_("No baroreflex or autoregulation: resistances stay as set in each scenario."),
        N_("Oxygen transport is a steady balance on mean flows with complete atrial mixing."),
        N_("The RV-PA conduit is unvalved; its diastolic regurgitation is modelled, the "
        "ventriculotomy's effect on function is not."),
    ),
)
