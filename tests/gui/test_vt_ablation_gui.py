"""The VT twin in the window, driven as an electrophysiologist does on the post-MI demo
heart: the twin's six points come from one chooser and the crosshair button, the selected
scenario's pacing sites and lesion are marked on the slices, and a quick run (coarse grid,
short protocol, the runner's workers in parallel, one per pacing site) marks the isthmus on
the slices and in the 3D results, where the activation maps and the membrane movie are
compared side by side."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QPushButton

pytestmark = pytest.mark.gui

# coarse and short: a 2 mm grid (1.5 mm in the twin's own tests) still induces a VT on the
# demo heart from sites 1 and 3, and the three sites take 33 s in one process against 70 s
QUICK = {"grid_mm": "2.0", "s1_count": "2", "sustained_ms": "1500", "extrastimuli": "2"}


@pytest.fixture
def vt_window(show_window, qtbot):
    window = show_window(1500, 950)
    with qtbot.waitSignal(window.ready, timeout=120_000):
        window.open_demo_case("post-mi-vt")
    qtbot.waitUntil(lambda: window.cases.case is not None and window.cases.case.labels
                    is not None, timeout=60_000)  # fmt: skip
    qtbot.waitUntil(lambda: window.twin_panel.twin is not None, timeout=10_000)
    window.twins_dock.raise_()
    window.twin_panel.select_twin("vt_ablation")
    qtbot.waitUntil(lambda: not window.twin_panel.personalising(), timeout=60_000)
    assert window.twin_panel.twin.id == "vt_ablation"
    yield window
    window.close()


def _marks(window):
    layer = window.result_markers.layer
    return layer.marks


def test_points_come_from_the_crosshair_and_are_marked_on_the_slices(vt_window, qtbot, shot):
    panel = vt_window.twin_panel
    assert vt_window.minimumSizeHint().width() <= 1280  # six points, one chooser
    chooser = panel.findChild(QComboBox, "point_choice")
    button = panel.findChild(QPushButton, "point_set")
    names = [chooser.itemData(i) for i in range(chooser.count())]
    assert {"lesion_lps_mm", "line_end_lps_mm", "pacing_site_1_lps_mm",
            "electrode_lps_mm"} <= set(names)  # fmt: skip
    qtbot.waitUntil(lambda: _marks(vt_window) is not None, timeout=5_000)
    texts = {m.text for m in _marks(vt_window).points}
    assert {"Pacing site 1", "Pacing site 2", "Pacing site 3"} <= texts

    site = np.asarray(panel.baseline["pacing_site_2_lps_mm"].value, float)
    scenario = panel.add_scenario("point lesion", {"ablation": "point"})
    vt_window.scene.set_cursor(site.copy())  # a point on the healthy myocardium
    chooser.setCurrentIndex(chooser.findData("lesion_lps_mm"))
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    assert np.allclose(scenario.overrides["lesion_lps_mm"], site, atol=1.0)
    qtbot.waitUntil(
        lambda: any(m.text.startswith("Lesion") and np.allclose(m.lps, site, atol=1.0)
                    for m in _marks(vt_window).points), timeout=5_000)  # fmt: skip
    shot(vt_window, "vt-points")


def test_a_quick_run_marks_the_isthmus_and_plays_the_maps(vt_window, qtbot, shot):
    from meditwin_desktop.core.twin import Personalized

    panel = vt_window.twin_panel
    for name, value in QUICK.items():  # the baseline itself runs quick (as set by hand)
        panel.baseline[name] = Personalized(float(value), "quick test setting")
    panel.run_all()  # the baseline: its three pacing sites in the runner's workers
    comparison = vt_window.comparison
    assert panel.running()  # preparing
    qtbot.waitUntil(lambda: not panel.running(), timeout=600_000)
    # the run is recorded when the GUI thread gets its end, a moment after `running()`
    # turns false (it reads the handles); a failed preparation records nothing and says why
    try:
        qtbot.waitUntil(lambda: panel._last_run("Baseline") is not None, timeout=30_000)
    except Exception:
        pytest.fail(f"no run recorded: {panel.status.text()}")
    run = panel._last_run("Baseline")
    assert run.status == "ok", run.error
    isthmus = run.outcomes["isthmus_lps_mm"]
    assert run.outcomes["inducible_vt_count"] >= 1 and isthmus is not None
    table = comparison.table
    rows = [table.item(r, 0).text() for r in range(table.rowCount())]
    row = next(r for r, text in enumerate(rows) if text.startswith("VT isthmus"))
    assert " / " in table.item(row, 1).text()  # a position: R/L, A/P, S/I

    qtbot.waitUntil(lambda: any(m.outcome for m in _marks(vt_window).points), timeout=5_000)
    [mark] = [m for m in _marks(vt_window).points if m.outcome]
    assert np.allclose(mark.lps, isthmus)
    vt_window.scene.set_cursor(np.asarray(isthmus, float))
    qtbot.wait(200)
    shot(vt_window, "vt-isthmus")

    comparison.tabs.setCurrentWidget(comparison.spatial_page)
    choice = comparison.field_choice
    choice.setCurrentIndex(choice.findData("membrane"))
    qtbot.waitUntil(lambda: comparison.time_slider.isVisible(), timeout=20_000)
    comparison.time_slider.setValue(comparison.time_slider.maximum() // 2)
    assert comparison.time_label.text().startswith("t = ")
    low, high = comparison.color_range
    assert np.isfinite(low) and np.isfinite(high) and high > low
    shot(comparison, "vt-membrane")
    choice.setCurrentIndex(choice.findData("activation"))
    qtbot.waitUntil(lambda: not comparison.time_slider.isVisible(), timeout=20_000)
    shot(comparison, "vt-activation")
