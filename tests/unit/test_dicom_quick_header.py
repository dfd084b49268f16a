"""The fast header walker (`quick.py`) must give exactly what pydicom's reader gives.

For every file of ../shared/data/dicom and the demo CT, the frames built from the fast
reader's `RawHeader` equal, field by field, those built from pydicom's Dataset (or the
walker declines and pydicom reads the file). Synthetic files cover what the corpus may
lack: implicit VR, nested undefined-length sequences, an implicit-VR (UN) sequence, and
files the walker must hand to pydicom (truncated, big endian, enhanced, no preamble).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)

from meditwin_desktop.core.errors import DicomError
from meditwin_desktop.core.imaging.dicom import load_series
from meditwin_desktop.core.imaging.dicom.frames import HEADER_TAG_NUMBERS, frames_of
from meditwin_desktop.core.imaging.dicom.headers import read_header
from meditwin_desktop.core.imaging.dicom.quick import RawHeader, quick_header


def _frames_by_pydicom(path: Path):
    ds, layout = read_header(path, None)  # no tags: pydicom reads the whole header
    return frames_of(ds, path, layout, {})


def _same(a, b) -> None:
    assert a.keys() == b.keys()
    for key, left in a.items():
        right = b[key]
        if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
            assert (left is None) == (right is None), key
            if left is not None:
                assert np.array_equal(left, right), key
        else:
            assert left == right, key


def _compare(path: Path) -> bool:
    """Frames agree; returns whether the fast walker read the file itself."""
    quick = quick_header(path, HEADER_TAG_NUMBERS)
    try:
        expected = _frames_by_pydicom(path)
    except (DicomError, pydicom.errors.InvalidDicomError, Exception) as error:
        if quick is not None:  # pydicom fails: the quick path must fail too (or decline)
            with pytest.raises(type(error) if isinstance(error, DicomError) else Exception):
                frames_of(quick[0], path, quick[1], {})
        return quick is not None
    if quick is None:
        return False
    got = frames_of(quick[0], path, quick[1], {})
    assert len(got) == len(expected)
    for left, right in zip(got, expected, strict=True):
        _same(vars(left), vars(right))
    return True


def test_every_shared_file_reads_the_same_as_with_pydicom(shared_data):
    files = [p for p in sorted((shared_data / "dicom").rglob("*")) if p.is_file()]
    read = [p for p in files if _compare(p)]
    assert len(files) > 200
    assert len(read) > len(files) // 2  # most real files take the fast path


def test_demo_ct_reads_the_same_and_takes_the_fast_path(demo_patient):
    files = sorted(demo_patient.dicom_dir.glob("*.dcm"))[:20]
    assert all(_compare(p) for p in files)


def _write(path: Path, syntax: str, extra=None, preamble: bool = True) -> Path:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = "1.2.3.4"
    ds.Modality = "CT"
    ds.PatientName = "Test^Walker"
    ds.ImagePositionPatient = [-10.5, 20.25, 30.125]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.5, 0.75]
    ds.Rows, ds.Columns = 4, 3
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation, ds.SamplesPerPixel = 0, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    if extra:
        extra(ds)
    ds.PixelData = np.arange(12, dtype=np.uint16).tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(path, enforce_file_format=preamble, little_endian=syntax != ExplicitVRBigEndian,
               implicit_vr=syntax == ImplicitVRLittleEndian)  # fmt: skip
    return path


def _nested_sequences(ds: Dataset) -> None:
    inner = Dataset()
    inner.CodeValue, inner.CodingSchemeDesignator = "123", "DCM"
    item = Dataset()
    item.ReferencedSOPInstanceUID = generate_uid()
    item.ConceptNameCodeSequence = Sequence([inner])
    item["ConceptNameCodeSequence"].is_undefined_length = True
    item.is_undefined_length_sequence_item = True
    ds.ReferencedImageSequence = Sequence([item, item])
    ds["ReferencedImageSequence"].is_undefined_length = True


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
def test_walker_steps_over_nested_undefined_length_sequences(tmp_path, syntax):
    path = _write(tmp_path / "a.dcm", syntax, _nested_sequences)
    raw = path.read_bytes()
    assert b"\xff\xff\xff\xff" in raw  # pydicom writes sequences with undefined length
    found = quick_header(path, HEADER_TAG_NUMBERS)
    assert found is not None and isinstance(found[0], RawHeader)
    assert _compare(path)
    [volume] = load_series([path])
    assert volume.array[0, 1, 2] == 5 - 1024


def test_walker_declines_what_pydicom_must_read(tmp_path):
    big = _write(tmp_path / "big.dcm", ExplicitVRBigEndian)
    assert quick_header(big, HEADER_TAG_NUMBERS) is None
    bare = _write(tmp_path / "bare.dcm", ExplicitVRLittleEndian, preamble=False)
    assert quick_header(bare, HEADER_TAG_NUMBERS) is None
    enhanced = _write(
        tmp_path / "enh.dcm",
        ExplicitVRLittleEndian,
        lambda ds: setattr(ds, "SharedFunctionalGroupsSequence", Sequence([Dataset()])),
    )
    assert quick_header(enhanced, HEADER_TAG_NUMBERS) is None
    whole = _write(tmp_path / "whole.dcm", ExplicitVRLittleEndian).read_bytes()
    for cut in (100, 140, 300, len(whole) // 2):
        truncated = tmp_path / f"cut{cut}.dcm"
        truncated.write_bytes(whole[:cut])
        found = quick_header(truncated, HEADER_TAG_NUMBERS)
        assert found is None or not found[1].has_pixels
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    assert quick_header(empty, HEADER_TAG_NUMBERS) is None


def test_non_ascii_names_decode_with_the_files_character_set(tmp_path):
    def latin(ds: Dataset) -> None:
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.PatientName = "Müller^Jürgen"

    path = _write(tmp_path / "latin.dcm", ExplicitVRLittleEndian, latin)
    header, _ = quick_header(path, HEADER_TAG_NUMBERS)
    assert str(header.get("PatientName")) == "Müller^Jürgen"
