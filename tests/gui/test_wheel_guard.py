"""Scrolling the clinical form over a drop-down list never changes it (review of issue 20:
APOE e3/e4 became e4/e4 and was saved); once the user clicks the list, the wheel is theirs."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox

pytestmark = pytest.mark.gui


def _wheel(widget, steps: int = -2) -> None:
    centre = QPointF(widget.rect().center())
    where = QPointF(widget.mapToGlobal(centre.toPoint()))
    event = QWheelEvent(centre, where, QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)  # fmt: skip
    QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_past_a_clinical_choice(show_window, qtbot):
    window = show_window(1400, 900)
    window.open_demo_case("fh-patient")
    qtbot.waitUntil(lambda: window.cases.case is not None, timeout=60_000)
    window.clinical_dock.raise_()
    sex = window.findChild(QComboBox, "clinical_sex")
    qtbot.waitUntil(sex.isVisible, timeout=5_000)
    assert sex is not None and sex.currentText() == "male"
    sex.clearFocus()
    _wheel(sex, 2)  # up: towards "female"
    qtbot.wait(50)
    assert sex.currentText() == "male"
    assert window.cases.case.clinical["sex"] == "male"
    window.close()


def test_a_clicked_list_takes_the_wheel(qtbot):
    combo = QComboBox()
    combo.addItems(["e3/e3", "e3/e4", "e4/e4"])
    qtbot.addWidget(combo)
    combo.show()
    combo.activateWindow()
    qtbot.waitActive(combo)
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus, timeout=2_000)
    _wheel(combo, -1)  # focused (clicked or tabbed to): the wheel is the user's
    assert combo.currentText() == "e3/e4"
