"""Colorectal liver metastases: microwave ablation and resection planning (see README.md)."""

from __future__ import annotations

from typing import Any

import numpy as np

from meditwin_desktop.core.twin import (
    N_,
    CaseView,
    Outcome,
    Parameter,
    Personalized,
    Requirement,
    Target,
    Twin,
    TwinInputError,
    Uncertain,
    choose_entry,
    number,
    tr,
    view_of,
)

from .devices import DEVICES
from .model import FLR_THRESHOLD_PCT, memory_estimate, simulate
from .tissue import TUMOUR, classify
from .verification import VERIFICATION

ENTRY_DISTANCE_MM = 80.0  # fallback entry: this far from the target, from the patient's right
MODALITIES = ("microwave", "rf")
RESECTIONS = ("none", "remove right part", "remove left part")


def _tumours(case: CaseView) -> list[tuple[str, np.ndarray, float]]:
    """(name, centre LPS, volume mL) of each tumour label, in label order."""
    _, names = classify(case.label_values())
    found = []
    for name in names:
        try:
            found.append((name, case.label_centroid(name), case.label_volume_ml(name)))
        except KeyError:  # an empty tumour label
            continue
    return found


def personalize(case: CaseView) -> dict[str, Personalized]:
    """Target at the largest tumour's centre, entry from the right, cut at the IVC."""
    case = view_of(case)
    tumours = _tumours(case)
    if not tumours:
        raise TwinInputError(
            tr(
                "No tumour label in this case: draw the tumour and name it 'tumour 1' "
                "(or 'metastasis', 'lesion')."
            )
        )
    name, centre, volume = max(tumours, key=lambda t: t[2])
    others = "; ".join(
        tr("'{name}' {volume} mL at L {l} P {p} S {s}").format(
            name=n, volume=number(v, 1), l=number(c[0]), p=number(c[1]), s=number(c[2])
        )
        for n, c, v in tumours
        if n != name
    )
    where = tr("centre of '{name}' ({volume} mL, the largest tumour)").format(
        name=name, volume=number(volume, 1)
    ) + (tr("; other tumours: {others}").format(others=others) if others else "")
    entry, why = _default_entry(case, centre)
    values = {
        "target_lps_mm": Personalized(tuple(round(float(x), 1) for x in centre), where),
        "entry_lps_mm": Personalized(tuple(round(float(x), 1) for x in entry), why),
    }
    try:
        at = case.label_centroid("inferior vena cava")[0]
        values["resection_l_mm"] = Personalized(
            round(float(at), 1),
            tr("L position of the inferior vena cava (a Cantlie-line stand-in)"),
        )
    except KeyError:
        pass
    values["liver_ml"] = Personalized(
        round(case.label_volume_ml("liver"), 1), tr("volume of label 'liver' (tumours excluded)")
    )
    return values


def _default_entry(case: CaseView, target: np.ndarray) -> tuple[np.ndarray, str]:
    """A skin entry whose straight path to the target avoids bone, vessels and other organs
    where possible (core.planning.choose_entry over ~450 directions), with why."""
    grid = case.label_grid()
    names = case.label_values()
    inside = None
    if not case.has_label("body"):  # the skin from the CT: tissue denser than -500 HU
        try:
            image = case.image_grid()
            if image.array.shape == grid.array.shape:
                inside = (image.array > -500) | (grid.array > 0)
        except KeyError:
            pass
    choice = choose_entry(grid.array, grid.affine, names, target, inside=inside)
    if choice is None:
        fallback = target - np.array([ENTRY_DISTANCE_MM, 0.0, 0.0])
        return fallback, tr(
            "{distance} mm to the patient's right of the target (no straight "
            "path reached the skin within 20 cm)"
        ).format(distance=number(ENTRY_DISTANCE_MM))
    return choice.entry, choice.provenance()


def prepare(case: CaseView) -> dict[str, Any]:
    """Tissue codes of the whole CT (uint8) and its affine; the labels and their names
    (for the path check)."""
    case = view_of(case)
    lut, names = classify(case.label_values())
    grid = case.label_grid()
    codes = lut[np.clip(grid.array, 0, len(lut) - 1)]
    return {
        "codes": codes,
        "affine": grid.affine.copy(),
        "tumours": names,
        "tumour_code": TUMOUR,
        "labels": grid.array,
        "label_names": dict(case.label_values()),
    }


def _point_parameter(name: str, label: str, help: str, within: tuple[str, ...]) -> Parameter:
    return Parameter(
        f"{name}_lps_mm",
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
    )


# What a run with uncertainty samples (README, Uncertainty): the tissue properties nobody
# measures in this patient and the share of the generator's power the generic applicator
# deposits. Not the plan (position, power, time, applicators, resection: the scenarios').
UNCERTAIN = (
    Uncertain("liver_perfusion_per_s", "lognormal", relative_sd=0.5,
              source="perfusion moves the ablation zone most among tissue inputs (Hall SK, Ooi "
              "EH, Payne SJ. Int J Hyperthermia 2015;31:538-550); values from 6.4e-3 /s "
              "(Tungjitkusolmun 2002, the default) to about 1.7e-2 /s (total hepatic blood "
              "flow, about 1 mL/min per g): SD of the log 0.5, x0.37 to x2.7 at 95 %"),
    Uncertain("liver_conductivity_w_mk", "normal", relative_sd=0.1,
              source="IT'IS database v4.1 (2022), liver 0.52 W/(m K); measured values differ by "
              "up to 40 % between studies (Materials (Basel) 2021;14:3750, bovine liver "
              "review): SD 10 % of the value"),
    Uncertain("absorbed_fraction", "triangular", low=0.5, high=0.9,
              source="assumed: the generic applicator is not calibrated against a "
              "manufacturer's chart (README); cable and reflection losses leave 50-90 % of "
              "the generator's power in tissue, the default 0.7 the mode"),
)  # fmt: skip

TWIN = Twin(
    id="liver_ablation",
    title=N_("Liver metastases: ablation and resection"),
    specialty="oncology",
    version="1.2",
    question=N_("Does a microwave ablation cover the tumour with a safe margin despite the "
    "heat sink of nearby vessels, and does a resection leave enough liver?"),
    references=(
        "Pennes HH. J Appl Physiol 1948;1:93-122 (bioheat equation)",
        "Chang IA, Nguyen UD. Biomed Eng Online 2004;3:27 (Arrhenius liver: "
        "A = 7.39e39 1/s, Ea = 2.577e5 J/mol)",
        "Sapareto SA, Dewey WC. Int J Radiat Oncol Biol Phys 1984;10:787 (CEM43)",
        "Tungjitkusolmun S et al. IEEE Trans Biomed Eng 2002;49:3-9 (liver perfusion)",
        "IT'IS Foundation tissue properties database v4.1, 2022",
        "Gabriel S et al. Phys Med Biol 1996;41:2271 (liver dielectric properties)",
        "Adams RB et al. HPB 2013;15:91-103 (future liver remnant thresholds)",
        "Amabile C et al. Int J Hyperthermia 2017 (clinical microwave zones; validation)",
    ),
    parameters=(
        _point_parameter(
            "target",
            N_("Target"),
            N_(
                "Centre of the ablation (the antennas' midpoint): L, P, S in mm (patient "
                "coordinates); or click a view, then 'Target ← crosshair'"
            ),
            ("body",),
        ),
        _point_parameter(
            "entry",
            N_("Entry"),
            N_(
                "A point on the applicator's path outside the target: L, P, S in mm (patient "
                "coordinates); or click a view, then 'Entry ← crosshair'"
            ),
            (),
        ),
        Parameter(
            "modality",
            N_("Device (zone chart)"),
            "",
            "microwave",
            choices=MODALITIES,
            choice_labels=tuple(DEVICES[m].label for m in MODALITIES),
            help=N_("The applicator: its heating pattern and the zone chart it is compared "
            "with. Neither generic device is calibrated: the zone size is not fitted to a "
            "manufacturer's chart (see the README)"),
            source="scenario (device chosen for the plan)",
        ),
        Parameter(
            "power_w",
            N_("Power per applicator"),
            "W",
            60.0,
            10.0,
            150.0,
            help=N_("Generator power of each antenna"),
            source="typical 2.45 GHz systems",
            key=True,
            decimals=0,
        ),
        Parameter(
            "time_s",
            N_("Ablation time"),
            "s",
            480.0,
            30.0,
            1200.0,
            source="typical 2.45 GHz protocols (2-10 min)",
            key=True,
            decimals=0,
        ),
        Parameter(
            "n_applicators",
            N_("Applicators"),
            "",
            1.0,
            1.0,
            3.0,
            help=N_("1, 2 side by side, or 3 in a triangle"),
            source="scenario (plan)",
            short_labels=("applicators",),
            decimals=0,
        ),
        Parameter(
            "applicator_spacing_mm",
            N_("Applicator spacing"),
            "mm",
            15.0,
            5.0,
            30.0,
            source="scenario (plan)",
        ),
        Parameter(
            "active_length_mm",
            N_("Active length"),
            "mm",
            20.0,
            5.0,
            40.0,
            help=N_("Length of the radiating section (full width at half maximum)"),
            source="assumed; device specific",
        ),
        Parameter(
            "absorbed_fraction",
            N_("Power absorbed by tissue"),
            "",
            0.7,
            0.3,
            1.0,
            help=N_("Fraction of generator power deposited (cable and reflection losses)"),
            source="assumed; calibrate against the device's ablation-zone chart",
        ),
        Parameter(
            "cool_down_s",
            N_("Cooling after"),
            "s",
            60.0,
            0.0,
            600.0,
            help=N_("Time simulated after the power stops (damage keeps accruing)"),
            source="numerical setting (see README)",
        ),
        Parameter(
            "damage_threshold",
            N_("Damage threshold (Omega)"),
            "",
            4.6,
            0.5,
            10.0,
            help=N_("Arrhenius integral at which tissue counts as ablated; 4.6 = 99% cell death"),
            source="Chang & Nguyen 2004",
        ),
        Parameter(
            "liver_perfusion_per_s",
            N_("Liver blood perfusion"),
            "1/s",
            6.4e-3,
            0.0,
            0.05,
            help=N_("Blood perfusion of liver and tumour in the bioheat equation (6.4e-3 /s: "
            "about 38 mL/min per 100 mL of tissue); the heat sink of the small vessels, "
            "stopped where tissue coagulates"),
            source="Tungjitkusolmun et al. 2002, table I",
            decimals=4,
        ),
        Parameter(
            "liver_conductivity_w_mk",
            N_("Liver thermal conductivity"),
            "W/(m K)",
            0.52,
            0.3,
            0.9,
            source="IT'IS Foundation tissue properties database v4.1, 2022 (liver)",
            decimals=2,
        ),
        Parameter(
            "ablation",
            N_("Ablate"),
            "",
            True,
            help=N_("Switch the applicators off for a resection-only scenario"),
            source="scenario (plan)",
            short_labels=("ablation", "no ablation"),
        ),
        Parameter(
            "resection",
            N_("Resection"),
            "",
            "none",
            choices=RESECTIONS,
            choice_labels=(
                N_("none"),
                N_("remove the part right of the plane"),
                N_("remove the part left of the plane"),
            ),
            short_labels=("no resection", "right resection", "left resection"),
            source="scenario (plan)",
        ),
        Parameter(
            "resection_l_mm",
            N_("Resection plane L"),
            "mm",
            0.0,
            -1000.0,
            1000.0,
            help=N_("L coordinate (LPS) where the cutting plane crosses"),
            source="case",
        ),
        Parameter(
            "resection_angle_deg",
            N_("Resection plane angle"),
            "deg",
            0.0,
            -60.0,
            60.0,
            help=N_("Rotation of the sagittal cutting plane about the S axis"),
            source="scenario (plan)",
        ),
        Parameter(
            "liver_condition",
            N_("Liver condition"),
            "",
            "after chemotherapy",
            choices=tuple(FLR_THRESHOLD_PCT),
            help=N_("Sets the FLR threshold: 20% normal, 30% after chemotherapy, 40% cirrhosis"),
            choice_labels=(N_("normal liver"), N_("after chemotherapy"), N_("cirrhosis")),
            source="Adams et al. 2013",
        ),
        Parameter(
            "liver_ml",
            N_("Functional liver volume"),
            "mL",
            1500.0,
            100.0,
            5000.0,
            help=N_("For information (computed from the labels)"),
            source="case",
        ),
        Parameter(
            "grid_mm",
            N_("Grid spacing"),
            "mm",
            1.0,
            0.5,
            3.0,
            help=N_("Simulation grid (isotropic, around the target)"),
            source="numerical setting (grid convergence in the README)",
        ),
        Parameter(
            "region_mm",
            N_("Simulated region"),
            "mm",
            80.0,
            40.0,
            140.0,
            help=N_("Edge of the cube simulated around the target"),
            source="numerical setting (see README)",
        ),
    ),
    outcomes=(
        # Clinical precision: volumes to 0.1 mL, zone axes to whole mm (as zone charts give
        # them), margins to 0.1 mm, coverages to 0.1 % (99.6 % is not complete), the remnant
        # to whole percent; `resolution`: differences no larger are the same (no "best").
        Outcome("ablation_volume_ml", N_("Ablation volume"), "mL", precision=1),
        Outcome("ablation_long_axis_mm", N_("Long axis (along the applicator)"), "mm", precision=0),
        Outcome("ablation_short_axis_mm", N_("Short axis"), "mm", precision=0),
        Outcome(
            "tumor_coverage_pct",
            N_("Tumour treated (ablated or resected)"),
            "%",
            "higher",
            target=Target(
                low=100.0,
                source="technical success: the whole tumour inside the ablation zone (Ahmed "
                "et al., Radiology 2014;273:241-260)",
            ),
            resolution=1.0,
            precision=1,
        ),
        Outcome(
            "coverage_5mm_pct",
            N_("Coverage with 5 mm margin"),
            "%",
            "higher",
            target=Target(
                low=100.0,
                source="a 5 mm ablative margin all round (Laimer et al., Eur Radiol "
                "2020;30:2463-2472; Shady et al., Radiology 2016;278:601-611)",
            ),
            resolution=1.0,
            precision=1,
        ),
        Outcome(
            "coverage_10mm_pct",
            N_("Coverage with 10 mm margin"),
            "%",
            "higher",
            resolution=1.0,
            precision=1,
        ),
        Outcome(
            "min_margin_mm",
            N_("Minimal margin"),
            "mm",
            "higher",
            target=Target(
                low=5.0,
                source="minimal ablative margin >= 5 mm (Laimer et al., "
                "Eur Radiol 2020;30:2463-2472)",
            ),
            resolution=1.0,
            precision=1,
        ),
        Outcome(
            "vessel_wall_ablated_ml",
            N_("Vessel wall in the zone"),
            "mL",
            "lower",
            resolution=0.5,
            precision=1,
        ),
        Outcome(
            "critical_ablated_ml",
            N_("Tissue outside the liver in the zone"),
            "mL",
            "lower",
            resolution=0.5,
            precision=1,
        ),
        Outcome(
            "flr_pct",
            N_("Future liver remnant"),
            "%",
            "higher",
            target=Target(
                low=30.0,
                source="30 % after chemotherapy (Adams et al., HPB 2013;15:91-103; Shindoh "
                "et al., Ann Surg Oncol 2013;20:2493-2500); 20 % normal, 40 % cirrhosis: the "
                "twin warns at the threshold of the liver condition chosen",
            ),
            resolution=1.0,
            precision=0,
            limit=True,  # post-hepatectomy liver failure: such a plan is best at nothing
        ),
        Outcome("cem43_volume_ml", N_("Volume with CEM43 >= 240 min"), "mL", precision=1),
        Outcome("max_temperature_c", N_("Highest temperature"), "°C", precision=0),
    ),
    requirements=(
        Requirement("label", "liver", N_("(functional liver and perfusion)")),
        Requirement("image", "CT", N_("(the labels' grid)")),
    ),
    personalize=personalize,
    prepare=prepare,
    simulate=simulate,
    verification=VERIFICATION,
    memory_estimate=memory_estimate,
    uncertain=UNCERTAIN,
    limitations=(
        N_("Microwave power deposition is an analytic pattern (exponential decay from the "
        "antenna), not an electromagnetic solution; absorbed power is assumed."),
        N_("Large vessels are perfect heat sinks at 37 C; small vessels act through perfusion, "
        "which stops in coagulated tissue. Vaporisation above 100 C is not modelled."),
        N_("Tissue properties are population values, not measured in this patient."),
        N_("The resection is a plane; the future liver remnant ignores segmental anatomy."),
        N_("Radiofrequency: 1/r^2 heating without impedance roll-off or electrode cooling; "
        "its zone sizes are not validated."),
    ),
)
