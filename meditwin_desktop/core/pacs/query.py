"""C-ECHO and C-FIND: is a node there, and what does it hold (patients, studies, series).

Matching as DICOM does it, with one convenience: a patient name typed without a wildcard
matches names that begin with it ("DOE" finds "DOE^JOHN"); IDs and accession numbers
match exactly unless they hold `*` or `?`. Dates are YYYYMMDD (YYYY-MM-DD is accepted);
`date_from`/`date_to` make a DICOM range, either end may be open.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelFind,
)

from meditwin_desktop.core.errors import Cancelled, InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.pacs.association import (
    associated,
    check_status,
    make_ae,
    require_context,
)
from meditwin_desktop.core.pacs.errors import PacsError
from meditwin_desktop.core.pacs.nodes import LocalAE, Node
from meditwin_desktop.core.progress import CancelledFn, never_cancelled

log = logging.getLogger(__name__)

LEVELS = ("PATIENT", "STUDY", "SERIES")
_DATE = re.compile(r"^\d{8}$")


def echo(node: Node, local: LocalAE, *, timeout: float = 5.0) -> float:
    """C-ECHO `node`; the round trip in seconds (association included)."""
    ae = make_ae(local, timeout)  # requests Verification
    start = time.monotonic()
    with associated(node, local, ae, timeout=timeout) as assoc:
        status = assoc.send_c_echo()
        code = check_status(status, node, tr("echo"), assoc)
    seconds = time.monotonic() - start
    if code != 0x0000:
        raise PacsError(
            tr("{name} answered the echo with the error status 0x{code:04X}.").format(
                name=node.name, code=code
            )
        )
    log.info("echo node %s: %.3f s", node.name, seconds)
    return seconds


@dataclass(frozen=True)
class QueryKeys:
    """What to look for; empty keys match anything."""

    patient_name: str = ""
    patient_id: str = ""
    birth_date: str = ""  # YYYYMMDD
    accession: str = ""
    modality: str = ""
    date_from: str = ""  # YYYYMMDD, either may be empty
    date_to: str = ""
    study_uid: str = ""  # series level: whose series


@dataclass(frozen=True)
class Match:
    """One answer to a C-FIND."""

    level: str  # "PATIENT" | "STUDY" | "SERIES"
    patient_name: str = ""
    patient_id: str = ""
    birth_date: str = ""
    study_uid: str = ""
    study_date: str = ""
    study_description: str = ""
    accession: str = ""
    modalities: str = ""
    series_uid: str = ""
    series_number: str = ""
    series_description: str = ""
    modality: str = ""
    instances: int | None = None


def _date(value: str, what: str) -> str:
    text = value.strip().replace("-", "")
    if text and not _DATE.match(text):
        raise InputError(
            tr("The {what} '{value}' is not a date (YYYYMMDD).").format(what=what, value=value)
        )
    return text


def _name(value: str) -> str:
    text = value.strip()
    return text if not text or any(c in text for c in "*?") else text + "*"


def date_range(date_from: str, date_to: str) -> str:
    """The DICOM date range of two dates, either may be empty ("" when both are)."""
    start, end = _date(date_from, tr("start date")), _date(date_to, tr("end date"))
    if start and end and start > end:
        raise InputError(tr("The start date is after the end date."))
    if start == end:
        return start
    return f"{start}-{end}"


def query_dataset(level: str, keys: QueryKeys) -> Dataset:
    """The C-FIND identifier of `keys` at `level` (return keys empty)."""
    level = level.upper()
    if level not in LEVELS:
        raise InputError(tr("The query level must be PATIENT, STUDY or SERIES."))
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    ds.SpecificCharacterSet = "ISO_IR 192"
    if level in ("PATIENT", "STUDY"):
        ds.PatientName = _name(keys.patient_name)
        ds.PatientID = keys.patient_id.strip()
        ds.PatientBirthDate = _date(keys.birth_date, tr("birth date"))
    if level == "PATIENT":
        ds.NumberOfPatientRelatedInstances = None
        return ds
    ds.StudyInstanceUID = keys.study_uid.strip()
    if level == "STUDY":
        ds.StudyDate = date_range(keys.date_from, keys.date_to)
        ds.StudyTime = ""
        ds.StudyDescription = ""
        ds.AccessionNumber = keys.accession.strip()
        ds.ModalitiesInStudy = keys.modality.strip().upper()
        ds.NumberOfStudyRelatedInstances = None
        return ds
    if not keys.study_uid.strip():
        raise InputError(tr("A series query needs the study it looks in (its study UID)."))
    ds.SeriesInstanceUID = ""
    ds.SeriesNumber = None
    ds.SeriesDescription = ""
    ds.Modality = keys.modality.strip().upper()
    ds.NumberOfSeriesRelatedInstances = None
    return ds


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _count(ds: Dataset, *keywords: str) -> int | None:
    for keyword in keywords:
        value = ds.get(keyword)
        if value not in (None, ""):
            try:
                return int(value)
            except (TypeError, ValueError):
                return None
    return None


def match_of(level: str, ds: Dataset) -> Match:
    """A `Match` of one C-FIND answer."""
    return Match(
        level=level,
        patient_name=_text(ds, "PatientName"),
        patient_id=_text(ds, "PatientID"),
        birth_date=_text(ds, "PatientBirthDate"),
        study_uid=_text(ds, "StudyInstanceUID"),
        study_date=_text(ds, "StudyDate"),
        study_description=_text(ds, "StudyDescription"),
        accession=_text(ds, "AccessionNumber"),
        modalities=_text(ds, "ModalitiesInStudy"),
        series_uid=_text(ds, "SeriesInstanceUID"),
        series_number=_text(ds, "SeriesNumber"),
        series_description=_text(ds, "SeriesDescription"),
        modality=_text(ds, "Modality"),
        instances=_count(
            ds,
            "NumberOfSeriesRelatedInstances",
            "NumberOfStudyRelatedInstances",
            "NumberOfPatientRelatedInstances",
        ),
    )


def find(
    node: Node,
    local: LocalAE,
    level: str,
    keys: QueryKeys,
    *,
    cancelled: CancelledFn = never_cancelled,
    timeout: float = 30.0,
) -> list[Match]:
    """C-FIND at `level` (Patient Root for PATIENT, Study Root otherwise)."""
    level = level.upper()
    identifier = query_dataset(level, keys)
    model = (
        PatientRootQueryRetrieveInformationModelFind
        if level == "PATIENT"
        else StudyRootQueryRetrieveInformationModelFind
    )
    ae = make_ae(local, timeout)
    ae.add_requested_context(model)
    matches: list[Match] = []
    start = time.monotonic()
    service = (
        tr("patient searches (Patient Root C-FIND)")
        if level == "PATIENT"
        else tr("study searches (Study Root C-FIND)")
    )
    with associated(node, local, ae, timeout=timeout) as assoc:
        require_context(assoc, model, node, service)
        for status, answer in assoc.send_c_find(identifier, model, msg_id=1):
            code = check_status(status, node, tr("search"), assoc)
            if code in (0xFF00, 0xFF01):
                if answer is not None:
                    matches.append(match_of(level, answer))
                if cancelled():
                    assoc.send_c_cancel(1, query_model=model)
                    raise Cancelled()
            elif code == 0xFE00:
                raise Cancelled()
            elif code != 0x0000:
                raise PacsError(
                    tr(
                        "{name} could not run the search (status 0x{code:04X}): it may not "
                        "allow this workstation to search, or not support these keys."
                    ).format(name=node.name, code=code)
                )
    log.info(
        "find at %s level on node %s: %d matches (%.2f s)",
        level,
        node.name,
        len(matches),
        time.monotonic() - start,
    )
    return matches
