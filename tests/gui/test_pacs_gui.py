"""The PACS window, the nodes dialog and Send to PACS, clicked against a real PACS: Orthanc
on loopback (tests/support/orthanc.py), loaded with the demo CT. Skipped without Orthanc."""

# ruff: noqa: F401, F811 - the Orthanc fixtures are imported by name
from __future__ import annotations

import pydicom
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMessageBox

from meditwin_desktop.core import pacs
from meditwin_desktop.ui.pacs_panel import Retrieval
from tests.support.orthanc import AET, LOCAL_AET, free_port, orthanc, orthanc_scp_port

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def demo_in_orthanc(orthanc, demo_patient):
    """Orthanc holding the demo CT; returns (its study UID, series UID, slices, patient name)."""
    files = sorted(demo_patient.dicom_dir.iterdir())
    orthanc.upload(files)
    first = pydicom.dcmread(files[0], stop_before_pixels=True)
    return first.StudyInstanceUID, first.SeriesInstanceUID, len(files), str(first.PatientName)


def _node(orthanc, **changes) -> pacs.Node:
    fields = dict(name="Test PACS", ae_title=AET, host="127.0.0.1", port=orthanc.dicom_port)
    return pacs.Node(**{**fields, **changes})


def _configure(*nodes: pacs.Node, port: int = 11112) -> pacs.PacsSettings:
    settings = pacs.PacsSettings(pacs.LocalAE(LOCAL_AET, port, True), list(nodes))
    pacs.save_settings(settings)
    return settings


@pytest.fixture(autouse=True)
def _no_settings():
    """Each test starts with no PACS configured."""
    pacs.nodes.settings_path().unlink(missing_ok=True)
    yield
    pacs.nodes.settings_path().unlink(missing_ok=True)


def _panel(window, qtbot):
    action = next(a for a in window.findChildren(QAction)
                  if a.text() == "&Query PACS…")  # fmt: skip
    action.trigger()
    panel = window.pacs_panel
    qtbot.waitExposed(panel)
    return panel


def _fill_editor(qtbot, name: str, ae: str, host: str, port: int) -> None:
    """Type into the node editor that is about to open (modal), then OK."""

    def fill() -> None:
        editor = QApplication.activeModalWidget()
        assert editor is not None and editor.objectName() == "pacs_node_editor"
        editor.name.clear()
        qtbot.keyClicks(editor.name, name)
        editor.ae_title.clear()
        qtbot.keyClicks(editor.ae_title, ae)
        editor.host.clear()
        qtbot.keyClicks(editor.host, host)
        editor.port.lineEdit().selectAll()
        qtbot.keyClicks(editor.port, str(port))
        editor.accept()
        if editor.isVisible():  # refused: say why in the failure
            editor.reject()
            raise AssertionError(editor.problem.text())

    QTimer.singleShot(100, fill)


def test_nodes_dialog_test_connection_and_a_wrong_ae_title(show_window, qtbot, orthanc):
    window = show_window(1280, 800)
    panel = _panel(window, qtbot)
    assert not panel.search_button.isEnabled()
    assert "No PACS is configured" in panel.connection.text()
    qtbot.mouseClick(panel.nodes_button, Qt.MouseButton.LeftButton)
    dialog = panel.nodes_dialog
    qtbot.waitExposed(dialog)
    port = free_port()  # our storage SCP, started when the settings are saved
    dialog.storage_port.lineEdit().selectAll()
    qtbot.keyClicks(dialog.storage_port, str(port))
    _fill_editor(qtbot, "Radiology PACS", AET, "127.0.0.1", orthanc.dicom_port)
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert [n.name for n in dialog.nodes] == ["Radiology PACS"]
    assert dialog.table.item(0, 1).text() == AET
    dialog.table.selectRow(0)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Connected in" in dialog.test_result.text(), timeout=10_000)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    saved = pacs.load_settings()
    assert saved.node("Radiology PACS").port == orthanc.dicom_port
    assert saved.local.storage_port == port
    assert window.pacs_receiver.running and window.pacs_receiver.server.port == port

    assert panel.node_combo.currentText() == "Radiology PACS"
    qtbot.mouseClick(panel.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Connected in" in panel.connection.text(), timeout=10_000)

    # the same PACS under a wrong AE title: refused, said in the panel, nothing frozen
    wrong = _node(orthanc, ae_title="NOT_ORTHANC")
    with pytest.raises(pacs.PacsRefused) as refused:
        pacs.echo(wrong, saved.local)
    panel.reload_settings(_configure(wrong))
    qtbot.mouseClick(panel.test_button, Qt.MouseButton.LeftButton)
    # the refusal's words (the PACS's reason, or "closed ... before accepting it" when the
    # rejection is read as a close) may differ between two tries; both AE titles are named
    assert '"NOT_ORTHANC"' in str(refused.value) and '"MEDITWIN"' in str(refused.value)
    qtbot.waitUntil(lambda: '"NOT_ORTHANC"' in panel.connection.text(), timeout=10_000)
    assert '"MEDITWIN"' in panel.connection.text()
    assert "Traceback" not in panel.connection.text()
    assert not window.findChildren(QMessageBox)  # a message in the panel, no pop-up


def test_nodes_dialog_refuses_a_bad_node_with_the_reason(show_window, qtbot):
    window = show_window(1280, 800)
    panel = _panel(window, qtbot)
    panel.edit_nodes()
    dialog = panel.nodes_dialog
    seen = []

    def fill() -> None:
        editor = QApplication.activeModalWidget()
        qtbot.keyClicks(editor.name, "Bad")
        qtbot.keyClicks(editor.ae_title, "PACS")
        qtbot.keyClicks(editor.host, "two words")
        editor.accept()
        seen.append((editor.isVisible(), editor.problem.text()))
        editor.reject()

    QTimer.singleShot(100, fill)
    dialog.add_node()
    visible, problem = seen[0]
    assert visible and "host" in problem
    assert dialog.nodes == []


def test_search_expand_and_retrieve_by_c_get_opens_the_case(
    show_window,
    qtbot,
    orthanc,
    demo_in_orthanc,
):
    _, series_uid, slices, patient_name = demo_in_orthanc
    _configure(_node(orthanc))
    window = show_window(1280, 800)
    panel = _panel(window, qtbot)
    qtbot.keyClicks(panel.patient_id, "MEDITWIN-DEMO-001")
    qtbot.mouseClick(panel.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.results.topLevelItemCount() == 1, timeout=10_000)
    study = panel.results.topLevelItem(0)
    assert study.text(5) == "MEDITWIN-DEMO-001"
    assert "CT" in study.text(2)
    study.setExpanded(True)
    qtbot.waitUntil(lambda: study.childCount() == 1 and study.child(0).text(2) == "CT",
                    timeout=10_000)  # fmt: skip
    assert study.child(0).data(0, Qt.ItemDataRole.UserRole) == series_uid
    assert study.child(0).text(6) == str(slices)

    panel.results.setCurrentItem(study)
    qtbot.mouseClick(panel.retrieve_button, Qt.MouseButton.LeftButton)
    _opened(qtbot, window, panel, slices)
    assert patient_name.split("^")[0] in window.banner.text()


def _opened(qtbot, window, panel, slices: int) -> None:
    """The retrieval ended well and the retrieved series opened in the window."""
    rows = panel.findChildren(Retrieval)
    qtbot.waitUntil(lambda: rows[-1].task is None, timeout=60_000)
    assert f"{slices} images received" in rows[-1].state.text()
    qtbot.waitUntil(lambda: window.scene.volume is not None, timeout=60_000)
    assert window.scene.volume.shape[0] == slices


def test_retrieve_by_c_move_through_the_receiver_and_cancel(
    show_window,
    qtbot,
    orthanc,
    orthanc_scp_port,
    demo_in_orthanc,
):
    study_uid, _, slices, _ = demo_in_orthanc
    _configure(_node(orthanc, retrieve="move"), port=orthanc_scp_port)
    window = show_window(1280, 800)
    assert window.pacs_receiver.running  # started with the window: a node is configured
    panel = _panel(window, qtbot)
    qtbot.keyClicks(panel.patient_id, "MEDITWIN-DEMO-001")
    qtbot.mouseClick(panel.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.results.topLevelItemCount() == 1, timeout=10_000)

    # Cancel at once: nothing opens, the row says so
    row = panel.retrieve(study_uid)
    row.cancel()
    qtbot.waitUntil(lambda: row.task is None, timeout=30_000)
    assert row.state.text() == "Cancelled: nothing was opened."
    assert window.scene.volume is None

    panel.results.setCurrentItem(panel.results.topLevelItem(0))
    qtbot.mouseClick(panel.retrieve_button, Qt.MouseButton.LeftButton)
    _opened(qtbot, window, panel, slices)
    window.close()
    assert not window.pacs_receiver.running  # stopped with the window


def test_a_storage_port_in_use_is_a_status_message_not_a_crash(show_window, qtbot):
    import socket

    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        _configure(pacs.Node("Any", "ANY", "127.0.0.1", 104), port=port)
        window = show_window(1280, 800)
        assert not window.pacs_receiver.running
        assert window.pacs_receiver.problem
        assert window.message.text() == window.pacs_receiver.problem
        assert str(port) in window.message.text()
        # receiving turned off in the settings: nothing to start, nothing to say
        window.pacs_receiver.apply(pacs.PacsSettings(pacs.LocalAE(LOCAL_AET, port, False),
                                                     pacs.load_settings().nodes))  # fmt: skip
        assert not window.pacs_receiver.running and not window.pacs_receiver.problem
    window.close()


def test_a_port_where_nothing_listens_is_a_message(show_window, qtbot):
    _configure(pacs.Node("Nobody", "NOBODY", "127.0.0.1", free_port()))
    window = show_window(1280, 800)
    panel = _panel(window, qtbot)
    qtbot.mouseClick(panel.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.search_button.isEnabled(), timeout=30_000)
    assert panel.results.topLevelItemCount() == 0
    assert panel.found.text() and "Traceback" not in panel.found.text()
    assert "Searching" not in panel.found.text()


def _modalities(orthanc, study_uid: str) -> list[str]:
    """The modalities of the series Orthanc holds in the study."""
    found = orthanc.rest("/tools/lookup", study_uid.encode())
    if not found:
        return []
    series = orthanc.rest(f"/studies/{found[0]['ID']}/series")
    return sorted(s["MainDicomTags"].get("Modality", "") for s in series)


def _fake_run(twin):
    """A finished run of `twin` (its outcomes all 1.0): enough for the SR and the report."""
    from meditwin_desktop.core.case import Run
    from meditwin_desktop.core.twin import Result

    outcomes = {o.name: 1.0 for o in twin.outcomes}
    return Run(twin.id, twin.version, "Baseline", {}, "", "ok", None, dict(outcomes), 0.0,
               "", "", "", Result(outcomes=outcomes))  # fmt: skip


def test_send_to_pacs_asks_once_before_identifiable_data_leave(
    show_window, qtbot, orthanc, demo_in_orthanc, monkeypatch
):
    study_uid = demo_in_orthanc[0]
    _configure(_node(orthanc))
    window = show_window(1280, 800)
    with qtbot.waitSignal(window.ready, timeout=120_000):
        window.open_demo()
    qtbot.waitUntil(lambda: window.cases.case is not None and window.cases.case.labels is not None,
                    timeout=60_000)  # fmt: skip
    qtbot.waitUntil(lambda: window.twin_panel.twin is not None, timeout=10_000)
    twin = window.twin_panel.twin
    window.cases.case.runs[twin.id] = [_fake_run(twin)]
    assert _modalities(orthanc, study_uid) == ["CT"]

    questions: list[str] = []
    answer = [QMessageBox.StandardButton.No]

    def ask(parent, title, text, *args):
        questions.append(text)
        return answer[0]

    monkeypatch.setattr(QMessageBox, "question", ask)
    action = next(a for a in window.findChildren(QAction)
                  if a.text() == "Send to PAC&S…")  # fmt: skip
    action.trigger()
    dialog = window.send_dialog
    qtbot.waitExposed(dialog)
    assert all(box.isChecked() and box.isEnabled() for box in dialog.checks.values())

    # No: nothing leaves
    qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.send_button.isEnabled(), timeout=60_000)
    assert dialog.result.text() == "Not sent: nothing left this computer."
    assert len(questions) == 1 and "Test PACS (127.0.0.1)" in questions[0]
    assert _modalities(orthanc, study_uid) == ["CT"]
    assert not pacs.load_settings().node("Test PACS").identifiable_ok

    # Yes: sent, and the consent is kept with the node
    answer[0] = QMessageBox.StandardButton.Yes
    qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.sent is not None, timeout=60_000)
    assert dialog.result.text() == "3 objects sent to Test PACS", dialog.result.text()
    assert _modalities(orthanc, study_uid) == ["CT", "DOC", "SEG", "SR"]
    assert pacs.load_settings().node("Test PACS").identifiable_ok
    assert len(questions) == 2

    # a second send: no question; the same objects again (no duplicates in the PACS)
    first = dialog.sent
    qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.sent is not first, timeout=60_000)
    assert dialog.sent.sent == 3 and len(questions) == 2
    assert _modalities(orthanc, study_uid) == ["CT", "DOC", "SEG", "SR"]
    window.close()
