"""Read selected header elements with one memory map and a small element walker.

`pydicom.dcmread(stop_before_pixels=True, specific_tags=...)` costs about 0.7 ms per
file, most of a 240-slice load. For the common case, a Part 10 file whose dataset is
little endian (implicit or explicit VR, native or compressed pixels), this walker steps
over the elements by their lengths and keeps the wanted ones as pydicom
`RawDataElement`s. `RawHeader` serves them like a read-only `Dataset` (`get`, `in`), and
pydicom still converts every value, once per distinct raw value: across a series most
attributes are byte-for-byte equal. Anything else (no preamble, big endian, deflate,
functional-group sequences, Siemens mosaics, odd VRs, lengths that do not add up, junk
that parses as endless tiny elements) returns None and the caller reads the file with
pydicom, which also names the problem (under a deadline, `headers.READ_DEADLINE_S`).
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from pydicom.charset import convert_encodings
from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID, ImplicitVRLittleEndian

from meditwin_desktop.core.imaging.dicom.headers import FileLayout, SkippedFileError, open_regular

_PIXEL_DATA = 0x7FE00010
_OTHER_PIXEL_DATA = (0x7FE00008, 0x7FE00009)  # float / double float pixel data
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
_CHARSET, _IMAGE_TYPE, _CSA_IMAGE = 0x00080005, 0x00080008, 0x00291010
_FUNCTIONAL_GROUPS = {0x52009229, 0x52009230}  # shared / per-frame: pydicom parses them
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR",
             b"UT", b"UV"}  # fmt: skip
_SHORT_VRS = {b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO",
              b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US"}  # fmt: skip
_ANY_VR = _LONG_VRS | _SHORT_VRS
_BIG_ENDIAN_OR_DEFLATED = {"1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}
_MAX_DEPTH = 16  # nested sequences deeper than this are left to pydicom
# Bounds on walking junk that parses as endless tiny elements (a file of zeros after a valid
# meta header): real headers have hundreds of elements, sequences thousands of items.
_MAX_ELEMENTS = 1 << 16  # top-level elements before Pixel Data
_MAX_NESTED_STEPS = 1 << 21  # items and elements stepped over inside undefined-length sequences
_MEMO_LIMIT = 65536  # converted values kept per process
_TAG = struct.Struct("<HH")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_memo: dict = {}


class _DeclinedError(Exception):
    """The walker cannot (or should not) read this file; pydicom will."""


class RawHeader:
    """The wanted elements of one file, read like a pydicom `Dataset` (read-only).

    `get(keyword, default)` and `keyword in header` as on a Dataset; `file_meta` holds
    the Transfer Syntax UID. Values are pydicom's own conversions of the raw bytes.
    """

    def __init__(self, elements: dict[int, RawDataElement], syntax: str):
        self._elements = elements
        self.file_meta = {"TransferSyntaxUID": UID(syntax)}
        charset = elements.get(_CHARSET)
        self.encoding = _encodings(charset.value if charset is not None else b"")

    def get(self, keyword: str | int, default: Any = None) -> Any:
        raw = self._elements.get(_number(keyword))
        if raw is None:
            return default
        key = (raw.tag, raw.VR, raw.value, self.encoding)
        try:
            return _memo[key]
        except KeyError:
            pass
        if len(_memo) >= _MEMO_LIMIT:
            _memo.clear()
        value = _memo[key] = convert_raw_data_element(raw, encoding=list(self.encoding)).value
        return value

    def __contains__(self, keyword: str | int) -> bool:
        return _number(keyword) in self._elements


@cache
def _number(keyword: str | int) -> int:
    return int(Tag(keyword))


@cache
def _encodings(charset: bytes) -> tuple[str, ...]:
    """Python codecs for a raw Specific Character Set value (pydicom's mapping)."""
    if not charset:
        return ("iso8859",)
    names = [n.strip() for n in charset.decode("ascii", "replace").split("\\")]
    return tuple(convert_encodings(names))


@cache
def _wanted(tags: tuple[int, ...]) -> frozenset[int]:
    """Plain ints: a set of pydicom `BaseTag`s compares through Python-level `__eq__`."""
    return frozenset(tags) | {_CHARSET, _IMAGE_TYPE, _CSA_IMAGE}


def quick_header(path: Path, tags: Collection[int]) -> tuple[RawHeader, FileLayout] | None:
    """The wanted elements of `path` and its pixel layout; None when pydicom must read it
    (or when it is not a regular file: `headers.read_header` then says why)."""
    try:
        with open_regular(path) as handle:
            return quick_header_of(handle, tags)
    except SkippedFileError:
        return None


def quick_header_of(handle: BinaryIO, tags: Collection[int]) -> tuple[RawHeader, FileLayout] | None:
    """`quick_header` of an open regular file."""
    try:
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return _read(buf, _wanted(tuple(int(t) for t in tags)))
    except (_DeclinedError, OSError, ValueError, struct.error, IndexError, UnicodeDecodeError):
        return None


def _read(buf: mmap.mmap, wanted: frozenset[int]) -> tuple[RawHeader, FileLayout]:
    if len(buf) < 144 or buf[128:132] != b"DICM":
        raise _DeclinedError
    meta, pos, _ = _walk(buf, 132, False, frozenset({0x00020010}), group=0x0002)
    if 0x00020010 not in meta:
        raise _DeclinedError
    syntax = meta[0x00020010].value.rstrip(b"\x00 ").decode("ascii")
    if syntax in _BIG_ENDIAN_OR_DEFLATED:
        raise _DeclinedError
    implicit = syntax == ImplicitVRLittleEndian
    if implicit and buf[pos + 4 : pos + 6] in _ANY_VR:
        raise _DeclinedError  # explicit VR despite the transfer syntax: pydicom's heuristic decides
    elements, end, pixel_tag = _walk(buf, pos, implicit, wanted)
    image_type = elements.get(_IMAGE_TYPE)
    if _CSA_IMAGE in elements and image_type is not None and b"MOSAIC" in image_type.value:
        raise _DeclinedError  # a Siemens mosaic: nibabel unpacks it from a pydicom Dataset
    has_pixels = pixel_tag == _PIXEL_DATA
    return RawHeader(elements, syntax), FileLayout(
        has_pixels, end if has_pixels else None, forced=False
    )


def _walk(
    buf: mmap.mmap,
    pos: int,
    implicit: bool,
    wanted: frozenset[int],
    group: int | None = None,
) -> tuple[dict[int, RawDataElement], int, int | None]:
    """Wanted elements from `pos` until Pixel Data (or the end of `group`, or of the file).

    Returns the raw elements, the offset where walking stopped and the pixel tag found
    there (None at the end of the file or group).
    """
    elements: dict[int, RawDataElement] = {}
    size = len(buf)
    budget = [_MAX_NESTED_STEPS]
    unpack_tag, unpack_u16, unpack_u32 = _TAG.unpack_from, _U16.unpack_from, _U32.unpack_from
    for _ in range(_MAX_ELEMENTS):
        if pos + 8 > size:
            break
        number, element = unpack_tag(buf, pos)
        tag = number << 16 | element
        if group is not None and number != group:
            return elements, pos, None
        if tag == _PIXEL_DATA:
            return elements, pos, tag
        if number == 0xFFFE or tag in _OTHER_PIXEL_DATA:
            raise _DeclinedError
        if implicit:
            vr, length, start = None, unpack_u32(buf, pos + 4)[0], pos + 8
        else:
            vr = buf[pos + 4 : pos + 6]
            if vr in _SHORT_VRS:
                length, start = unpack_u16(buf, pos + 6)[0], pos + 8
            elif vr in _LONG_VRS:
                length, start = unpack_u32(buf, pos + 8)[0], pos + 12
            else:
                raise _DeclinedError  # not a VR: implicit VR labelled explicit, or damage
        if length == _UNDEFINED:
            if tag in wanted or vr not in (None, b"SQ", b"UN"):
                raise _DeclinedError  # a wanted sequence, or encapsulated data: pydicom
            pos = _skip_sequence(buf, start, implicit or vr == b"UN", 0, budget)
            continue
        if start + length > size:
            raise _DeclinedError  # truncated: pydicom reports it
        if tag in wanted:
            if tag in _FUNCTIONAL_GROUPS:
                raise _DeclinedError
            elements[tag] = RawDataElement(
                BaseTag(tag),
                None if vr is None else vr.decode("ascii"),
                length,
                buf[start : start + length],
                start,
                implicit,
                True,
                True,
                False,
            )
        pos = start + length
    else:
        raise _DeclinedError  # endless tiny elements (junk): pydicom reads it, with a deadline
    return elements, pos, None


def _element_header(buf: mmap.mmap, pos: int, implicit: bool) -> tuple[bytes | None, int, int]:
    """(VR or None for implicit VR, value length, header length) of the element at `pos`."""
    if implicit:
        return None, _U32.unpack_from(buf, pos + 4)[0], 8
    vr = buf[pos + 4 : pos + 6]
    if vr in _SHORT_VRS:
        return vr, _U16.unpack_from(buf, pos + 6)[0], 8
    if vr in _LONG_VRS:
        return vr, _U32.unpack_from(buf, pos + 8)[0], 12
    raise _DeclinedError


def _skip_sequence(buf: mmap.mmap, pos: int, implicit: bool, depth: int, budget: list[int]) -> int:
    """Offset just past an undefined-length sequence whose items start at `pos`.

    `budget[0]`: items and elements still allowed to be stepped over (shared, decreasing).
    """
    if depth > _MAX_DEPTH:
        raise _DeclinedError
    size = len(buf)
    while pos + 8 <= size:
        budget[0] -= 1
        if budget[0] < 0:
            raise _DeclinedError
        number, element = _TAG.unpack_from(buf, pos)
        tag = number << 16 | element
        length = _U32.unpack_from(buf, pos + 4)[0]
        pos += 8
        if tag == _SEQUENCE_END:
            return pos
        if tag != _ITEM:
            raise _DeclinedError
        pos = (
            pos + length if length != _UNDEFINED else _skip_item(buf, pos, implicit, depth, budget)
        )
    raise _DeclinedError


def _skip_item(buf: mmap.mmap, pos: int, implicit: bool, depth: int, budget: list[int]) -> int:
    """Offset just past an undefined-length item whose elements start at `pos`."""
    size = len(buf)
    while pos + 8 <= size:
        budget[0] -= 1
        if budget[0] < 0:
            raise _DeclinedError
        number, element = _TAG.unpack_from(buf, pos)
        if (number << 16 | element) == _ITEM_END:
            return pos + 8
        vr, length, header = _element_header(buf, pos, implicit)
        pos += header
        if length == _UNDEFINED:
            pos = _skip_sequence(buf, pos, implicit or vr == b"UN", depth + 1, budget)
        else:
            pos += length
    raise _DeclinedError
