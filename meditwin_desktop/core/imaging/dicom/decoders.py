"""Which decoder runs each compressed transfer syntax, and the fast JPEG lossless path.

Measured on 30-60 frames of the 512 x 512 16-bit CT of `tests/bench/bench_dicom_load.py`
(CPU ms per frame, one thread; `/tmp`-style script decoding each frame's bytes):

| transfer syntax                      | imagecodecs      | GDCM | pylibjpeg | other           |
|--------------------------------------|------------------|------|-----------|-----------------|
| JPEG Lossless SV1 (.70), process 14 (.57) | **1.6** (libjpeg-turbo 3) | 6.0 | 9.8 | -        |
| JPEG-LS lossless (.80)               | 4.7              | 6.9  | 21.3      | 5.2 (pyjpegls)  |
| JPEG 2000 lossless (.90)             | 25.3             | 27.2 | 25.5      | -               |
| RLE lossless (.5)                    | -                | -    | -         | 2.1 (pydicom)   |

So JPEG lossless goes to imagecodecs' libjpeg-turbo 3 (3.7x faster than GDCM, and it
releases the GIL: threads in this process decode in parallel, no worker processes
needed); GDCM, then pylibjpeg, when imagecodecs is absent or refuses a frame. The other
syntaxes keep pydicom's plugins (`pixels._decode`), in worker processes: their decoders
hold the GIL.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
from pydicom.encaps import get_frame

from meditwin_desktop.core.imaging.dicom.frames import PixelSource

JPEG_LOSSLESS = {"1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"}
# when imagecodecs fails: GDCM is faster than pylibjpeg-libjpeg (table above)
JPEG_LOSSLESS_PLUGINS = ("gdcm", "pylibjpeg")
_ELEMENT_HEADER = 12  # (7FE0,0010) tag, 'OB', 2 reserved bytes, undefined length


@cache
def jpeg8_decode() -> Callable[[bytes], np.ndarray] | None:
    """imagecodecs' libjpeg-turbo decoder, or None when imagecodecs is not installed."""
    try:
        from imagecodecs import jpeg8_decode as decode
    except ImportError:
        return None
    return decode


def in_threads(source: PixelSource) -> bool:
    """Whether the fast path below decodes this frame (GIL released: threads suffice)."""
    return (
        source.transfer_syntax in JPEG_LOSSLESS
        and source.samples == 1
        and source.element_offset is not None
        and source.bits_allocated in (8, 16)
        and bool(source.rows)
        and jpeg8_decode() is not None
    )


def frame_bytes(source: PixelSource) -> bytes | None:
    """The compressed bytes of the frame, None when the element is not encapsulated."""
    assert source.element_offset is not None
    with open(source.path, "rb") as handle:
        handle.seek(source.element_offset)
        header = handle.read(_ELEMENT_HEADER)
        if header[4:6] != b"OB" or header[8:12] != b"\xff\xff\xff\xff":
            return None
        data = handle.read()
    return get_frame(data, source.frame or 0, number_of_frames=source.file_frames)


def decode_jpeg_lossless(source: PixelSource) -> np.ndarray | None:
    """The frame's stored values, as pydicom would give them; None if this path declines.

    Unused high bits are cleared (unsigned) or sign-extended (signed), as pydicom's
    `correct_unused_bits` does. Raises what the decoder raises on damaged data.
    """
    decode = jpeg8_decode()
    data = frame_bytes(source) if decode is not None else None
    if data is None:
        return None
    decoded = np.asarray(decode(data))
    dtype = source.stored_dtype
    if decoded.shape != (source.rows, source.columns) or decoded.dtype.itemsize != dtype.itemsize:
        return None  # 8-bit stream in 16-bit pixels, or colour: pydicom's plugins decide
    stored = decoded.view(dtype)
    shift = source.bits_allocated - (source.bits_stored or source.bits_allocated)
    if shift > 0:
        np.left_shift(stored, shift, out=stored)
        np.right_shift(stored, shift, out=stored)
    return stored
