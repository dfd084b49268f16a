"""Scan files and folders for DICOM, reading headers only, into a patient tree."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.fileset import FileSet
from pydicom.tag import Tag

from meditwin_desktop.core.imaging.dicom import workers
from meditwin_desktop.core.imaging.dicom.headers import read_header
from meditwin_desktop.core.progress import (
    CancelledFn,
    ProgressFn,
    check_cancelled,
    never_cancelled,
    no_progress,
)

log = logging.getLogger(__name__)

_HEADER_TAGS = [
    "SOPClassUID",
    "SOPInstanceUID",
    "Modality",
    "PatientID",
    "PatientName",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDescription",
    "StudyDate",
    "SeriesInstanceUID",
    "SeriesDescription",
    "SeriesNumber",
    "SeriesDate",
    "BodyPartExamined",
    "InstanceNumber",
    "NumberOfFrames",
    "Rows",
    "Columns",
]
_HEADER_TAG_NUMBERS = [Tag(t) for t in _HEADER_TAGS]  # keywords resolved once, not per file


@dataclass
class SeriesInfo:
    """One DICOM series found by a scan."""

    uid: str
    description: str
    modality: str
    date: str
    body_part: str
    number: int | None
    files: list[Path] = field(default_factory=list)
    frames: int = 0

    @property
    def image_count(self) -> int:
        """Number of images (frames of multi-frame files count one each)."""
        return self.frames or len(self.files)


@dataclass
class StudyInfo:
    """One study of a patient."""

    uid: str
    description: str
    date: str
    series: list[SeriesInfo] = field(default_factory=list)


@dataclass
class PatientInfo:
    """One patient, with their studies."""

    id: str
    name: str
    birth_date: str
    sex: str
    studies: list[StudyInfo] = field(default_factory=list)


@dataclass
class ScanResult:
    """What a scan found: the patient tree, and files that are not usable DICOM."""

    patients: list[PatientInfo]
    skipped: list[tuple[Path, str]]
    file_count: int

    def all_series(self) -> list[SeriesInfo]:
        """Every series, in tree order."""
        return [s for p in self.patients for st in p.studies for s in st.series]

    def find_series(self, uid: str) -> SeriesInfo | None:
        """The series with this SeriesInstanceUID, if scanned."""
        return next((s for s in self.all_series() if s.uid == uid), None)


def dicomdir_files(path: Path) -> list[Path]:
    """The instances a DICOMDIR references (pydicom's FileSet), in its order."""
    try:
        fileset = FileSet(pydicom.dcmread(path))
        return [Path(instance.path) for instance in fileset]
    except Exception as error:  # a damaged DICOMDIR: the caller falls back to walking
        log.warning("cannot use DICOMDIR %s: %s", path, error)
        return []


def iter_files(paths: Iterable[Path]) -> list[Path]:
    """Files to scan: a DICOMDIR's references, or all files under folders (sorted, no hidden)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_file():
            referenced = dicomdir_files(path) if path.name.upper() == "DICOMDIR" else []
            files.extend(referenced or [path])
            continue
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files.extend(Path(root) / n for n in sorted(names) if not n.startswith("."))
    return files


def _text(ds: pydicom.Dataset, keyword: str, default: str = "") -> str:
    value = ds.get(keyword, default)
    return str(value).strip() if value is not None else default


_SUMMARY = [
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "PatientID",
    "PatientName",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDescription",
    "StudyDate",
    "SeriesDescription",
    "Modality",
    "SeriesDate",
    "BodyPartExamined",
    "SeriesNumber",
]
_FILES_FOR_WORKERS = 400  # from this many files, headers are read in worker processes
Summary = tuple[Path, dict | None, str | None]  # (file, what the tree needs, why skipped)


def summarize(paths: Sequence[Path]) -> list[Summary]:
    """What the patient tree needs from each file's header, or why the file is skipped."""
    out: list[Summary] = []
    for path in paths:
        try:
            ds, _ = read_header(path, _HEADER_TAG_NUMBERS)
        except InvalidDicomError:
            out.append((path, None, "not a DICOM file"))
            continue
        except Exception as error:  # pydicom raises many types on damaged files
            out.append((path, None, f"unreadable: {error}"))
            continue
        try:  # damaged values (a non-numeric Number of Frames, a bad character set)
            summary = {keyword: _text(ds, keyword) for keyword in _SUMMARY}
            summary["frames"] = int(ds.get("NumberOfFrames") or 1)
        except Exception as error:
            out.append((path, None, f"unusable header: {error}"))
            continue
        out.append((path, summary, None))
    return out


def _summaries(files: list[Path], progress: ProgressFn, cancelled: CancelledFn):
    """Summaries in chunks, from worker processes for large folders; yields as they come."""
    size = 50
    chunks = [files[n : n + size] for n in range(0, len(files), size)]
    executor = workers.pool() if len(files) >= _FILES_FOR_WORKERS else None
    futures = [executor.submit(summarize, chunk) for chunk in chunks] if executor else []
    try:
        for n, chunk in enumerate(chunks):
            check_cancelled(cancelled)
            progress(n * size / max(len(files), 1), f"Reading headers {n * size}/{len(files)}")
            try:
                yield futures[n].result() if futures else summarize(chunk)
            except BrokenProcessPool:  # a worker died: read the rest here
                workers.shutdown()
                futures = []
                yield summarize(chunk)
    finally:
        for future in futures:
            future.cancel()


def scan(
    paths: Iterable[Path],
    *,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> ScanResult:
    """Read the headers of every file under `paths` and group them by patient/study/series."""
    files = iter_files(paths)
    tree = _Tree()
    skipped: list[tuple[Path, str]] = []
    for chunk in _summaries(files, progress, cancelled):
        for path, summary, reason in chunk:
            reason = reason or tree.add(summary, path)
            if reason:
                skipped.append((path, reason))
    progress(1.0, f"Scanned {len(files)} files")
    result = ScanResult(tree.patients(), skipped, len(files))
    log.info(
        "scanned %d files: %d series, %d skipped",
        len(files),
        len(result.all_series()),
        len(skipped),
    )
    return result


def _integer_or_none(text: str | None) -> int | None:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


class _Tree:
    """Patients > studies > series, filled one header at a time."""

    def __init__(self) -> None:
        self._patients: dict[str, PatientInfo] = {}
        self._studies: dict[str, StudyInfo] = {}
        self._series: dict[str, SeriesInfo] = {}

    def add(self, ds: dict, path: Path) -> str | None:
        """File a header summary; return why it was not filed, if it was not."""
        series_uid = ds["SeriesInstanceUID"]
        if not series_uid or not ds["SOPInstanceUID"]:
            return "DICOM without Series/SOP Instance UID: not an image instance (e.g. DICOMDIR)"
        frames = ds["frames"]
        patient_key = ds.get("PatientID") or ds.get("PatientName") or "(no patient ID)"
        patient = self._patients.get(patient_key)
        if patient is None:
            patient = PatientInfo(
                patient_key,
                ds.get("PatientName"),
                ds.get("PatientBirthDate"),
                ds.get("PatientSex"),
            )
            self._patients[patient_key] = patient
        study_uid = ds.get("StudyInstanceUID") or f"(study of {series_uid})"
        study = self._studies.get(study_uid)
        if study is None:
            study = StudyInfo(study_uid, ds.get("StudyDescription"), ds.get("StudyDate"))
            self._studies[study_uid] = study
            patient.studies.append(study)
        info = self._series.get(series_uid)
        if info is None:
            number = _integer_or_none(ds.get("SeriesNumber"))
            info = SeriesInfo(
                uid=series_uid,
                description=ds.get("SeriesDescription"),
                modality=ds.get("Modality"),
                date=ds.get("SeriesDate") or ds.get("StudyDate"),
                body_part=ds.get("BodyPartExamined"),
                number=number,
            )
            self._series[series_uid] = info
            study.series.append(info)
        info.files.append(path)
        info.frames += frames
        return None

    def patients(self) -> list[PatientInfo]:
        """The tree, series sorted by number."""
        for study in self._studies.values():
            study.series.sort(key=lambda s: (s.number is None, s.number or 0, s.description))
        return list(self._patients.values())
