"""Load a case's image from its reference (the DICOM stays where it was imported from)."""

from __future__ import annotations

from pathlib import Path

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.imaging.dicom import load_series, scan
from meditwin_desktop.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress


def load_case_image(
    case: Case, *, progress: ProgressFn = no_progress, cancelled: CancelledFn = never_cancelled
) -> Case:
    """Fill `case.image` from `case.image_reference` ({"folder", "series_uid", "index"})."""
    reference = case.image_reference
    if not reference:
        return case
    folder = Path(reference.get("folder", ""))
    if not folder.exists():
        raise InputError(
            f"The images of case '{case.name}' are no longer at {folder}. Reconnect the disk "
            "or import the series again; the case's labels and results are safe."
        )
    series = scan([folder], cancelled=cancelled).find_series(reference.get("series_uid", ""))
    if series is None:
        raise InputError(f"Series {reference.get('series_uid')} is no longer in {folder}.")
    volumes = load_series(series.files, progress=progress, cancelled=cancelled)
    case.image = volumes[min(int(reference.get("index", 0)), len(volumes) - 1)]
    return case
