"""The source DICOM of a study: the headers the objects sent back refer to."""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from meditwin_desktop.core.case import Study
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.dicom import scan


def _no_source(study: Study) -> InputError:
    what = study.description or study.modality or tr("this study")
    return InputError(
        tr(
            "{study} was not imported from DICOM, so nothing can be sent to a PACS for it: "
            "a PACS files objects under the patient, study and series of their source "
            "images. Import the study from DICOM (or retrieve it from the PACS) and send "
            "from there."
        ).format(study=what)
    )


def source_headers(study: Study) -> list[Dataset]:
    """The headers (no pixels) of the study's source DICOM images, in slice order of the
    files as scanned. InputError when the study has no DICOM source or it is gone."""
    reference = study.reference or {}
    if reference.get("file"):  # a photograph: a DICOM file (OP) or a picture
        try:
            ds = pydicom.dcmread(reference["file"], stop_before_pixels=True)
        except (InvalidDicomError, OSError, ValueError):
            raise _no_source(study) from None
        if "StudyInstanceUID" not in ds or "SOPInstanceUID" not in ds:
            raise _no_source(study)
        return [ds]
    folder, series_uid = reference.get("folder"), reference.get("series_uid")
    if not folder or not series_uid:
        raise _no_source(study)
    if not Path(folder).is_dir():
        raise InputError(
            tr("The source images are no longer at {path}. Reconnect the disk or import the "
               "series again before sending.").format(path=folder)
        )  # fmt: skip
    series = scan([Path(folder)]).find_series(series_uid)
    if series is None or not series.files:
        raise InputError(tr("Series {series} is no longer in {path}.").format(
            series=series_uid, path=folder))  # fmt: skip
    return [pydicom.dcmread(f, stop_before_pixels=True) for f in series.files]
