"""Scan files and folders for DICOM, reading headers only, into a patient tree."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.tag import Tag

from meditwin_desktop.core.i18n import tr, tr_n
from meditwin_desktop.core.imaging.dicom import workers
from meditwin_desktop.core.imaging.dicom.duplicates import same_instance
from meditwin_desktop.core.imaging.dicom.headers import SkippedFileError, read_header
from meditwin_desktop.core.imaging.dicom.walk import list_files
from meditwin_desktop.core.logs import protect
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
    """What a scan found: the patient tree, and what was skipped: `(path, reason)` for each
    file that is not usable DICOM (not a regular file, not DICOM, a duplicate, unreadable)
    and each folder that could not be looked into."""

    patients: list[PatientInfo]
    skipped: list[tuple[Path, str]]
    file_count: int

    def all_series(self) -> list[SeriesInfo]:
        """Every series, in tree order."""
        return [s for p in self.patients for st in p.studies for s in st.series]

    def find_series(self, uid: str) -> SeriesInfo | None:
        """The series with this SeriesInstanceUID, if scanned."""
        return next((s for s in self.all_series() if s.uid == uid), None)


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
_POLL_S = 0.05  # how often cancellation is checked while waiting for a worker
Summary = tuple[Path, dict | None, str | None]  # (file, what the tree needs, why skipped)


def summarize(paths: Sequence[Path], cancelled: CancelledFn = never_cancelled) -> list[Summary]:
    """What the patient tree needs from each file's header, or why the file is skipped."""
    out: list[Summary] = []
    for path in paths:
        check_cancelled(cancelled)
        out.append(_summary(path))
    return out


def _summary(path: Path) -> Summary:
    try:
        ds, _ = read_header(path, _HEADER_TAG_NUMBERS)
    except SkippedFileError as error:
        return path, None, error.reason
    except InvalidDicomError:
        return path, None, tr("not a DICOM file")
    except Exception as error:  # pydicom raises many types on damaged files
        return path, None, tr("unreadable: {error}").format(error=error)
    try:  # damaged values (a non-numeric Number of Frames, a bad character set)
        summary = {keyword: _text(ds, keyword) for keyword in _SUMMARY}
        summary["frames"] = int(ds.get("NumberOfFrames") or 1)
    except Exception as error:
        return path, None, tr("unusable header: {error}").format(error=error)
    return path, summary, None


def _result(future: Future, cancelled: CancelledFn):
    """The future's result, checking for cancellation while waiting."""
    while True:
        try:
            return future.result(timeout=_POLL_S)
        except TimeoutError:
            check_cancelled(cancelled)


def _summaries(files: list[Path], progress: ProgressFn, cancelled: CancelledFn):
    """Summaries in chunks, from worker processes for large folders; yields as they come."""
    size = 50
    chunks = [files[n : n + size] for n in range(0, len(files), size)]
    executor = workers.pool() if len(files) >= _FILES_FOR_WORKERS else None
    futures = [executor.submit(summarize, chunk) for chunk in chunks] if executor else []
    try:
        for n, chunk in enumerate(chunks):
            check_cancelled(cancelled)
            progress(
                n * size / max(len(files), 1),
                tr("Reading headers {n}/{total}").format(n=n * size, total=len(files)),
            )
            try:
                yield _result(futures[n], cancelled) if futures else summarize(chunk, cancelled)
            except BrokenProcessPool:  # a worker died: read the rest here
                workers.shutdown()
                futures = []
                yield summarize(chunk, cancelled)
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
    files, skipped = list_files(paths, cancelled)
    tree = _Tree()
    for chunk in _summaries(files, progress, cancelled):
        for path, summary, reason in chunk:
            reason = reason or tree.add(summary, path)
            if reason:
                skipped.append((path, reason))
    progress(1.0, tr_n("Scanned {n} files", "Scanned {n} files", len(files)).format(n=len(files)))
    result = ScanResult(tree.patients(), skipped, len(files))
    for patient in result.patients:  # never in the log, whatever fails later
        protect(patient.name, patient.id, patient.birth_date)
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
        self._instances: dict[tuple[str, str], Path] = {}  # (series, SOP instance) -> file

    def add(self, ds: dict, path: Path) -> str | None:
        """File a header summary; return why it was not filed, if it was not.

        A second file of an instance already filed is left out when it holds the same
        image ("duplicate of ..."); otherwise both are filed and loading the series
        reports the conflict.
        """
        series_uid = ds["SeriesInstanceUID"]
        if not series_uid or not ds["SOPInstanceUID"]:
            return tr(
                "DICOM without Series/SOP Instance UID: not an image instance (e.g. DICOMDIR)"
            )
        first = self._instances.setdefault((series_uid, ds["SOPInstanceUID"]), path)
        if first is not path and same_instance(first, path):
            return tr("duplicate of {name}").format(name=first.name)
        info = self._series.get(series_uid) or self._new_series(ds)
        info.files.append(path)
        info.frames += ds["frames"]
        return None

    def _new_series(self, ds: dict) -> SeriesInfo:
        """A series filed under its patient and study (made on first sight).

        Files of a series already seen go to it whatever their patient and study say, so
        those never show up empty in the tree.
        """
        series_uid = ds["SeriesInstanceUID"]
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
        info = SeriesInfo(
            uid=series_uid,
            description=ds.get("SeriesDescription"),
            modality=ds.get("Modality"),
            date=ds.get("SeriesDate") or ds.get("StudyDate"),
            body_part=ds.get("BodyPartExamined"),
            number=_integer_or_none(ds.get("SeriesNumber")),
        )
        self._series[series_uid] = info
        study.series.append(info)
        return info

    def patients(self) -> list[PatientInfo]:
        """The tree, series sorted by number."""
        for study in self._studies.values():
            study.series.sort(key=lambda s: (s.number is None, s.number or 0, s.description))
        return list(self._patients.values())
