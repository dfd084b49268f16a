"""The applicators (devices) a plan can choose, with their zone-chart calibration state.

A device's manufacturer publishes an ablation-zone chart (zone diameter and length per
power and time, ex vivo or in vivo). The model's zone size depends on the assumed
`absorbed_fraction` of the generator power; a device is *calibrated* when that fraction
(and the active length) were fitted to its chart. None of the generic devices here is:
every zone they give says so, next to its size (Result notes and warnings).
"""

from __future__ import annotations

from dataclasses import dataclass


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
        "generic 2.45 GHz microwave antenna",
        "clinical zones of 2.45 GHz antennas, 60 W for 10 min: short axis 4.1 ± 0.6 cm "
        "(Amabile et al., Int J Hyperthermia 2017); the model gives 48.2 mm at an absorbed "
        "fraction of 0.7 (README, verification), inside that range but not fitted to it",
    ),
    "rf": Device(
        "rf",
        "generic radiofrequency electrode (no roll-off)",
        "no zone chart: 1/r^2 Joule heating without impedance roll-off or tip cooling; RF "
        "zone sizes are not validated",
    ),
}


def calibration_note(code: str, absorbed_fraction: float, reference: bool = True) -> str:
    """What the GUI and the report say beside the zone size about its calibration (with
    the published sizes it is compared with, unless `reference` is False)."""
    device = DEVICES[code]
    if device.calibrated:
        text = f"calibrated: {device.label}, absorbed fraction {device.fitted_fraction:.2f}"
        return text + (f" fitted to {device.reference}" if reference else "")
    text = (
        f"uncalibrated: zone size not fitted to this device's chart ({device.label}; "
        f"absorbed fraction {absorbed_fraction:.2f} assumed"
    )
    return text + (f"; compared with: {device.reference})" if reference else ")")
