"""What every object sent back shares: the patient and study of the source, our device."""

from __future__ import annotations

from datetime import datetime

from pydicom.dataset import Dataset

from meditwin_desktop import __version__

MANUFACTURER = "MEDITWIN"
MODEL = "MEDITWIN Desktop"
SOFTWARE = __version__

# copied from the source image: the Patient and General Study modules (identity as is)
PATIENT_STUDY = (
    "PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex",
    "OtherPatientIDsSequence", "PatientAge", "PatientWeight", "PatientSize",
    "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID",
    "AccessionNumber", "StudyDescription",
)  # fmt: skip
# Type 2 attributes written empty when the source lacks them
TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate",
         "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber")  # fmt: skip


def copy_patient_study(source: Dataset, target: Dataset) -> None:
    """The source's patient and study attributes onto `target` (same patient, same study)."""
    for keyword in PATIENT_STUDY:
        if keyword in source:
            target[keyword] = source[keyword]
        elif keyword in TYPE2:
            setattr(target, keyword, "")
    if "SpecificCharacterSet" in source:
        target.SpecificCharacterSet = source.SpecificCharacterSet
    keep_deidentification(source, target)


def keep_deidentification(source: Dataset, target: Dataset) -> None:
    """A de-identified source's flag and method onto `target` (highdicom copies the flag
    alone; the Patient module then needs a method: when the source does not record one,
    `target` says so rather than invent one)."""
    if str(source.get("PatientIdentityRemoved", "")).upper() != "YES":
        return
    target.PatientIdentityRemoved = "YES"
    for keyword in ("DeidentificationMethod", "DeidentificationMethodCodeSequence"):
        if keyword in source:
            target[keyword] = source[keyword]
    if "DeidentificationMethod" not in target and (
        "DeidentificationMethodCodeSequence" not in target
    ):
        target.DeidentificationMethod = "as in the source images (method not recorded there)"


def stamp() -> tuple[str, str]:
    """Now as DICOM date and time (local time, as modalities write them)."""
    now = datetime.now()
    return now.strftime("%Y%m%d"), now.strftime("%H%M%S")
