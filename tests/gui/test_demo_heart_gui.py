"""The demo heart opens from the demo library like a DICOM study: its own patient, its
ground-truth labels and its clinical values (not the thorax CT's)."""

from __future__ import annotations

import pytest

from meditwin_desktop.demo.case import DEMO_CASES

pytestmark = pytest.mark.gui


def test_post_mi_demo_opens_its_own_patient(show_window, qtbot, shot):
    window = show_window(1400, 900)
    with qtbot.waitSignal(window.ready, timeout=120_000):
        window.open_demo_case("post-mi-vt")
    qtbot.waitUntil(lambda: window.cases.case is not None and window.cases.case.labels
                    is not None, timeout=30_000)  # fmt: skip
    case = window.cases.case
    assert case.patient_id == DEMO_CASES["post-mi-vt"]["patient_id"]
    assert case.clinical["board_question"] == DEMO_CASES["post-mi-vt"]["clinical"]["board_question"]
    assert case.studies[case.active].modality == "CT"
    names = {label.name for label in case.labels.labels.values()}
    assert {"left ventricle myocardium", "scar", "border zone"} <= names
    assert window.scene.volume.shape == (110, 120, 120)
    qtbot.wait(200)
    shot(window, "demo_heart_post_mi_vt")
    window.close()
