"""Decoder worker processes heal (issue 16, point 5): a crash costs a restart, not a slice.

A decoder that kills its process breaks the whole pool. The chunks that were in flight
go to a fresh pool; an image that crashes its worker again is reported failed, by name,
and only that slice is blank. The crash is real: each spawned worker runs
`_crashing_worker` (installed as the pool's initializer), which makes `decode_chunk`
call `os._exit` when handed the chosen file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import RLELossless

from meditwin_desktop.core.imaging.dicom import load_series, schedule, workers
from meditwin_desktop.core.imaging.dicom.write import SeriesHeader, write_ct_series
from meditwin_desktop.core.imaging.geometry import affine_from
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.parent_watch import exit_with_parent

CRASH_ON = "MEDITWIN_TEST_CRASH_ON"  # the file whose decoding kills the worker
CRASH_ONCE = "MEDITWIN_TEST_CRASH_ONCE"  # if set, a marker path: only the first crash happens
SLICES = 24
VICTIM = "IM00003.dcm"  # far from the middle slices, which are decoded first


def _crashing_worker() -> None:
    """Pool initializer in each spawned worker: `decode_chunk` dies on the chosen file."""
    from meditwin_desktop.core.imaging.dicom import pixels

    exit_with_parent()
    original = pixels.decode_chunk

    def decode_chunk(frames):
        if any(f.path.name == os.environ[CRASH_ON] for f in frames):
            marker = os.environ.get(CRASH_ONCE)
            try:
                if marker:
                    os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                os._exit(3)  # as a segfaulting decoder would: no clean-up, no exception
            except FileExistsError:
                pass  # crashed once already
        return original(frames)

    pixels.decode_chunk = decode_chunk  # what the pickled reference resolves to here


@pytest.fixture
def crashing_pool(monkeypatch):
    """The shared pool, with `_crashing_worker` run in each worker it (re)starts."""
    workers.shutdown()
    monkeypatch.setenv("MEDITWIN_DICOM_WORKERS", "2")
    monkeypatch.setattr(workers, "exit_with_parent", _crashing_worker)
    # the loading thread helps only until the workers answer: here it must not take the
    # victim's chunk, or the crash under test would not happen
    monkeypatch.setattr(schedule.RemoteDecoder, "help", lambda self, work: None)
    yield
    workers.shutdown()


def _rle_series(folder: Path) -> tuple[list[Path], np.ndarray]:
    rng = np.random.default_rng(16)
    array = rng.integers(-1000, 2000, size=(SLICES, 24, 20)).astype(np.int16)
    volume = Volume(array, affine_from([0.0, 0.0, 0.0], np.eye(3), (0.8, 0.8, 2.0)))
    files = write_ct_series(volume, folder, SeriesHeader("HEAL^TEST", "H1", uid_seed="heal"))
    for path in files:  # RLE: decoded by pydicom in the worker processes
        ds = pydicom.dcmread(path)
        ds.compress(RLELossless)
        ds.save_as(path)
    return files, array


def test_a_crashed_decoder_worker_is_replaced_and_no_slice_is_blank(
    tmp_path, monkeypatch, crashing_pool
):
    files, reference = _rle_series(tmp_path / "series")
    marker = tmp_path / "crashed"
    monkeypatch.setenv(CRASH_ON, VICTIM)
    monkeypatch.setenv(CRASH_ONCE, str(marker))
    [volume] = load_series(files)
    assert marker.exists(), "the worker was not killed: the test did not test anything"
    assert np.array_equal(volume.array, reference)
    assert not volume.meta.get("partial")
    assert volume.meta["warnings"] == []


def test_an_image_that_always_crashes_its_worker_is_named_and_only_it_is_blank(
    tmp_path, monkeypatch, crashing_pool
):
    files, reference = _rle_series(tmp_path / "series")
    monkeypatch.setenv(CRASH_ON, VICTIM)
    [volume] = load_series(files)
    k = SLICES - 3  # files are written from the last slice to the first
    assert (volume.array[k] == -1024).all()  # blank (air), and said so below
    others = np.arange(SLICES) != k
    assert np.array_equal(volume.array[others], reference[others])
    assert volume.meta["partial"] is True
    [warning] = [w for w in volume.meta["warnings"] if "Partial series" in w]
    assert "1 of 24 images" in warning
    assert f"{VICTIM}: the image decoder crashed its process on this image 2 times" in warning
