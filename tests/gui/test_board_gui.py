"""The board meeting in the window: an agenda of two library cases built in the agenda
editor, presented full screen (next/previous keys, the next case prefetched), a decision
recorded and signed, a crash during the meeting, and the new window resuming it at the same
case with the decision; the agenda and the meeting report as PDF.

Set MEDITWIN_SHOTS=DIR to keep screenshots of each step (to look at them).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

from meditwin_desktop.core.board import CLOSED, IN_PROGRESS, Meetings
from meditwin_desktop.ui.board_agenda import AgendaDialog
from meditwin_desktop.ui.presentation_layout import font_pixels

pytestmark = pytest.mark.gui

FH, NEONATE = "demo-fh-patient", "demo-neonate-hlhs"


def _saved_demo(window, qtbot, name: str) -> None:
    """Open a demo case (clinical data only) and save it in the window's library."""
    window.open_demo_case(name)
    qtbot.waitUntil(lambda: window.cases.case is not None
                    and window.cases.case.id == f"demo-{name}", timeout=10_000)  # fmt: skip
    window.cases_save()
    qtbot.waitUntil(lambda: not window.cases.saving(), timeout=10_000)
    assert window.session.library.exists(f"demo-{name}")


def _board_action(window, start: str):
    menu = window.findChild(QMenu, "board_menu")
    return next(a for a in menu.actions() if a.text().replace("&", "").startswith(start))


def _key(window, qtbot, key) -> None:
    """A key pressed in the presentation (shortcuts need the window active)."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    QTest.keyClick(window.focusWidget() or window, key)


def _on_screen(window, qtbot, index: int, case_id: str) -> None:
    qtbot.waitUntil(lambda: window.presentation.shown == index, timeout=10_000)
    assert window.cases.case.id == case_id


def _build_agenda(window, qtbot) -> AgendaDialog:
    _board_action(window, "New board meeting").trigger()
    dialog = window.findChild(AgendaDialog)
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.specialty, "Cardiology")
    qtbot.keyClicks(dialog.chair, "Dr Martin")
    for name, role in (("Dr Martin", "chair"), ("Dr Okafor", "cardiologist")):
        qtbot.mouseClick(dialog.add_attendee_button, Qt.MouseButton.LeftButton)
        row = dialog.attendees.rowCount() - 1
        dialog.attendees.item(row, 0).setText(name)
        dialog.attendees.cellWidget(row, 1).setEditText(role)
    qtbot.keyClicks(dialog.search, "hyperchol")  # the library list filters as one types
    assert dialog.library_list.count() == 1
    dialog.search.clear()
    ids = [dialog.library_list.item(r).data(Qt.ItemDataRole.UserRole)
           for r in range(dialog.library_list.count())]  # fmt: skip
    for case_id, question in ((NEONATE, "Which shunt?"), (FH, "Which lipid-lowering therapy?")):
        dialog.library_list.setCurrentRow(ids.index(case_id))
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        dialog.agenda.item(dialog.agenda.rowCount() - 1, 1).setText(question)
    dialog.agenda.setCurrentCell(1, 1)  # the FH case first
    qtbot.mouseClick(dialog.up_button, Qt.MouseButton.LeftButton)
    assert [i.case_id for i in dialog.read().items] == [FH, NEONATE]
    assert dialog.read().items[0].question == "Which lipid-lowering therapy?"
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    return dialog


def test_board_meeting_agenda_presentation_decision_and_crash_reopen(
    show_window, qtbot, tmp_path, shot
):
    window = show_window(1400, 900)
    library = window.session.library
    for name in ("fh-patient", "neonate-hlhs"):
        _saved_demo(window, qtbot, name)
    window.switch_case(None)

    # the agenda: built, saved, printed
    dialog = _build_agenda(window, qtbot)
    [meeting] = Meetings(library).list()
    assert meeting.specialty == "Cardiology" and meeting.chair == "Dr Martin"
    assert [(a.name, a.role) for a in meeting.attendees] == [
        ("Dr Martin", "chair"), ("Dr Okafor", "cardiologist")]  # fmt: skip
    assert [i.case_id for i in meeting.items] == [FH, NEONATE]
    dialog.export_agenda(tmp_path / "agenda.pdf")
    qtbot.waitUntil(lambda: "Agenda written" in dialog.message.text(), timeout=20_000)
    assert (tmp_path / "agenda.pdf").read_bytes().startswith(b"%PDF")
    shot(dialog, "board-agenda")

    # presented: full screen, header, the editing panels hidden
    qtbot.mouseClick(dialog.present_button, Qt.MouseButton.LeftButton)
    presentation = window.presentation
    assert presentation.active
    _on_screen(window, qtbot, 0, FH)
    qtbot.waitUntil(window.isFullScreen, timeout=5_000)
    assert not window.menuBar().isVisible() and not window.twins_dock.isVisible()
    assert not window.segmentation_dock.isVisible() and presentation.panel.isVisible()
    assert window.font().pixelSize() == font_pixels(window.screen().geometry().height())
    header = presentation.header
    assert header.position.text() == "Case 1 of 2"
    assert "Which lipid-lowering therapy?" in header.question.text()
    assert "Demo familial hypercholesterolaemia" in header.who.text()
    assert Meetings(library).load(meeting.id).state == IN_PROGRESS
    qtbot.waitUntil(lambda: NEONATE in presentation._cache, timeout=10_000)  # prefetched
    shot(window, "board-presentation")

    # next and previous keys; the prefetched case opens from the cache
    _key(window, qtbot, Qt.Key.Key_Right)
    _on_screen(window, qtbot, 1, NEONATE)
    assert header.position.text() == "Case 2 of 2" and "Which shunt?" in header.question.text()
    assert Meetings(library).load(meeting.id).current == 1  # saved at each move
    index, seconds, cached = presentation.open_times[-1]
    assert (index, cached) == (1, True)
    print(f"\nprefetched case on screen in {seconds * 1000:.1f} ms")
    _key(window, qtbot, Qt.Key.Key_PageUp)
    _on_screen(window, qtbot, 0, FH)

    # the decision for case 1: D, typed, recorded and signed on the revision seen
    _key(window, qtbot, Qt.Key.Key_D)
    form = presentation.panel.form
    assert form.option.hasFocus()
    assert window.twin_panel.twin is not None  # the case's twin: its scenarios offered
    assert form.option.findText("Baseline") >= 0
    qtbot.keyClicks(form.option.lineEdit(), "High-intensity statin and ezetimibe")
    qtbot.keyClicks(form.rationale, "LDL 240 mg/dL with FH; target < 70")
    qtbot.keyClicks(form.follow_up, "Lipids in 3 months")
    form.present.item(1).setCheckState(Qt.CheckState.Unchecked)  # Dr Okafor left the room
    qtbot.mouseClick(form.record, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: presentation.meeting.items[0].decision is not None, timeout=10_000)
    decision = presentation.meeting.items[0].decision
    assert decision.option == "High-intensity statin and ezetimibe"
    assert decision.present == ["Dr Martin"] and decision.signed_by and decision.signed_at
    assert decision.case_revision == library.history(FH)[0].revision
    assert "Recorded by" in form.status.text()
    assert any("board decision" in r.note for r in library.history(FH))
    shot(window, "board-decision")

    # to case 2: what is typed there and not recorded stays with it while moving around
    _key(window, qtbot, Qt.Key.Key_Space)
    _on_screen(window, qtbot, 1, NEONATE)
    qtbot.keyClicks(form.option.lineEdit(), "Sano")
    QTest.keyClick(form.option.lineEdit(), Qt.Key.Key_Left)  # in the text, not to case 1
    assert presentation.index == 1
    window.setFocus()  # the presenter clicks on the views
    _key(window, qtbot, Qt.Key.Key_Left)
    _on_screen(window, qtbot, 0, FH)
    _key(window, qtbot, Qt.Key.Key_PageDown)
    _on_screen(window, qtbot, 1, NEONATE)
    assert form.option.currentText() == "Sano" and "No decision" in form.status.text()

    # a crash: the window is dropped, a new one opens on the library
    opened = [f"{s * 1000:.1f} ms{' (prefetched)' if c else ''}"
              for _, s, c in presentation.open_times]  # fmt: skip
    print("cases on screen in: " + ", ".join(opened))
    window.hide()
    again = show_window(1400, 900)
    qtbot.waitUntil(lambda: again.findChild(QMessageBox, "board_resume") is not None,
                    timeout=10_000)  # fmt: skip
    box = again.findChild(QMessageBox, "board_resume")
    assert "case 2 of 2" in box.text() and "decisions recorded: 1" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    resumed = again.presentation
    _on_screen(again, qtbot, 1, NEONATE)
    assert resumed.meeting.items[0].decision == decision
    _key(again, qtbot, Qt.Key.Key_Left)
    _on_screen(again, qtbot, 0, FH)
    assert "Recorded by" in resumed.panel.form.status.text()  # shown on coming back
    assert resumed.panel.form.option.currentText() == decision.option

    # the meeting report, then Esc (still in progress) and the chair's end
    resumed.export_report(tmp_path / "meeting.pdf")
    qtbot.waitUntil(lambda: "Decision report written" in again.message.text(), timeout=30_000)
    assert (tmp_path / "meeting.pdf").read_bytes().startswith(b"%PDF")
    _key(again, qtbot, Qt.Key.Key_Escape)
    assert not resumed.active and again.menuBar().isVisible()
    qtbot.waitUntil(lambda: not again.isFullScreen(), timeout=5_000)
    assert resumed.header is None and resumed.panel is None
    assert Meetings(library).load(meeting.id).state == IN_PROGRESS
    resumed.start(Meetings(library).load(meeting.id))
    _on_screen(again, qtbot, 0, FH)
    qtbot.mouseClick(resumed.panel.end, Qt.MouseButton.LeftButton)
    assert Meetings(library).load(meeting.id).state == CLOSED
    assert not resumed.active


def test_board_texts_go_through_the_translations(show_window, qtbot):
    """In the pseudo language every text of the agenda, the presentation and the decision
    panel carries the translation mark, but the data (names, question, decision)."""
    from meditwin_desktop.core import i18n
    from meditwin_desktop.core.board import AgendaItem, Attendee, new_meeting
    from meditwin_desktop.ui.board_agenda import open_agenda
    from tests.gui.test_untranslated_text_gui import _untranslated

    i18n.set_language(i18n.PSEUDO)  # English again after the test (tests/conftest.py)
    window = show_window(1500, 950)
    _saved_demo(window, qtbot, "fh-patient")
    meeting = new_meeting("2026-12-08", "Cardiology", "Dr Martin", [Attendee("Dr Martin", "chair")])
    meeting.items = [AgendaItem(FH, "Which therapy?")]
    Meetings(window.session.library).save(meeting)
    case = window.cases.case
    data = {case.name, case.patient_id, "Cardiology", "Dr Martin", "Which therapy?", "2026-12-08",
            "Statin", *i18n.LANGUAGES.values()}  # fmt: skip
    dialog = open_agenda(window, meeting)
    qtbot.waitExposed(dialog)
    bad = _untranslated(window, data)
    qtbot.mouseClick(dialog.present_button, Qt.MouseButton.LeftButton)
    _on_screen(window, qtbot, 0, FH)
    form = window.presentation.panel.form
    qtbot.keyClicks(form.option.lineEdit(), "Statin")
    qtbot.mouseClick(form.record, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.presentation.meeting.items[0].decision is not None)
    bad += _untranslated(window, data | {"root", form.status.text().split()[-1]})
    window.presentation.leave()
    assert not bad, "\n".join(bad)
