"""The demo patients as cases (image, ground-truth labels, plausible clinical data)."""

from __future__ import annotations

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.imaging.dicom import load_series
from meditwin_desktop.core.imaging.nifti import read_label_map
from meditwin_desktop.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress
from meditwin_desktop.demo import ensure_demo

DEMO_CASES = {
    "thorax-abdomen": {
        "name": "Demo thorax-abdomen (synthetic)",
        "clinical": {
            "age_years": 65, "sex": "male", "weight_kg": 82.0, "height_cm": 178.0,
            "diagnosis": "colorectal cancer, two liver metastases",
        },
    },
}  # fmt: skip


def demo_case(
    name: str = "thorax-abdomen",
    *,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> Case:
    """A demo case with its image loaded (generated on first use)."""
    if name not in DEMO_CASES:
        raise InputError(f"No demo case '{name}' (there is: {', '.join(DEMO_CASES)}).")
    [patient] = ensure_demo(progress=progress, cancelled=cancelled)
    [image] = load_series(sorted(patient.dicom_dir.glob("*.dcm")), cancelled=cancelled)
    spec = DEMO_CASES[name]
    return Case(
        name=spec["name"],
        patient_id=patient.patient_id,
        id=f"demo-{name}",
        image=image,
        labels=read_label_map(patient.labels_path),
        image_reference={"folder": str(patient.dicom_dir), "series_uid": patient.series_uid},
        clinical=dict(spec["clinical"]),
    )
