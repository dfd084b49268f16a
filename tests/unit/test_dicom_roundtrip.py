"""Writing a volume as DICOM and importing it back gives the same voxels and geometry."""

import shutil

import numpy as np
import pydicom
import pytest

from meditwin_desktop.core.errors import DicomError
from meditwin_desktop.core.imaging.dicom import load_series, scan
from meditwin_desktop.core.imaging.dicom.write import SeriesHeader, write_ct_series
from meditwin_desktop.core.imaging.geometry import affine_from
from meditwin_desktop.core.imaging.volume import Volume


def _volume(direction=None, spacing=(0.7, 0.8, 2.5), shape=(9, 12, 10)):
    direction = np.eye(3) if direction is None else direction
    rng = np.random.default_rng(1)
    array = rng.integers(-1000, 2000, size=shape).astype(np.int16)
    return Volume(array, affine_from([-100.25, 50.5, 300.0], direction, spacing))


def _header(**kw):
    return SeriesHeader(patient_name="TEST^PATIENT", patient_id="T1", uid_seed="test", **kw)


@pytest.mark.parametrize(
    "direction",
    [
        np.eye(3),
        np.array([[0, 0, -1], [1, 0, 0], [0, -1, 0.0]]),
        np.array([[0.9396926, -0.3420201, 0], [0.3420201, 0.9396926, 0], [0, 0, 1.0]]),
    ],
    ids=["axial", "sagittal", "oblique-20deg"],
)
def test_round_trip_keeps_voxels_and_affine(tmp_path, direction):
    volume = _volume(direction)
    paths = write_ct_series(volume, tmp_path / "s", _header())
    # scramble the file names: order must come from positions, not names
    for n, path in enumerate(paths):
        path.rename(path.with_name(f"{(n * 7919) % 101:04d}-{n}.dcm"))
    result = scan([tmp_path])
    [series] = result.all_series()
    assert series.image_count == volume.shape[0]
    [loaded] = load_series(series.files)
    assert np.array_equal(loaded.array, volume.array)
    assert np.allclose(loaded.affine, volume.affine, atol=1e-4)
    assert loaded.meta["modality"] == "CT"


def test_rescale_is_applied(tmp_path):
    volume = _volume()
    write_ct_series(volume, tmp_path, _header())
    ds = pydicom.dcmread(sorted(tmp_path.iterdir())[0])
    assert float(ds.RescaleIntercept) == -1024.0
    assert ds.pixel_array.min() >= 0  # stored unsigned, HU only after rescale
    [loaded] = load_series(sorted(tmp_path.iterdir()))
    assert loaded.array.min() < 0


def test_irregular_spacing_is_reported(tmp_path):
    paths = write_ct_series(_volume(), tmp_path, _header())
    paths[4].unlink()  # a missing slice leaves a gap twice the spacing
    [loaded] = load_series(sorted(tmp_path.iterdir()))
    assert any("Irregular slice spacing" in w for w in loaded.meta["warnings"])


def test_non_dicom_files_are_listed_not_fatal(tmp_path):
    write_ct_series(_volume(), tmp_path / "ct", _header())
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "empty.dcm").write_bytes(b"")
    result = scan([tmp_path])
    assert len(result.all_series()) == 1
    reasons = {p.name: r for p, r in result.skipped}
    assert set(reasons) == {"notes.txt", "empty.dcm"}


def test_duplicate_positions_are_refused_with_a_reason(tmp_path):
    paths = write_ct_series(_volume(), tmp_path / "a", _header())
    copy = tmp_path / "a" / "copy.dcm"
    shutil.copy(paths[3], copy)
    ds = pydicom.dcmread(copy)
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.save_as(copy)
    with pytest.raises(DicomError, match="repeats slice positions unevenly"):
        load_series(sorted((tmp_path / "a").iterdir()))
