"""Write a `Volume` as a DICOM CT or MR image series (one file per slice), e.g. the demo's."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    MRImageStorage,
    generate_uid,
)
from pydicom.valuerep import format_number_as_ds

from meditwin_desktop import __version__
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.progress import (
    CancelledFn,
    ProgressFn,
    check_cancelled,
    never_cancelled,
    no_progress,
)


@dataclass
class SeriesHeader:
    """Patient, study and series attributes of a written series."""

    patient_name: str
    patient_id: str
    birth_date: str = ""
    sex: str = ""
    study_description: str = ""
    series_description: str = ""
    study_date: str = "20260101"
    body_part: str = ""
    series_number: int = 1
    uid_seed: str = ""  # equal seeds give equal UIDs (deterministic output)
    extra: dict[str, object] = field(default_factory=dict)


def _ds(value: float) -> str:
    """A decimal string of at most 16 characters, as precise as DICOM allows."""
    return format_number_as_ds(float(value))


def _uid(seed: str, *parts: object) -> str:
    if not seed:
        return generate_uid()
    return generate_uid(prefix=None, entropy_srcs=[seed, *map(str, parts)])


@dataclass(frozen=True)
class _Kind:
    """What differs between the written modalities."""

    sop_class: str
    modality: str
    image_type: tuple[str, ...]
    offset: float  # stored value = volume value + offset
    attributes: dict[str, object]


_CT = _Kind(CTImageStorage, "CT", ("DERIVED", "SECONDARY", "AXIAL"), 1024.0,
            {"KVP": "120", "PatientPosition": "FFS", "RescaleIntercept": "-1024",
             "RescaleSlope": "1", "RescaleType": "HU"})  # fmt: skip
_MR = _Kind(MRImageStorage, "MR", ("DERIVED", "SECONDARY", "M", "NORM"), 0.0,
            {"PatientPosition": "HFS"})  # fmt: skip


def write_ct_series(
    volume: Volume,
    out_dir: Path,
    header: SeriesHeader,
    *,
    window: tuple[float, float] = (40.0, 400.0),
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> list[Path]:
    """Write an HU volume as CT Image Storage files `IM00001.dcm`... ; return their paths.

    Pixels are stored unsigned 12-bit with RescaleIntercept -1024, as most scanners do.
    Slices are written from the last k (usually superior) to the first.
    """
    return _write_series(_CT, volume, out_dir, header, window, progress, cancelled)


def write_mr_series(
    volume: Volume,
    out_dir: Path,
    header: SeriesHeader,
    *,
    window: tuple[float, float] = (380.0, 900.0),
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> list[Path]:
    """Write a signal volume (0-4095) as MR Image Storage files, as `write_ct_series` does
    (no rescale); sequence attributes (TR, TE...) come in `header.extra`."""
    return _write_series(_MR, volume, out_dir, header, window, progress, cancelled)


def _write_series(
    kind: _Kind,
    volume: Volume,
    out_dir: Path,
    header: SeriesHeader,
    window: tuple[float, float],
    progress: ProgressFn,
    cancelled: CancelledFn,
) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stored = np.clip(np.rint(volume.array) + kind.offset, 0, 4095).astype(np.uint16)
    row_dir, col_dir, _ = volume.direction.T
    spacing_i, spacing_j, spacing_k = volume.spacing
    study_uid = _uid(header.uid_seed, "study")
    series_uid = _uid(header.uid_seed, "series", header.series_number)
    frame_uid = _uid(header.uid_seed, "frame")
    nk = volume.shape[0]
    paths = []
    for instance, k in enumerate(range(nk - 1, -1, -1), start=1):
        if instance % 16 == 1:
            check_cancelled(cancelled)
            progress(instance / nk, tr("Writing slice {n}/{total}").format(n=instance, total=nk))
        sop_uid = _uid(header.uid_seed, "instance", header.series_number, k)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = kind.sop_class
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        meta.ImplementationVersionName = f"MEDITWIN_{__version__}"[:16]
        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.ImageType = list(kind.image_type)
        ds.SOPClassUID = kind.sop_class
        ds.SOPInstanceUID = sop_uid
        ds.StudyDate = ds.SeriesDate = ds.ContentDate = header.study_date
        ds.StudyTime = ds.SeriesTime = ds.ContentTime = "120000"
        ds.AccessionNumber = ""
        ds.Modality = kind.modality
        ds.Manufacturer = "MEDITWIN (synthetic)"
        ds.ReferringPhysicianName = ""
        ds.StudyDescription = header.study_description
        ds.SeriesDescription = header.series_description
        ds.PatientName = header.patient_name
        ds.PatientID = header.patient_id
        ds.PatientBirthDate = header.birth_date
        ds.PatientSex = header.sex
        ds.PatientIdentityRemoved = "YES"
        ds.BodyPartExamined = header.body_part
        ds.SliceThickness = f"{spacing_k:.4g}"
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.StudyID = "1"
        ds.SeriesNumber = header.series_number
        ds.InstanceNumber = instance
        position = volume.index_to_lps(np.array([0.0, 0.0, float(k)]))
        ds.ImagePositionPatient = [_ds(v) for v in position]
        ds.ImageOrientationPatient = [_ds(v) for v in (*row_dir, *col_dir)]
        ds.FrameOfReferenceUID = frame_uid
        ds.PositionReferenceIndicator = ""
        ds.SliceLocation = _ds(position[2])
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = volume.shape[1], volume.shape[2]
        ds.PixelSpacing = [_ds(spacing_j), _ds(spacing_i)]
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        ds.WindowCenter = f"{window[0]:g}"
        ds.WindowWidth = f"{window[1]:g}"
        for keyword, value in {**kind.attributes, **header.extra}.items():
            setattr(ds, keyword, value)
        ds.PixelData = np.ascontiguousarray(stored[k]).tobytes()
        path = out_dir / f"IM{instance:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    progress(1.0, tr("Series written"))
    return paths
