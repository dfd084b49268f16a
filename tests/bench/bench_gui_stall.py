"""Longest GUI event-loop stall while heavy imaging work runs in the background.

A 512 x 512 x 400 volume (105 M voxels) with a large noisy organ is shown in the real
main window; region growing from the crosshair (through the segmentation panel), hole
filling, and the label's surface for 3D then run as a user would start them. A QTimer
firing every 5 ms records the longest gap between its ticks (target: < 50 ms). The
reference is the same probe with nothing running. Run under a display: `./dev.sh bench`.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np


def _volume():
    from meditwin_desktop.core.imaging.geometry import affine_from
    from meditwin_desktop.core.imaging.volume import Volume

    rng = np.random.default_rng(1)
    shape = (400, 512, 512)
    k, j, i = np.ogrid[: shape[0], : shape[1], : shape[2]]
    organ = ((k - 200) / 150.0) ** 2 + ((j - 256) / 180.0) ** 2 + ((i - 256) / 200.0) ** 2 <= 1
    array = np.full(shape, -100, np.int16)
    array[organ] = 100
    array += rng.integers(-20, 21, size=shape, dtype=np.int16)
    meta = {"modality": "CT", "window": (40.0, 400.0)}
    return Volume(array, affine_from([0, 0, 0], np.eye(3), [0.8, 0.8, 1.0]), meta)


class StallProbe:
    """Longest interval between ticks of a 5 ms QTimer."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.longest = 0.0
        self._last = time.perf_counter()
        self._timer = QTimer(interval=5)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self._last)
        self._last = now

    def reset(self) -> None:
        self.longest, self._last = 0.0, time.perf_counter()


def main() -> None:
    from meditwin_desktop.ui.app import create_app, show_main_window
    from meditwin_desktop.ui.main_window import MainWindow

    app = create_app(install_exception_hook=False)
    window = MainWindow()
    show_main_window(window, app)
    volume = _volume()
    window._set_volume(volume)
    probe = StallProbe()
    settle = time.perf_counter()
    while time.perf_counter() - settle < 3.0:  # first paints of the new volume
        app.processEvents()
        time.sleep(0.001)

    def wait(condition, seconds: float = 600.0) -> float:
        start = time.perf_counter()
        while not condition():
            app.processEvents()
            time.sleep(0.001)
            if time.perf_counter() - start > seconds:
                raise TimeoutError
        return time.perf_counter() - start

    probe.reset()
    idle_start = time.perf_counter()
    while time.perf_counter() - idle_start < 1.0:
        app.processEvents()
        time.sleep(0.001)
    idle = probe.longest
    import meditwin_desktop.ui.view3d as view3d_module

    gui_3d = []
    for method in ("show_surfaces", "set_surface", "request_render"):
        original = getattr(view3d_module.View3D, method)

        def timed(self, *args, _original=original, _name=method, **kwargs):
            start = time.perf_counter()
            out = _original(self, *args, **kwargs)
            gui_3d.append((_name, time.perf_counter() - start))
            return out

        setattr(view3d_module.View3D, method, timed)
    panel = window.segments
    panel.add_label("organ")
    window.scene.set_cursor(volume.center_lps())
    panel.grow_low.setValue(40)
    panel.grow_high.setValue(160)
    results = []
    for name, start in (
        ("region growing", panel.grow),
        ("fill holes", panel.cleanup_buttons["Fill holes"].click),
        ("surface for 3D", lambda: window.show_label_surface(window.scene.active_label)),
    ):
        probe.reset()
        start()
        if name == "surface for 3D":
            seconds = wait(lambda: window.status.current_task() is None)
        else:
            seconds = wait(lambda: not panel._busy)
        results.append((name, seconds, probe.longest, panel.status.text()))
    print(
        f"volume {volume.shape[2]} x {volume.shape[1]} x {volume.shape[0]} "
        f"({volume.array.size / 1e6:.0f} M voxels)"
    )
    print(f"reference, idle event loop: longest gap {idle * 1000:.0f} ms")
    for name, seconds, longest, outcome in results:
        print(
            f"{name}: {seconds:.1f} s in the background, longest GUI stall "
            f"{longest * 1000:.0f} ms (target < 50 ms)  [{outcome}]"
        )
    print(f"3D view: {window.message.text()}")
    slowest = sorted(gui_3d, key=lambda item: -item[1])[:3]
    print(
        "slowest 3D calls on the GUI thread (rendering): "
        + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in slowest)
    )
    sys.stdout.flush()
    window.close()
    os._exit(0)  # skip interpreter teardown of VTK/Qt objects (a benchmark, not the app)


if __name__ == "__main__":
    main()
