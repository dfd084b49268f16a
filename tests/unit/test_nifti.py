"""NIfTI label maps: lossless round trip, LPS geometry preserved, names in the sidecar."""

import json

import nibabel as nib
import numpy as np

from meditwin_desktop.core.imaging.geometry import affine_from
from meditwin_desktop.core.imaging.nifti import read_label_map, sidecar_path, write_label_map
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume


def test_label_map_round_trip_is_lossless(tmp_path):
    rng = np.random.default_rng(0)
    array = rng.integers(0, 4, size=(7, 8, 9)).astype(np.uint8)
    direction = np.array([[0, 0, 1], [1, 0, 0], [0, -1, 0.0]])
    affine = affine_from([12.5, -30.0, 4.0], direction, [0.8, 0.9, 2.5])
    labels = {
        1: Label(1, "liver", (221, 130, 101)),
        2: Label(2, "tumour 1", (240, 220, 60)),
        3: Label(3, "portal vein", (190, 90, 200)),
    }
    path = tmp_path / "labels.nii.gz"
    write_label_map(LabelMap(Volume(array, affine), labels), path)

    back = read_label_map(path)
    assert np.array_equal(back.volume.array, array)
    assert np.allclose(back.volume.affine, affine, atol=1e-5)
    assert back.labels == labels
    assert json.loads(sidecar_path(path).read_text())["labels"][1]["name"] == "tumour 1"


def test_nifti_on_disk_is_ras(tmp_path):
    """Other tools (Slicer, ITK-SNAP, nibabel) must see the same anatomy: NIfTI is RAS."""
    affine = affine_from([10.0, 20.0, 30.0], np.eye(3), [1, 1, 1])
    path = tmp_path / "x.nii.gz"
    write_label_map(LabelMap(Volume(np.zeros((2, 2, 2), np.uint8), affine), {}), path)
    ras = nib.load(path).affine
    assert np.allclose(ras[:3, 3], [-10.0, -20.0, 30.0])
    assert np.allclose(np.diag(ras)[:3], [-1, -1, 1])


def test_missing_sidecar_gives_generic_names(tmp_path):
    path = tmp_path / "plain.nii.gz"
    nib.save(nib.Nifti1Image(np.array([[[0, 5]]], np.uint8), np.eye(4)), path)
    assert read_label_map(path).labels[5].name == "label 5"
