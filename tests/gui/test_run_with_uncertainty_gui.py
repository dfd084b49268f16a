"""The twin panel's "Run all with uncertainty…" (Run all's menu): the dialog lists the
sampled inputs with their spread and source, says how many runs it will make, remembers its
choices, and its Run button runs every scenario with uncertainty in the background
(tests/support/uncertain_twin.py: analytic spread, see tests/unit/test_uncertainty.py)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from meditwin_desktop.ui.uncertainty_dialog import SAMPLES_SETTING, UncertaintyDialog
from meditwin_desktop.ui.window_views import settings

pytestmark = pytest.mark.gui
EXTRA = "tests.support.uncertain_twin:TWIN,tests.support.reference_twin:TWIN"


@pytest.fixture
def window(qtbot, monkeypatch, show_window):
    monkeypatch.setenv("MEDITWIN_EXTRA_TWINS", EXTRA)
    window = show_window(1500, 950)
    window.open_demo_case("fh-patient")
    qtbot.waitUntil(lambda: window.cases.case is not None, timeout=60_000)
    window.twins_dock.raise_()
    yield window
    window.close()


def _choose(window, qtbot, twin_id: str):
    panel = window.twin_panel
    panel.select_twin(twin_id)
    qtbot.waitUntil(lambda: panel.twin is not None and panel.twin.id == twin_id, timeout=10_000)
    qtbot.waitUntil(lambda: not panel.personalising(), timeout=30_000)
    return panel


def test_the_button_runs_every_scenario_with_uncertainty(window, qtbot):
    panel = _choose(window, qtbot, "uncertain_test")
    panel.add_scenario("higher x1")
    panel.scenarios.item(1, panel.column_of("x1")).setText("12")
    panel.uncertainty_action.trigger()  # Run all's arrow, then its menu item
    qtbot.waitUntil(lambda: panel.uncertainty_dialog is not None
                    and panel.uncertainty_dialog.isVisible())  # fmt: skip
    dialog = panel.uncertainty_dialog
    inputs = dialog.inputs
    rows = [inputs.item(r, 0).text() for r in range(inputs.rowCount())]
    assert rows == ["First input", "Second input", "Ishigami 1", "Ishigami 2", "Ishigami 3"]
    assert inputs.item(0, 1).text() == "normal, SD 1 mL"
    assert inputs.item(1, 1).text() == "normal, 20 % of the value"
    assert inputs.item(2, 2).text() == "Ishigami and Homma 1990"
    dialog.samples.setValue(16)
    assert "34 runs in all (2 scenario(s))" in dialog.cost.text()  # (16 + 1) x 2
    dialog.sensitivity.setChecked(True)  # at least 64 base samples: 64 x (5 + 2) + 1 each
    assert "898 runs in all" in dialog.cost.text()
    dialog.sensitivity.setChecked(False)
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert int(settings().value(SAMPLES_SETTING)) == 16  # remembered for the next time

    def ran() -> bool:
        runs = [panel._last_run(name) for name in ("Baseline", "higher x1")]
        return all(run is not None and run.status == "ok" for run in runs)

    qtbot.waitUntil(ran, timeout=60_000)
    baseline, higher = panel._last_run("Baseline"), panel._last_run("higher x1")
    assert baseline.outcomes["linear"] == 25.0 and higher.outcomes["linear"] == 29.0
    spread = baseline.result.spread["linear"]
    assert spread.samples == 16 and spread.low < 25.0 < spread.high
    assert higher.result.spread["linear"].median == pytest.approx(29.0, abs=1.0)
    assert "16 runs on a Latin hypercube" in baseline.result.uncertainty
    assert panel.status.text() == "All scenarios ran."


def test_cancelling_the_dialog_runs_nothing(window, qtbot):
    panel = _choose(window, qtbot, "uncertain_test")
    panel.uncertainty_action.trigger()  # Run all's arrow, then its menu item
    qtbot.waitUntil(lambda: panel.uncertainty_dialog is not None)
    panel.uncertainty_dialog.reject()
    qtbot.wait(200)
    assert not panel.running() and panel._last_run("Baseline") is None


def test_a_twin_without_uncertain_inputs_says_so(window, qtbot):
    panel = _choose(window, qtbot, "reference")
    panel.uncertainty_action.trigger()  # Run all's arrow, then its menu item
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "scenario_warning") is not None)
    warning = window.findChild(QMessageBox, "scenario_warning")
    assert "declares no uncertain input" in warning.text()
    warning.close()
    assert not window.findChildren(UncertaintyDialog)


def test_an_unreachable_cluster_is_a_message_not_a_freeze(window, qtbot):
    panel = _choose(window, qtbot, "uncertain_test")
    panel.uncertainty_action.trigger()  # Run all's arrow, then its menu item
    qtbot.waitUntil(lambda: panel.uncertainty_dialog is not None)
    dialog = panel.uncertainty_dialog
    dialog.samples.setValue(8)
    dialog.scheduler_edit.setText("tcp://127.0.0.1:1")  # nothing listens there
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert panel.running()  # connecting in the background; the window answers meanwhile
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    shown = " ".join(box.text() for box in window.findChildren(QMessageBox))
    shown += " " + window.statusBar().currentMessage()
    assert "127.0.0.1:1" in shown or "scheduler" in shown.lower(), shown
    assert panel._last_run("Baseline") is None  # nothing ran, nothing recorded
    settings().setValue("cluster/scheduler", "")
