"""The Alzheimer twin in the window, as a neurologist prepares the board on the demo
`alzheimer-mci`: the twin chosen for the case, lecanemab and donanemab beside no treatment,
run in the workers; the outcome table says the model is a demonstration, the MMSE curve
(the milestone's score, first) has a band per scenario, and editing a visit's MMSE marks
every run out of date on screen."""

from __future__ import annotations

import pytest

from tests.support.comparison_tabs import click_tab

pytestmark = pytest.mark.gui


@pytest.fixture
def neurology_window(show_window, qtbot):
    window = show_window(1500, 950)
    window.open_demo_case("alzheimer-mci")
    qtbot.waitUntil(lambda: window.cases.case is not None
                    and window.cases.case.id == "demo-alzheimer-mci", timeout=120_000)  # fmt: skip
    qtbot.waitUntil(lambda: window.twin_panel.twin is not None, timeout=10_000)
    window.twins_dock.raise_()
    qtbot.waitUntil(lambda: not window.twin_panel.personalising(), timeout=60_000)
    yield window
    window.close()


def test_the_board_scenarios_on_every_tab(neurology_window, qtbot, shot):
    panel = neurology_window.twin_panel
    assert panel.twin.id == "alzheimer"  # the only twin that fits a memory clinic's case
    assert panel.baseline["treatment_start"].value == "2026-11-16"  # the last visit
    panel.add_scenario("Lecanemab", {"treatment": "lecanemab"})
    panel.add_scenario("Donanemab", {"treatment": "donanemab"})
    panel.run_all()
    qtbot.waitUntil(lambda: not panel.running(), timeout=300_000)
    for name in ("Baseline", "Lecanemab", "Donanemab"):
        qtbot.waitUntil(lambda name=name: panel._last_run(name) is not None, timeout=30_000)
        run = panel._last_run(name)
        assert run.status == "ok", run.error
    comparison = neurology_window.comparison
    table = comparison.table
    rows = {table.item(r, 0).text().split(" [")[0].split(" (")[0]: r
            for r in range(table.rowCount())}  # fmt: skip
    mmse = [float(table.item(rows["MMSE at the horizon"], c).text().split()[-3 if c > 1 else 0]
                  .lstrip("★")) for c in range(1, 4)]  # fmt: skip
    assert mmse[0] < mmse[1] < mmse[2]
    assert "not in the model" in table.item(rows["CDR-SB at the horizon"], 1).text()
    assert "DEMONSTRATION MODEL" in comparison.notes.text()

    click_tab(comparison, comparison.curves_page)
    assert comparison.series_choice.currentData() == "MMSE"
    qtbot.waitUntil(lambda: bool(comparison.figure.axes), timeout=5_000)
    bands = [c for c in comparison.figure.axes[0].collections if "band" in c.get_label()]
    assert len(bands) == 3
    shot(neurology_window, "alzheimer-curves")
    click_tab(comparison, comparison.tables_page)
    tables = comparison.tables_page
    tables.choice.setCurrentIndex(tables.choice.findData("model"))
    cells = {tables.table.item(r, c).text() for r in range(tables.table.rowCount())
             for c in range(tables.table.columnCount()) if tables.table.item(r, c)}  # fmt: skip
    assert any("demonstration only" in text for text in cells)

    # a visit's MMSE corrected: every run is now out of date, on screen
    case = neurology_window.cases.case
    visit = next(m for m in case.measurements if m.name == "MMSE")
    visit.value -= 3
    neurology_window.session.touch("measurements")
    qtbot.waitUntil(lambda: set(comparison.stale) == {"Baseline", "Lecanemab", "Donanemab"},
                    timeout=30_000)  # fmt: skip
    assert comparison.stale_bar.isVisible()
    assert "changed" in comparison.stale["Lecanemab"]


def test_a_failed_scenario_is_said_and_the_others_keep_their_colours(
    neurology_window, qtbot, tmp_path
):
    """A model file that is not Leaspy's fails its scenario: the comparison says which and
    why (no Python class name), and the remaining scenarios keep their colours."""
    bad = tmp_path / "not_leaspy.json"
    bad.write_text('{"name": "linear", "parameters": {}, "leaspy_version": "2.1.0"}')
    panel = neurology_window.twin_panel
    panel.add_scenario("Lecanemab", {"treatment": "lecanemab", "model_file": str(bad)})
    panel.add_scenario("Donanemab", {"treatment": "donanemab"})
    panel.run_all()
    qtbot.waitUntil(lambda: not panel.running(), timeout=300_000)
    qtbot.waitUntil(lambda: panel._last_run("Lecanemab") is not None, timeout=30_000)
    assert panel._last_run("Lecanemab").status == "failed"
    comparison = neurology_window.comparison
    qtbot.waitUntil(lambda: "Lecanemab failed" in comparison.notes.toolTip(), timeout=10_000)
    note = comparison.notes.text()
    assert "⚠ Lecanemab failed and is not compared: Model file not_leaspy.json" in note
    assert "TwinInputError" not in note
    click_tab(comparison, comparison.curves_page)

    def drawn() -> set[str]:  # the curves of the runs recorded so far
        axes = comparison.figure.axes
        return {line.get_label() for line in axes[0].lines} if axes else set()

    qtbot.waitUntil(lambda: "Donanemab" in drawn(), timeout=10_000)  # a draw can be partial
    colours = {line.get_label(): line.get_color() for line in comparison.figure.axes[0].lines}
    assert colours["Donanemab"] == "C2"  # its place among the scenarios, not among the drawn
