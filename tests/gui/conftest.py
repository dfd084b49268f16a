"""GUI tests need a display with OpenGL: Xvfb (started by pytest-xvfb) or a real one."""

import gc
import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _needs_display():
    """Skip (with the fix) when no display exists; pytest-xvfb sets one when Xvfb is installed."""
    if not os.environ.get("DISPLAY"):
        pytest.skip("GUI tests need a display: install Xvfb (apt install xvfb) for pytest-xvfb")


@pytest.fixture(autouse=True)
def _collect_garbage_between_tests(qapp):
    """Python's collector runs at arbitrary allocations: left alone, it finalises the previous
    test's windows (Qt and VTK objects in reference cycles) in the middle of the next test's
    Qt calls; CI saw an abort inside QTableWidget.setItem, and the last session two other
    crashes. Here garbage is collected between tests, with the windows deleted and Qt idle."""
    from PySide6.QtCore import QEvent

    gc.collect()
    gc.disable()
    yield
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    qapp.processEvents()
    gc.enable()
    gc.collect()
    _no_stale_surface_wrappers()


def _no_stale_surface_wrappers() -> None:
    """Fail if a Python wrapper of a QOffscreenSurface outlived the test's windows.

    Qt owns a QOpenGLWidget's surface and deletes it with the widget without telling PySide
    (it is reached as a QSurface*): a wrapper kept past that stays in PySide's table under
    a freed address, and a QObject made there later is handed it, crashing at a distance
    (the segfaults that made the GUI tests run in a process of their own). Plotters are
    released with `view3d.release_plotter`, which drops these wrappers in time."""
    from PySide6.QtGui import QOffscreenSurface

    # type() only: isinstance() would ask stale wrappers for __class__
    left = sum(1 for o in gc.get_objects() if type(o) is QOffscreenSurface)
    assert left == 0, f"{left} QOffscreenSurface wrapper(s) outlived the test's windows"


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Each test starts as a new user: the settings file is shared by a test worker's tests,
    and a layout left by one (e.g. "1 x 3", where the 3D view is hidden and draws no frame)
    made a later one wait forever for a 3D frame, depending on which tests ran before it."""
    from meditwin_desktop.ui.window_views import settings

    stored = settings()
    stored.clear()
    stored.sync()


@pytest.fixture(autouse=True)
def private_library(tmp_path_factory, monkeypatch):
    """Each test's windows share a case library of their own: a series reopens the case
    saved for it, so a library shared across tests would carry one test's runs into the
    next. Returns `open_library(root)`, the real opener, for tests of the library itself."""
    from meditwin_desktop.ui import main_window

    real = main_window.open_library
    root = tmp_path_factory.mktemp("library")  # not in tmp_path: tests scan that
    monkeypatch.setattr(main_window, "open_library", lambda: real(root))
    return real


def _show_window(qtbot, width: int = 1400, height: int = 900):
    """A new main window, shown and exposed, with nothing open (closed by qtbot)."""
    from meditwin_desktop.ui.app import create_app
    from meditwin_desktop.ui.main_window import MainWindow

    create_app(install_exception_hook=False)
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(width, height)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def show_window(qtbot):
    """`show_window(width, height)`: a new main window, shown, with nothing open."""
    return lambda width=1400, height=900: _show_window(qtbot, width, height)


@pytest.fixture
def main_window(qtbot, demo_patient):
    """The main window, shown, with the demo patient open and rendered in all four views."""
    window = _show_window(qtbot)
    with qtbot.waitSignal(window.ready, timeout=120_000):
        window.open_demo()
    qtbot.wait(200)  # let the last paint events through
    yield window
    window.close()


@pytest.fixture
def shot(qtbot):
    """`shot(widget, name)`: with MEDITWIN_SHOTS=DIR set, save what the widget shows as
    DIR/name.png (to look at each tool in use); otherwise do nothing."""
    folder = os.environ.get("MEDITWIN_SHOTS")

    def save(widget, name: str) -> None:
        if folder:
            qtbot.wait(300)  # let the last paints and the 3D frame through
            Path(folder).mkdir(parents=True, exist_ok=True)
            widget.grab().save(str(Path(folder) / f"{name}.png"))

    return save
