"""The tumour-response twin in the window, as an oncologist prepares the board on the
follow-up demo: four dated studies, the diameters from the labels, three scenarios run in
the workers, then the comparison's outcome table (RECIST category, SLD at the horizon), the
SLD curve with its band, the waterfall chart and the RECIST table, each on its own tab."""

from __future__ import annotations

import pytest

from tests.support.comparison_tabs import click_tab

pytestmark = pytest.mark.gui


@pytest.fixture
def oncology_window(show_window, qtbot):
    window = show_window(1500, 950)
    window.open_demo_case("crc-liver-followup")
    qtbot.waitUntil(lambda: window.cases.case is not None
                    and len(window.cases.case.studies) == 4, timeout=120_000)  # fmt: skip
    qtbot.waitUntil(lambda: window.twin_panel.twin is not None, timeout=10_000)
    window.twins_dock.raise_()
    window.twin_panel.select_twin("tumor_response")
    qtbot.waitUntil(lambda: not window.twin_panel.personalising(), timeout=60_000)
    assert window.twin_panel.twin.id == "tumor_response"
    yield window
    window.close()


def test_three_scenarios_are_compared_on_every_tab(oncology_window, qtbot, shot):
    panel = oncology_window.twin_panel
    assert panel.baseline["change_date"].value == "2026-06-22"  # the last scan
    panel.add_scenario("Holiday", {"therapy": "stop"})
    panel.add_scenario("Ablate T1", {"local_lesion": "1"})
    panel.run_all()
    qtbot.waitUntil(lambda: not panel.running(), timeout=300_000)
    for name in ("Baseline", "Holiday", "Ablate T1"):
        qtbot.waitUntil(lambda name=name: panel._last_run(name) is not None, timeout=30_000)
        run = panel._last_run(name)
        assert run.status == "ok", run.error
    comparison = oncology_window.comparison
    table = comparison.table
    rows = {table.item(r, 0).text().split(" [")[0].split(" (")[0]: r
            for r in range(table.rowCount())}  # fmt: skip
    recist = rows["RECIST at the last scan"]
    assert [table.item(recist, c).text() for c in range(1, 4)] == ["PD"] * 3
    horizon = rows["SLD at the horizon"]
    baseline = float(table.item(horizon, 1).text().split()[0])
    best, ablated = table.item(horizon, 3).text().split()[:2]
    assert best == "★" and float(ablated) < baseline - 20  # the largest metastasis is gone

    click_tab(comparison, comparison.curves_page)
    assert comparison.series_choice.currentData() == "sld"  # the first curve: the SLD
    qtbot.waitUntil(lambda: bool(comparison.figure.axes), timeout=5_000)
    bands = [c for c in comparison.figure.axes[0].collections if "band" in c.get_label()]
    assert len(bands) == 3  # one shaded band per scenario
    shot(oncology_window, "tumour-curves")
    click_tab(comparison, comparison.charts_page)
    page = comparison.charts_page
    page.choice.setCurrentIndex(page.choice.findData("waterfall"))
    qtbot.waitUntil(lambda: bool(page.figure.axes), timeout=5_000)
    bars = page.figure.axes[0].patches
    assert len(bars) == 2 and all(b.get_height() < -30 for b in bars)  # both shrank > 30 %
    assert "same in every scenario" in page.note.text()
    shot(comparison, "tumour-waterfall")
    click_tab(comparison, comparison.tables_page)
    tables = comparison.tables_page
    tables.choice.setCurrentIndex(tables.choice.findData("recist"))
    cells = [tables.table.item(r, c) for r in range(tables.table.rowCount())
             for c in range(tables.table.columnCount())]  # fmt: skip
    categories = {cell.text() for cell in cells if cell is not None}
    assert {"PR", "SD", "PD"} <= categories
