"""Malformed input: every problem gives a DicomError naming the file and the problem, or a
warning on a partially loaded series; nothing else escapes, nothing crashes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from meditwin_desktop.core.errors import DicomError
from meditwin_desktop.core.imaging.dicom import load_series, scan
from meditwin_desktop.core.imaging.dicom.write import SeriesHeader, write_ct_series
from meditwin_desktop.core.imaging.geometry import affine_from
from meditwin_desktop.core.imaging.volume import Volume


def _series(folder: Path, slices: int = 8, direction=None, spacing=(0.8, 0.8, 2.0)) -> list[Path]:
    rng = np.random.default_rng(5)
    array = rng.integers(-1000, 1000, size=(slices, 16, 16)).astype(np.int16)
    direction = np.eye(3) if direction is None else direction
    volume = Volume(array, affine_from([0.0, 0.0, 0.0], direction, spacing))
    return write_ct_series(volume, folder, SeriesHeader("BAD^INPUT", "X1", uid_seed=str(folder)))


def _edit(path: Path, **changes) -> None:
    ds = pydicom.dcmread(path)
    for keyword, value in changes.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    ds.save_as(path)


def test_truncated_real_file_names_the_file(shared_data):
    with pytest.raises(DicomError, match=r"MR_truncated\.dcm.*truncated"):
        load_series([shared_data / "dicom/edge_cases/MR_truncated.dcm"])


def test_object_without_pixels_says_so(shared_data):
    with pytest.raises(DicomError, match=r"rtplan_truncated\.dcm: no pixel data"):
        load_series([shared_data / "dicom/edge_cases/rtplan_truncated.dcm"])


def test_one_truncated_slice_gives_a_partial_series(tmp_path):
    files = _series(tmp_path)
    data = files[3].read_bytes()
    files[3].write_bytes(data[:-100])
    [volume] = load_series(files)
    assert volume.meta["partial"] is True
    assert any("IM00004.dcm" in w and "Partial series" in w for w in volume.meta["warnings"])
    assert volume.shape[0] == 8


def test_wrong_pixel_data_length(tmp_path):
    files = _series(tmp_path, slices=1)
    _edit(files[0], Rows=32)  # header promises twice the pixels present
    with pytest.raises(DicomError, match=r"IM00001\.dcm.*(bytes|pixel)"):
        load_series(files)


def test_missing_position_sets_the_slice_apart(tmp_path):
    files = _series(tmp_path)
    _edit(files[2], ImagePositionPatient=None)
    volumes = load_series(files)
    main = volumes[0]
    assert main.shape[0] == 8  # the gap is interpolated on the regular grid...
    assert main.meta["partial"] is True  # ...and the series is reported partial
    assert any("1 image(s) without position were set apart" in w for w in main.meta["warnings"])
    assert any("slice(s) missing" in w for w in main.meta["warnings"])
    assert volumes[1].shape[0] == 1  # the unplaced image is still viewable on its own


def test_contradictory_orientation_is_refused_with_the_reason(tmp_path):
    files = _series(tmp_path, slices=1)
    _edit(files[0], ImageOrientationPatient=[1, 0, 0, 1, 0, 0])
    with pytest.raises(DicomError, match="not two perpendicular unit vectors"):
        load_series(files)


def test_non_numeric_position_is_refused(tmp_path):
    files = _series(tmp_path, slices=1)
    ds = pydicom.dcmread(files[0])
    ds["ImagePositionPatient"] = pydicom.DataElement(0x00200032, "LO", "a\\b\\c")
    ds.save_as(files[0])
    with pytest.raises(DicomError, match=r"IM00001\.dcm: Image Position \(Patient\)"):
        load_series(files)


def test_unknown_transfer_syntax_names_it(tmp_path):
    files = _series(tmp_path, slices=1)
    ds = pydicom.dcmread(files[0])
    ds.file_meta.TransferSyntaxUID = "1.2.3.4.5.6"
    ds.save_as(files[0], enforce_file_format=False)
    with pytest.raises(DicomError, match=r"IM00001\.dcm.*1\.2\.3\.4\.5\.6"):
        load_series(files)


def test_folder_of_jpegs_is_not_dicom(tmp_path):
    for n in range(3):
        Image.fromarray(np.full((8, 8), n * 40, np.uint8)).save(tmp_path / f"photo{n}.jpg")
    result = scan([tmp_path])
    assert result.all_series() == []
    assert [reason for _, reason in result.skipped] == ["not a DICOM file"] * 3
    with pytest.raises(DicomError, match=r"photo0\.jpg: not a DICOM file"):
        load_series(sorted(tmp_path.iterdir()))


def test_files_without_preamble_still_load(shared_data):
    """pydicom's OT-PAL-8-face.dcm has no 'DICM' preamble and a palette: read with force."""
    [volume] = load_series([shared_data / "dicom/pydicom_data/OT-PAL-8-face.dcm"])
    assert volume.shape == (1, 480, 640)


def test_edge_case_folder_scans_without_crashing(shared_data):
    result = scan([shared_data / "dicom/edge_cases"])
    reasons = dict((p.name, r) for p, r in result.skipped)
    assert reasons["zipMR.gz"] == "not a DICOM file"
    assert "badVR.dcm" in reasons
    for series in result.all_series():
        try:
            load_series(series.files)
        except DicomError as error:
            assert str(error)  # a message, never another exception


def test_gantry_tilt_is_resampled_exactly(tmp_path):
    """Slices tilted by 15 degrees: the volume is resampled onto a grid perpendicular to them.
    A field linear in LPS stays exactly linear (linear interpolation is exact for it)."""
    tilt = np.radians(15)
    shear = np.array([[1, 0, 0], [0, 1, np.tan(tilt)], [0, 0, 1.0]])  # k moves along y too
    shape = (12, 20, 20)
    affine = affine_from([0, 0, 0], np.eye(3), [1.0, 1.0, 2.0])
    affine[:3, :3] = shear @ affine[:3, :3]
    k, j, i = np.meshgrid(*map(np.arange, shape), indexing="ij")
    lps = np.stack([i, j, k], -1) @ affine[:3, :3].T
    values = np.rint(lps @ np.array([3.0, 5.0, 7.0])).astype(np.int16)
    files = write_ct_series(
        Volume(values, affine), tmp_path, SeriesHeader("T^ILT", "T", uid_seed="t")
    )
    [volume] = load_series(files)
    assert any("Gantry tilt of 15.00 degrees" in w for w in volume.meta["warnings"])
    assert np.allclose(volume.direction, np.eye(3), atol=1e-6)  # now orthogonal
    # inside the region covered by every slice, values equal the linear field
    kk, jj, ii = np.meshgrid(*map(np.arange, volume.shape), indexing="ij")
    expected = (np.stack([ii, jj, kk], -1) @ volume.affine[:3, :3].T + volume.affine[:3, 3]) @ [
        3.0,
        5.0,
        7.0,
    ]
    inside = jj > kk * 2.0 * np.tan(tilt) + 1  # rows shifted in from outside the scan are blank
    assert np.abs(volume.array[inside] - expected[inside]).max() <= 1.0


def test_irregular_spacing_is_resampled_and_missing_slices_reported(tmp_path):
    files = _series(tmp_path, slices=10)
    files[4].unlink()
    [volume] = load_series([f for f in files if f.exists()])
    assert volume.shape[0] == 10  # regular 2 mm grid restored
    assert volume.meta["partial"] is True
    assert any("slice(s) missing" in w for w in volume.meta["warnings"])


def test_dicomdir_lists_the_referenced_series(tmp_path):
    from pydicom.fileset import FileSet

    files = _series(tmp_path / "src", slices=4)
    fileset = FileSet()
    for path in files:
        fileset.add(pydicom.dcmread(path))
    fileset.write(tmp_path / "cd")
    result = scan([tmp_path / "cd" / "DICOMDIR"])
    [series] = result.all_series()
    assert series.image_count == 4 and result.skipped == []


def test_progressive_loading_gives_the_volume_before_the_pixels(tmp_path):
    files = _series(tmp_path, slices=12)
    seen = []

    def on_volume(volume):
        seen.append((volume, volume.array.copy(), volume.meta["decoded"].copy()))

    [volume] = load_series(files, on_volume=on_volume)
    early, snapshot, decoded = seen[0]
    assert early is volume  # the same array, filled in place
    assert not np.array_equal(snapshot, volume.array)  # it was not yet decoded then
    assert not decoded.any()  # and it said so: no slice read yet
    assert "decoded" not in volume.meta  # every slice read


def test_copies_of_one_file_do_not_double_the_series(tmp_path):
    """An exact copy (same SOP Instance UID, same pixels) is left out with a note."""
    files = _series(tmp_path / "a", slices=3)
    shutil.copy(files[0], tmp_path / "a" / "copy.dcm")
    [volume] = load_series(sorted((tmp_path / "a").iterdir()))
    assert volume.shape[0] == 3 and not volume.meta.get("partial")
    assert any("copy.dcm duplicates IM00001.dcm" in w for w in volume.meta["warnings"])


def test_a_dead_worker_pool_falls_back_to_reading_here(tmp_path, monkeypatch):
    """If a worker process dies (a crashing decoder, the OOM killer), loading goes on."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from meditwin_desktop.core.imaging.dicom import assemble, workers

    class DeadPool:
        def submit(self, *args, **kwargs):
            future: Future = Future()
            future.set_exception(BrokenProcessPool("worker died"))
            return future

    shut = []
    monkeypatch.setattr(workers, "pool", lambda: DeadPool())
    monkeypatch.setattr(workers, "shutdown", lambda: shut.append(True))
    monkeypatch.setattr(workers, "running", lambda: True)  # headers go to running workers
    monkeypatch.setattr(assemble, "_FILES_FOR_WORKERS", 64)
    files = _series(tmp_path, slices=70)  # enough files to use the workers
    [volume] = load_series(files)
    assert volume.shape == (70, 16, 16) and shut == [True]
