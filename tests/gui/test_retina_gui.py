"""The retina twin in the window, as an ophthalmologist prepares the board on the demo
`retina-hypertension`: the fundus photograph is on screen, a click on a vein picks the
occlusion point of a new scenario (the button takes it), the baseline, the occlusion and the
first visit run side by side on their own photographs, the artery/vein map is drawn with its
legend, and a vessel marked as artery with the
photograph's right-click menu marks every run out of date on screen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu, QPushButton

from meditwin_desktop.core.photo_marks import AV_MARKS_FIELD, parse_av_marks
from tests.support.comparison_tabs import click_tab

pytestmark = pytest.mark.gui
NAME = "retina-hypertension"


@pytest.fixture
def eye_window(show_window, qtbot):
    window = show_window(1500, 950)
    window.open_demo_case(NAME)
    qtbot.waitUntil(lambda: window.cases.case is not None
                    and window.cases.case.id == f"demo-{NAME}", timeout=120_000)  # fmt: skip
    qtbot.waitUntil(lambda: window.photo_view.photo is not None, timeout=30_000)
    window.twins_dock.raise_()
    qtbot.waitUntil(lambda: window.twin_panel.twin is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not window.twin_panel.personalising(), timeout=60_000)
    yield window
    window.close()


def _view_point(view, row: float, col: float) -> QPoint:
    """Where the photograph's pixel (row, col) is in the view's viewport."""
    return view.mapFromScene(QPointF(col + 0.5, row + 0.5))


def _a_vein_pixel(case) -> tuple[int, int]:
    """A pixel on a vein half-way along the photograph's longest true venous segment."""
    from meditwin_twins.retina_microcirculation.network import VEIN

    from meditwin_desktop.demo.retina_fundus import read_truth

    photo = Path(case.studies[case.active].reference["file"])
    truth = read_truth(photo.parents[1] / "truth.npz")
    kinds, lengths, paths = truth["kind"], truth["length_px"], truth["paths"]
    longest = max(np.flatnonzero(kinds == VEIN), key=lambda k: lengths[k])
    row, col = paths[longest][len(paths[longest]) // 2]
    return int(row), int(col)


def test_pick_an_occlusion_run_and_mark_a_vessel(eye_window, qtbot, shot):
    window = eye_window
    view, twins = window.photo_view, window.twin_panel
    assert twins.twin.id == "retina_microcirculation"
    case = window.cases.case
    row, col = _a_vein_pixel(case)

    # a click on the vein picks it; the new scenario's button takes the pick
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_view_point(view, row, col))
    assert view.last_click is not None
    assert abs(view.last_click[0] - row) <= 1.5 and abs(view.last_click[1] - col) <= 1.5
    scenario = twins.add_scenario("Branch vein occlusion", {"occlusion": "branch vein"})
    button = twins.findChild(QPushButton, "photo_point_occlusion_at")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    picked = scenario.overrides["occlusion_at"]
    assert abs(picked[0] - row) <= 1.5 and abs(picked[1] - col) <= 1.5
    assert "row" in twins.status.text() and "column" in twins.status.text()

    twins.add_scenario("First visit", {"visit": "2024-03-12"})
    twins.run_all()
    qtbot.waitUntil(lambda: not twins.running(), timeout=300_000)
    for name in ("Baseline", "Branch vein occlusion", "First visit"):
        qtbot.waitUntil(lambda name=name: twins._last_run(name) is not None, timeout=30_000)
        assert twins._last_run(name).status == "ok", twins._last_run(name).error

    comparison = window.comparison
    page = comparison.images_page
    click_tab(comparison, page)
    # each scenario on its own visit's photograph (the first visit's read from its file)
    assert "Grey background" not in page.note.text()
    assert "3 scenario(s)" in page.note.text()
    page.choice.setCurrentIndex(page.choice.findData("artery_vein"))
    qtbot.waitUntil(lambda: "artery, vein" in page.note.text(), timeout=10_000)
    legends = page.figure.legends
    assert legends and [t.get_text() for t in legends[0].get_texts()] == ["artery", "vein"]
    # the baseline's artery/vein map over the photograph on screen, to check the labels there
    qtbot.mouseClick(page.on_photo, Qt.MouseButton.LeftButton)
    assert view._overlay is not None and view._overlay.toolTip() == "Arteries and veins"
    shot(window, "retina_artery_vein")

    # the first visit on screen: the twin still fits, its baseline stays on the latest visit
    # (nothing goes out of date), and the map shown is the first-visit scenario's
    window.choose_study(0)
    qtbot.waitUntil(lambda: view.photo is not None and view.photo is case.studies[0].image,
                    timeout=30_000)  # fmt: skip
    qtbot.waitUntil(lambda: not twins.personalising(), timeout=60_000)
    assert twins.twin.id == "retina_microcirculation" and not twins.twin.missing(case)
    qtbot.wait(500)
    assert not comparison.stale
    assert view._overlay is not None
    twins.run_all()  # it hung in this state when the twin did not fit the loading study
    qtbot.waitUntil(lambda: not twins.running(), timeout=120_000)
    assert twins._last_run("First visit").status == "ok"
    window.choose_study(1)
    qtbot.waitUntil(lambda: view.photo is case.studies[1].image, timeout=30_000)

    # right-click on the vein: mark it as artery; the runs are now out of date on screen
    point = _view_point(view, row, col)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, view.mapToGlobal(point))
    QApplication.sendEvent(view.viewport(), event)
    menu = next(w for w in QApplication.topLevelWidgets()
                if isinstance(w, QMenu) and w.objectName() == "photo_menu")  # fmt: skip
    [action] = [a for a in menu.actions() if a.objectName() == "mark_artery"]
    action.trigger()
    menu.close()
    [(mark_row, mark_col, kind, date)] = parse_av_marks(case.clinical[AV_MARKS_FIELD])
    assert kind == "artery" and abs(mark_row - row) <= 1.5 and abs(mark_col - col) <= 1.5
    assert date == case.study.date  # the mark belongs to the photograph it was made on
    assert len(view._marks) == 1
    qtbot.waitUntil(lambda: {"Baseline", "Branch vein occlusion", "First visit"}
                    <= set(comparison.stale),
                    timeout=30_000)  # fmt: skip
    assert comparison.stale_bar.isVisible()
