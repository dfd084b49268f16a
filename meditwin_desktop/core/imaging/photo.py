"""2D photographs of the patient: fundus photographs (PNG, JPEG, TIFF) and DICOM
photographic or ophthalmic images (modalities OP, XC, ES, SC), as RGB or grey pixels with
their pixel size when the file knows it.

Pillow reads the common formats (it ships with matplotlib); pydicom reads DICOM (the
pixel size from PixelSpacing or ImagerPixelSpacing, the date from the header).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr

PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
MAX_PIXELS = 120_000_000  # a 12 000 x 10 000 photograph; larger is not a clinical photo


@dataclass(eq=False)
class Photo:
    """A 2D image: `pixels` (rows, columns) grey or (rows, columns, 3) RGB, uint8 or
    uint16; `pixel_mm` the size of a pixel when known."""

    pixels: np.ndarray
    pixel_mm: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return self.pixels.shape[0], self.pixels.shape[1]


def is_photo_file(path: Path) -> bool:
    """Whether the file's name says it is a common photograph format."""
    return Path(path).suffix.lower() in PHOTO_SUFFIXES


def read_photo(path: Path) -> Photo:
    """A photograph from a PNG/JPEG/TIFF or a single-frame 2D DICOM file; InputError with
    the reason when it cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise InputError(tr("{path} is not a file.").format(path=path))
    if is_photo_file(path):
        return _read_common(path)
    return _read_dicom(path)


def _read_common(path: Path) -> Photo:
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(path) as image:
            columns, rows = image.size
            if columns * rows > MAX_PIXELS:  # before decoding: a "bomb" only warns below 2x
                raise InputError(
                    tr("{name} is {columns} x {rows} pixels: too large for a photograph.").format(
                        name=path.name, columns=columns, rows=rows
                    )
                )
            image.load()
            if image.mode not in ("L", "I;16", "RGB"):
                image = image.convert("RGB")
            pixels = np.asarray(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise InputError(
            tr("{name} cannot be read as a photograph ({error}).").format(
                name=path.name, error=error
            )
        ) from None
    return Photo(pixels.copy(), None, {"source": path.name, "modality": "XC"})


def _read_dicom(path: Path) -> Photo:
    import pydicom
    from pydicom.errors import InvalidDicomError

    if path.stat().st_size > 4 * MAX_PIXELS:
        raise InputError(tr("{name} is too large for a photograph.").format(name=path.name))
    try:
        ds = pydicom.dcmread(path, force=True)  # the user chose this file: no preamble is fine
        size = int(ds.get("Rows", 0) or 0) * int(ds.get("Columns", 0) or 0)
        if size > MAX_PIXELS or int(ds.get("NumberOfFrames", 1) or 1) * size > 4 * MAX_PIXELS:
            raise InputError(tr("{name} is too large for a photograph.").format(name=path.name))
        pixels = ds.pixel_array
    except (InvalidDicomError, OSError, ValueError, AttributeError) as error:
        raise InputError(
            tr("{name} is not a photograph PNG, JPEG, TIFF or DICOM file ({error}).").format(
                name=path.name, error=type(error).__name__
            )
        ) from None
    if pixels.ndim == 4 or (pixels.ndim == 3 and pixels.shape[-1] not in (3, 4)):
        raise InputError(
            tr("{name} holds several frames: open it as a series, not as a photograph.").format(
                name=path.name
            )
        )
    if getattr(ds, "PhotometricInterpretation", "").startswith("YBR"):
        from pydicom.pixels import convert_color_space

        pixels = convert_color_space(pixels, ds.PhotometricInterpretation, "RGB")
    spacing = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    meta = {
        "modality": str(ds.get("Modality", "")), "patient_name": str(ds.get("PatientName", "")),
        "patient_id": str(ds.get("PatientID", "")),
        "patient_birth_date": str(ds.get("PatientBirthDate", "")),
        "date": _iso(str(ds.get("StudyDate", "") or ds.get("ContentDate", ""))),
        "laterality": str(ds.get("ImageLaterality", "") or ds.get("Laterality", "")),
        "series_uid": str(ds.get("SeriesInstanceUID", "")),
        "study_uid": str(ds.get("StudyInstanceUID", "")), "source": path.name,
    }  # fmt: skip
    return Photo(np.asarray(pixels)[..., :3] if pixels.ndim == 3 else np.asarray(pixels),
                 float(spacing[0]) if spacing else None, meta)  # fmt: skip


def _iso(dicom_date: str) -> str:
    text = dicom_date.strip()
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text
