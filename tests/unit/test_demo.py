"""The built-in demo patient: real DICOM, plausible HU, known anatomy, deterministic."""

import numpy as np
import pydicom
import pytest
from pydicom.uid import UID
from scipy import ndimage

from meditwin_desktop.core.imaging.dicom import load_series, scan
from meditwin_desktop.core.imaging.nifti import read_label_map
from meditwin_desktop.demo import anatomy, read_demo

REQUIRED_STRUCTURES = [
    "body",
    "right lung",
    "left lung",
    "spine",
    "aorta",
    "heart myocardium",
    "left ventricle cavity",
    "right ventricle cavity",
    "liver",
    "hepatic veins",
    "portal vein",
    "tumour 1",
    "tumour 2",
]


def test_demo_is_a_valid_ct_series(demo_patient):
    files = sorted(demo_patient.dicom_dir.iterdir())
    assert len(files) >= 200
    first = pydicom.dcmread(files[0])
    assert first.Modality == "CT" and first.Rows >= 256 and first.Columns >= 256
    for keyword in (
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "PixelSpacing",
        "SliceThickness",
        "RescaleSlope",
        "RescaleIntercept",
    ):
        assert keyword in first, keyword
    uids = set()
    for path in files[:: len(files) // 10]:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        for uid in (
            ds.SOPInstanceUID,
            ds.SeriesInstanceUID,
            ds.StudyInstanceUID,
            ds.FrameOfReferenceUID,
            ds.file_meta.MediaStorageSOPInstanceUID,
        ):
            assert UID(uid).is_valid, uid
        assert ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID
        uids.add(ds.SOPInstanceUID)
    assert len(uids) == len(files[:: len(files) // 10])


def test_demo_loads_through_the_dicom_import_exactly(demo_patient, demo_truth):
    ct, _ = demo_truth
    result = scan([demo_patient.dicom_dir])
    [series] = result.all_series()
    assert series.uid == demo_patient.series_uid
    [volume] = load_series(series.files)
    assert np.array_equal(volume.array, ct.array)
    assert np.allclose(volume.affine, ct.affine, atol=1e-6)


def test_labels_sit_on_the_ct_grid_with_every_structure(demo_patient, demo_truth):
    ct, truth = demo_truth
    labels = read_label_map(demo_patient.labels_path)
    assert labels.volume.same_grid(ct)
    assert np.array_equal(labels.volume.array, truth.volume.array)
    names = {label.name for label in labels.labels.values()}
    assert set(REQUIRED_STRUCTURES) <= names
    for name in REQUIRED_STRUCTURES:
        assert labels.mask(name).any(), name
    assert labels.volume_ml("tumour 1") > 3 * labels.volume_ml("tumour 2") > 0


@pytest.mark.parametrize(
    ("structure", "low", "high"),
    [
        ("liver", 90, 120),
        ("right lung", -900, -800),
        ("aorta", 140, 190),
        ("spine", 250, 700),
        ("tumour 1", 30, 80),
        ("spleen", 100, 130),
    ],
)
def test_hu_are_plausible_for_portal_venous_ct(demo_truth, structure, low, high):
    """Portal-venous CT ranges: e.g. liver 90-120 HU, lung about -850 HU (Hounsfield scale)."""
    ct, labels = demo_truth
    core = ndimage.binary_erosion(labels.mask(structure), iterations=2)
    assert low <= float(ct.array[core].mean()) <= high


def test_image_has_noise_like_a_scanner(demo_truth):
    ct, labels = demo_truth
    core = ndimage.binary_erosion(labels.mask("tumour 1"), iterations=4)
    assert 8 <= float(ct.array[core].std()) <= 20  # 12 HU noise added, partial volume removed


def test_generation_is_deterministic(demo_truth):
    ct, labels = demo_truth
    ct2, labels2 = anatomy.build()
    assert np.array_equal(ct.array, ct2.array)
    assert np.array_equal(labels.volume.array, labels2.volume.array)


def test_manifest_lists_the_written_patient(demo_patient):
    listed = read_demo(demo_patient.dicom_dir.parent.parent)
    assert listed[0] == demo_patient  # the thorax CT first (then the demo hearts)


def test_two_threads_asking_for_the_demo_generate_it_once(tmp_path, monkeypatch):
    """The GUI prepares the demo while its modules import, then asks again: one copy."""
    import json
    import threading
    import time

    import meditwin_desktop.demo as demo

    calls = []

    def slow_write(out, progress=None, cancelled=None):
        calls.append(out)
        time.sleep(0.3)
        (out / demo.MANIFEST).write_text(
            json.dumps({"version": demo.DEMO_VERSION, "patients": []}), encoding="utf-8"
        )

    monkeypatch.setattr(demo, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(demo, "write_demo", slow_write)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(demo.ensure_demo())) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [[], []] and len(calls) == 1
