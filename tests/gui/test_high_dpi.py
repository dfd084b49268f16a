"""The window on a high-DPI screen (device pixel ratio 2), in a process of its own.

Qt's scale factor is fixed when the application starts, so the test runs the window in
a fresh Python with QT_SCALE_FACTOR=2 and reads back what it measured. The classic
failures it guards against: VTK rendering at the widget's logical size (the 3D picture
then fills only the lower-left quarter of its view, or is blurred), and views painted
at half resolution. Screenshots at 2x were looked at as well (sharp text and surfaces).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.gui

_SCRIPT = r"""
import json, sys
import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
from meditwin_desktop.ui.app import create_app
from meditwin_desktop.ui.main_window import MainWindow

app = create_app(install_exception_hook=False)
window = MainWindow()
window.set_layout("2 x 2")
window.resize(1200, 800)
window.show()


def quadrants(image, rect, ratio):
    # share of surface-coloured pixels (saturated, unlike the grey-blue background)
    # in each quadrant of `rect` (logical pixels) of a device-pixel image
    x0, y0 = round(rect.x() * ratio), round(rect.y() * ratio)
    w, h = round(rect.width() * ratio), round(rect.height() * ratio)
    rgb = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    rgb = rgb[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[..., :3]
    part = rgb[y0 : y0 + h, x0 : x0 + w].astype(int)
    colour = (part.max(axis=2) - part.min(axis=2)) > 60
    rows = np.array_split(colour, 2, axis=0)
    return [float(q.mean()) for half in rows for q in np.array_split(half, 2, axis=1)]


def check():
    plotter = window.view3d.plotter
    ratio = plotter.devicePixelRatioF()
    image = window.grab().toImage().convertToFormat(image_format)
    top_left = plotter.mapTo(window, plotter.rect().topLeft())
    rect = plotter.rect().translated(top_left)
    print(json.dumps({
        "ratio": ratio,
        "widget": [plotter.width(), plotter.height()],
        "render_window": list(plotter.ren_win.GetSize()),
        "grab": [image.width(), image.height()],
        "window": [window.width(), window.height()],
        "quadrants_3d": quadrants(image, rect, ratio),
    }))
    sys.stdout.flush()
    app.quit()


image_format = QImage.Format.Format_RGBA8888
window.ready.connect(lambda: QTimer.singleShot(1000, check))
window.open_demo()
app.exec()
"""


def test_window_renders_at_device_resolution_on_a_2x_screen(demo_patient, meditwin_home):
    env = {**os.environ, "QT_SCALE_FACTOR": "2", "QT_QPA_PLATFORM": "xcb"}
    env.pop("QT_SCREEN_SCALE_FACTORS", None)
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=240
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"the 2x window reported nothing:\n{done.stdout}\n{done.stderr[-3000:]}"
    seen = json.loads(lines[-1])
    assert seen["ratio"] == 2.0
    # VTK draws at device resolution: twice the widget's logical size
    assert seen["render_window"] == [2 * seen["widget"][0], 2 * seen["widget"][1]]
    assert seen["grab"] == [2 * seen["window"][0], 2 * seen["window"][1]]
    # the anatomy fills the 3D view around its centre: surfaces in each of its quadrants
    # (at the logical size the picture would sit in the lower-left quarter only)
    assert min(seen["quadrants_3d"]) > 0.02, seen["quadrants_3d"]
