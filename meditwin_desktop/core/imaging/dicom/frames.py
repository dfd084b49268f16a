"""DICOM headers -> `Frame`s: one 2D image each, with its patient geometry and pixel source.

Handles classic single-frame images, enhanced multi-frame images (per-frame and shared
functional groups), multi-frame images placed by GridFrameOffsetVector (RT dose), frames
without geometry (secondary capture, cine), and Siemens mosaics (one file, many slices;
tiles and geometry from nibabel's CSA-aware `MosaicWrapper`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filereader import data_element_offset_to_value
from pydicom.tag import BaseTag, Tag
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from meditwin_desktop.core.errors import DicomError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.dicom.headers import FileLayout
from meditwin_desktop.core.imaging.dicom.quick import RawHeader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # nibabel warns that its DICOM readers are experimental
    from nibabel.nicom import csareader

_NATIVE_LITTLE_ENDIAN = {ImplicitVRLittleEndian, ExplicitVRLittleEndian}
_ORTHONORMAL_TOLERANCE = 1e-3


@dataclass
class Frame:
    """One 2D image of a series and everything needed to place and decode it."""

    path: Path
    index: int | None  # frame number in a multi-frame file (0-based), None if single-frame
    rows: int
    columns: int
    row_spacing: float  # mm between rows (along col_dir)
    column_spacing: float  # mm between columns (along row_dir)
    row_dir: np.ndarray | None  # LPS direction of increasing column index; None: no geometry
    col_dir: np.ndarray | None  # LPS direction of increasing row index
    position: np.ndarray | None  # LPS of the centre of the first transmitted pixel
    slope: float = 1.0
    intercept: float = 0.0
    keys: tuple[tuple[str, Any], ...] = ()  # (name, value) pairs that separate stacks
    order: tuple = ()  # acquisition order (instance number, frame number)
    thickness: float | None = None  # SpacingBetweenSlices / SliceThickness (single slices)
    mosaic_tile: int | None = None  # slice number inside a Siemens mosaic
    pixel: PixelSource | None = None
    sop_uid: str = ""  # SOPInstanceUID of the file (shared by the frames of a multi-frame)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def has_geometry(self) -> bool:
        """Whether the frame is placed in patient space."""
        return self.position is not None and self.row_dir is not None

    @property
    def normal(self) -> np.ndarray:
        """Unit normal of the image plane (row_dir x col_dir)."""
        assert self.row_dir is not None and self.col_dir is not None
        return np.cross(self.row_dir, self.col_dir)


@dataclass(frozen=True)
class PixelSource:
    """Where a frame's pixels are: a byte range of native data, or a decoder call."""

    path: Path
    frame: int | None  # frame index for multi-frame files
    transfer_syntax: str
    bits_allocated: int
    pixel_representation: int
    samples: int
    native_offset: int | None  # file offset of this frame's raw little-endian bytes
    file_frames: int  # number of frames in the file
    photometric: str = "MONOCHROME2"
    bits_stored: int = 0
    forced: bool = False  # the file has no DICOM preamble (read with force=True)
    rows: int = 0
    columns: int = 0
    element_offset: int | None = None  # file offset of the Pixel Data element's tag

    @property
    def stored_range(self) -> tuple[int, int]:
        """Smallest and largest value the stored bits can hold."""
        bits = (
            self.bits_stored
            if 0 < self.bits_stored <= self.bits_allocated
            else (self.bits_allocated)
        )
        if self.pixel_representation == 1:
            return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        return 0, (1 << bits) - 1

    @property
    def stored_dtype(self) -> np.dtype:
        """numpy type of the stored values."""
        signed = self.pixel_representation == 1
        size = {1: 1, 8: 1, 16: 2, 32: 4}.get(self.bits_allocated, 0)
        if size == 0:
            raise DicomError(
                tr("{name}: unsupported Bits Allocated {bits}.").format(
                    name=self.path.name, bits=self.bits_allocated
                )
            )
        return np.dtype(f"{'i' if signed else 'u'}{size}")


HEADER_TAGS = [
    "SOPClassUID",
    "SOPInstanceUID",
    "Modality",
    "PatientID",
    "PatientName",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDescription",
    "StudyDate",
    "SeriesInstanceUID",
    "SeriesDescription",
    "SeriesNumber",
    "SeriesDate",
    "BodyPartExamined",
    "InstanceNumber",
    "NumberOfFrames",
    "Rows",
    "Columns",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "ImagerPixelSpacing",
    "SliceThickness",
    "SpacingBetweenSlices",
    "RescaleSlope",
    "RescaleIntercept",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "WindowCenter",
    "WindowWidth",
    "EchoNumbers",
    "EchoTime",
    "TemporalPositionIdentifier",
    "TriggerTime",
    "AcquisitionNumber",
    "ImageType",
    "DiffusionBValue",
    "GridFrameOffsetVector",
    "DoseGridScaling",
    "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence",
    "FrameOfReferenceUID",
    "SeriesTime",
    "AcquisitionTime",
    "Manufacturer",
    "ProtocolName",
    "LossyImageCompression",
    "PlanarConfiguration",
    (0x0019, 0x100A),
    (0x0029, 0x0010),
    (0x0029, 0x0011),
    (0x0029, 0x1010),
    (0x0029, 0x1020),
]


HEADER_TAG_NUMBERS = [Tag(t) for t in HEADER_TAGS]  # keywords resolved once, not per file


class MemoHeader:
    """Read-only view of a header that converts each distinct raw value only once.

    Across the files of a series most attributes are byte-for-byte identical (size,
    spacing, orientation, rescale); pydicom's value conversion is the main cost of
    reading hundreds of headers, so equal raw bytes share one converted value.
    """

    def __init__(self, ds: Dataset, memo: dict) -> None:
        self.ds = ds
        self.file_meta = ds.file_meta
        self._memo = memo
        self._encoding = ds.original_encoding

    def get(self, keyword: str, default: Any = None) -> Any:
        tag = _tag(keyword)
        if tag not in self.ds:
            return default
        element = self.ds.get_item(tag)
        raw = getattr(element, "value", None)
        if (
            not isinstance(element, RawDataElement)
            or not isinstance(raw, bytes)
            or (element.VR == "SQ" or len(raw) > 256)
        ):
            return self.ds.get(tag, default).value if tag in self.ds else default
        key = (tag, element.VR, raw, self._encoding)
        if key not in self._memo:
            self._memo[key] = self.ds[tag].value
        return self._memo[key]

    def __contains__(self, keyword: str) -> bool:
        return _tag(keyword) in self.ds


@cache
def _tag(keyword: str) -> BaseTag:
    return Tag(keyword)


def _floats(value: Any, count: int, what: str, path: Path) -> np.ndarray | None:
    if value is None or value == "":
        return None
    try:
        array = np.array([float(v) for v in value], dtype=float)
    except (TypeError, ValueError) as error:
        raise DicomError(
            tr("{name}: {what} is not numeric ({value}).").format(
                name=path.name, what=what, value=repr(value)
            )
        ) from error
    if array.shape != (count,) or not np.all(np.isfinite(array)):
        raise DicomError(
            tr("{name}: {what} must hold {count} finite numbers, got {value}.").format(
                name=path.name, what=what, count=count, value=repr(value)
            )
        )
    return array


def _number(value: Any, default: float, what: str, path: Path) -> float:
    if value is None or value == "":
        return default
    try:
        number = float(
            value[0] if isinstance(value, (list, pydicom.multival.MultiValue)) else value
        )
    except (TypeError, ValueError, IndexError) as error:
        raise DicomError(
            tr("{name}: {what} is not a number ({value}).").format(
                name=path.name, what=what, value=repr(value)
            )
        ) from error
    if not np.isfinite(number):
        raise DicomError(tr("{name}: {what} is not finite.").format(name=path.name, what=what))
    return number


def _orientation(value: Any, path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    cosines = _floats(value, 6, "Image Orientation (Patient)", path)
    if cosines is None:
        return None
    row, col = cosines[:3], cosines[3:]
    if (
        abs(np.linalg.norm(row) - 1) > _ORTHONORMAL_TOLERANCE
        or abs(np.linalg.norm(col) - 1) > _ORTHONORMAL_TOLERANCE
        or abs(float(row @ col)) > _ORTHONORMAL_TOLERANCE
    ):
        raise DicomError(
            tr(
                "{name}: Image Orientation (Patient) {cosines} is not two perpendicular unit "
                "vectors; the image cannot be placed in the patient."
            ).format(name=path.name, cosines=list(cosines))
        )
    return row / np.linalg.norm(row), col / np.linalg.norm(col)


def _spacing(ds: Dataset, path: Path) -> tuple[float, float] | None:
    value = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    spacing = _floats(value, 2, "Pixel Spacing", path)
    if spacing is None:
        return None
    if np.any(spacing <= 0):
        raise DicomError(
            tr("{name}: Pixel Spacing {spacing} must be positive.").format(
                name=path.name, spacing=list(spacing)
            )
        )
    return float(spacing[0]), float(spacing[1])


def _integer(ds: Dataset, keyword: str, path: Path, default: int | None = None) -> int:
    value = ds.get(keyword)
    if value is None or value == "":
        if default is None:
            raise DicomError(
                tr("{name}: the required attribute {keyword} is missing.").format(
                    name=path.name, keyword=keyword
                )
            )
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise DicomError(
            tr("{name}: {keyword} is not an integer ({value}).").format(
                name=path.name, keyword=keyword, value=repr(value)
            )
        ) from error


def _pixel_source(
    ds: Dataset, path: Path, frame: int | None, frames: int, layout: FileLayout
) -> PixelSource:
    syntax = str(ds.file_meta.get("TransferSyntaxUID", "")) if ds.file_meta else ""
    if not syntax:
        raise DicomError(
            tr("{name}: the transfer syntax is missing; pixels cannot be decoded.").format(
                name=path.name
            )
        )
    bits = _integer(ds, "BitsAllocated", path)
    representation = _integer(ds, "PixelRepresentation", path, default=0)
    samples = _integer(ds, "SamplesPerPixel", path, default=1)
    rows, columns = _integer(ds, "Rows", path), _integer(ds, "Columns", path)
    native = None
    offset = layout.pixel_offset
    if offset is not None and syntax in _NATIVE_LITTLE_ENDIAN and bits in (8, 16, 32):
        header = data_element_offset_to_value(syntax == ImplicitVRLittleEndian, "OW")
        frame_bytes = rows * columns * samples * bits // 8
        native = offset + header + (frame or 0) * frame_bytes
    return PixelSource(
        path,
        frame,
        syntax,
        bits,
        representation,
        samples,
        native,
        frames,
        str(ds.get("PhotometricInterpretation", "MONOCHROME2")),
        _integer(ds, "BitsStored", path, default=bits),
        layout.forced,
        rows,
        columns,
        offset,
    )


def _rescale(group: Dataset | None, ds: Dataset, path: Path) -> tuple[float, float]:
    source = group if group is not None else ds
    slope = _number(source.get("RescaleSlope"), 1.0, "Rescale Slope", path)
    intercept = _number(source.get("RescaleIntercept"), 0.0, "Rescale Intercept", path)
    if ds.get("Modality") == "RTDOSE" and "DoseGridScaling" in ds:
        slope *= _number(ds.get("DoseGridScaling"), 1.0, "Dose Grid Scaling", path)
    if slope == 0:
        raise DicomError(tr("{name}: Rescale Slope is 0.").format(name=path.name))
    return slope, intercept


def _classic_keys(ds: Dataset) -> tuple[tuple[str, Any], ...]:
    image_type = "\\".join(str(v) for v in (ds.get("ImageType", []) or [])[:3])
    return (
        ("echo", str(ds.get("EchoNumbers", "") or "")),
        ("time point", str(ds.get("TemporalPositionIdentifier", "") or "")),
        ("b-value", str(ds.get("DiffusionBValue", "") or "")),
        ("image type", image_type),
    )


def frames_of(
    ds: Dataset | RawHeader, path: Path, layout: FileLayout, memo: dict | None = None
) -> list[Frame]:
    """The frames of one file (raises DicomError with the file name when it is unusable).

    `ds`: a pydicom header, or a `RawHeader` from the fast reader (`quick.py`, which
    leaves enhanced multi-frame files and Siemens mosaics to pydicom). `memo`, shared
    across the files of a series, lets equal raw values of a pydicom header be converted
    once.
    """
    if not layout.has_pixels:
        kind = str(ds.get("Modality", "")) or tr("this object")
        raise DicomError(
            tr("{name}: no pixel data ({kind} is not an image).").format(name=path.name, kind=kind)
        )
    frames = _integer(ds, "NumberOfFrames", path, default=1)
    if frames < 1:
        raise DicomError(
            tr("{name}: Number of Frames is {frames}.").format(name=path.name, frames=frames)
        )
    if isinstance(ds, RawHeader):  # the fast reader: classic images only, values memoised
        return _classic_frames(ds, path, frames, layout)
    if "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds:
        return _enhanced_frames(ds, path, frames, layout)
    if frames == 1 and csareader.get_csa_header(ds, "image") is not None:
        mosaic = _mosaic_frames(ds, path, layout)
        if mosaic:
            return mosaic
    return _classic_frames(MemoHeader(ds, {} if memo is None else memo), path, frames, layout)


def _base(ds: Dataset, path: Path) -> dict[str, Any]:
    rows, columns = _integer(ds, "Rows", path), _integer(ds, "Columns", path)
    if rows < 1 or columns < 1:
        raise DicomError(
            tr("{name}: image size {rows} x {columns} is empty.").format(
                name=path.name, rows=rows, columns=columns
            )
        )
    return {"rows": rows, "columns": columns}


def _classic_frames(ds: Any, path: Path, frames: int, layout: FileLayout) -> list[Frame]:
    """Frames of a classic image (one, or several placed by Grid Frame Offset Vector).

    `ds` is anything with pydicom's `get(keyword, default)` and `file_meta`.
    """
    base = _base(ds, path)
    orientation = _orientation(ds.get("ImageOrientationPatient"), path)
    position = _floats(ds.get("ImagePositionPatient"), 3, "Image Position (Patient)", path)
    spacing = _spacing(ds, path)
    slope, intercept = _rescale(None, ds, path)
    instance = _integer(ds, "InstanceNumber", path, default=0)
    thickness = ds.get("SpacingBetweenSlices") or ds.get("SliceThickness")
    offsets = ds.get("GridFrameOffsetVector")
    geometry = orientation is not None and position is not None
    if frames > 1 and geometry and offsets is not None:
        offsets = _floats(offsets, frames, "Grid Frame Offset Vector", path)
    elif frames > 1:
        offsets = None
    result = []
    for n in range(frames):
        frame_position = position
        if geometry and offsets is not None:
            normal = np.cross(*orientation)
            frame_position = position + offsets[n] * normal
        result.append(
            Frame(
                path=path,
                index=n if frames > 1 else None,
                **base,
                row_spacing=spacing[0] if spacing else 1.0,
                column_spacing=spacing[1] if spacing else 1.0,
                row_dir=orientation[0] if orientation else None,
                col_dir=orientation[1] if orientation else None,
                position=frame_position if (frames == 1 or offsets is not None) else None,
                slope=slope,
                intercept=intercept,
                keys=_classic_keys(ds),
                order=(instance, n),
                thickness=_number(thickness, 0.0, "Slice Thickness", path) or None,
                pixel=_pixel_source(ds, path, n if frames > 1 else None, frames, layout),
                sop_uid=str(ds.get("SOPInstanceUID", "") or ""),
                meta={"no_spacing": spacing is None},
            )
        )
    return result


def _group(per_frame: Dataset | None, shared: Dataset | None, sequence: str) -> Dataset | None:
    for source in (per_frame, shared):
        if source is not None and sequence in source and len(source[sequence].value):
            return source[sequence].value[0]
    return None


def _enhanced_frames(ds: Dataset, path: Path, frames: int, layout: FileLayout) -> list[Frame]:
    base = _base(ds, path)
    shared_seq = ds.get("SharedFunctionalGroupsSequence") or [None]
    shared = shared_seq[0]
    per_frame = list(ds.get("PerFrameFunctionalGroupsSequence") or [])
    if per_frame and len(per_frame) != frames:
        raise DicomError(
            tr("{name}: {groups} per-frame functional groups for {frames} frames.").format(
                name=path.name, groups=len(per_frame), frames=frames
            )
        )
    instance = _integer(ds, "InstanceNumber", path, default=0)
    result = []
    for n in range(frames):
        item = per_frame[n] if per_frame else None
        plane = _group(item, shared, "PlanePositionSequence")
        orient = _group(item, shared, "PlaneOrientationSequence")
        measures = _group(item, shared, "PixelMeasuresSequence")
        content = _group(item, shared, "FrameContentSequence")
        echo = _group(item, shared, "MREchoSequence")
        transform = _group(item, shared, "PixelValueTransformationSequence")
        orientation = _orientation(orient.get("ImageOrientationPatient") if orient else None, path)
        position = _floats(
            plane.get("ImagePositionPatient") if plane else None,
            3,
            "Image Position (Patient)",
            path,
        )
        spacing = _spacing(measures, path) if measures is not None else None
        slope, intercept = _rescale(transform, ds, path)
        keys = (
            ("stack", str(content.get("StackID", "")) if content else ""),
            ("time point", int(content.get("TemporalPositionIndex", 0) or 0) if content else 0),
            ("echo time", float(echo.get("EffectiveEchoTime", 0) or 0) if echo else 0.0),
        )
        thickness = (
            measures.get("SpacingBetweenSlices") or measures.get("SliceThickness")
            if (measures is not None)
            else None
        )
        result.append(
            Frame(
                path=path,
                index=n,
                **base,
                row_spacing=spacing[0] if spacing else 1.0,
                column_spacing=spacing[1] if spacing else 1.0,
                row_dir=orientation[0] if orientation else None,
                col_dir=orientation[1] if orientation else None,
                position=position,
                slope=slope,
                intercept=intercept,
                keys=keys,
                order=(instance, n),
                thickness=_number(thickness, 0.0, "Slice Thickness", path) or None,
                pixel=_pixel_source(ds, path, n, frames, layout),
                sop_uid=str(ds.get("SOPInstanceUID", "") or ""),
                meta={"no_spacing": spacing is None},
            )
        )
    return result


def _mosaic_frames(ds: Dataset, path: Path, layout: FileLayout) -> list[Frame]:
    """Slices of a Siemens mosaic, placed as nibabel's MosaicWrapper places them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from nibabel.nicom.dicomwrappers import MosaicWrapper, WrapperError

        try:
            csa = csareader.get_csa_header(ds, "image")
            count = csareader.get_n_mosaic(csa)
        except Exception as error:  # nibabel raises several types on damaged CSA headers
            raise DicomError(
                tr("{name}: unreadable Siemens CSA header ({error}).").format(
                    name=path.name, error=error
                )
            ) from error
        if not count or "MOSAIC" not in [str(v).upper() for v in ds.get("ImageType", [])]:
            return []
        try:
            wrapper = MosaicWrapper(ds, csa)
            affine = np.asarray(wrapper.affine, float)  # (row, col, slice) -> LPS
            rows, columns, slices = wrapper.image_shape
        except (WrapperError, KeyError, ValueError, TypeError, AttributeError) as error:
            raise DicomError(
                tr("{name}: cannot unpack the Siemens mosaic ({error}).").format(
                    name=path.name, error=error
                )
            ) from error
    col_step, row_step, slice_step = affine[:3, 1], affine[:3, 0], affine[:3, 2]
    row_spacing, column_spacing = float(np.linalg.norm(row_step)), float(np.linalg.norm(col_step))
    slope, intercept = _rescale(None, ds, path)
    instance = _integer(ds, "InstanceNumber", path, default=0)
    source = _pixel_source(ds, path, None, 1, layout)
    return [
        Frame(
            path=path,
            index=None,
            rows=int(rows),
            columns=int(columns),
            row_spacing=row_spacing,
            column_spacing=column_spacing,
            row_dir=col_step / column_spacing,
            col_dir=row_step / row_spacing,
            position=affine[:3, 3] + s * slice_step,
            slope=slope,
            intercept=intercept,
            keys=_classic_keys(ds),
            order=(instance, s),
            mosaic_tile=s,
            pixel=source,
            sop_uid=str(ds.get("SOPInstanceUID", "") or ""),
            meta={
                "mosaic": (int(rows), int(columns), int(slices)),
                "stored_shape": (_integer(ds, "Rows", path), _integer(ds, "Columns", path)),
            },
        )
        for s in range(int(slices))
    ]
