"""The applicators (devices) a plan can choose, with their zone-chart calibration state.

A device's manufacturer publishes an ablation-zone chart (zone diameter and length per
power and time, ex vivo or in vivo). The model's zone size depends on the assumed
`absorbed_fraction` of the generator power; a device is *calibrated* when that fraction
(and the active length) were fitted to its chart. None of the generic devices here is:
every zone they give says so, next to its size (Result notes and warnings).
"""

from __future__ import annotations

from dataclasses import dataclass

from meditwin_desktop.core.twin import N_, number, tr


@dataclass(frozen=True)
class Device:
    """One applicator choice (the `modality` parameter's code)."""

    code: str
    label: str  # what clinicians read in the scenario table
    reference: str  # the published zone sizes it is compared with, and their source
    fitted_fraction: float | None = None  # absorbed fraction fitted to its chart, if any

    @property
    def calibrated(self) -> bool:
        """Whether the zone size was fitted to this device's chart."""
        return self.fitted_fraction is not None


DEVICES = {
    "microwave": Device(
        "microwave",
        N_("generic 2.45 GHz microwave antenna"),
        N_(
            "clinical zones of 2.45 GHz antennas, 60 W for 10 min: short axis 4.1 ± 0.6 cm "
            "(Amabile et al., Int J Hyperthermia 2017); the model gives 48.2 mm at an absorbed "
            "fraction of 0.7 (README, verification), inside that range but not fitted to it"
        ),
    ),
    "rf": Device(
        "rf",
        N_("generic radiofrequency electrode (no roll-off)"),
        N_(
            "no zone chart: 1/r^2 Joule heating without impedance roll-off or tip cooling; RF "
            "zone sizes are not validated"
        ),
    ),
}


def calibration_note(code: str, absorbed_fraction: float, reference: bool = True) -> str:
    """What the GUI and the report say beside the zone size about its calibration (with
    the published sizes it is compared with, unless `reference` is False)."""
    device = DEVICES[code]
    label, cited = tr(device.label), tr(device.reference)
    if device.calibrated:
        text = tr("calibrated: {device}, absorbed fraction {fraction}").format(
            device=label, fraction=number(device.fitted_fraction or 0.0, 2)
        )
        return text + (tr(" fitted to {reference}").format(reference=cited) if reference else "")
    text = tr(
        "uncalibrated: zone size not fitted to this device's chart ({device}; "
        "absorbed fraction {fraction} assumed"
    ).format(device=label, fraction=number(absorbed_fraction, 2))
    if not reference:
        return text + ")"
    return text + tr("; compared with: {reference})").format(reference=cited)
