"""Frames per second of the demo's 3D view while it rotates, and the cost of a still frame.

The real main window opens the demo patient (19 label surfaces); once its surfaces are
shown, the camera turns a full circle through the interactor style, as a mouse drag
does (StartRotate fires StartInteractionEvent: the view draws the surfaces' lighter
copies), then a full circle with no interaction (full detail: the in-run reference,
what every frame cost before the lighter copies), then still full-detail frames (what a
resize or an opened dock costs). Prints median and p95 frame times, fps against the
20 fps target, and the triangles drawn. Target: >= 20 fps while rotating under software
OpenGL. Run under a display:
`xvfb-run -a -s "-screen 0 1920x1080x24" env PYTHONPATH=. .venv/bin/python
tests/bench/bench_view3d_fps.py`
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

FRAMES = int(os.environ.get("BENCH_FRAMES", "60"))
TARGET_FPS = 20.0


def _wait(app, condition, timeout: float = 120.0) -> None:
    end = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError("the demo's 3D view did not get ready")
        app.processEvents()
        time.sleep(0.01)


def _frames(view, n: int, interacting: bool, turn: float = 360.0) -> tuple[list, list, int]:
    """Wall and CPU (all threads) ms per frame while the camera turns; triangles drawn."""
    plotter = view.plotter
    style = plotter.iren.interactor.GetInteractorStyle()
    if interacting:
        style.StartRotate()  # as a left-button press on the view: StartInteractionEvent
    triangles = view.triangles_drawn()
    times, cpu = [], []
    for _ in range(n):
        plotter.camera.Azimuth(turn / n)
        start, start_cpu = time.perf_counter(), time.process_time()
        plotter.ren_win.Render()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    if interacting:
        style.EndRotate()  # the release: EndInteractionEvent, full detail shortly after
    return times, cpu, triangles


def _line(name: str, frames: tuple[list, list, int]) -> str:
    times, cpu, triangles = frames
    median = statistics.median(times)
    p95 = sorted(times)[int(0.95 * (len(times) - 1))]
    fps = 1000 / median
    verdict = "meets" if fps >= TARGET_FPS else "misses"
    return (
        f"{name:36s} median {median:6.1f} ms  p95 {p95:6.1f} ms  {fps:5.1f} fps "
        f"({verdict} {TARGET_FPS:.0f})  CPU {statistics.median(cpu):6.1f} ms  "
        f"{triangles:>7,d} triangles"
    )


def main() -> None:
    os.environ.setdefault("MEDITWIN_HOME", tempfile.mkdtemp(prefix="meditwin-bench-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from meditwin_desktop.demo import ensure_demo
    from meditwin_desktop.ui.app import create_app, show_main_window
    from meditwin_desktop.ui.main_window import MainWindow
    from meditwin_desktop.ui.view3d import opengl_renderer

    ensure_demo()
    app = create_app(install_exception_hook=False)
    window = MainWindow()
    show_main_window(window, app)
    started = time.perf_counter()
    window.open_demo()
    view = window.view3d
    _wait(app, lambda: "rendered" in window.timings and not view._awaiting_frame)
    ready = time.perf_counter() - started
    for _ in range(30):  # let the last paints through
        app.processEvents()
        time.sleep(0.01)

    width, height = view.plotter.ren_win.GetSize()
    print(f"OpenGL: {opengl_renderer()}; 3D view {width} x {height} px")
    print(f"demo opened -> surfaces shown: {ready:.2f} s; {len(view._content)} structures")
    moving = _frames(view, FRAMES, interacting=True)
    _wait(app, lambda: view.detail == "full", timeout=5)
    reference = _frames(view, FRAMES, interacting=False)
    still = _frames(view, FRAMES // 2, interacting=False, turn=0.0)
    print(_line("rotating (lighter copies, no FXAA)", moving))
    print(_line("rotating at full detail (reference)", reference))
    print(_line("still frame, full detail", still))
    window.close()


if __name__ == "__main__":
    main()
