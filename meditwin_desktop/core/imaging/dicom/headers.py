"""Read DICOM headers without pixel data, tolerating files that lack the DICOM preamble.

Files written without the 128-byte preamble and 'DICM' prefix (old exports, some test
corpora) are read with pydicom's `force=True`, and accepted only when they carry SOP and
Series Instance UIDs, so that forced reading never mistakes a JPEG or a text file for DICOM.
A missing Transfer Syntax UID is filled in from the encoding pydicom detected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

_PIXEL_DATA_TAGS = (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10")  # (7FE0,0010) LE and BE


@dataclass(frozen=True)
class FileLayout:
    """Whether a file has Pixel Data, where its element starts, how it had to be read."""

    has_pixels: bool
    pixel_offset: int | None  # file offset of the (7FE0,0010) tag; None if not addressable
    forced: bool = False  # read with force=True (no DICOM preamble)


def read_header(path: Path, tags: Sequence[int] | None = None) -> tuple[Any, FileLayout]:
    """Header of one file (no pixel data) and where its pixel data is.

    `tags` (numbers, e.g. `pydicom.tag.Tag` values): read only these elements; most files
    then go through the fast walker of `quick.py`, which returns a `RawHeader` (read
    like a Dataset: `get`, `in`); the others give a pydicom Dataset. Raises
    InvalidDicomError for files that are not DICOM instances.
    """
    if tags is not None:  # imported here: quick.py imports FileLayout from this module
        from meditwin_desktop.core.imaging.dicom.quick import quick_header

        found = quick_header(path, tags)
        if found is not None:
            return found
    with open(path, "rb") as handle:
        forced = False
        try:
            ds = pydicom.dcmread(handle, stop_before_pixels=True, specific_tags=tags)
        except InvalidDicomError:
            handle.seek(0)
            ds = pydicom.dcmread(handle, stop_before_pixels=True, specific_tags=tags, force=True)
            if "SOPInstanceUID" not in ds or "SeriesInstanceUID" not in ds:
                raise InvalidDicomError(f"{path.name} is not a DICOM instance") from None
            forced = True
        offset = handle.tell()
        at_pixels = handle.read(4) in _PIXEL_DATA_TAGS
    syntax = _ensure_transfer_syntax(ds)
    if syntax == DeflatedExplicitVRLittleEndian:  # positions are inside the compressed stream
        full = pydicom.dcmread(path, defer_size=256, force=forced)
        return ds, FileLayout("PixelData" in full, None, forced)
    return ds, FileLayout(at_pixels, offset if at_pixels else None, forced)


def _ensure_transfer_syntax(ds: Dataset) -> str:
    if ds.file_meta is None:
        ds.file_meta = FileMetaDataset()
    syntax = ds.file_meta.get("TransferSyntaxUID")
    if not syntax:
        implicit, little = ds.original_encoding
        syntax = (
            ImplicitVRLittleEndian
            if implicit
            else ExplicitVRLittleEndian
            if little
            else ExplicitVRBigEndian
        )
        ds.file_meta.TransferSyntaxUID = syntax
    return str(syntax)
