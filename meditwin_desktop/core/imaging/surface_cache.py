"""A small cache of display surfaces, so that a case prepared ahead opens with them at once.

The board meeting's presentation prefetches the next case (its document and image) and then
its label surfaces through this cache; opening the case asks for the same surfaces and finds
them, instead of extracting them again (3-5 s for the demo CT). The key is what the surfaces
depend on: the label array's content (a BLAKE2b digest of its bytes: ~10 ms for the demo's
256 x 256 x 240 map), its geometry (affine), the labels drawn, the triangle budget and the
smoothing. A request for surfaces being computed in another thread waits for them.

The meshes are shared by every caller that gets them: they are read only (`View3D` draws
them with a colour, which neither copies nor changes a mesh; the comparison clips copies).
Each caller gets a dict of its own, which it may change (a label's surface replaced).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

import numpy as np
import pyvista as pv

from meditwin_desktop.core.imaging import surfaces as _surfaces
from meditwin_desktop.core.imaging.volume import LabelMap
from meditwin_desktop.core.progress import (
    CancelledFn,
    ProgressFn,
    check_cancelled,
    never_cancelled,
    no_progress,
)

Surfaces = dict[int, pv.PolyData]
MAX_ENTRIES = 3  # display surfaces of a CT: a few tens of MB each


def label_digest(label_map: LabelMap) -> str:
    """A digest of the label array's content (dtype, shape and bytes)."""
    array = np.ascontiguousarray(label_map.volume.array)
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def shown_values(label_map: LabelMap, hidden: Iterable[str]) -> list[int]:
    """The label values drawn in 3D: every label but those named in `hidden`."""
    hidden = set(hidden)
    return [value for value, label in label_map.labels.items() if label.name not in hidden]


def surface_key(
    label_map: LabelMap,
    shown: Iterable[int] | None,
    *,
    max_triangles: int | None,
    smoothing_iterations: int = 16,
) -> tuple:
    """What the surfaces of `label_surfaces(label_map, shown, ...)` depend on."""
    affine = np.ascontiguousarray(label_map.volume.affine, dtype=float)
    values = None if shown is None else tuple(sorted(set(shown)))
    return (label_digest(label_map), affine.tobytes(), values, max_triangles,
            smoothing_iterations)  # fmt: skip


class SurfaceCache:
    """At most `max_entries` surface sets, the least recently used dropped first;
    thread-safe, and one computation per key at a time (others wait for it)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, Surfaces] = OrderedDict()
        self._computing: dict[tuple, threading.Event] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: tuple) -> bool:
        with self._lock:
            return key in self._entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, key: tuple) -> Surfaces | None:
        """The surfaces stored under `key` (a dict of the caller's own), or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return dict(found)

    def put(self, key: tuple, surfaces: Surfaces) -> None:
        with self._lock:
            self._store(key, surfaces)

    def _store(self, key: tuple, surfaces: Surfaces) -> None:
        self._entries[key] = dict(surfaces)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def get_or_compute(
        self, key: tuple, compute: Callable[[], Surfaces], cancelled: CancelledFn = never_cancelled
    ) -> Surfaces:
        """The surfaces under `key`, computed (and stored) if absent; while another thread
        computes them, this one waits for its result (and computes them itself if that one
        fails or is cancelled)."""
        while True:
            with self._lock:
                found = self._entries.get(key)
                if found is not None:
                    self._entries.move_to_end(key)
                    return dict(found)
                running = self._computing.get(key)
                if running is None:
                    running = self._computing[key] = threading.Event()
                    break
            while not running.wait(0.05):
                check_cancelled(cancelled)
        try:
            surfaces = compute()
        except BaseException:
            with self._lock:
                del self._computing[key]
            running.set()
            raise
        with self._lock:
            self._store(key, surfaces)
            del self._computing[key]
        running.set()
        return dict(surfaces)


SURFACES = SurfaceCache()  # the application's: the window's views and the presentation


def cached_label_surfaces(
    label_map: LabelMap,
    shown: Iterable[int] | None,
    *,
    max_triangles: int | None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
    cache: SurfaceCache | None = None,
) -> Surfaces:
    """`label_surfaces(label_map, shown, max_triangles=...)`, from the cache when the same
    surfaces were computed recently (the meshes are shared: do not change them)."""
    cache = SURFACES if cache is None else cache
    shown = None if shown is None else list(shown)
    key = surface_key(label_map, shown, max_triangles=max_triangles)

    def compute() -> Surfaces:
        return _surfaces.label_surfaces(label_map, shown, max_triangles=max_triangles,
                                        progress=progress, cancelled=cancelled)  # fmt: skip

    return cache.get_or_compute(key, compute, cancelled)
