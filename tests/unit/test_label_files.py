"""Label files onto the open image: the minimal NRRD reader (against SimpleITK and a
Slicer-style layered .seg.nrrd), DICOM SEG and NRRD giving the same liver, and clear
messages when the geometry does not fit."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.imaging.dicom import load_series
from meditwin_desktop.core.imaging.nrrd import read_nrrd
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.segmentation.label_files import (
    read_label_file,
    read_nrrd_labels,
    referenced_series_uid,
)


def _write_nrrd(path: Path, array_xyz_first: np.ndarray, header: dict[str, str]) -> None:
    """A NRRD whose first axis varies fastest: `array_xyz_first` is indexed [x, y, z(, l)]
    in the order of 'sizes'."""
    lines = ["NRRD0004", *(f"{k}: {v}" for k, v in header.items() if ":=" not in k)]
    lines += [f"{k}{v}" for k, v in header.items() if ":=" in k]
    data = np.asfortranarray(array_xyz_first).tobytes(order="F")
    Path(path).write_bytes(("\n".join(lines) + "\n\n").encode() + gzip.compress(data))


def test_nrrd_reader_matches_simpleitk(shared_data):
    sitk = pytest.importorskip("SimpleITK")
    path = shared_data / "dicom/ct_liver_seg/liver_seg.nrrd"
    array, affine, _ = read_nrrd(path)
    image = sitk.ReadImage(str(path))
    assert np.array_equal(array, sitk.GetArrayFromImage(image))
    assert np.allclose(affine[:3, 3], image.GetOrigin())
    assert np.allclose(np.diag(affine)[:3], image.GetSpacing())


def test_dicom_seg_and_nrrd_give_the_same_liver_on_the_ct(shared_data):
    folder = shared_data / "dicom/ct_liver_seg"
    [ct] = load_series(sorted((folder / "ct").iterdir()))
    from_nrrd, note = read_label_file(folder / "liver_seg.nrrd", ct)
    from_seg, _ = read_label_file(folder / "liver.dcm", ct)
    assert note == ""  # the same grid: nothing resampled
    assert from_seg.labels[1].name == "Liver"
    assert (from_nrrd.volume.array > 0).sum() > 100_000
    assert np.array_equal(from_nrrd.volume.array > 0, from_seg.volume.array > 0)
    assert referenced_series_uid(folder / "liver.dcm") == ct.meta["series_uid"]


def test_a_layered_slicer_segmentation_in_ras(tmp_path):
    """Two layers; segment 'tumour' overlaps the liver in layer 1; RAS space directions."""
    layers = np.zeros((2, 4, 3, 2), np.uint8)  # [layer, x, y, z]
    layers[0, 0:2, :, :] = 1  # liver: label value 1 of layer 0
    layers[1, 1, 1, 1] = 3  # tumour: label value 3 of layer 1
    header = {
        "type": "unsigned char", "dimension": "4", "space": "right-anterior-superior",
        "sizes": "2 4 3 2", "kinds": "list domain domain domain", "encoding": "gzip",
        "endian": "little",
        "space directions": "none (2,0,0) (0,2,0) (0,0,3)", "space origin": "(10,20,30)",
        "Segment0_Name:=": "liver", "Segment0_Layer:=": "0", "Segment0_LabelValue:=": "1",
        "Segment0_Color:=": "0.8 0.4 0.2",
        "Segment1_Name:=": "tumour 1", "Segment1_Layer:=": "1", "Segment1_LabelValue:=": "3",
    }  # fmt: skip
    _write_nrrd(tmp_path / "s.seg.nrrd", layers, header)
    labels = read_nrrd_labels(tmp_path / "s.seg.nrrd")
    assert {v: lab.name for v, lab in labels.labels.items()} == {1: "liver", 2: "tumour 1"}
    assert labels.labels[1].color == (204, 102, 51)
    array = labels.volume.array  # [k, j, i]
    assert array.shape == (2, 3, 4)
    assert array[1, 1, 1] == 2 and (array == 1).sum() == 2 * 3 * 2 - 1
    assert np.allclose(labels.volume.affine[:3, 3], [-10, -20, 30])  # RAS -> LPS
    assert np.allclose(labels.volume.index_to_lps(np.array([1.0, 0, 0])), [-12, -20, 30])


def test_labels_off_the_image_are_refused_and_partial_ones_reported(tmp_path):
    image = Volume(np.zeros((10, 10, 10), np.int16), np.eye(4))
    labels = np.ones((4, 4, 4), np.uint8)  # [x, y, z]
    header = {"type": "uchar", "dimension": "3", "space": "left-posterior-superior",
              "sizes": "4 4 4", "encoding": "gzip", "endian": "little",
              "space directions": "(1,0,0) (0,1,0) (0,0,1)"}  # fmt: skip
    _write_nrrd(tmp_path / "far.nrrd", labels, {**header, "space origin": "(500,500,500)"})
    with pytest.raises(InputError, match="does not overlap"):
        read_label_file(tmp_path / "far.nrrd", image)
    _write_nrrd(tmp_path / "edge.nrrd", labels, {**header, "space origin": "(8,0,0)"})
    fitted, note = read_label_file(tmp_path / "edge.nrrd", image)
    assert fitted.volume.shape == image.shape
    assert "resampled" in note and "Only 50%" in note
    (tmp_path / "image.nrrd").write_bytes(b"NRRD0004\ntype: float\n")
    with pytest.raises(InputError):
        read_label_file(tmp_path / "image.nrrd", image)
