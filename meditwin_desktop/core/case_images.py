"""Load a case's images from their references (the DICOM and photographs stay where they
were imported from)."""

from __future__ import annotations

import threading
from pathlib import Path

from meditwin_desktop.core.case import Case, Study
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.dicom import load_series, scan
from meditwin_desktop.core.imaging.photo import read_photo
from meditwin_desktop.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress

_ASSIGNING = threading.Lock()


def load_case_image(
    case: Case, *, progress: ProgressFn = no_progress, cancelled: CancelledFn = never_cancelled
) -> Case:
    """Fill the active study's image (a case without studies is returned as it is)."""
    if case.study is not None and case.study.reference:
        load_study_image(case, case.study, progress=progress, cancelled=cancelled)
    return case


def load_study_image(
    case: Case,
    study: Study,
    *,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> Study:
    """Fill `study.image` from `study.reference`: {"file"} for a photograph, {"folder",
    "series_uid", "index"} for a DICOM series. InputError says what is missing."""
    reference = study.reference
    if reference.get("file"):
        path = Path(reference["file"])
        if not path.is_file():
            raise InputError(
                tr("The photograph of case '{case}' is no longer at {path}. Reconnect the "
                   "disk or import it again; the case's labels and results are safe.").format(
                    case=case.name, path=path)
            )  # fmt: skip
        study.image = read_photo(path)
        return study
    folder = Path(reference.get("folder", ""))
    if not folder.exists():
        raise InputError(
            tr("The images of case '{case}' are no longer at {path}. Reconnect the disk "
               "or import the series again; the case's labels and results are safe.").format(
                case=case.name, path=folder)
        )  # fmt: skip
    series = scan([folder], cancelled=cancelled).find_series(reference.get("series_uid", ""))
    if series is None:
        raise InputError(tr("Series {series} is no longer in {path}.").format(
            series=reference.get("series_uid"), path=folder))  # fmt: skip
    volumes = load_series(series.files, progress=progress, cancelled=cancelled)
    with _ASSIGNING:  # two loads of one study (the views and the follow-up workspace): the
        if study.image is None:  # first image stays, the views and their labels keep it
            study.image = volumes[min(int(reference.get("index", 0)), len(volumes) - 1)]
    return study
