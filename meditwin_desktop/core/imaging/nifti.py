"""NIfTI read/write (nibabel) for volumes and label maps, converting RAS <-> LPS.

A label map's names and colours live in a JSON sidecar beside the image:
`labels.nii.gz` + `labels.json` = `{"labels": [{"value", "name", "color"}, ...]}`.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np

from meditwin_desktop.core.atomic import write_atomic, write_text_atomic
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.geometry import lps_affine_to_ras, ras_affine_to_lps
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume


def sidecar_path(image_path: Path) -> Path:
    """`labels.nii.gz` -> `labels.json`."""
    name = Path(image_path).name
    stem = name[: -len(".nii.gz")] if name.endswith(".nii.gz") else Path(name).stem
    return Path(image_path).with_name(stem + ".json")


def write_volume(volume: Volume, path: Path) -> None:
    """Write a volume as NIfTI (atomic)."""
    data = np.ascontiguousarray(volume.array.transpose(2, 1, 0))  # [k,j,i] -> [i,j,k]
    image = nib.Nifti1Image(data, lps_affine_to_ras(volume.affine))
    image.header.set_xyzt_units("mm")
    image.set_qform(image.affine, code=1)
    image.set_sform(image.affine, code=1)
    suffix = ".nii.gz" if str(path).endswith(".gz") else ".nii"
    write_atomic(Path(path), lambda tmp: nib.save(image, tmp), suffix=suffix)


def read_volume(path: Path) -> Volume:
    """Read a 3D NIfTI image as a `Volume` in LPS."""
    try:
        image = nib.load(str(path))
    except (OSError, nib.filebasedimages.ImageFileError) as error:
        raise InputError(
            tr("Cannot read the NIfTI file {path}: {error}").format(path=path, error=error)
        ) from error
    if len(image.shape) != 3:
        raise InputError(
            tr("{path} is not a 3D image (shape {shape}).").format(path=path, shape=image.shape)
        )
    array = np.asanyarray(image.dataobj).transpose(2, 1, 0)
    return Volume(
        np.ascontiguousarray(array), ras_affine_to_lps(image.affine), {"source": str(path)}
    )


def write_label_map(label_map: LabelMap, path: Path) -> None:
    """Write a label map as NIfTI plus its JSON sidecar of names and colours."""
    write_volume(label_map.volume, path)
    entries = [
        {"value": label.value, "name": label.name, "color": list(label.color)}
        for label in sorted(label_map.labels.values(), key=lambda lab: lab.value)
    ]
    write_text_atomic(sidecar_path(path), json.dumps({"labels": entries}, indent=2) + "\n")


def read_label_map(path: Path) -> LabelMap:
    """Read a NIfTI label map and its sidecar (labels without a sidecar get generic names)."""
    volume = read_volume(path)
    if not np.issubdtype(volume.array.dtype, np.integer):
        rounded = np.rint(volume.array)
        if not np.array_equal(rounded, volume.array):
            raise InputError(
                tr("{path} holds non-integer values; it is not a label map.").format(path=path)
            )
        volume = Volume(rounded.astype(np.int32), volume.affine, volume.meta)
    labels: dict[int, Label] = {}
    sidecar = sidecar_path(path)
    if sidecar.exists():
        for entry in json.loads(sidecar.read_text(encoding="utf-8"))["labels"]:
            value = int(entry["value"])
            labels[value] = Label(value, str(entry["name"]), tuple(entry["color"]))
    for value in np.unique(volume.array):
        if value != 0 and int(value) not in labels:
            labels[int(value)] = Label(int(value), f"label {value}", (200, 200, 200))
    return LabelMap(volume, labels)
