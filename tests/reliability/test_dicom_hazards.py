"""DICOM import never hangs and never hides what it left out (issue 14, point 7).

FIFOs, links to devices and huge non-DICOM files are skipped with a reason instead of being
read forever; unreadable folders are listed; exact duplicate files are dropped with a
note; a series mixing classic and enhanced (multi-frame) images loads; cancellation is
checked per file. Anything that could hang on a regression runs under a guard (a
subprocess with a timeout, or a thread whose blocked FIFO is released), so a regression
fails instead of hanging the suite.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import EnhancedCTImageStorage, ExplicitVRLittleEndian, generate_uid

from meditwin_desktop.cli import main
from meditwin_desktop.core.errors import Cancelled, DicomError
from meditwin_desktop.core.imaging.dicom import load_series, scan
from meditwin_desktop.core.imaging.dicom.write import SeriesHeader, write_ct_series
from meditwin_desktop.core.imaging.geometry import affine_from
from meditwin_desktop.core.imaging.volume import Volume

headers = importlib.import_module("meditwin_desktop.core.imaging.dicom.headers")
quick = importlib.import_module("meditwin_desktop.core.imaging.dicom.quick")
scan_module = importlib.import_module("meditwin_desktop.core.imaging.dicom.scan")
assemble = importlib.import_module("meditwin_desktop.core.imaging.dicom.assemble")
workers = importlib.import_module("meditwin_desktop.core.imaging.dicom.workers")

GUARD_S = 60  # hang guard only (no timing assertion): the fixed code takes well under 1 s
ROOT = Path(__file__).resolve().parents[2]
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


def _series(folder: Path, slices: int = 6, seed: int = 1) -> list[Path]:
    """A small classic CT series, one file per slice."""
    array = np.random.default_rng(seed).integers(-1000, 1000, (slices, 8, 8)).astype(np.int16)
    volume = Volume(array, affine_from([0.0, 0.0, 0.0], np.eye(3), [1.0, 1.0, 2.0]))
    header = SeriesHeader("HAZARD^TEST", "H1", uid_seed=f"{folder}-{seed}")
    return write_ct_series(volume, folder, header)


def _enhanced(path: Path, like: Path, frames: int = 3) -> np.ndarray:
    """An enhanced CT (multi-frame) file in the series of `like`; returns its stored pixels."""
    classic = pydicom.dcmread(like)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = EnhancedCTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = EnhancedCTImageStorage
    for keyword in ("PatientName", "PatientID", "StudyInstanceUID", "SeriesInstanceUID"):
        setattr(ds, keyword, getattr(classic, keyword))
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", 1, 1
    ds.Rows, ds.Columns, ds.NumberOfFrames = 4, 5, frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    shared = Dataset()
    shared.PlaneOrientationSequence = Sequence([Dataset()])
    shared.PlaneOrientationSequence[0].ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared.PixelMeasuresSequence = Sequence([Dataset()])
    shared.PixelMeasuresSequence[0].PixelSpacing = [0.5, 0.5]
    shared.PixelMeasuresSequence[0].SliceThickness = 3
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for n in range(frames):
        item = Dataset()
        item.PlanePositionSequence = Sequence([Dataset()])
        item.PlanePositionSequence[0].ImagePositionPatient = [0, 0, 3.0 * n]
        item.FrameContentSequence = Sequence([Dataset()])
        item.FrameContentSequence[0].StackID = "1"
        item.FrameContentSequence[0].InStackPositionNumber = n + 1
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    pixels = np.arange(frames * 20, dtype=np.int16).reshape(frames, 4, 5) * 7 - 50
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return pixels


def _guarded(call: Callable[[], object], release: Callable[[], None] = lambda: None) -> object:
    """`call()` in a thread; if it has not returned after GUARD_S, `release()` it and fail."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(GUARD_S)
    if thread.is_alive():
        release()
        thread.join(5)
        pytest.fail(f"did not return within {GUARD_S} s (it would hang)")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]


def _release_fifo(fifo: Path) -> Callable[[], None]:
    """Unblock a reader stuck opening `fifo`: open the write end once and close it."""

    def release() -> None:
        with contextlib.suppress(OSError):  # no reader waiting: nothing to release
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    return release


def _cli(*args: str) -> subprocess.CompletedProcess:
    """`meditwin ARGS` in a subprocess (killed after GUARD_S: a hang fails, not blocks)."""
    env = {**os.environ, "MEDITWIN_DICOM_WORKERS": "0", "PYTHONPATH": str(ROOT)}
    try:
        return subprocess.run(
            [sys.executable, "-m", "meditwin_desktop", *args],
            capture_output=True,
            text=True,
            timeout=GUARD_S,
            env=env,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"meditwin {' '.join(args[:2])} did not finish within {GUARD_S} s")


# --- files that are not regular files, or too large to probe -------------------------------


@needs_fifo
def test_cli_skips_fifos_devices_huge_files_and_folder_links(tmp_path):
    folder = tmp_path / "export"
    files = _series(folder)
    os.mkfifo(folder / "pipe")
    if Path("/dev/zero").exists():
        (folder / "zeros").symlink_to("/dev/zero")
    with open(folder / "huge.bin", "wb") as handle:  # 1 GB of zeros, sparse: no disk used
        handle.truncate(1 << 30)
    (folder / "IM_link.dcm").symlink_to(files[0])  # a link to a regular file is followed
    (folder / "outside").symlink_to(tmp_path, target_is_directory=True)

    scanned = _cli("dicom", "scan", str(folder), "--json")
    assert scanned.returncode == 0 and "Traceback" not in scanned.stderr, scanned.stderr
    tree = json.loads(scanned.stdout)
    reasons = {Path(s["path"]).name: s["reason"] for s in tree["skipped"]}
    assert reasons["pipe"] == "not a regular file (FIFO)"
    if (folder / "zeros").is_symlink():
        assert reasons["zeros"] == "not a regular file (character device)"
    assert reasons["huge.bin"].startswith("not a DICOM file (no DICOM preamble")
    assert "too large to probe" in reasons["huge.bin"]
    assert reasons["outside"].startswith("link to a folder: not followed")
    assert reasons["IM_link.dcm"] == "duplicate of IM00001.dcm"
    [series] = tree["patients"][0]["studies"][0]["series"]
    assert series["images"] == len(files)

    loaded = _cli("dicom", "load", str(folder), "--json")
    assert loaded.returncode == 0 and "Traceback" not in loaded.stderr, loaded.stderr
    [volume] = json.loads(loaded.stdout)["volumes"]
    assert volume["shape"] == [len(files), 8, 8]


@needs_fifo
def test_a_fifo_is_never_opened(tmp_path):
    _series(tmp_path)
    fifo = tmp_path / "pipe.dcm"
    os.mkfifo(fifo)
    result = _guarded(lambda: scan([tmp_path]), _release_fifo(fifo))
    assert (fifo, "not a regular file (FIFO)") in result.skipped  # type: ignore[union-attr]
    assert len(result.all_series()) == 1  # type: ignore[union-attr]
    with pytest.raises(DicomError, match=r"pipe\.dcm: not a regular file \(FIFO\)"):
        _guarded(lambda: load_series([fifo]), _release_fifo(fifo))
    given = _guarded(lambda: scan([fifo]), _release_fifo(fifo))
    assert given.skipped == [(fifo, "not a regular file (FIFO)")]  # type: ignore[union-attr]


def test_large_file_without_preamble_is_not_force_read(tmp_path):
    huge = tmp_path / "zeros.raw"
    with open(huge, "wb") as handle:
        handle.truncate(headers.FORCE_READ_MAX_BYTES + 1)
    [(_, summary, reason)] = scan_module.summarize([huge])
    assert summary is None and "too large to probe" in reason


def test_small_file_without_preamble_is_still_probed(tmp_path):
    """Below the cap, a preamble-less file is force-read as before (here: it is not DICOM)."""
    small = tmp_path / "zeros.raw"
    small.write_bytes(bytes(4096))
    [(_, _, reason)] = scan_module.summarize([small])
    assert reason == "not a DICOM file"


def test_a_header_read_stops_at_the_deadline(tmp_path, monkeypatch):
    """A file with the DICM preamble and then megabytes of zeros: pydicom would walk it as
    millions of empty elements; the read stops at the deadline with the reason."""
    monkeypatch.setattr(headers, "READ_DEADLINE_S", 0.2, raising=False)
    slow = tmp_path / "slow.dcm"
    with open(slow, "wb") as handle:
        handle.write(bytes(128) + b"DICM")
        handle.truncate(16 << 20)
    [(_, summary, reason)] = _guarded(lambda: scan_module.summarize([slow]))  # type: ignore[misc]
    assert summary is None and reason.startswith("reading stopped after 0.2 s")


def test_the_fast_walker_gives_up_on_endless_tiny_elements(tmp_path, monkeypatch):
    """A valid meta header followed by zeros (implicit VR: 8-byte empty elements)."""
    monkeypatch.setattr(headers, "READ_DEADLINE_S", 0.2, raising=False)
    [first] = _series(tmp_path / "s", slices=1)
    ds = pydicom.dcmread(first, stop_before_pixels=True)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    junk = tmp_path / "junk.dcm"
    ds.save_as(junk, implicit_vr=True, little_endian=True)
    with open(junk, "r+b") as handle:
        handle.truncate(junk.stat().st_size + (8 << 20))
    assert _guarded(lambda: quick.quick_header(junk, [0x0020000E])) is None
    with pytest.raises(DicomError, match="reading stopped after"):
        _guarded(lambda: headers.read_header(junk, [0x0020000E]))


# --- folders and files that cannot be read --------------------------------------------------


def test_unreadable_subfolder_is_listed_with_the_reason(tmp_path, monkeypatch):
    _series(tmp_path / "ok")
    _series(tmp_path / "locked", seed=2)
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = scan([tmp_path])
    assert (tmp_path / "locked", "folder cannot be read: Permission denied") in result.skipped
    assert len(result.all_series()) == 1


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads all")
def test_unreadable_subfolder_for_real(tmp_path):
    _series(tmp_path / "ok")
    locked = tmp_path / "locked"
    _series(locked, seed=2)
    locked.chmod(0)
    try:
        result = scan([tmp_path])
    finally:
        locked.chmod(0o755)
    assert (locked, "folder cannot be read: Permission denied") in result.skipped


def test_unreadable_file_is_listed_with_the_reason(tmp_path, monkeypatch):
    files = _series(tmp_path)
    real_open = os.open

    def deny(path, flags, *args, **kwargs):
        if Path(path) == files[2]:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    result = scan([tmp_path])
    assert (files[2], "cannot be read: Permission denied") in result.skipped
    assert result.all_series()[0].image_count == len(files) - 1


# --- duplicates ---------------------------------------------------------------------------


def test_exact_duplicate_is_dropped_with_a_note(tmp_path):
    files = _series(tmp_path)
    copy = tmp_path / "copy of IM00003.dcm"
    shutil.copy(files[2], copy)
    result = scan([tmp_path])
    assert (copy, "duplicate of IM00003.dcm") in result.skipped
    [series] = result.all_series()
    assert series.image_count == len(files) and copy not in series.files
    [volume] = load_series([*files, copy])  # loading the files directly: dropped with a note
    assert volume.shape[0] == len(files) and not volume.meta.get("partial")
    assert any("duplicates IM00003.dcm" in w for w in volume.meta["warnings"])


def test_same_instance_with_a_different_header_but_same_pixels_is_a_duplicate(tmp_path):
    files = _series(tmp_path)
    ds = pydicom.dcmread(files[1])
    ds.InstitutionName = "Re-exported"
    ds.save_as(tmp_path / "reexport.dcm")
    result = scan([tmp_path])
    assert (tmp_path / "reexport.dcm", "duplicate of IM00002.dcm") in result.skipped


def test_same_instance_with_different_pixels_is_refused_clearly(tmp_path):
    files = _series(tmp_path)
    ds = pydicom.dcmread(files[1])
    ds.PixelData = (ds.pixel_array + 1).astype(np.uint16).tobytes()
    ds.save_as(tmp_path / "tampered.dcm")
    [series] = scan([tmp_path]).all_series()
    assert tmp_path / "tampered.dcm" in series.files  # not hidden: loading decides
    with pytest.raises(DicomError, match="same SOP Instance UID but different pixel data"):
        load_series(series.files)


# --- classic and enhanced images in one series -------------------------------------------


def test_classic_and_enhanced_images_of_one_series_load_as_two_volumes(tmp_path):
    """Canon exports (dcm2niix's dcm_qa_canon_61): the KeyError 'echo' of issue 14."""
    files = _series(tmp_path)
    pixels = _enhanced(tmp_path / "enhanced.dcm", like=files[0])
    [series] = scan([tmp_path]).all_series()
    assert series.image_count == len(files) + 3
    volumes = load_series(series.files)
    labels = sorted(v.meta["label"] for v in volumes)
    assert labels == ["multi-frame", "single-frame"]
    enhanced = next(v for v in volumes if v.meta["label"] == "multi-frame")
    assert np.array_equal(enhanced.array, pixels)
    assert np.allclose(enhanced.spacing, [0.5, 0.5, 3.0])


def test_cli_loads_a_mixed_series(tmp_path, capsys):
    files = _series(tmp_path / "in")
    _enhanced(tmp_path / "in" / "enhanced.dcm", like=files[0])
    (tmp_path / "out").mkdir()
    assert main(["dicom", "load", str(tmp_path / "in"), "--nifti", str(tmp_path / "out")]) == 0
    assert "multi-frame" in capsys.readouterr().out
    assert len(list((tmp_path / "out").glob("*.nii.gz"))) == 2


# --- cancellation ---------------------------------------------------------------------------


def _counting(module, monkeypatch) -> list[Path]:
    """Record each header read through `module.read_header`."""
    calls: list[Path] = []
    real = module.read_header

    def read_header(path, tags=None):
        calls.append(path)
        return real(path, tags)

    monkeypatch.setattr(module, "read_header", read_header)
    return calls


def test_scan_cancels_between_files(tmp_path, monkeypatch):
    files = _series(tmp_path, slices=60)
    calls = _counting(scan_module, monkeypatch)
    with pytest.raises(Cancelled):
        scan([tmp_path], cancelled=lambda: len(calls) >= 3)
    assert len(calls) == 3 < len(files)


def test_scan_cancels_while_workers_are_busy(tmp_path, monkeypatch):
    """Headers read by worker processes that do not answer: cancelling still returns."""
    pending: list[Future] = []

    class StuckPool:
        def submit(self, *args, **kwargs) -> Future:
            pending.append(Future())
            return pending[-1]

    monkeypatch.setattr(workers, "pool", lambda: StuckPool())
    monkeypatch.setattr(scan_module, "_FILES_FOR_WORKERS", 10)
    _series(tmp_path, slices=12)
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()

    def release() -> None:
        for future in pending:
            if not future.done():
                future.set_result([])

    with pytest.raises(Cancelled):
        _guarded(lambda: scan([tmp_path], cancelled=stop.is_set), release)


def test_load_cancels_between_files(tmp_path, monkeypatch):
    files = _series(tmp_path, slices=40)  # below the worker threshold: read here
    calls = _counting(assemble, monkeypatch)
    with pytest.raises(Cancelled):
        load_series(files, cancelled=lambda: len(calls) >= 3)
    assert len(calls) == 3


# --- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "file", "unwritable"])
def test_bad_nifti_folder_is_a_one_line_usage_error(tmp_path, monkeypatch, capsys, kind):
    _series(tmp_path / "in", slices=2)
    target = tmp_path / "out"
    if kind == "file":
        target.write_text("not a folder")
    elif kind == "unwritable":
        target.mkdir()
        cli_dicom = importlib.import_module("meditwin_desktop.cli_dicom")
        monkeypatch.setattr(cli_dicom.os, "access", lambda path, mode: False)
    code = main(["dicom", "load", str(tmp_path / "in"), "--nifti", str(target)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("meditwin: error: ") and err.count("\n") == 1, err
