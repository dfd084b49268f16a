"""Make a case of what a clinician brings: a case file (JSON), a DICOM folder or DICOMDIR
(one patient; each series a dated study), or a single 2D image (a fundus photograph:
PNG, JPEG, TIFF, or a DICOM photograph)."""

from __future__ import annotations

from pathlib import Path

from meditwin_desktop.core.case import Case, Study
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.photo import is_photo_file, read_photo
from meditwin_desktop.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress

PHOTO_MODALITIES = ("OP", "XC", "ES")  # ophthalmic, external camera, endoscopy photographs


def case_from(
    path: Path, *, progress: ProgressFn = no_progress, cancelled: CancelledFn = never_cancelled
) -> Case:
    """A new case from a case file, a DICOM folder or DICOMDIR, or a 2D image."""
    path = Path(path)
    if path.is_dir() or path.name.upper() == "DICOMDIR":
        return case_from_dicom(path, progress=progress, cancelled=cancelled)
    if not path.is_file():
        raise InputError(tr("{path} does not exist.").format(path=path))
    if path.suffix.lower() == ".json":
        from meditwin_desktop.core.case_file import read_case_file

        return read_case_file(path)
    if is_photo_file(path) or path.suffix.lower() in (".dcm", ""):
        return case_from_photo(path)
    raise InputError(tr("{file}: give a case file (.json), a DICOM folder or a photograph "
                        "(PNG, JPEG, TIFF, DICOM).").format(file=path.name))  # fmt: skip


def case_from_photo(path: Path) -> Case:
    """A case holding one photograph (named after the DICOM patient, or the file)."""
    photo = read_photo(path)
    meta = photo.meta
    name = meta.get("patient_name", "").replace("^", " ").strip()
    study = Study(date=meta.get("date", ""), modality=meta.get("modality") or "XC",
                  description=f"photograph {Path(path).name}"
                  + (f" ({meta['laterality']})" if meta.get("laterality") else ""),
                  reference={"file": str(Path(path).resolve()),
                             "birth_date": meta.get("patient_birth_date", "")},
                  image=photo)  # fmt: skip
    return Case(name or f"Photograph {Path(path).stem}", meta.get("patient_id", ""),
                studies=[study])  # fmt: skip


def case_from_dicom(
    path: Path, *, progress: ProgressFn = no_progress, cancelled: CancelledFn = never_cancelled
) -> Case:
    """A case with one study per series of the one patient under `path` (oldest first)."""
    from meditwin_desktop.core.imaging.dicom import scan

    result = scan([path], progress=progress, cancelled=cancelled)
    if not result.patients:
        if result.skipped:
            raise InputError(tr("No DICOM series in {path} (e.g. {reason}).").format(
                path=path, reason=result.skipped[0][1]))  # fmt: skip
        raise InputError(tr("No DICOM series in {path}.").format(path=path))
    if len(result.patients) > 1:
        raise InputError(tr("{path} holds {count} patients: import one patient's folder at a "
                            "time.").format(path=path, count=len(result.patients)))  # fmt: skip
    patient = result.patients[0]
    studies = []
    for study in patient.studies:
        for series in study.series:
            folder = Path(series.files[0]).parent if series.files else Path(path)
            if series.modality in PHOTO_MODALITIES and len(series.files) == 1:
                photo = str(Path(series.files[0]).resolve())
                studies.append(Study(date=_iso(series.date or study.date),
                                     modality=series.modality,
                                     description=series.description or "photograph",
                                     reference={"file": photo}))  # fmt: skip
                continue
            studies.append(Study(
                date=_iso(series.date or study.date), modality=series.modality,
                description=series.description or study.description,
                reference={"folder": str(folder.resolve()), "series_uid": series.uid,
                           "study_uid": study.uid, "description": series.description,
                           "birth_date": patient.birth_date},
            ))  # fmt: skip
    studies.sort(key=lambda s: s.date)
    return Case(patient.name.replace("^", " ").strip() or "Unnamed patient", patient.id,
                studies=studies)  # fmt: skip


def _iso(dicom_date: str) -> str:
    text = (dicom_date or "").strip()
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text
