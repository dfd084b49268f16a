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


def test_volume_round_trip_keeps_values_and_geometry(tmp_path):
    from meditwin_desktop.core.imaging.nifti import read_volume, write_volume

    direction = np.array([[0, 0, -1], [1, 0, 0], [0, -1, 0.0]])
    volume = Volume(
        np.arange(60, dtype=np.int16).reshape(3, 4, 5) - 30,
        affine_from([1.5, -2.0, 40.0], direction, [0.5, 0.7, 3.0]),
    )
    write_volume(volume, tmp_path / "v.nii.gz")
    back = read_volume(tmp_path / "v.nii.gz")
    assert np.array_equal(back.array, volume.array)
    assert np.allclose(back.affine, volume.affine, atol=1e-5)


def test_exported_nifti_matches_dcm2niix_reference(shared_data, tmp_path):
    """DICOM -> our NIfTI export -> same world geometry and voxels as dcm2niix wrote."""
    from meditwin_desktop.cli import main
    from tests.support.nifti_compare import compare

    folder = shared_data / "dicom/enhanced_multiframe"
    assert main(["dicom", "load", str(folder), "--nifti", str(tmp_path)]) == 0
    reference = nib.load(
        shared_data / "reference/enhanced_multiframe/Siemens_REST1_w_SMS_PF7-8_6.nii"
    )
    from meditwin_desktop.core.imaging.nifti import read_volume

    for t, path in enumerate(sorted(tmp_path.glob("*.nii.gz"))):
        difference = compare(read_volume(path), reference, t)
        assert (
            difference.voxels_equal and difference.origin_mm < 1e-3 and difference.direction < 1e-4
        )


def test_labels_on_another_grid_are_resampled_nearest_neighbour():
    from meditwin_desktop.core.imaging.labels import fit_labels_to

    image = Volume(np.zeros((10, 10, 10), np.int16), affine_from([0, 0, 0], np.eye(3), [1, 1, 1]))
    coarse = np.zeros((5, 5, 5), np.uint8)
    coarse[1:3, 1:3, 1:3] = 7  # a 4 mm cube from 2 to 5.x mm
    labels = LabelMap(
        Volume(coarse, affine_from([0.5, 0.5, 0.5], np.eye(3), [2, 2, 2])),
        {7: Label(7, "lesion", (255, 0, 0))},
    )
    fitted = fit_labels_to(labels, image)
    assert fitted.volume.same_grid(image)
    assert fitted.volume_ml("lesion") == labels.volume_ml("lesion")  # 64 mm3 either way
    assert fitted.volume.array[3, 3, 3] == 7 and fitted.volume.array[0, 0, 0] == 0


def test_labels_of_another_patient_are_refused():
    import pytest

    from meditwin_desktop.core.errors import InputError
    from meditwin_desktop.core.imaging.labels import fit_labels_to

    image = Volume(np.zeros((4, 4, 4), np.int16), affine_from([0, 0, 0], np.eye(3), [1, 1, 1]))
    far = LabelMap(
        Volume(np.ones((4, 4, 4), np.uint8), affine_from([500, 0, 0], np.eye(3), [1, 1, 1])), {}
    )
    with pytest.raises(InputError, match="does not overlap"):
        fit_labels_to(far, image)
