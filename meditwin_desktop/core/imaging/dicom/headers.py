"""Read DICOM headers without pixel data, safely, tolerating files without the DICOM preamble.

Only regular files are opened (a symbolic link is followed only to a regular file): a FIFO
would block forever and `/dev/zero` never ends. Files written without the 128-byte
preamble and 'DICM' prefix (old exports, some test corpora) are read with pydicom's
`force=True`, and accepted only when they carry SOP and Series Instance UIDs, so that
forced reading never mistakes a JPEG or a text file for DICOM. Forced reading walks
unknown bytes as elements (about 0.2 s per MB of zeros), so it is tried only on files up
to `FORCE_READ_MAX_BYTES`; and no header read may take longer than `READ_DEADLINE_S`.
A missing Transfer Syntax UID is filled in from the encoding pydicom detected.
"""

from __future__ import annotations

import io
import os
import stat
import time
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

from meditwin_desktop.core.errors import DicomError
from meditwin_desktop.core.i18n import N_, number, tr

# Non-Part-10 DICOM is rare today and small: old single images, at most an uncompressed
# 2048 x 2048 x 16-bit film (8 MiB) plus its header. Larger files without the preamble are
# not probed: forcing through 10 MiB of garbage costs about 2 s, through 1 GB minutes.
FORCE_READ_MAX_BYTES = 10 << 20
# The slowest real header (an enhanced multi-frame file with thousands of per-frame
# functional groups, on a slow disk) reads in a few seconds; garbage that pydicom walks
# element by element can take minutes. Past this, the file is skipped with the reason.
READ_DEADLINE_S = 20.0
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_PIXEL_DATA_TAGS = (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10")  # (7FE0,0010) LE and BE
_KINDS = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISSOCK, N_("socket")),
    (stat.S_ISCHR, N_("character device")),
    (stat.S_ISBLK, N_("block device")),
    (stat.S_ISDIR, N_("folder")),
)


class SkippedFileError(DicomError):
    """A file that was not read (or not to the end): `reason` says why, for the skipped list."""

    def __init__(self, reason: str, name: str) -> None:
        super().__init__(reason, name)  # both in args: the error survives pickling
        self.reason = reason
        self.name = name

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}."


class _DeadlineError(Exception):
    """Reading a header took longer than READ_DEADLINE_S."""


@dataclass(frozen=True)
class FileLayout:
    """Whether a file has Pixel Data, where its element starts, how it had to be read."""

    has_pixels: bool
    pixel_offset: int | None  # file offset of the (7FE0,0010) tag; None if not addressable
    forced: bool = False  # read with force=True (no DICOM preamble)


def os_reason(error: OSError) -> str:
    """The reason an OS error gives, without the path: 'cannot be read: Permission denied'."""
    return tr("cannot be read: {reason}").format(reason=error.strerror or type(error).__name__)


def _not_regular(mode: int) -> str:
    kind = next((name for test, name in _KINDS if test(mode)), N_("special file"))
    return tr("not a regular file ({kind})").format(kind=tr(kind))


def open_regular(path: Path | str) -> io.FileIO:
    """`path` opened for reading (unbuffered) if it is, or links to, a regular file.

    Raises SkippedFileError otherwise (a FIFO, a device, a socket, a missing or unreadable
    file). The type is checked before opening (opening a device can have effects) and
    again on the open file (the path may have been replaced in between); the open itself
    does not block on a FIFO.
    """
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise SkippedFileError(_not_regular(mode), Path(path).name)
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        raise SkippedFileError(os_reason(error), Path(path).name) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise SkippedFileError(_not_regular(mode), Path(path).name)
        return io.FileIO(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def prefetch(paths: Sequence[Path | str]) -> None:
    """Ask the OS to read these regular files into its cache, without waiting (Linux).

    Run from a background thread before reading the headers: the disk then reads ahead
    while the headers are parsed, instead of file by file at each first touch.
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    for path in paths:
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                continue
            fd = os.open(path, _OPEN_FLAGS)
        except OSError:
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                advise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


class _DeadlineReader(io.RawIOBase):
    """A file that refuses to read past a deadline (checked at each buffer refill)."""

    def __init__(self, raw: io.FileIO, name: str, seconds: float) -> None:
        super().__init__()
        self._raw = raw
        self._end = time.monotonic() + seconds
        self.expired = False
        self.name = name  # pydicom keeps it as the dataset's filename
        # the file's own C methods: pydicom seeks and asks the position hundreds of times
        self.seek, self.tell, self.seekable = raw.seek, raw.tell, raw.seekable  # type: ignore

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.expired or time.monotonic() > self._end:
            self.expired = True  # pydicom wraps some errors: remember why reading stopped
            raise _DeadlineError
        return self._raw.readinto(buffer)


def deadline_reader(raw: io.FileIO, path: Path) -> io.BufferedReader:
    """`raw` (the file at `path`) from its start, buffered; reading raises past the deadline."""
    raw.seek(0)
    return io.BufferedReader(_DeadlineReader(raw, str(path), READ_DEADLINE_S))


def too_slow(name: str) -> SkippedFileError:
    """The error for a file whose reading passed the deadline."""
    return SkippedFileError(
        tr("reading stopped after {seconds} s (not a usable DICOM header)").format(
            seconds=f"{READ_DEADLINE_S:g}"
        ),
        name,
    )


def read_header(path: Path | str, tags: Sequence[int] | None = None) -> tuple[Any, FileLayout]:
    """Header of one file (no pixel data) and where its pixel data is.

    `tags` (numbers, e.g. `pydicom.tag.Tag` values): read only these elements; most files
    then go through the fast walker of `quick.py`, which returns a `RawHeader` (read
    like a Dataset: `get`, `in`); the others give a pydicom Dataset. Raises
    InvalidDicomError for files that are not DICOM instances, SkippedFileError for files
    not read (not regular, too large to probe, too slow).
    """
    with open_regular(path) as raw:
        if tags is not None:  # imported here: quick.py imports FileLayout from this module
            from meditwin_desktop.core.imaging.dicom.quick import quick_header_of

            found = quick_header_of(raw, tags)
            if found is not None:
                return found
        path = Path(path)  # not before: the fast path above does without it
        handle = deadline_reader(raw, path)
        try:
            return _read_with_pydicom(handle, path, os.fstat(raw.fileno()).st_size, tags)
        except Exception:
            if handle.raw.expired:  # type: ignore[attr-defined]
                raise too_slow(path.name) from None
            raise


def _read_with_pydicom(
    handle: io.BufferedReader, path: Path, size: int, tags: Sequence[int] | None
) -> tuple[Any, FileLayout]:
    forced = False
    try:
        ds = pydicom.dcmread(handle, stop_before_pixels=True, specific_tags=tags)
    except InvalidDicomError:
        if size > FORCE_READ_MAX_BYTES:
            raise SkippedFileError(
                tr(
                    "not a DICOM file (no DICOM preamble, and at {size} MB too large to probe; "
                    "the limit is {limit} MB)"
                ).format(size=number(size / 2**20, 0), limit=FORCE_READ_MAX_BYTES >> 20),
                path.name,
            ) from None
        handle.seek(0)
        ds = pydicom.dcmread(handle, stop_before_pixels=True, specific_tags=tags, force=True)
        if "SOPInstanceUID" not in ds or "SeriesInstanceUID" not in ds:
            raise InvalidDicomError(f"{path.name} is not a DICOM instance") from None
        forced = True
    offset = handle.tell()
    at_pixels = handle.read(4) in _PIXEL_DATA_TAGS
    syntax = _ensure_transfer_syntax(ds)
    if syntax == DeflatedExplicitVRLittleEndian:  # positions are inside the compressed stream
        handle.seek(0)
        full = pydicom.dcmread(handle, defer_size=256, force=forced)
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
