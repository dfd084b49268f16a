"""The DICOM objects a case sends back to the PACS: what "Send to PACS" and the CLI call.

`board_objects` builds, for one imaging study of the case, the labels as DICOM SEG, the
measurements and key outcomes as a Comprehensive 3D SR (TID 1500) and the board report as
an Encapsulated PDF, all in the source study (same Study Instance UID, same patient).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from pydicom.dataset import Dataset

from meditwin_desktop.core.case import Case, Run, Study
from meditwin_desktop.core.dicom_out.pdf import pdf_object
from meditwin_desktop.core.dicom_out.seg import seg_object
from meditwin_desktop.core.dicom_out.source import source_headers
from meditwin_desktop.core.dicom_out.sr import sr_object
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.twin import Twin

KINDS = ("seg", "sr", "pdf")


def board_objects(
    case: Case,
    study: Study | None = None,
    twins: Sequence[Twin] | None = None,
    report_pdf: bytes | None = None,
    *,
    what: Collection[str] = KINDS,
    stale: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Dataset]:
    """The DICOM instances to send for `study` (None: the case's active study).

    - "seg": the study's labels as DICOM SEG referencing each slice of its source series
      (the study's image is loaded from its folder when not loaded); left out when the
      study has no labels;
    - "sr": a Comprehensive 3D SR (TID 1500) with the rulers and ROIs made on this study
      and, per twin of `twins` (None: every installed twin) with successful runs on the
      case, one measurement group per scenario with its key outcomes (UCUM units, concepts
      in the private scheme "99MEDITWIN", `dicom_out.codes`), the twin's id and version
      and the run's time. Out-of-date runs are kept and marked (group named "OUT OF DATE:
      ...", qualitative evaluation "Result currency = Out of date", the reason as text);
      undefined outcomes are coded "UNDEFINED" with why, never written as numbers. Left
      out when there is nothing to report;
    - "pdf": `report_pdf` (the bytes of a PDF file, e.g. `core.report.write_report`'s) as
      an Encapsulated PDF; left out when `report_pdf` is None.

    `stale`: twin id -> scenario -> why its run is out of date (`core.freshness.check_runs`);
    computed here for the twins not in it (it prepares the twin's inputs: a second on a
    large CT). Reads the source headers from disk and builds the SEG in seconds: call it
    off the GUI thread.

    Every object is in the source study (same patient and Study Instance UID), in a new
    series, and as identifiable as the source (`core.pacs.send` asks before sending it).
    Raises InputError, with a message saying what cannot be sent and why, when the study
    has no DICOM source (a photograph imported from a picture file, a case file) or its
    files are gone, or when nothing of `what` can be made; ValueError for an unknown kind.
    """
    unknown = set(what) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown DICOM object kinds {sorted(unknown)}; known: {KINDS}")
    study = study if study is not None else case.study
    if study is None:
        raise InputError(tr("The case has no imaging study: there is nothing to send to a PACS."))
    sources = source_headers(study)
    objects: list[Dataset] = []
    if "seg" in what and study.labels is not None and study.reference.get("series_uid"):
        objects.append(seg_object(case, study, sources))
    if "sr" in what:
        report = sr_object(case, study, sources, _outcomes(case, twins, stale))
        if report is not None:
            objects.append(report)
    if "pdf" in what and report_pdf is not None:
        objects.append(pdf_object(report_pdf, sources))
    if not objects:
        raise InputError(
            tr("There is nothing to send for this study: no labels, no measurements, no "
               "twin results and no board report.")
        )  # fmt: skip
    return objects


def _outcomes(
    case: Case, twins: Sequence[Twin] | None, stale: Mapping[str, Mapping[str, str]] | None
) -> list[tuple[Twin, list[Run], Mapping[str, str]]]:
    """(twin, its runs on the case, scenario -> why out of date) for each twin with runs."""
    if twins is None:
        from meditwin_desktop.core.registry import discover

        twins = list(discover().twins.values())
    found = []
    for twin in twins:
        runs = case.runs.get(twin.id, [])
        if not any(run.status == "ok" for run in runs):
            continue
        if stale is not None and twin.id in stale:
            reasons = stale[twin.id]
        else:
            from meditwin_desktop.core.freshness import check_runs

            reasons = check_runs(twin, case)
        found.append((twin, runs, reasons))
    return found
