"""The case's labels as a DICOM SEG (highdicom) on the de-identified images.

Like `core.segmentation.dicom_seg.write_dicom_seg`, but made from the de-identified
headers held in memory (so the SEG references the exported images, and copies their
patient and study attributes), with the export's dates and de-identification stamp.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core.deidentify.profile import BasicProfile
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.volume import LabelMap, Volume


def write_segmentation(
    labels: LabelMap,
    image: Volume,
    sources: dict[str, Dataset],
    path: Path,
    profile: BasicProfile,
) -> dict[int, int] | None:
    """Write `labels` (on `image`'s grid) as a BINARY SEG at `path`, referencing
    `sources` ({original SOP Instance UID: de-identified header}); return {label value:
    segment number}, or None (with a warning in `profile`) when it cannot be written."""
    import highdicom as hd

    uids = list(image.meta.get("instance_uids") or [])
    if len(uids) != image.shape[0] or not all(uid in sources for uid in uids):
        profile.warn(tr("The labels were not exported: the image is not single-frame DICOM."))
        return None
    if not labels.volume.same_grid(image):
        profile.warn(tr("The labels were not exported: they are not on the image's grid."))
        return None
    present = [int(v) for v in np.unique(labels.volume.array) if v != 0]
    if not present:
        profile.warn(tr("The label map is empty: no segmentation was written."))
        return None
    numbers = {value: n + 1 for n, value in enumerate(present)}
    lookup = np.zeros(int(labels.volume.array.max()) + 1, np.uint16)
    for value, number in numbers.items():
        lookup[value] = number
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=_name(labels, value),
            segmented_property_category=codes.SCT.AnatomicalStructure,
            segmented_property_type=codes.SCT.Organ,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        )
        for value, number in numbers.items()
    ]
    content_date, content_time = profile.content_date(sources[uids[0]])
    seg = hd.seg.Segmentation(
        source_images=[sources[uid] for uid in uids],
        pixel_array=lookup[labels.volume.array].astype(
            np.uint8 if len(present) < 256 else np.uint16
        ),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(prefix=None),
        series_number=900,
        sop_instance_uid=generate_uid(prefix=None),
        instance_number=1,
        manufacturer="MEDITWIN",
        manufacturer_model_name=APP_NAME,
        software_versions=__version__,
        device_serial_number="0",
        series_description="MEDITWIN segmentation",
        content_date=content_date,
        content_time=content_time,
    )
    _remove_export_time(seg)
    profile.stamp(seg)
    profile.remove_mentions(seg)
    seg.save_as(path)
    return numbers


def _name(labels: LabelMap, value: int) -> str:
    label = labels.labels.get(value)
    return (label.name if label is not None else "")[:64] or f"label {value}"


def _remove_export_time(seg: Dataset) -> None:
    """highdicom stamps the real date and time of writing; the images carry shifted or no
    dates, so these go (type 3)."""
    for keyword in ("InstanceCreationDate", "InstanceCreationTime"):
        if keyword in seg:
            delattr(seg, keyword)
    for item in seg.get("ContributingEquipmentSequence", []):
        if "ContributionDateTime" in item:
            del item.ContributionDateTime
