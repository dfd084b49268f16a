"""The Dravet twin in the window, as a paediatric neurologist prepares the board on the demo
`dravet-child`: the case opens without freezing the window (its EEG is written in the
background), the diary's myoclonic seizure lies on the EEG trace, the Dravet twin is chosen,
fenfluramine, stiripentol and lamotrigine run beside no add-on; lamotrigine is flagged
contraindicated and never best, the curves have a band per scenario, the evidence table names
the trial, and editing the diary marks every run out of date on screen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from meditwin_desktop.demo import dravet_diary
from tests.support.comparison_tabs import click_tab

pytestmark = pytest.mark.gui
NAME = "dravet-child"


@pytest.fixture
def board_window(show_window, qtbot):
    window = show_window(1500, 950)
    window.open_demo_case(NAME)
    qtbot.waitUntil(lambda: window.cases.case is not None
                    and window.cases.case.id == f"demo-{NAME}", timeout=120_000)  # fmt: skip
    qtbot.waitUntil(lambda: window.twin_panel.twin is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not window.twin_panel.personalising(), timeout=60_000)
    yield window
    window.close()


def _cells(table) -> dict[str, list[str]]:
    rows = {}
    for r in range(table.rowCount()):
        name = table.item(r, 0).text().split(" [")[0].split(" (")[0]
        rows[name] = [table.item(r, c).text() if table.item(r, c) else ""
                      for c in range(1, table.columnCount())]  # fmt: skip
    return rows


def test_the_board_compares_add_ons_and_sees_why_not_lamotrigine(board_window, qtbot, shot):
    window = board_window
    assert "diary entries" in window.message.text() and "recording" in window.message.text()
    panel = window.case_data
    window.case_data_dock.raise_()
    panel.tabs.setCurrentWidget(panel.recordings)
    panel.recordings.table.selectRow(0)
    qtbot.mouseClick(panel.recordings.edit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.viewers) == 1, timeout=10_000)
    [viewer] = panel.viewers.values()
    qtbot.waitUntil(lambda: viewer.canvas.page is not None, timeout=30_000)
    assert [(round(onset), kind) for onset, _, kind in viewer.canvas.events] == [
        (round(dravet_diary.MYOCLONIC_S), "myoclonic")]  # fmt: skip
    markers = viewer.open_markers()  # adults' published values are not a 6-year-old's
    qtbot.waitUntil(lambda: markers.markers is not None, timeout=60_000)
    assert markers.table.item(0, 2).text() == "adults only"
    assert "The patient was 6" in markers.warnings.text()
    markers.close()
    viewer.close()

    twins = window.twin_panel
    assert twins.twin.id == "dravet_epilepsy"
    window.twins_dock.raise_()
    twins.add_scenario("Fenfluramine", {"add_therapy": "fenfluramine"})
    twins.add_scenario("Stiripentol", {"add_therapy": "stiripentol"})
    twins.add_scenario("Lamotrigine", {"add_therapy": "lamotrigine"})
    twins.run_all()
    qtbot.waitUntil(lambda: not twins.running(), timeout=300_000)
    names = ("Baseline", "Fenfluramine", "Stiripentol", "Lamotrigine")
    for name in names:
        qtbot.waitUntil(lambda name=name: twins._last_run(name) is not None, timeout=30_000)
        assert twins._last_run(name).status == "ok", twins._last_run(name).error
    comparison = window.comparison
    rows = _cells(comparison.table)
    responders = [float(text.split()[0].lstrip("★")) for text in
                  rows["Chance of >= 50 % fewer convulsive seizures"][:4]]  # fmt: skip
    # no add-on: the trials' placebo-arm response; the drugs well above; lamotrigine below
    assert responders[0] < 35 and min(responders[1:3]) > 50 and responders[3] < responders[0]
    contraindications = rows["Contraindications"]
    assert "↑" in contraindications[3] and "↑" not in contraindications[0]
    assert all("★" not in cell for cell in (rows[k][3] for k in rows))  # best at nothing
    assert "CONTRAINDICATED" in comparison.notes.toolTip()
    shot(window, "dravet-comparison")

    click_tab(comparison, comparison.curves_page)
    qtbot.waitUntil(lambda: bool(comparison.figure.axes), timeout=5_000)
    bands = [c for c in comparison.figure.axes[0].collections if "band" in c.get_label()]
    assert len(bands) == 4
    shot(window, "dravet-curves")
    click_tab(comparison, comparison.tables_page)
    tables = comparison.tables_page
    tables.choice.setCurrentIndex(tables.choice.findData("evidence"))
    cells = {tables.table.item(r, c).text() for r in range(tables.table.rowCount())
             for c in range(tables.table.columnCount()) if tables.table.item(r, c)}  # fmt: skip
    assert any("Lancet 2019" in text for text in cells)

    # a seizure corrected in the diary: every run is now out of date, on screen
    case = window.cases.case
    first = next(e for e in case.events if e.kind == "generalised tonic-clonic")
    first.details = {**first.details, "count": 3}
    window.session.touch("events")
    qtbot.waitUntil(lambda: set(comparison.stale) == set(names), timeout=30_000)
    assert comparison.stale_bar.isVisible()
