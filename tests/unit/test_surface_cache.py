"""The cache of display surfaces: a hit for the same labels, a miss when a voxel, the
geometry, the labels shown or the budget change, at most a few entries kept (LRU), one
computation per key when two threads ask at once, and the digest's cost on the demo's map."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from meditwin_desktop.core.imaging import surfaces
from meditwin_desktop.core.imaging.surface_cache import (
    SurfaceCache,
    cached_label_surfaces,
    label_digest,
    shown_values,
)
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume


def _label_map(shift: int = 0, spacing: float = 1.0) -> LabelMap:
    array = np.zeros((20, 20, 20), np.uint8)
    array[4 + shift : 12 + shift, 4:12, 4:12] = 1
    array[13:17, 13:17, 13:17] = 2
    labels = {1: Label(1, "liver", (200, 100, 100)), 2: Label(2, "body", (10, 10, 10))}
    return LabelMap(Volume(array, np.diag([spacing, spacing, spacing, 1.0])), labels)


@pytest.fixture
def calls(monkeypatch):
    """The `label_surfaces` calls made (the real function still runs)."""
    made: list[tuple] = []
    real = surfaces.label_surfaces

    def spy(label_map, values=None, **kwargs):
        made.append((label_map, values))
        return real(label_map, values, **kwargs)

    monkeypatch.setattr(surfaces, "label_surfaces", spy)
    return made


def test_a_second_request_is_a_hit_and_the_caller_gets_a_dict_of_its_own(calls):
    cache, label_map = SurfaceCache(), _label_map()
    first = cached_label_surfaces(label_map, [1, 2], max_triangles=5_000, cache=cache)
    assert sorted(first) == [1, 2] and len(calls) == 1
    first.pop(1)  # the caller's dict: the cache keeps its own
    again = cached_label_surfaces(_label_map(), [2, 1], max_triangles=5_000, cache=cache)
    assert len(calls) == 1 and sorted(again) == [1, 2]  # same content, another object
    assert again[2] is first[2]  # the meshes are shared (read only)


def test_a_changed_voxel_geometry_selection_or_budget_is_a_miss(calls):
    cache, label_map = SurfaceCache(max_entries=10), _label_map()
    cached_label_surfaces(label_map, [1], max_triangles=5_000, cache=cache)
    label_map.volume.array[0, 0, 0] = 1  # edited in place: the digest sees it
    cached_label_surfaces(label_map, [1], max_triangles=5_000, cache=cache)
    cached_label_surfaces(_label_map(spacing=0.5), [1], max_triangles=5_000, cache=cache)
    cached_label_surfaces(_label_map(), [1, 2], max_triangles=5_000, cache=cache)
    cached_label_surfaces(_label_map(), [1], max_triangles=2_000, cache=cache)
    assert len(calls) == 5 and len(cache) == 5


def test_at_most_max_entries_are_kept_the_least_recently_used_dropped(calls):
    cache = SurfaceCache(max_entries=3)
    maps = [_label_map(shift) for shift in range(4)]
    for label_map in maps[:3]:
        cached_label_surfaces(label_map, [1], max_triangles=None, cache=cache)
    cached_label_surfaces(maps[0], [1], max_triangles=None, cache=cache)  # used again: kept
    cached_label_surfaces(maps[3], [1], max_triangles=None, cache=cache)  # drops maps[1]
    assert len(cache) == 3 and len(calls) == 4
    cached_label_surfaces(maps[0], [1], max_triangles=None, cache=cache)
    assert len(calls) == 4
    cached_label_surfaces(maps[1], [1], max_triangles=None, cache=cache)
    assert len(calls) == 5


def test_two_threads_asking_at_once_share_one_computation():
    cache, started, results = SurfaceCache(), threading.Event(), []
    computed = []

    def compute():
        computed.append(1)
        started.set()
        time.sleep(0.3)
        return {1: "mesh"}

    first = threading.Thread(target=lambda: results.append(cache.get_or_compute("k", compute)))
    first.start()
    started.wait(5)
    results.append(cache.get_or_compute("k", compute))  # waits for the first thread's
    first.join()
    assert computed == [1] and results == [{1: "mesh"}, {1: "mesh"}]


def test_a_failed_computation_lets_the_next_request_compute():
    cache = SurfaceCache()

    def fail():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("k", fail)
    assert cache.get_or_compute("k", lambda: {2: "mesh"}) == {2: "mesh"}


def test_shown_values_leave_out_the_hidden_labels():
    assert shown_values(_label_map(), {"body"}) == [1]


def test_the_digest_of_the_demo_label_map_is_cheap(demo_truth):
    """Measured, not asserted (machines differ): printed with -s."""
    _, label_map = demo_truth
    array = label_map.volume.array
    start = time.perf_counter()
    for _ in range(5):
        digest = label_digest(label_map)
    seconds = (time.perf_counter() - start) / 5
    print(f"\nlabel digest of {array.shape} {array.dtype} ({array.nbytes / 1e6:.1f} MB): "
          f"{seconds * 1000:.1f} ms")  # fmt: skip
    assert len(digest) == 32
