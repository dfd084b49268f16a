"""DICOM SEG (highdicom): the dcmqi liver SEG reproduces its NRRD; our export round-trips."""

from __future__ import annotations

import numpy as np
import pytest

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.imaging.dicom import load_series
from meditwin_desktop.core.imaging.volume import LabelMap, Volume
from meditwin_desktop.core.segmentation.dicom_seg import read_dicom_seg, write_dicom_seg


def test_liver_seg_matches_the_nrrd_label(shared_data):
    sitk = pytest.importorskip("SimpleITK")
    folder = shared_data / "dicom/ct_liver_seg"
    [ct] = load_series(sorted((folder / "ct").iterdir()))
    labels = read_dicom_seg(folder / "liver.dcm", ct)
    assert labels.labels[1].name == "Liver"
    nrrd = sitk.ReadImage(str(folder / "liver_seg.nrrd"))
    reference = sitk.GetArrayFromImage(nrrd)  # [k, j, i] like ours
    assert np.allclose(nrrd.GetOrigin(), ct.origin, atol=1e-3)  # NRRD here is LPS
    assert np.allclose(nrrd.GetSpacing(), ct.spacing, atol=1e-4)
    assert np.array_equal(labels.volume.array > 0, reference > 0)


def test_export_then_import_is_lossless(demo_patient, demo_truth, tmp_path):
    files = sorted(demo_patient.dicom_dir.glob("*.dcm"))
    [ct] = load_series(files)
    _, truth = demo_truth
    keep = [truth.by_name(n).value for n in ("liver", "tumour 1", "tumour 2", "portal vein")]
    array = np.where(np.isin(truth.volume.array, keep), truth.volume.array, 0).astype(np.uint8)
    labels = LabelMap(Volume(array, ct.affine), {v: truth.labels[v] for v in keep})
    write_dicom_seg(labels, ct, tmp_path / "seg.dcm")
    back = read_dicom_seg(tmp_path / "seg.dcm", ct)
    assert sorted(lab.name for lab in back.labels.values()) == sorted(
        truth.labels[v].name for v in keep
    )
    for value in keep:  # segment numbers are renumbered; compare by name
        name = truth.labels[value].name
        assert np.array_equal(back.mask(name), array == value), name


def test_seg_of_another_series_is_refused(shared_data, demo_patient):
    [ct] = load_series(sorted(demo_patient.dicom_dir.glob("*.dcm")))
    with pytest.raises(InputError, match="segments another series"):
        read_dicom_seg(shared_data / "dicom/ct_liver_seg/liver.dcm", ct)
