"""Label files from other tools onto the open image: NIfTI label maps, NRRD (3D Slicer's
`.seg.nrrd` with its segment names and colours, or a plain labelled `.nrrd`) and DICOM SEG.

Labels on another grid are resampled onto the image (nearest neighbour, in LPS), and the
note returned says so; labels that do not overlap the image raise InputError, and labels
that only partly do are reported (another series of the patient, or wrong geometry).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import N_, number, tr
from meditwin_desktop.core.imaging.labels import fit_labels_to
from meditwin_desktop.core.imaging.nifti import read_label_map
from meditwin_desktop.core.imaging.nrrd import read_nrrd
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.segmentation.dicom_seg import read_dicom_seg
from meditwin_desktop.core.segmentation.editor import _PALETTE

# shown translated: tr(FILE_FILTER)
FILE_FILTER = N_("Label files (*.nii *.nii.gz *.nrrd *.seg.nrrd *.dcm);;All files (*)")


def is_dicom(path: Path) -> bool:
    """A DICOM file (by its 'DICM' marker, or a .dcm name)."""
    path = Path(path)
    if path.suffix.lower() == ".dcm":
        return True
    try:
        with open(path, "rb") as file:
            file.seek(128)
            return file.read(4) == b"DICM"
    except OSError:
        return False


def referenced_series_uid(path: Path) -> str | None:
    """The SeriesInstanceUID of the images a DICOM SEG segments (None if it names none)."""
    import pydicom

    ds = pydicom.dcmread(str(path), stop_before_pixels=True)
    for item in ds.get("ReferencedSeriesSequence", []):
        if "SeriesInstanceUID" in item:
            return str(item.SeriesInstanceUID)
    for study in ds.get("StudiesContainingOtherReferencedInstancesSequence", []):
        for item in study.get("ReferencedSeriesSequence", []):
            if "SeriesInstanceUID" in item:
                return str(item.SeriesInstanceUID)
    return None


def _color(text: str, value: int) -> tuple[int, int, int]:
    try:
        rgb = [float(x) for x in text.split()]
        if len(rgb) == 3:
            return tuple(round(min(max(c, 0.0), 1.0) * 255) for c in rgb)  # type: ignore[return-value]
    except ValueError:
        pass
    return _PALETTE[(value - 1) % len(_PALETTE)]


def read_nrrd_labels(path: Path) -> LabelMap:
    """A NRRD label map; a Slicer segmentation's segments (names, colours, layers) become
    labels 1, 2, ... in their order."""
    array, affine, fields = read_nrrd(path)
    if not np.issubdtype(array.dtype, np.integer):
        if not np.array_equal(array, np.round(array)):
            raise InputError(
                tr("{name} holds an image, not labels (fractional values).").format(
                    name=Path(path).name
                )
            )
        array = array.astype(np.int32)
    segments = sorted(
        {int(k[7:].split("_", 1)[0]) for k in fields if k.startswith("Segment") and "_" in k
         and k[7:].split("_", 1)[0].isdigit()}
    )  # fmt: skip
    if segments:
        out = np.zeros(array.shape[:3], np.uint8 if len(segments) < 256 else np.uint16)
        labels = {}
        for n, number in enumerate(segments, start=1):
            key = f"Segment{number}_"
            layer = int(fields.get(key + "Layer", 0))
            value = int(fields.get(key + "LabelValue", 1))
            data = array[..., layer] if array.ndim == 4 else array
            out[data == value] = n
            name = fields.get(key + "Name") or f"segment {number}"
            labels[n] = Label(n, name, _color(fields.get(key + "Color", ""), n))
        return LabelMap(Volume(out, affine, {"source": str(path)}), labels)
    if array.ndim == 4:
        raise InputError(
            tr("{name}: a layered NRRD without segment names.").format(name=Path(path).name)
        )
    if array.min() < 0:
        raise InputError(
            tr("{name} holds negative values: an image, not labels.").format(name=Path(path).name)
        )
    values = [int(v) for v in np.unique(array) if v != 0]
    dtype = np.uint8 if max(values, default=0) < 256 else np.uint16
    labels = {v: Label(v, f"label {v}", _PALETTE[(v - 1) % len(_PALETTE)]) for v in values}
    return LabelMap(Volume(array.astype(dtype), affine, {"source": str(path)}), labels)


def read_label_file(path: Path, image: Volume) -> tuple[LabelMap, str]:
    """Labels from `path` on `image`'s grid, and a note for the user ('' when nothing is
    worth saying). InputError with a message a user can act on when they do not fit."""
    path = Path(path)
    name = path.name.lower()
    if name.endswith((".nii", ".nii.gz")):
        source = read_label_map(path)
    elif name.endswith(".nrrd"):
        source = read_nrrd_labels(path)
    elif is_dicom(path):
        return read_dicom_seg(path, image), ""  # on the slices it references
    else:
        raise InputError(
            tr("{name}: not a label file (NIfTI, NRRD or DICOM SEG).").format(name=path.name)
        )
    fitted = fit_labels_to(source, image)
    if fitted is source:
        return fitted, ""
    source_ml = np.count_nonzero(source.volume.array) * float(np.prod(source.volume.spacing))
    fitted_ml = np.count_nonzero(fitted.volume.array) * float(np.prod(image.spacing))
    shape = " x ".join(str(n) for n in source.volume.shape[::-1])
    note = tr("{name} is on another grid ({shape}): resampled onto the image.").format(
        name=path.name, shape=shape
    )
    if source_ml > 0 and fitted_ml < 0.9 * source_ml:
        note += " " + tr(
            "Only {percent}% of its labelled volume lies inside this image: check that it "
            "belongs to this series."
        ).format(percent=number(100 * fitted_ml / source_ml, 0))
    return fitted, note
