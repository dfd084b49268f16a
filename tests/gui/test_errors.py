"""Errors never take the window down: unhandled exceptions are logged and shown; bad input
gets a message a clinician can act on."""

import threading

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from meditwin_desktop.core.imaging.dicom.write import SeriesHeader, write_ct_series
from meditwin_desktop.core.imaging.geometry import affine_from
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.logs import setup_logging
from meditwin_desktop.ui.crash import ExceptionReporter
from meditwin_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def reporter(qapp):
    import sys

    saved = sys.excepthook, threading.excepthook
    reporter = ExceptionReporter()
    reporter.install()
    yield reporter
    sys.excepthook, threading.excepthook = saved
    if reporter.dialog is not None:
        reporter.dialog.close()


@pytest.mark.qt_no_exception_capture
def test_exception_in_a_slot_is_logged_and_shown(qtbot, reporter):
    log_path = setup_logging()

    def boom():
        raise ZeroDivisionError("deliberate zero division in a slot")

    QTimer.singleShot(0, boom)
    qtbot.waitUntil(lambda: reporter.dialog is not None, timeout=5000)
    assert "ZeroDivisionError" in reporter.dialog.text()
    assert str(log_path) in reporter.dialog.text()
    for handler in __import__("logging").getLogger().handlers:
        handler.flush()
    assert "deliberate zero division in a slot" in log_path.read_text()


@pytest.mark.qt_no_exception_capture
def test_exception_in_a_thread_is_shown_in_the_gui_thread(qtbot, reporter):
    thread = threading.Thread(target=lambda: 1 / 0)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: reporter.dialog is not None, timeout=5000)
    assert reporter.dialog.thread() is QApplication.instance().thread()


def _window(qtbot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_folder_without_dicom_says_so(qtbot, tmp_path):
    (tmp_path / "readme.txt").write_text("no images here")
    window = _window(qtbot)
    window.open_folder(tmp_path)
    qtbot.waitUntil(lambda: "No DICOM series" in window.message.text(), timeout=10_000)
    assert "1 files skipped" in window.patients.summary.text()


def _broken_series(folder, truncate: list[int]) -> None:
    volume = Volume(np.zeros((4, 8, 8), np.int16), affine_from([0, 0, 0], np.eye(3), [1, 1, 1]))
    paths = write_ct_series(volume, folder, SeriesHeader("BROKEN^CASE", "B1", uid_seed="b"))
    for n in truncate:
        data = paths[n].read_bytes()
        paths[n].write_bytes(data[: len(data) - 60])  # truncated pixel data


def test_partial_series_opens_with_its_warnings_shown(qtbot, tmp_path):
    _broken_series(tmp_path, truncate=[1])
    window = _window(qtbot)
    window.open_folder(tmp_path)
    qtbot.waitUntil(
        lambda: window.findChild(QMessageBox, "warnings_dialog") is not None, timeout=10_000
    )
    box = window.findChild(QMessageBox, "warnings_dialog")
    assert "Partial series" in box.text() and "IM00002.dcm" in box.text()
    assert window.scene.volume is not None and window.scene.volume.shape[0] == 4
    assert window.status.warnings.isVisible()
    box.close()


def test_unreadable_series_gives_a_message_and_the_window_lives_on(qtbot, tmp_path):
    _broken_series(tmp_path, truncate=[0, 1, 2, 3])
    window = _window(qtbot)
    window.open_folder(tmp_path)
    qtbot.waitUntil(
        lambda: window.findChild(QMessageBox, "error_dialog") is not None, timeout=10_000
    )
    box = window.findChild(QMessageBox, "error_dialog")
    assert "could be decoded" in box.text() and ".dcm" in box.text()
    assert window.isVisible()
    box.close()
