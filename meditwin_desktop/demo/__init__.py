"""The built-in demo patient library: generated, deterministic, written as real DICOM.

`write_demo(out)` writes, per patient, a DICOM series and its ground-truth label map
(NIfTI + JSON sidecar), then `demo.json`, which lists them; the manifest is written
last, so a folder with a manifest is complete. `ensure_demo()` keeps one copy in the
user's cache.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from meditwin_desktop.core.atomic import write_text_atomic
from meditwin_desktop.core.paths import cache_dir
from meditwin_desktop.core.progress import (
    CancelledFn,
    ProgressFn,
    check_cancelled,
    never_cancelled,
    no_progress,
    sub_progress,
)

DEMO_VERSION = 2  # bump whenever the generated data change (cache key)
MANIFEST = "demo.json"


@dataclass(frozen=True)
class DemoPatient:
    """One demo patient as written on disk."""

    patient_id: str
    description: str
    dicom_dir: Path
    labels_path: Path
    series_uid: str


def write_demo(
    out: Path, *, progress: ProgressFn = no_progress, cancelled: CancelledFn = never_cancelled
) -> list[DemoPatient]:
    """Generate the demo library into `out`; return its patients."""
    # imported here: `meditwin gui --demo` reads the demo cases (this package) before its
    # first window, and these bring pydicom and scipy (0.6 s)
    from meditwin_desktop.core.imaging.dicom.write import SeriesHeader, write_ct_series
    from meditwin_desktop.core.imaging.nifti import write_label_map
    from meditwin_desktop.demo import anatomy

    out = Path(out)
    progress(0.0, "Building the demo anatomy")
    ct, labels = anatomy.build()
    check_cancelled(cancelled)
    patient_id = "MEDITWIN-DEMO-001"
    header = SeriesHeader(
        patient_name="DEMO^Thorax-Abdomen",
        patient_id=patient_id,
        birth_date="19610315",
        sex="M",
        study_description="CT thorax-abdomen, portal venous phase (synthetic demo)",
        series_description="Portal venous 2 mm",
        body_part="CHESTABDOMEN",
        series_number=2,
        uid_seed=f"meditwin-demo-{DEMO_VERSION}-{patient_id}",
    )
    dicom_dir = out / patient_id / "CT"
    paths = write_ct_series(
        ct, dicom_dir, header, progress=sub_progress(progress, 0.3, 0.9), cancelled=cancelled
    )
    labels_path = out / patient_id / "ct_labels.nii.gz"
    progress(0.92, "Writing the ground-truth labels")
    write_label_map(labels, labels_path)
    import pydicom

    series_uid = str(pydicom.dcmread(paths[0], stop_before_pixels=True).SeriesInstanceUID)
    patient = DemoPatient(
        patient_id,
        "Adult thorax-abdomen CT with two liver metastases (synthetic).",
        dicom_dir,
        labels_path,
        series_uid,
    )
    manifest = {
        "version": DEMO_VERSION,
        "patients": [
            {
                "patient_id": patient.patient_id,
                "description": patient.description,
                "dicom": str(dicom_dir.relative_to(out)),
                "labels": str(labels_path.relative_to(out)),
                "series_uid": series_uid,
            }
        ],
    }
    write_text_atomic(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    progress(1.0, "Demo patient ready")
    return [patient]


def read_demo(out: Path) -> list[DemoPatient] | None:
    """The patients of a complete demo library of the current version, else None."""
    manifest_path = Path(out) / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("version") != DEMO_VERSION:
        return None
    return [
        DemoPatient(
            p["patient_id"],
            p["description"],
            Path(out) / p["dicom"],
            Path(out) / p["labels"],
            p["series_uid"],
        )
        for p in manifest["patients"]
    ]


_generating = threading.Lock()


def ensure_demo(
    *, progress: ProgressFn = no_progress, cancelled: CancelledFn = never_cancelled
) -> list[DemoPatient]:
    """The cached demo library, generated first if missing (into a temp dir, then renamed).
    Callers in other threads wait for a generation under way (the GUI starts one while its
    modules import) instead of writing a second copy."""
    with _generating:
        return _ensure_demo(progress, cancelled)


def _ensure_demo(progress: ProgressFn, cancelled: CancelledFn) -> list[DemoPatient]:
    target = cache_dir() / f"demo-v{DEMO_VERSION}"
    patients = read_demo(target)
    if patients is not None:
        return patients
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=cache_dir()))
    try:
        write_demo(staging, progress=progress, cancelled=cancelled)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    patients = read_demo(target)
    assert patients is not None
    return patients
