"""DICOM SEG import and export of label maps, with highdicom.

A SEG references the images it segments (their SOP Instance UIDs), so it is read onto,
and written from, a volume loaded from single-frame DICOM images whose slice k came
from `volume.meta["instance_uids"][k]`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pydicom
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from meditwin_desktop import __version__
from meditwin_desktop.core.atomic import write_atomic
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume

_COLORS = [(230, 90, 80), (90, 170, 230), (240, 200, 60), (120, 200, 110), (200, 120, 220)]


def _instance_uids(image: Volume) -> list[str]:
    uids = image.meta.get("instance_uids") or []
    if len(uids) != image.shape[0] or len(set(uids)) != len(uids):
        raise InputError(
            tr(
                "DICOM SEG needs the image as single-frame DICOM slices; this image was "
                "resampled or comes from another format. Use NIfTI for it instead."
            )
        )
    return list(uids)


def read_dicom_seg(path: Path, image: Volume) -> LabelMap:
    """Read a DICOM SEG onto `image`'s grid (segment numbers become label values)."""
    import highdicom as hd

    uids = _instance_uids(image)
    try:
        seg = hd.seg.segread(str(path))
    except Exception as error:  # highdicom/pydicom raise many types on non-SEG files
        raise InputError(
            tr("{name} is not a readable DICOM SEG: {error}").format(
                name=Path(path).name, error=error
            )
        ) from error
    referenced = {uid for *_, uid in seg.get_source_image_uids()}
    if not referenced & set(uids):
        raise InputError(
            tr(
                "{name} segments another series (none of its referenced images is part of the "
                "open one). Open the series it was made on."
            ).format(name=Path(path).name)
        )
    try:
        array = seg.get_pixels_by_source_instance(
            [uid for uid in uids],
            combine_segments=True,
            skip_overlap_checks=True,
            ignore_spatial_locations=True,
        )
    except Exception as error:
        raise InputError(
            tr("Cannot place {name} on the open series: {error}").format(
                name=Path(path).name, error=error
            )
        ) from error
    labels = {}
    for number in seg.get_segment_numbers():
        description = seg.get_segment_description(number)
        name = str(description.segment_label or f"segment {number}")
        labels[number] = Label(number, name, _COLORS[(number - 1) % len(_COLORS)])
    dtype = np.uint8 if max(labels, default=0) < 256 else np.uint16
    volume = Volume(array.astype(dtype), image.affine.copy(), {"source": str(path)})
    return LabelMap(volume, labels)


def write_dicom_seg(labels: LabelMap, image: Volume, path: Path) -> None:
    """Write the label map as a DICOM SEG referencing `image`'s source slices (atomic)."""
    seg = dicom_seg_dataset(labels, image)
    write_atomic(Path(path), lambda tmp: seg.save_as(tmp), suffix=".dcm")


def dicom_seg_dataset(
    labels: LabelMap, image: Volume, headers: Sequence[pydicom.Dataset] = ()
) -> pydicom.Dataset:
    """The label map as a DICOM SEG (a highdicom Segmentation, a pydicom Dataset) in the
    study of `image`'s source slices, one segment per label present, a new series.
    `headers`: the source slices' headers when already read (else read from the files)."""
    import highdicom as hd

    uids = _instance_uids(image)
    if not labels.volume.same_grid(image):
        raise InputError(
            tr("The labels are not on the image's grid; they cannot be written as SEG.")
        )
    by_uid = {str(ds.SOPInstanceUID): ds for ds in headers}
    if set(uids) - set(by_uid):
        for file in image.meta.get("files", []):
            ds = pydicom.dcmread(file, stop_before_pixels=True)
            by_uid[str(ds.SOPInstanceUID)] = ds
    if set(uids) - set(by_uid):
        raise InputError(tr("Some source images of this series can no longer be read."))
    present = [int(v) for v in np.unique(labels.volume.array) if v != 0]
    if not present:
        raise InputError(tr("The label map is empty: there is nothing to write."))
    numbering = {value: n + 1 for n, value in enumerate(present)}
    lookup = np.zeros(int(labels.volume.array.max()) + 1, np.uint16)
    for value, number in numbering.items():
        lookup[value] = number
    pixels = lookup[labels.volume.array]
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=labels.labels[value].name if value in labels.labels else f"label {value}",
            segmented_property_category=codes.SCT.AnatomicalStructure,
            segmented_property_type=codes.SCT.Organ,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        )
        for value, number in numbering.items()
    ]
    seg = hd.seg.Segmentation(
        source_images=[by_uid[uid] for uid in uids],
        pixel_array=pixels.astype(np.uint8 if len(present) < 256 else np.uint16),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(),
        series_number=900,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="MEDITWIN",
        manufacturer_model_name="MEDITWIN Desktop",
        software_versions=__version__,
        device_serial_number="0",
        series_description="MEDITWIN segmentation",
    )
    return seg
