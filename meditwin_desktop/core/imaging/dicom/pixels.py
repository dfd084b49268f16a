"""Decode the pixels of `Frame`s straight into a preallocated volume.

Native little-endian data is read with one `readinto` per frame (no parsing, no copy
beyond the rescale). Compressed and other syntaxes go through pydicom's pixel-data
plugins (`pydicom.pixels.pixel_array`, backed here by pylibjpeg and python-gdcm), one
frame at a time. Work is spread over threads; frames are decoded in the order given,
so the caller can start with the slice it shows first.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pydicom
import pydicom.pixels
from pydicom.pixels import get_decoder
from pydicom.uid import DeflatedExplicitVRLittleEndian

from meditwin_desktop.core.errors import Cancelled, DicomError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.dicom import decoders
from meditwin_desktop.core.imaging.dicom import workers as worker_pool
from meditwin_desktop.core.imaging.dicom.frames import Frame, PixelSource
from meditwin_desktop.core.imaging.dicom.schedule import RemoteDecoder

_MAX_FRAME_BYTES = 1 << 30  # no single image of 1 GiB or more
_MAX_EXPANSION = 400  # decoded size at most this many times the file size (damaged headers)
_PYLIBJPEG_FIRST = {  # JPEG 2000 via OpenJPEG: GDCM's build runs threads of its own
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
}
_MIN_REMOTE_FRAMES = 8  # fewer compressed frames are decoded here: processes cost more


def output_dtype(frames: Sequence[Frame]) -> np.dtype:
    """The smallest numpy type that holds every rescaled value exactly (int16 for most CT)."""
    sources = [f.pixel for f in frames]
    if any(s is None for s in sources):
        raise DicomError(tr("A frame has no pixel data."))
    if any(s.samples != 1 for s in sources) or any(  # type: ignore[union-attr]
        (f.slope != 1 or not float(f.intercept).is_integer()) for f in frames
    ):
        return np.dtype(np.float32)
    stored = {s.stored_dtype for s in sources}  # type: ignore[union-attr]
    intercepts = {f.intercept for f in frames}
    if len(stored) == 1 and intercepts == {0.0}:
        return stored.pop()
    lo = min(s.stored_range[0] for s in sources) + min(intercepts)  # type: ignore[union-attr]
    hi = max(s.stored_range[1] for s in sources) + max(intercepts)  # type: ignore[union-attr]
    for candidate in (np.uint8, np.int16, np.uint16, np.int32):
        info = np.iinfo(candidate)
        if info.min <= lo and hi <= info.max:
            return np.dtype(candidate)
    return np.dtype(np.float64)


def _check_size(frame: Frame) -> None:
    source = frame.pixel
    assert source is not None
    frame_bytes = frame.rows * frame.columns * source.samples * max(source.bits_allocated, 8) // 8
    if frame_bytes >= _MAX_FRAME_BYTES:
        raise DicomError(
            tr("{name}: image of {rows} x {columns} is too large.").format(
                name=source.path.name, rows=frame.rows, columns=frame.columns
            )
        )
    size = os.path.getsize(source.path)
    if frame_bytes * source.file_frames > _MAX_EXPANSION * max(size, 1):
        raise DicomError(
            tr(
                "{name}: the header announces {frames} frames of {rows} x {columns}, far more "
                "than the file's {size} bytes can hold."
            ).format(
                name=source.path.name,
                frames=source.file_frames,
                rows=frame.rows,
                columns=frame.columns,
                size=size,
            )
        )


def _read_native(source: PixelSource, shape: tuple[int, ...]) -> np.ndarray:
    assert source.native_offset is not None
    buffer = np.empty(shape, source.stored_dtype)
    with open(source.path, "rb") as handle:
        handle.seek(source.native_offset)
        count = handle.readinto(memoryview(buffer).cast("B"))
    if count != buffer.nbytes:
        raise DicomError(
            tr(
                "{name}: the pixel data is {count} bytes where {expected} were expected "
                "(truncated file?)."
            ).format(name=source.path.name, count=count, expected=buffer.nbytes)
        )
    return buffer


def _decode(source: PixelSource) -> np.ndarray:
    palette = source.photometric.upper() == "PALETTE COLOR"
    if not (palette or source.forced or source.transfer_syntax == DeflatedExplicitVRLittleEndian):
        plugins: tuple[str, ...] = ("",)
        if source.transfer_syntax in _PYLIBJPEG_FIRST:
            plugins = ("pylibjpeg", "")  # pylibjpeg's OpenJPEG: single-threaded, cheapest
        elif source.transfer_syntax in decoders.JPEG_LOSSLESS:
            plugins = decoders.JPEG_LOSSLESS_PLUGINS
            try:
                decoded = decoders.decode_jpeg_lossless(source)
                if decoded is not None:
                    return decoded
            except Exception:
                pass  # damaged for libjpeg-turbo: GDCM and pylibjpeg try, and name the problem
        for plugin in plugins:
            try:
                decoded = _decode_encapsulated(source, plugin)
                if decoded is not None:
                    return decoded
            except Exception:
                pass
        return pydicom.pixels.pixel_array(str(source.path), index=source.frame)
    ds = pydicom.dcmread(source.path, force=source.forced)
    if not ds.file_meta.get("TransferSyntaxUID"):
        ds.file_meta.TransferSyntaxUID = source.transfer_syntax
    pixels = ds.pixel_array
    if source.file_frames > 1 and source.frame is not None:
        pixels = pixels[source.frame]
    return pydicom.pixels.apply_color_lut(pixels, ds) if palette else pixels


def _decode_encapsulated(source: PixelSource, plugin: str) -> np.ndarray | None:
    """One frame decoded from its position in the file, without parsing the header again.

    pydicom's decoders accept a file positioned at the Pixel Data value plus the image
    pixel attributes (saves about 2.5 ms per 256 x 256 JPEG 2000 image). None when the
    element is not an encapsulated one this path handles.
    """
    if source.element_offset is None or source.samples != 1 or not source.rows:
        return None
    with open(source.path, "rb") as handle:
        handle.seek(source.element_offset)
        header = handle.read(12)
        if header[4:6] != b"OB" or header[8:12] != b"\xff\xff\xff\xff":
            return None
        array, _ = get_decoder(source.transfer_syntax).as_array(
            handle,
            index=source.frame or 0,
            decoding_plugin=plugin,
            rows=source.rows,
            columns=source.columns,
            samples_per_pixel=1,
            bits_allocated=source.bits_allocated,
            bits_stored=source.bits_stored or source.bits_allocated,
            pixel_representation=source.pixel_representation,
            photometric_interpretation=source.photometric,
            number_of_frames=source.file_frames,
            pixel_keyword="PixelData",
        )
    return array


def _stored_pixels(frame: Frame, cache: dict, lock: threading.Lock) -> np.ndarray:
    """The frame's stored values as a 2D (or 2D x samples) array."""
    source = frame.pixel
    assert source is not None
    _check_size(frame)
    if frame.mosaic_tile is not None:
        with lock:  # one decode per mosaic file, shared by its slices
            event = cache.get(source.path)
            owner = event is None
            if owner:
                event = cache[source.path] = threading.Event()
        if owner:
            try:
                mosaic = (
                    _read_native(source, frame.meta["stored_shape"])
                    if source.native_offset is not None
                    else _decode(source)
                )
                cache[(source.path, "data")] = mosaic
            except Exception as error:
                cache[(source.path, "data")] = error
            finally:
                event.set()
        event.wait()
        mosaic = cache[(source.path, "data")]
        if isinstance(mosaic, Exception):
            raise mosaic
        return _tile(mosaic, frame)
    if source.native_offset is not None and source.samples == 1:
        return _read_native(source, (frame.rows, frame.columns))
    return _decode(source)


def _tile(mosaic: np.ndarray, frame: Frame) -> np.ndarray:
    rows, columns, slices = frame.meta["mosaic"]
    per_row = int(np.ceil(np.sqrt(slices)))
    r, c = divmod(frame.mosaic_tile, per_row)
    tile = mosaic[r * rows : (r + 1) * rows, c * columns : (c + 1) * columns]
    if tile.shape[:2] != (rows, columns):
        raise DicomError(
            tr("{name}: the mosaic is smaller than its tiles.").format(name=frame.path.name)
        )
    return tile


class OutOfRangeError(Exception):
    """Rescaled values do not fit the (narrowed) output type: the caller widens it."""


def _to_output(
    stored: np.ndarray, frame: Frame, out: np.ndarray, strict: bool = False
) -> str | None:
    """Rescale into `out`; return a note when values had to be clipped to the output type.

    `strict`: raise OutOfRangeError instead of clipping (the output type was narrowed
    below what the header allows, betting on the actual values).
    """
    if stored.ndim == 3:  # colour: luminance (ITU-R BT.601)
        stored = stored[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    if stored.shape != out.shape:
        raise DicomError(
            tr(
                "{name}: decoded image is {rows} x {columns}, the header says "
                "{header_rows} x {header_columns}."
            ).format(
                name=frame.path.name,
                rows=stored.shape[0],
                columns=stored.shape[1],
                header_rows=out.shape[0],
                header_columns=out.shape[1],
            )
        )
    if np.issubdtype(out.dtype, np.integer):
        info = np.iinfo(out.dtype)
        lo = float(stored.min()) * frame.slope + frame.intercept
        hi = float(stored.max()) * frame.slope + frame.intercept
        if lo < info.min or hi > info.max:  # values beyond Bits Stored (or a narrowed type)
            if strict:
                raise OutOfRangeError
            stored = np.clip(
                stored.astype(np.float64) * frame.slope + frame.intercept, info.min, info.max
            )
            np.copyto(out, stored, casting="unsafe")
            return tr("{name}: values beyond Bits Stored were clipped.").format(
                name=frame.path.name
            )
    if frame.slope == 1 and frame.intercept == 0:
        np.copyto(out, stored, casting="unsafe")
    elif frame.slope == 1 and np.issubdtype(out.dtype, np.integer):
        np.add(stored, np.array(frame.intercept).astype(out.dtype), out=out, casting="unsafe")
    else:
        np.multiply(stored, frame.slope, out=out, casting="unsafe")
        out += np.array(frame.intercept, dtype=out.dtype)
    return None


def _reads_in_place(frame: Frame, out: np.ndarray) -> bool:
    """Native frames whose stored values have the output's size and need no scaling."""
    source = frame.pixel
    return (
        _is_native(frame)
        and source is not None
        and np.issubdtype(out.dtype, np.integer)
        and source.stored_dtype.itemsize == out.dtype.itemsize
        and frame.slope == 1
        and float(frame.intercept).is_integer()
    )


def _read_in_place(frame: Frame, out: np.ndarray, strict: bool) -> str | None:
    """Read the stored values straight into `out` (no temporary), then add the intercept.

    Integer addition in the output type wraps modulo 2^bits, so it is exact whenever the
    result fits, which the stored minimum and maximum tell; otherwise `_to_output` decides.
    """
    source = frame.pixel
    assert source is not None and source.native_offset is not None
    _check_size(frame)
    stored = out.view(source.stored_dtype)
    with open(source.path, "rb") as handle:
        handle.seek(source.native_offset)
        count = handle.readinto(memoryview(out).cast("B"))
    if count != out.nbytes:
        raise DicomError(
            tr(
                "{name}: the pixel data is {count} bytes where {expected} were expected "
                "(truncated file?)."
            ).format(name=source.path.name, count=count, expected=out.nbytes)
        )
    info = np.iinfo(out.dtype)
    intercept = int(frame.intercept)
    if int(stored.min()) + intercept < info.min or int(stored.max()) + intercept > info.max:
        return _to_output(stored.copy(), frame, out, strict)
    if intercept:
        np.add(out, out.dtype.type(intercept), out=out)
    return None


def _error_text(frame: Frame, error: Exception) -> str:
    if isinstance(error, DicomError):
        return str(error)
    syntax = frame.pixel.transfer_syntax if frame.pixel else "?"
    return tr("{name}: cannot decode the pixels ({syntax}): {error}").format(
        name=frame.path.name, syntax=syntax, error=error
    )


def decode_chunk(frames: Sequence[Frame]) -> list[tuple[np.ndarray | None, str | None]]:
    """Stored pixels (or an error message) of each frame; runs in a worker process."""
    results: list[tuple[np.ndarray | None, str | None]] = []
    for frame in frames:
        try:
            results.append((_stored_pixels(frame, {}, threading.Lock()), None))
        except Exception as error:  # decoders raise anything on damaged data
            results.append((None, _error_text(frame, error)))
    return results


def _is_native(frame: Frame) -> bool:
    """Single-sample native little-endian data, read straight from the file."""
    source = frame.pixel
    return (
        source is not None
        and frame.mosaic_tile is None
        and source.native_offset is not None
        and source.samples == 1
    )


def _wants_process(frame: Frame) -> bool:
    """Compressed (or otherwise non-native) frames whose decoding holds the GIL."""
    source = frame.pixel
    return (
        source is not None
        and frame.mosaic_tile is None
        and (source.native_offset is None or source.samples != 1)
        and not decoders.in_threads(source)
    )


def decode_into(
    frames: Sequence[Frame],
    out: np.ndarray,
    order: Sequence[int],
    *,
    on_frame: Callable[[int, str | None, str | None], None],
    cancelled: Callable[[], bool],
    workers: int | None = None,
    use_processes: bool = False,
    strict: bool = False,
) -> list[int]:
    """Decode `frames[k]` into `out[k]` for k in `order`; report each: `on_frame(k, error, note)`.

    Native frames are read here, compressed ones whose decoder releases the GIL (JPEG
    lossless, `decoders.py`) by threads here, the others by the shared worker processes
    when `use_processes` (`schedule.py`: started on demand, helped from here while they
    start, restarted after a crash). A frame that fails is reported with its error
    message and left untouched; the others go on. `strict`: frames whose values do not
    fit `out`'s type are left out and returned (not reported), for the caller to widen.
    Raises `Cancelled` when `cancelled()` turns true.
    """
    cache: dict = {}
    lock = threading.Lock()
    too_wide: list[int] = []

    def finish(k: int, stored: np.ndarray | None, error: str | None) -> None:
        if error is None:
            try:
                on_frame(k, None, _to_output(stored, frames[k], out[k], strict))
                return
            except OutOfRangeError:
                with lock:
                    too_wide.append(k)
                return
            except Exception as failure:  # a decoded image of the wrong size, say
                error = _error_text(frames[k], failure)
        on_frame(k, error, None)

    def work(k: int) -> None:
        if cancelled():
            return
        try:
            if _reads_in_place(frames[k], out[k]):
                on_frame(k, None, _read_in_place(frames[k], out[k], strict))
                return
            stored = _stored_pixels(frames[k], cache, lock)
        except OutOfRangeError:
            with lock:
                too_wide.append(k)
            return
        except Exception as error:  # decoders raise anything on damaged data
            finish(k, None, _error_text(frames[k], error))
            return
        finish(k, stored, None)

    remote = [k for k in order if _wants_process(frames[k])] if use_processes else []
    if len(remote) < _MIN_REMOTE_FRAMES or worker_pool.worker_count() == 0:
        remote = []
    sent = set(remote)
    local = [k for k in order if k not in sent]
    threads = workers or min(8, os.cpu_count() or 1)
    # native frames: one read each, here (measured: threads only add overhead)
    threaded = [k for k in local if not _is_native(frames[k])]
    if threads == 1 or len(threaded) < 4:
        threaded = []
    taken = set(threaded)
    here = [k for k in local if k not in taken]
    scheduler = RemoteDecoder(frames, remote, finish, cancelled, decode_chunk) if remote else None
    with ThreadPoolExecutor(threads, thread_name_prefix="meditwin-decode") as pool:
        jobs = [pool.submit(work, k) for k in threaded]
        if scheduler is not None:
            jobs.append(pool.submit(scheduler.help, work))
            scheduler.run()
        for k in here:
            work(k)
        for job in jobs:
            job.result()
    if cancelled():
        raise Cancelled()
    return sorted(too_wide)
