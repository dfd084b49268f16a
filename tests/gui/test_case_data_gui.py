"""The "Case data" dock, used as a clinician would: real tabs and buttons, a measurement
added, a French seizure diary imported through the mapping dialog, an EEG recording added
and paged through in the viewer, a missing file reported.

Set MEDITWIN_SHOTS=DIR to keep screenshots of each step (to look at them).
"""

from __future__ import annotations

import threading
from datetime import datetime

import numpy as np
import pytest
from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QTabBar

from meditwin_desktop.core.case import Case, Event, Medication, Recording
from meditwin_desktop.ui import case_data_panel, diary_view, eeg_viewer
from meditwin_desktop.ui.csv_import_dialog import CsvImportDialog
from meditwin_desktop.ui.measurements_view import MeasurementDialog

pytestmark = pytest.mark.gui

DIARY = (
    "Date;Heure;Type de crise;Durée (min);Traitement de secours;Contexte\n"
    "03/02/2024;21h40;tonico-clonique;2,5;midazolam buccal;fièvre\n"
    "05/02/2024;07:05;myoclonique;0,5;;\n"
    "14/02/2024;12:00;tonico-clonique;4;midazolam buccal;\n"
    "15/02/2024;03:30;focale;1;;au réveil\n"
)


@pytest.fixture
def window(show_window):
    window = show_window(1500, 950)
    case = Case("Dravet test", "D-001", clinical={"weight_kg": 20.0})
    case.medications.append(Medication("stiripentol", 1000, "mg/day", "2023-01-10"))
    window.switch_case(case)
    window.case_data_dock.show()
    window.case_data_dock.raise_()
    yield window
    window.close()


def _click_tab(qtbot, tabs, title: str) -> None:
    bar = tabs.findChild(QTabBar)
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert tabs.currentIndex() == index


def _click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _modal(qtbot, kind):
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), kind), timeout=5000)
    return QApplication.activeModalWidget()


def test_add_a_measurement_and_see_mg_per_kg(window, qtbot, shot):
    panel = window.case_data
    _click_tab(qtbot, panel.tabs, "Medications")
    table = panel.medications.table
    assert table.item(0, 0).text() == "stiripentol" and table.item(0, 3).text() == "50"
    shot(window.case_data_dock, "case_data_medications")
    _click_tab(qtbot, panel.tabs, "Measurements")
    assert not panel.measurements.figure.axes[0].axison  # a message, no empty 0-1 axes
    _click(qtbot, panel.measurements.add_button)
    dialog = _modal(qtbot, MeasurementDialog)
    dialog.name.setCurrentText("LDL cholesterol")
    dialog.value.setText("4,1")  # a decimal comma, as typed in France
    dialog.unit.setCurrentText("mmol/l")
    dialog.date.setDate(QDate(2024, 3, 12))
    _click(qtbot, dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok))
    case = window.session.case
    assert [(m.name, m.value, m.unit, m.date) for m in case.measurements] == [
        ("LDL cholesterol", 4.1, "mmol/L", "2024-03-12")
    ]
    assert window.session.dirty and panel.measurements.table.rowCount() == 1
    _click(qtbot, panel.measurements.add_button)  # a second, in another unit: one plot unit
    dialog = _modal(qtbot, MeasurementDialog)
    dialog.name.setCurrentText("LDL cholesterol")
    dialog.value.setText("120")
    dialog.unit.setCurrentText("parsecs")
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    _click(qtbot, ok)
    assert dialog.isVisible() and "unknown unit 'parsecs'" in dialog.problem.text()
    dialog.unit.setCurrentText("mg/dL")
    dialog.date.setDate(QDate(2024, 9, 2))
    _click(qtbot, ok)
    assert len(case.measurements) == 2
    view = panel.measurements
    assert view.series.currentText() == "LDL cholesterol"
    view.plot_unit.setCurrentText("mmol/L")
    (line,) = view.figure.axes[0].get_lines()
    assert view.figure.axes[0].axison
    assert line.get_ydata()[1] == pytest.approx(120 / 38.665, rel=1e-3)
    shot(window.case_data_dock, "case_data_measurements")
    _click(qtbot, panel.measurements.add_button)  # a score outside its scale: refused here
    dialog = _modal(qtbot, MeasurementDialog)
    dialog.name.setCurrentText("MMSE")
    dialog.value.setText("35")
    dialog.unit.setCurrentText("points")
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    _click(qtbot, ok)
    assert dialog.isVisible() and "MMSE 35 is outside its scale (0-30)" in dialog.problem.text()
    dialog.reject()
    assert len(case.measurements) == 2


def test_import_a_french_diary_through_the_dialog(window, qtbot, shot, tmp_path, monkeypatch):
    path = tmp_path / "journal.csv"
    path.write_bytes(DIARY.encode("cp1252"))
    monkeypatch.setattr(case_data_panel, "ask_file", lambda *_: str(path))
    panel = window.case_data
    _click_tab(qtbot, panel.tabs, "Diary")
    _click(qtbot, panel.diary.findChild(type(panel.diary.add_button), "events_import"))
    dialog = _modal(qtbot, CsvImportDialog)
    qtbot.waitUntil(lambda: dialog.import_button.isEnabled(), timeout=5000)
    assert dialog.mapping()["duration"] == "Durée (min)" and dialog.mapping()["note"] is None
    assert dialog.preview.rowCount() == 4
    assert dialog.preview.item(0, 4).text() == "2 min 30 s"
    assert dialog.preview.item(0, 2).text() == "generalised tonic-clonic"
    dialog.set_column("Contexte", "note")  # not guessed: chosen in its combo
    qtbot.waitUntil(lambda: dialog.preview.item(3, 6).text() == "au réveil", timeout=2000)
    shot(dialog, "csv_import_dialog")
    _click(qtbot, dialog.import_button)
    case = window.session.case
    qtbot.waitUntil(lambda: len(case.events) == 4, timeout=5000)
    assert case.events[0] == Event(
        "2024-02-03T21:40:00",
        "generalised tonic-clonic",
        150.0,
        {"as_written": "tonico-clonique", "rescue": "midazolam buccal"},
        "fièvre",
    )
    assert window.session.dirty and panel.diary.table.rowCount() == 4
    assert "4 event(s) imported" in panel.message.text()
    window.cases.save("test")  # stored by the library, read back as imported
    qtbot.waitUntil(lambda: not window.cases.saving(), timeout=10_000)
    assert window.session.library.load(case.id).events == case.events
    bars = panel.diary.figure.axes[0].patches
    assert sorted(round(b.get_height()) for b in bars if b.get_height()) == [1, 1, 1, 1]
    shot(window.case_data_dock, "case_data_diary")
    shot(window, "case_data_in_window")
    _click_tab(qtbot, panel.diary.views, "Calendar")
    calendar = panel.diary.calendar  # the month of the last event, its days marked
    assert (calendar.yearShown(), calendar.monthShown()) == (2024, 2)
    assert calendar.dateTextFormat(QDate(2024, 2, 14)).background().color().red() > 150
    shot(window.case_data_dock, "case_data_diary_calendar")


def test_a_diary_with_a_bad_line_names_it_in_the_dialog(window, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "bad.csv"
    path.write_text("date,type,duration\n2024-01-01,focal,30\n2024-01-02,focal,forever\n")
    monkeypatch.setattr(case_data_panel, "ask_file", lambda *_: str(path))
    window.case_data.import_csv("diary")
    dialog = _modal(qtbot, CsvImportDialog)
    qtbot.waitUntil(lambda: "line 3" in dialog.message.text(), timeout=5000)
    assert "column 'duration': 'forever' is not a duration" in dialog.message.text()
    assert not dialog.import_button.isEnabled()
    dialog.set_column("duration", None)  # leave the durations out: the rest imports
    qtbot.waitUntil(lambda: dialog.import_button.isEnabled(), timeout=2000)
    _click(qtbot, dialog.import_button)
    qtbot.waitUntil(lambda: len(window.session.case.events) == 2, timeout=5000)


def test_diary_counts_no_seizure_days_and_gaps_in_the_view(window, qtbot, shot):
    case = window.session.case
    case.events += [
        Event("2024-06-03T08:00:00", "generalised tonic-clonic"),
        Event("2024-06-10", "not recorded", None, {"until": "2024-06-16"}),  # a whole week
        Event("2024-06-18", "no seizure"),
    ]
    panel = window.case_data
    panel.diary.refresh()
    _click_tab(qtbot, panel.tabs, "Diary")
    _click(qtbot, panel.diary.add_button)  # a cluster of 4 tonic seizures, typed in French
    dialog = _modal(qtbot, diary_view.EventDialog)
    dialog.kind.setCurrentText("tonique")
    dialog.count.setValue(4)
    dialog.time.setDateTime(QDateTime(QDate(2024, 6, 4), QTime(7, 0)))
    _click(qtbot, dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok))
    assert case.events[-1] == Event(
        "2024-06-04T07:00:00", "tonic", None, {"as_written": "tonique", "count": 4}
    )
    table = panel.diary.table
    assert [table.item(1, c).text() for c in range(3)] == ["2024-06-04 07:00", "tonic", "4"]
    assert table.item(2, 3).text() == "until 2024-06-16" and table.item(3, 2).text() == ""
    weeks, convulsive, other, reported = panel.diary.weekly  # from daily_counts
    assert [f"{w:%d/%m}" for w in weeks] == ["03/06", "10/06", "17/06"]
    np.testing.assert_array_equal(convulsive, [5, np.nan, 0])  # the gap is no zero
    np.testing.assert_array_equal(other, [0, np.nan, 0])
    np.testing.assert_array_equal(reported, [7, 0, 2])
    axes = panel.diary.figure.axes[0]
    assert [b.get_height() for b in axes.containers[0]] == [5, 0]  # no bar for the gap week
    assert "7 days not recorded" in panel.diary.summary.text()
    shot(window.case_data_dock, "case_data_diary_counts")
    _click_tab(qtbot, panel.diary.views, "Calendar")
    colour = lambda d: panel.diary.calendar.dateTextFormat(d).background().color().name()  # noqa: E731
    assert colour(QDate(2024, 6, 12)) == diary_view.GAP_COLOUR
    assert colour(QDate(2024, 6, 18)) == diary_view.FREE_COLOUR
    assert colour(QDate(2024, 6, 4)) == diary_view.CONVULSIVE_COLOUR
    assert "not recorded" in panel.diary.legend.text()
    shot(window.case_data_dock, "case_data_diary_calendar_gaps")
    _click(qtbot, panel.diary.add_button)  # two days the diary was not kept
    dialog = _modal(qtbot, diary_view.EventDialog)
    dialog.kind.setCurrentText("non renseigné")
    assert dialog.until.isEnabled() and not dialog.count.isEnabled()
    dialog.time.setDateTime(QDateTime(QDate(2024, 6, 20), QTime(0, 0)))
    dialog.until.setDate(QDate(2024, 6, 21))
    _click(qtbot, dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok))
    gap = case.events[-1]
    assert (gap.kind, gap.duration_s, gap.details) == (
        "not recorded", 2 * 86400.0, {"as_written": "non renseigné"})  # fmt: skip
    np.testing.assert_array_equal(panel.diary.weekly[3], [7, 0, 3])  # 17-19 June
    case.clinical["diary_unrecorded_days"] = "unknown"  # days without entry: not reported
    window.session.touch("clinical")  # as the Clinical panel announces it: the view follows
    np.testing.assert_array_equal(panel.diary.weekly[1], [5, np.nan, 0])
    assert colour(QDate(2024, 6, 5)) == diary_view.UNKNOWN_COLOUR  # no entry, unknown
    np.testing.assert_array_equal(panel.diary.weekly[3], [2, 0, 1])
    assert np.isnan(panel.diary.diary.convulsive[-2:]).all()  # 20-21 June: not recorded


def test_diary_events_on_the_eeg_time_line_with_utc_offsets():
    start = datetime(2024, 3, 31, 1, 0)  # an EDF start: local wall clock, no zone
    events = [
        Event("2024-03-31T01:30:00", "tonic", 20.0),
        Event("2024-03-31T03:15:00+02:00", "GTC", 90.0),  # after the clocks went forward
        Event("2024-03-31T09:00:00", "absence"),  # after the recording
    ]
    marks = eeg_viewer.event_marks(events, start, duration_s=4 * 3600)
    assert marks == [(1800.0, 20.0, "tonic"), (8100.0, 90.0, "GTC")]  # by the wall clock


def test_a_utc_diary_time_lands_on_the_recordings_local_clock():
    start = datetime(2024, 6, 1, 2, 0)  # recorded in Paris (CEST, +02:00)
    utc = [Event("2024-06-01T00:30:00Z", "GTC"), Event("2024-06-01", "absence")]
    marks = eeg_viewer.event_marks(utc, start, 3600, "Europe/Paris")
    assert marks == [(1800.0, 0.0, "GTC")]  # 00:30 UTC is 02:30 in Paris; a day alone: no mark
    assert eeg_viewer.event_marks(utc, start, 3600, "Mars/Olympus") == []  # unknown zone: as
    # written (00:30, before the recording), never an error


def test_add_an_eeg_recording_and_page_through_it(window, qtbot, shot, shared_data, monkeypatch):
    path = shared_data / "eeg" / "physionet_eegmmidb" / "S001R02.edf"
    if not path.is_file():
        pytest.skip(f"EEG test data not found: {path}")
    monkeypatch.setattr(case_data_panel, "ask_file", lambda *_: str(path))
    threads = []
    real_prepare = eeg_viewer.prepare_page

    def prepare(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(eeg_viewer, "prepare_page", prepare)
    case = window.session.case
    case.events.append(Event("2009-08-12T16:15:14", "absence", 3.0))  # inside the recording
    panel = window.case_data
    _click_tab(qtbot, panel.tabs, "Recordings")
    _click(qtbot, panel.recordings.add_button)
    qtbot.waitUntil(lambda: len(case.recordings) == 1, timeout=10_000)
    recording = case.recordings[0]
    assert (recording.kind, recording.start) == ("EEG", "2009-08-12T16:15:00")
    assert "64 channels, 160 Hz" in recording.description
    assert panel.recordings.table.item(0, 1).text() == "ready"
    shot(window.case_data_dock, "case_data_recordings")
    panel.recordings.table.selectRow(0)
    _click(qtbot, panel.recordings.edit_button)  # "Open in viewer"
    viewer = panel.viewers[recording.id]
    assert viewer.edf is None  # opened in the background: the click returned at once
    qtbot.waitExposed(viewer)
    qtbot.waitUntil(lambda: viewer.canvas.page is not None, timeout=10_000)
    assert viewer.canvas.page.data.shape[0] == 64 and viewer.canvas.events[0][2] == "absence"
    shot(viewer, "eeg_page_1")
    with qtbot.waitSignal(viewer.page_shown, timeout=10_000) as shown:
        qtbot.keyClick(viewer.canvas, Qt.Key.Key_Right)
    assert shown.args == [10.0] and "10–20 s of 61 s" in viewer.position.text()
    viewer.montage.setCurrentIndex(2)  # double banana
    viewer.low.setCurrentIndex(eeg_viewer.LOW_CUTS.index(1.0))
    viewer.high.setCurrentIndex(eeg_viewer.HIGH_CUTS.index(35.0))
    viewer.notch.setCurrentIndex(eeg_viewer.NOTCHES.index(60.0))

    def filtered_banana() -> bool:
        page = viewer.canvas.page
        return page is not None and page.names[0] == "Fp1-F7" and page.request.notch == 60.0

    qtbot.waitUntil(filtered_banana, timeout=10_000)
    assert viewer.canvas.page.data.shape[0] == 18
    shot(viewer, "eeg_banana_page_2")
    assert threads and all(t is not threading.main_thread() for t in threads)
    viewer.scroll.setValue(viewer.scroll.maximum())
    qtbot.waitUntil(lambda: viewer.canvas.page.request.start_s == 51.0, timeout=10_000)
    viewer.close()


def test_a_recording_whose_file_is_missing_says_so(window, qtbot, tmp_path):
    case = window.session.case
    case.recordings.append(Recording(str(tmp_path / "gone.edf"), "EEG", "2024-01-01T10:00:00"))
    window.session.touch("recordings")
    panel = window.case_data
    _click_tab(qtbot, panel.tabs, "Recordings")
    assert panel.recordings.table.item(0, 1).text() == "FILE MISSING"
    panel.recordings.table.selectRow(0)
    _click(qtbot, panel.recordings.edit_button)
    assert "missing" in panel.message.text() and "gone.edf" in panel.message.text()
    assert not panel.viewers


def test_an_unreadable_recording_is_refused_with_a_reason(window, qtbot, tmp_path, monkeypatch):
    bad = tmp_path / "notes.edf"
    bad.write_text("not a recording")
    monkeypatch.setattr(case_data_panel, "ask_file", lambda *_: str(bad))
    panel = window.case_data
    _click_tab(qtbot, panel.tabs, "Recordings")
    _click(qtbot, panel.recordings.add_button)
    qtbot.waitUntil(lambda: "not an EDF or BDF file" in panel.message.text(), timeout=5000)
    assert not window.session.case.recordings


def test_switching_case_replaces_every_tab(window, qtbot):
    panel = window.case_data
    window.session.case.events.append(Event("2024-01-01T10:00:00", "focal"))
    window.session.touch("events")
    assert panel.diary.table.rowCount() == 1
    window.switch_case(Case("Another"))
    assert panel.diary.table.rowCount() == 0 and panel.medications.table.rowCount() == 0
    window.switch_case(None)
    assert not panel.measurements.isEnabled()


def test_edit_and_delete_a_medication_and_follow_the_weight(window, qtbot):
    from meditwin_desktop.ui.medications_view import MedicationDialog, mg_per_kg_day

    assert mg_per_kg_day(1.5, "g/day", 30.0) == pytest.approx(50.0)
    assert mg_per_kg_day(10, "mg", 30.0) is None and mg_per_kg_day(500, "mg/day", None) is None
    panel = window.case_data
    _click_tab(qtbot, panel.tabs, "Medications")
    view = panel.medications
    view.table.selectRow(0)
    _click(qtbot, view.edit_button)
    dialog = _modal(qtbot, MedicationDialog)
    dialog.dose.setValue(700.0)
    dialog.stopped.setChecked(True)
    dialog.stop.setDate(QDate(2022, 1, 1))  # before the start: refused
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    _click(qtbot, ok)
    assert dialog.isVisible() and "before the start date" in dialog.problem.text()
    dialog.stop.setDate(QDate(2024, 6, 30))
    _click(qtbot, ok)
    (medication,) = window.session.case.medications
    assert (medication.dose, medication.stop) == (700.0, "2024-06-30")
    assert view.table.item(0, 3).text() == "35"  # 700 mg/day at 20 kg
    window.session.case.clinical["weight_kg"] = 35.0
    window.session.touch("clinical")
    assert view.table.item(0, 3).text() == "20"
    view.table.selectRow(0)
    _click(qtbot, view.delete_button)
    assert not window.session.case.medications and view.table.rowCount() == 0
