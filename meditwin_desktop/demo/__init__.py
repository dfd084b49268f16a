"""The built-in demo patient library: generated, deterministic, written as real DICOM.

`write_demo(out)` writes, per patient, a DICOM series and its ground-truth label map
(NIfTI + JSON sidecar), or for a follow-up patient one such study per visit (each with its
own StudyInstanceUID and dates; an MR study is written as MR Image Storage; a patient's
photographs as DICOM Ophthalmic Photography, one study per visit), and a patient's
signal recordings (EDF; a patient may have recordings and no images), then `demo.json`,
which lists them; the manifest is written
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
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.paths import cache_dir
from meditwin_desktop.core.progress import (
    CancelledFn,
    ProgressFn,
    check_cancelled,
    never_cancelled,
    no_progress,
    sub_progress,
)

DEMO_VERSION = 10  # bump whenever the generated data change (cache key)
MANIFEST = "demo.json"


@dataclass(frozen=True)
class DemoStudy:
    """One dated study of a follow-up demo patient as written on disk."""

    date: str  # ISO
    description: str  # "Baseline", "Week 8"...
    dicom_dir: Path
    labels_path: Path
    series_uid: str
    study_uid: str


@dataclass(frozen=True)
class DemoPatient:
    """One demo patient as written on disk (a follow-up patient: its first study, and all
    of them in `studies`; a patient with recordings only: no DICOM, no labels)."""

    patient_id: str
    description: str
    dicom_dir: Path | None
    labels_path: Path | None
    series_uid: str
    case: str = ""  # its name in demo.case.DEMO_CASES
    studies: tuple[DemoStudy, ...] = ()  # dated studies, first to last (follow-up patients)
    recordings: tuple[Path, ...] = ()  # signal files (EDF) written beside the studies


def _patients() -> list[dict]:
    """What is written: per demo patient, its case name (demo.case.DEMO_CASES), the
    generator ("build": one CT and labels; "build_studies": dated studies; neither: no
    imaging), the DICOM header fields, optionally "modality" ("MR": written as MR Image Storage) and
    "recordings" (writes the patient's signal files into its folder, returns their paths);
    "photographs" (writes the patient's dated photographs into its folder, returns their
    DemoStudy: `dicom_dir` the photograph's folder, `labels_path` its truth);
    "weight": its share of the generation time. The thorax-abdomen CT stays first."""
    from meditwin_desktop.demo import (
        alzheimer_visits,
        anatomy,
        dravet_diary,
        followup_anatomy,
        heart_anatomy,
        retina_fundus,
    )

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
                    "series_number": 2}, "weight": 0.55},
        {"case": "crc-liver-followup", "patient_id": "MEDITWIN-DEMO-006",
         "name": "DEMO^CRC-Liver-Followup", "build_studies": followup_anatomy.build_studies,
         "description": "Abdominal CT at baseline and weeks 8, 16 and 24 of chemotherapy: two "
                        "liver metastases shrink, then regrow (synthetic, known rates).",
         "header": {"birth_date": "19630412", "sex": "F",
                    "study_description": "CT abdomen, portal venous phase (synthetic demo)",
                    "series_description": "Portal venous 2 mm (abdomen)",
                    "body_part": "ABDOMEN", "series_number": 2}, "weight": 0.3},
        {"case": "post-mi-vt", "patient_id": "MEDITWIN-DEMO-004", "name": "DEMO^Post-MI-VT",
         "build": lambda: heart_anatomy.build(channel=True),
         "description": "Cardiac CT after an anterior infarction: scar with a conducting "
                        "channel (synthetic).",
         "header": heart, "weight": 0.075},
        {"case": "post-mi-no-channel", "patient_id": "MEDITWIN-DEMO-005",
         "name": "DEMO^Post-MI-No-Channel", "build": lambda: heart_anatomy.build(channel=False),
         "description": "Cardiac CT after an anterior infarction: the same scar without a "
                        "channel (synthetic negative control).",
         "header": heart, "weight": 0.075},
        {"case": "alzheimer-mci", "patient_id": "MEDITWIN-DEMO-007",
         "name": "DEMO^Alzheimer-MCI", "build_studies": alzheimer_visits.build_studies,
         "modality": "MR", "recordings": alzheimer_visits.write_recordings,
         "description": "Amnestic mild cognitive impairment: five yearly visits drawn from "
                        "the demonstration Leaspy model (known truth), T1 brain MRI with "
                        "hippocampus labels, resting EEG (synthetic).",
         "header": {"birth_date": alzheimer_visits.BIRTH_DATE.replace("-", ""), "sex": "F",
                    "study_description": "MR brain T1 MPRAGE (synthetic demo)",
                    "series_description": "MR brain T1 MPRAGE (synthetic demo)",
                    "body_part": "BRAIN", "series_number": 3}, "weight": 0.12},
        {"case": "dravet-child", "patient_id": "MEDITWIN-DEMO-008", "name": "DEMO^Dravet-Child",
         "recordings": dravet_diary.write_recordings,
         "description": "Dravet syndrome (SCN1A), 6 years: an awake EEG with generalised "
                        "polyspike-wave discharges and a myoclonic seizure (synthetic); the "
                        "seizure diary is in the case.", "weight": 0.02},
        {"case": "retina-hypertension", "patient_id": retina_fundus.PATIENT_ID,
         "name": retina_fundus.PATIENT_NAME, "photographs": retina_fundus.write_photographs,
         "description": "Treated hypertension: colour fundus photographs of the right eye at "
                        "two visits, the arterioles narrower at the second (synthetic, drawn "
                        "from a known vessel tree).", "weight": 0.04},
    ]  # fmt: skip


def write_demo(
    out: Path, *, progress: ProgressFn = no_progress, cancelled: CancelledFn = never_cancelled
) -> list[DemoPatient]:
    """Generate the demo library into `out`; return its patients."""
    # imported here: `meditwin gui --demo` reads the demo cases (this package) before its
    # first window, and these bring pydicom and scipy (0.6 s)
    import numpy as np
    import pydicom

    from meditwin_desktop.core.imaging.dicom.write import write_ct_series
    from meditwin_desktop.core.imaging.nifti import write_label_map
    from meditwin_desktop.demo.brain_anatomy import write_mr_series

    out = Path(out)
    specs = _patients()
    patients = []
    bounds = np.cumsum([0.0, *(spec["weight"] for spec in specs)]) / sum(
        spec["weight"] for spec in specs
    )
    for spec, low, high in zip(specs, bounds[:-1], bounds[1:], strict=True):
        step = sub_progress(progress, low, high)
        imaging = "build" in spec or "build_studies" in spec or "photographs" in spec
        building = (
            tr("Building the demo anatomy ({case})")
            if imaging
            else tr("Building the demo recordings ({case})")
        )
        step(0.0, building.format(case=spec["case"]))
        one = "build_studies" not in spec and "photographs" not in spec  # one series, undated
        if "build" in spec:
            dated = [("", "", *spec["build"]())]
        else:
            dated = spec["build_studies"]() if "build_studies" in spec else []
        check_cancelled(cancelled)
        written = []
        modality = spec.get("modality", "CT")
        write_series = write_mr_series if modality == "MR" else write_ct_series
        for index, (date, description, ct, labels) in enumerate(dated):
            share = 0.65 / len(dated)
            part = sub_progress(step, 0.3 + share * index, 0.3 + share * (index + 1))
            folder = out / spec["patient_id"] / date if date else out / spec["patient_id"]
            paths = write_series(
                ct,
                folder / modality,
                _header(spec, date, description),
                progress=sub_progress(part, 0.0, 0.9),
                cancelled=cancelled,
            )
            labels_path = folder / f"{modality.lower()}_labels.nii.gz"
            part(0.92, tr("Writing the ground-truth labels"))
            write_label_map(labels, labels_path)
            first = pydicom.dcmread(paths[0], stop_before_pixels=True)
            uids = str(first.SeriesInstanceUID), str(first.StudyInstanceUID)
            written.append(DemoStudy(date, description, folder / modality, labels_path, *uids))
        if "photographs" in spec:
            written = list(spec["photographs"](out / spec["patient_id"]))
            step(0.95, tr("Demo photographs written"))
        first = (
            (written[0].dicom_dir, written[0].labels_path, written[0].series_uid)
            if written
            else (None, None, "")
        )  # recordings only
        studies = () if one else tuple(written)
        write_recordings = spec.get("recordings", lambda folder: ())
        recordings = tuple(write_recordings(out / spec["patient_id"]))
        patients.append(DemoPatient(spec["patient_id"], spec["description"], *first,
                                    spec["case"], studies, recordings))  # fmt: skip
    manifest = {
        "version": DEMO_VERSION,
        "patients": [
            {
                "patient_id": patient.patient_id,
                "case": patient.case,
                "description": patient.description,
                **(
                    {
                        "dicom": str(patient.dicom_dir.relative_to(out)),
                        "labels": str(patient.labels_path.relative_to(out)),
                    }
                    if patient.dicom_dir is not None and patient.labels_path is not None
                    else {}
                ),
                "series_uid": patient.series_uid,
                **_studies_entry(patient, out),
                **(
                    {"recordings": [str(p.relative_to(out)) for p in patient.recordings]}
                    if patient.recordings
                    else {}
                ),
            }
            for patient in patients
        ],
    }
    write_text_atomic(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    progress(1.0, tr("Demo patients ready"))
    return patients


def _header(spec: dict, date: str, description: str):
    """The DICOM header of a demo series; a dated study has its own UIDs and dates."""
    from meditwin_desktop.core.imaging.dicom.write import SeriesHeader

    fields = dict(spec["header"])
    seed = f"meditwin-demo-{DEMO_VERSION}-{spec['patient_id']}"
    if date:
        dicom_date = date.replace("-", "")
        seed += f"-{date}"
        fields["study_date"] = dicom_date
        fields["extra"] = {"AcquisitionDate": dicom_date, "AcquisitionTime": "120000"}
    if description:
        fields["study_description"] += f": {description}"
    return SeriesHeader(
        patient_name=spec["name"], patient_id=spec["patient_id"], uid_seed=seed, **fields
    )


def _studies_entry(patient: DemoPatient, out: Path) -> dict:
    """The manifest's list of a follow-up patient's studies ({} for a one-series patient)."""
    if not patient.studies:
        return {}
    return {
        "studies": [
            {
                "date": study.date,
                "description": study.description,
                "dicom": str(study.dicom_dir.relative_to(out)),
                "labels": str(study.labels_path.relative_to(out)),
                "series_uid": study.series_uid,
                "study_uid": study.study_uid,
            }
            for study in patient.studies
        ]
    }


def _read_studies(patient: dict, out: Path) -> tuple[DemoStudy, ...]:
    return tuple(
        DemoStudy(study["date"], study.get("description", ""), out / study["dicom"],
                  out / study["labels"], study["series_uid"], study.get("study_uid", ""))
        for study in patient.get("studies", [])
    )  # fmt: skip


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
            Path(out) / p["dicom"] if "dicom" in p else None,
            Path(out) / p["labels"] if "labels" in p else None,
            p["series_uid"],
            p.get("case", ""),
            _read_studies(p, Path(out)),
            tuple(Path(out) / file for file in p.get("recordings", [])),
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
