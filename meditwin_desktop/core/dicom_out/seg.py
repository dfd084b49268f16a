"""A study's labels as DICOM SEG on its source series (`core.segmentation.dicom_seg`)."""

from __future__ import annotations

from collections.abc import Sequence

from pydicom.dataset import Dataset

from meditwin_desktop.core.case import Case, Study
from meditwin_desktop.core.dicom_out.common import keep_deidentification
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.segmentation.dicom_seg import dicom_seg_dataset


def seg_object(case: Case, study: Study, sources: Sequence[Dataset]) -> Dataset:
    """The study's labels as a DICOM SEG referencing each source slice (the study's image is
    loaded from its folder first when it is not). InputError says why it cannot be made."""
    if study.labels is None:
        raise InputError(tr("This study has no labels: there is no segmentation to send."))
    if study.image is None:
        from meditwin_desktop.core.case_images import load_study_image

        load_study_image(case, study)
    if not isinstance(study.image, Volume):
        raise InputError(
            tr("Labels drawn on a photograph cannot be sent as DICOM SEG (SEG needs the "
               "slices of a DICOM series).")
        )  # fmt: skip
    seg = dicom_seg_dataset(study.labels, study.image, sources)
    keep_deidentification(sources[0], seg)
    return seg
