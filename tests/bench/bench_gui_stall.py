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
    """Intervals between ticks of a 5 ms QTimer (the longer ones: stalls).

    With BENCH_TRACE_STALLS=1 a watchdog thread samples the GUI thread's stack every 5 ms
    while it has not ticked for 20 ms, and `print_culprits()` names where it was."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[tuple[float, float]] = []  # (start, end) of gaps over 10 ms
        self.longest = 0.0
        self._last = time.perf_counter()
        self._timer = QTimer(interval=5)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self.samples: dict[str, int] = {}
        if os.environ.get("BENCH_TRACE_STALLS"):
            import threading

            self._gui = threading.get_ident()
            threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        import traceback

        while True:
            time.sleep(0.005)
            if time.perf_counter() - self._last > 0.020:
                frame = sys._current_frames().get(self._gui)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-8:]
                    key = " <- ".join(f"{f.name} ({os.path.basename(f.filename)}:{f.lineno})"
                                      for f in reversed(stack))  # fmt: skip
                    self.samples[key] = self.samples.get(key, 0) + 1

    def print_culprits(self, top: int = 8) -> None:
        """The GUI thread's most sampled stacks during stalls (5 ms per sample)."""
        for key, count in sorted(self.samples.items(), key=lambda kv: -kv[1])[:top]:
            print(f"  {count * 5:5d} ms  {key}")

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self._last)
        if now - self._last > 0.010:
            self.gaps.append((self._last, now))
        self._last = now

    def reset(self) -> None:
        self.gaps, self.longest, self._last = [], 0.0, time.perf_counter()


class FrameTimer:
    """VTK renders (start to end event) on the GUI thread."""

    def __init__(self, render_window) -> None:
        self.frames: list[tuple[float, float]] = []
        self._start = None
        render_window.AddObserver("StartEvent", self._started)
        render_window.AddObserver("EndEvent", self._ended)

    def _started(self, *args) -> None:
        self._start = time.perf_counter()

    def _ended(self, *args) -> None:
        if self._start is not None:
            self.frames.append((self._start, time.perf_counter()))

    def reset(self) -> None:
        self.frames = []


def split_stalls(gaps, frames) -> tuple[float, float, float]:
    """(longest gap without a 3D frame in it, longest with one, longest frame)."""
    plain, with_frame = [0.0], [0.0]
    for start, end in gaps:
        drew = any(f_start < end and start < f_end for f_start, f_end in frames)
        (with_frame if drew else plain).append(end - start)
    return max(plain), max(with_frame), max([e - s for s, e in frames], default=0.0)


def main() -> None:
    from meditwin_desktop.ui.app import create_app, freeze_startup_objects, show_main_window
    from meditwin_desktop.ui.main_window import MainWindow
    from meditwin_desktop.ui.view3d import opengl_renderer

    app = create_app(install_exception_hook=False)
    window = MainWindow()
    show_main_window(window, app)
    freeze_startup_objects()  # as the app does
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
    frames = FrameTimer(window.view3d.plotter.ren_win)
    shown = []
    window.view3d.rendered.connect(lambda: shown.append(time.perf_counter()))
    panel = window.segments
    panel.add_label("organ")
    window.scene.set_cursor(volume.center_lps())
    panel.grow_low.setValue(40)
    panel.grow_high.setValue(160)
    results = []
    for name, start, busy in (
        ("region growing", panel.grow, lambda: panel._busy),
        ("fill holes", panel.cleanup_buttons["Fill holes"].click, lambda: panel._busy),
        (
            "surface for 3D",
            lambda: window.show_label_surface(window.scene.active_label),
            lambda: window.status.current_task() is not None or not shown,
        ),
    ):
        probe.reset()
        frames.reset()
        shown.clear()
        start()
        seconds = wait(lambda busy=busy: not busy())  # the surface: until its frame is drawn
        settle = time.perf_counter() + 0.2  # the timer ticks again: the last gap is closed
        wait(lambda settle=settle: time.perf_counter() > settle)
        results.append((name, seconds, *split_stalls(probe.gaps, frames.frames)))
    print(
        f"volume {volume.shape[2]} x {volume.shape[1]} x {volume.shape[0]} "
        f"({volume.array.size / 1e6:.0f} M voxels)"
    )
    print(f"reference, idle event loop: longest gap {idle * 1000:.0f} ms")
    for name, seconds, plain, with_frame, frame in results:
        line = (
            f"{name}: {seconds:.1f} s until on screen, longest GUI stall "
            f"{plain * 1000:.0f} ms (target < 50 ms)"
        )
        if frame:
            line += (
                f"; the 3D frame showing it took {frame * 1000:.0f} ms to render, "
                f"{with_frame * 1000:.0f} ms with the window's repaint"
            )
        print(line)
    print(f"segmentation: {panel.status.text()}")
    print(f"3D view: {window.message.text()}")
    print(f"OpenGL: {opengl_renderer()}")
    sys.stdout.flush()
    window.close()
    os._exit(0)  # skip interpreter teardown of VTK/Qt objects (a benchmark, not the app)


if __name__ == "__main__":
    main()
