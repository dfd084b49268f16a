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

DEMO_VERSION = 4  # bump whenever the generated data change (cache key)
MANIFEST = "demo.json"


@dataclass(frozen=True)
class DemoPatient:
    """One demo patient as written on disk."""

    patient_id: str
    description: str
    dicom_dir: Path
    labels_path: Path
    series_uid: str
    case: str = ""  # its name in demo.case.DEMO_CASES


def _patients() -> list[dict]:
    """What is written: per demo patient, its case name (demo.case.DEMO_CASES), the
    generator and the DICOM header fields. The thorax-abdomen CT stays first."""
    from meditwin_desktop.demo import anatomy, heart_anatomy

    heart = {
        "birth_date": "19620704",
        "sex": "M",
        "study_description": "Cardiac CT angiography, ECG-gated (synthetic demo)",
        "series_description": "LV short-axis crop 1 mm",
        "body_part": "HEART",
        "series_number": 3,
    }
    return [
        {"case": "thorax-abdomen", "patient_id": "MEDITWIN-DEMO-001",
         "name": "DEMO^Thorax-Abdomen", "build": anatomy.build,
         "description": "Adult thorax-abdomen CT with two liver metastases (synthetic).",
         "header": {"birth_date": "19610315", "sex": "M",
                    "study_description": "CT thorax-abdomen, portal venous phase (synthetic demo)",
                    "series_description": "Portal venous 2 mm", "body_part": "CHESTABDOMEN",
                    "series_number": 2}},
        {"case": "post-mi-vt", "patient_id": "MEDITWIN-DEMO-004", "name": "DEMO^Post-MI-VT",
         "build": lambda: heart_anatomy.build(channel=True),
         "description": "Cardiac CT after an anterior infarction: scar with a conducting "
                        "channel (synthetic).",
         "header": heart},
        {"case": "post-mi-no-channel", "patient_id": "MEDITWIN-DEMO-005",
         "name": "DEMO^Post-MI-No-Channel", "build": lambda: heart_anatomy.build(channel=False),
         "description": "Cardiac CT after an anterior infarction: the same scar without a "
                        "channel (synthetic negative control).",
         "header": heart},
    ]  # fmt: skip


def write_demo(
    out: Path, *, progress: ProgressFn = no_progress, cancelled: CancelledFn = never_cancelled
) -> list[DemoPatient]:
    """Generate the demo library into `out`; return its patients."""
    # imported here: `meditwin gui --demo` reads the demo cases (this package) before its
    # first window, and these bring pydicom and scipy (0.6 s)
    import pydicom

    from meditwin_desktop.core.imaging.dicom.write import SeriesHeader, write_ct_series
    from meditwin_desktop.core.imaging.nifti import write_label_map

    out = Path(out)
    specs = _patients()
    patients = []
    # the thorax CT is most of the work (about 4/5 of the voxels)
    bounds = [0.0, 0.8, 0.9, 1.0][: len(specs) + 1]
    for spec, low, high in zip(specs, bounds[:-1], bounds[1:], strict=True):
        step = sub_progress(progress, low, high)
        step(0.0, f"Building the demo anatomy ({spec['case']})")
        ct, labels = spec["build"]()
        check_cancelled(cancelled)
        patient_id = spec["patient_id"]
        header = SeriesHeader(
            patient_name=spec["name"],
            patient_id=patient_id,
            uid_seed=f"meditwin-demo-{DEMO_VERSION}-{patient_id}",
            **spec["header"],
        )
        dicom_dir = out / patient_id / "CT"
        paths = write_ct_series(
            ct, dicom_dir, header, progress=sub_progress(step, 0.3, 0.9), cancelled=cancelled
        )
        labels_path = out / patient_id / "ct_labels.nii.gz"
        step(0.92, "Writing the ground-truth labels")
        write_label_map(labels, labels_path)
        series_uid = str(pydicom.dcmread(paths[0], stop_before_pixels=True).SeriesInstanceUID)
        patients.append(DemoPatient(patient_id, spec["description"], dicom_dir, labels_path,
                                    series_uid, spec["case"]))  # fmt: skip
    manifest = {
        "version": DEMO_VERSION,
        "patients": [
            {
                "patient_id": patient.patient_id,
                "case": patient.case,
                "description": patient.description,
                "dicom": str(patient.dicom_dir.relative_to(out)),
                "labels": str(patient.labels_path.relative_to(out)),
                "series_uid": patient.series_uid,
            }
            for patient in patients
        ],
    }
    write_text_atomic(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    progress(1.0, "Demo patients ready")
    return patients


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
            p.get("case", ""),
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
