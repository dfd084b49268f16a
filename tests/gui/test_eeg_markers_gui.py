"""EEG markers from the EEG viewer, as a clinician uses them: a real eyes-closed recording
added to a case, opened in the viewer, "Markers…" clicked, the table and spectrum read, the
markers saved as measurements of the recording's date; a recording without date asks for
one; closing the window while computing cancels the work.

Set MEDITWIN_SHOTS=DIR to keep screenshots of each step.
"""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.errors import Cancelled
from meditwin_desktop.ui import eeg_markers_view

pytestmark = pytest.mark.gui


@pytest.fixture
def window(show_window):
    window = show_window(1500, 950)
    window.switch_case(Case("Memory clinic test", "A-001"))
    window.case_data_dock.show()
    window.case_data_dock.raise_()
    yield window
    window.close()


def _eyes_closed(shared_data):
    path = shared_data / "eeg" / "physionet_eegmmidb" / "S001R02.edf"
    if not path.is_file():
        pytest.skip(f"EEG test data not found: {path}")
    return path


def _open_viewer(window, qtbot, path):
    panel = window.case_data
    panel.add_recording(str(path))
    case = window.session.case
    qtbot.waitUntil(lambda: len(case.recordings) == 1, timeout=10_000)
    panel.recordings.table.selectRow(0)
    qtbot.mouseClick(panel.recordings.edit_button, Qt.MouseButton.LeftButton)
    viewer = panel.viewers[case.recordings[0].id]
    qtbot.waitUntil(lambda: viewer.markers_button.isEnabled(), timeout=10_000)
    return viewer


def test_markers_button_computes_in_background_and_saves_measurements(
    window, qtbot, shot, shared_data, monkeypatch
):
    path = _eyes_closed(shared_data)
    threads = []
    real = eeg_markers_view.compute_file_markers

    def compute(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(eeg_markers_view, "compute_file_markers", compute)
    viewer = _open_viewer(window, qtbot, path)
    qtbot.waitUntil(lambda: viewer.canvas.page is not None, timeout=10_000)
    shot(viewer, "eeg_viewer_with_markers_button")
    qtbot.mouseClick(viewer.markers_button, Qt.MouseButton.LeftButton)
    view = viewer.markers_view
    assert view is not None and view.busy.isVisible()  # the click returned at once
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.table.rowCount() == 6, timeout=20_000)
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert not view.busy.isVisible()
    cells = {view.table.item(r, 0).text(): view.table.item(r, 1).text() for r in range(6)}
    assert cells["Peak alpha frequency (occipital)"] == "10.00 Hz"  # README: 10.00 Hz
    first_row = [view.table.item(0, c).text() for c in range(5)]
    assert "9.48" in first_row[2] and "8.24" in first_row[3] and "doi:" in first_row[4]
    assert view.table.item(1, 2).text() == "reference not available"
    assert "0 rejected" in view.status.text()
    axes = view.figure.axes[0]
    assert axes.get_yscale() == "log" and "peak 10.00 Hz" in [
        t.get_text() for t in axes.get_legend().get_texts()
    ]
    assert view.save_button.text() == "Save as measurements of 2009-08-12"
    shot(view, "eeg_markers")
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    case = window.session.case
    saved = [m for m in case.measurements if m.source == "EEG S001R02.edf"]
    assert len(saved) == 6 and {m.date for m in saved} == {"2009-08-12"}
    peak = next(m for m in saved if m.name == "Peak alpha frequency")
    assert (peak.value, peak.unit, peak.target) == (10.0, "Hz", "occipital")
    assert window.case_data.measurements.table.rowCount() == 6  # the view shows them
    assert "6 measurements of 2009-08-12 added" in view.status.text()
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)  # again: replaced, not doubled
    assert len(case.measurements) == 6 and "replaced" in view.status.text()
    shot(window, "eeg_markers_saved")
    viewer.close()


def test_a_recording_without_date_asks_for_one(qtbot, shared_data, monkeypatch):
    path = _eyes_closed(shared_data)
    saved = []

    def start(name, fn, *args, on_done, on_failed, quiet):
        try:
            on_done(fn(*args))  # at once, on this thread: the view under test, not the runner
        except Exception as error:  # the view shows any failure
            on_failed(error)

    monkeypatch.setattr(eeg_markers_view, "ask_date", lambda *_: "2024-05-02")
    view = eeg_markers_view.EegMarkersView(
        str(path), start, None, lambda rows: saved.extend(rows) or "ok"
    )
    qtbot.addWidget(view)
    assert view.table.rowCount() == 6 and view.save_button.text() == "Save as measurements…"
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert {m.date for m in saved} == {"2024-05-02"} and len(saved) == 6
    assert view.save_button.text() == "Save as measurements of 2024-05-02"


def test_closing_the_window_while_computing_cancels_it(window, qtbot, shared_data, monkeypatch):
    path = _eyes_closed(shared_data)
    seen = threading.Event()

    def slow(path, line, *, progress=None, cancelled=None):
        for _ in range(500):  # at most 5 s
            if cancelled():
                seen.set()
                raise Cancelled()
            threading.Event().wait(0.01)
        raise AssertionError("never cancelled")

    monkeypatch.setattr(eeg_markers_view, "compute_file_markers", slow)
    viewer = _open_viewer(window, qtbot, path)
    view = viewer.open_markers()
    qtbot.waitExposed(view)
    view.close()
    qtbot.waitUntil(seen.is_set, timeout=5000)
    viewer.close()


def test_a_recording_dated_on_no_visit_asks_which_visit(qtbot, shared_data, monkeypatch):
    """A de-identified EDF may carry a made-up date: one that is no visit of the case is
    confirmed (the dialog opens on it), one that is a visit is not asked about."""
    from datetime import datetime

    path = _eyes_closed(shared_data)
    saved, asked = [], []

    def start(name, fn, *args, on_done, on_failed, quiet):
        on_done(fn(*args))

    def ask(parent, file_name, dated=""):
        asked.append(dated)
        return "2026-11-16"

    monkeypatch.setattr(eeg_markers_view, "ask_date", ask)
    view = eeg_markers_view.EegMarkersView(
        str(path), start, datetime(1985, 1, 1), lambda rows: saved.extend(rows) or "ok"
    )
    qtbot.addWidget(view)
    view.visit_dates = {"2025-11-17", "2026-11-16"}
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert asked == ["1985-01-01"] and {m.date for m in saved} == {"2026-11-16"}
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)  # now a visit: not asked
    assert asked == ["1985-01-01"]
