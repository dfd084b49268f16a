"""Case > Send to PACS…: choose a node and what to send (labels as DICOM SEG, measurements
and outcomes as a DICOM SR, the board report as an Encapsulated PDF), then build and
C-STORE them off the GUI thread. The first send of identifiable data to a node asks; a
"Yes" is kept with the node (`identifiable_ok`), a "No" sends nothing."""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QVBoxLayout,
)

from meditwin_desktop.core import pacs
from meditwin_desktop.core.errors import IdentifiableDataError, MeditwinError
from meditwin_desktop.core.i18n import N_, tr, tr_n
from meditwin_desktop.core.progress import sub_progress
from meditwin_desktop.ui.pacs_nodes_dialog import error_text, show_result

log = logging.getLogger(__name__)

WHAT = {
    "seg": N_("Labels (DICOM SEG)"),
    "sr": N_("Measurements and outcomes (DICOM SR)"),
    "pdf": N_("Board report (PDF)"),
}


def build_objects(case, twins, report_twin, snapshot, what, *, progress, cancelled) -> list:
    """The DICOM objects of `what` for the case's active study (in a worker thread); the
    report is written with `core.report.write_report`, as File > Export report does."""
    from meditwin_desktop.core.dicom_out.board import board_objects
    from meditwin_desktop.core.report import write_report

    report_pdf = None
    if "pdf" in what and report_twin is not None:
        progress(0.05, tr("Writing the report"))
        with tempfile.TemporaryDirectory(prefix="meditwin-send-") as folder:
            path = write_report(case, report_twin, Path(folder) / "report.pdf", snapshot=snapshot)
            report_pdf = Path(path).read_bytes()
    progress(0.5, tr("Preparing the DICOM objects"))
    return board_objects(case, None, twins, report_pdf, what=what)


class SendToPacsDialog(QDialog):
    """Send the open case's results to a PACS (`window`: the main window)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.setObjectName("send_to_pacs")
        self.setWindowTitle(tr("Send to PACS"))
        self._window = window
        self._task = None
        # the objects built for a choice of kinds, sent again as they are (same UIDs: no
        # duplicates in the PACS) until the case changes
        self._built: tuple[tuple[str, ...], list] | None = None
        self._objects: list = []
        window.cases.changed.connect(self._forget)
        window.cases.replaced.connect(self._forget)
        self.sent = None  # the last `pacs.Sent`
        try:
            self.settings = pacs.load_settings()
        except MeditwinError as error:
            self.settings = pacs.PacsSettings()
            log.warning("PACS settings unreadable")
            self._settings_problem = str(error)
        else:
            self._settings_problem = ""
        self.node_combo = QComboBox()
        self.node_combo.setObjectName("send_node")
        for node in self.settings.nodes:
            self.node_combo.addItem(f"{node.name} ({node.host})", node.name)
        self.checks: dict[str, QCheckBox] = {}
        form = QFormLayout()
        form.addRow(tr("PACS"), self.node_combo)
        column = QVBoxLayout()
        case, twin = window.cases.case, window.twin_panel.twin
        ran = case is not None and twin is not None and bool(case.runs.get(twin.id))
        for key, text in WHAT.items():
            box = QCheckBox(tr(text))
            box.setObjectName(f"send_{key}")
            box.setChecked(key != "pdf" or ran)
            if key == "pdf" and not ran:
                box.setEnabled(False)
                box.setToolTip(tr("Run the scenarios of a twin first."))
            self.checks[key] = box
            column.addWidget(box)
        form.addRow(tr("Send"), column)
        self.progress = QProgressBar()
        self.progress.setObjectName("send_progress")
        self.progress.setRange(0, 1000)
        self.progress.hide()
        self.result = QLabel(self._settings_problem)
        self.result.setObjectName("send_result")
        self.result.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.send_button = self.buttons.addButton(
            tr("Send"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.send_button.setObjectName("send_button")
        self.buttons.accepted.connect(self.send)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.result)
        layout.addWidget(self.buttons)
        if not self.settings.nodes:
            show_result(self.result, tr("No PACS is configured: add one in File > Query PACS… > "
                                        "Nodes…"), False)  # fmt: skip
            self.send_button.setEnabled(False)
        elif case is None:
            show_result(self.result, tr("Open a case first."), False)
            self.send_button.setEnabled(False)
        self.setMinimumWidth(440)

    def node(self) -> pacs.Node | None:
        name = self.node_combo.currentData()
        return next((n for n in self.settings.nodes if n.name == name), None)

    def what(self) -> tuple[str, ...]:
        """The kinds of object ticked ("seg", "sr", "pdf")."""
        return tuple(k for k, box in self.checks.items() if box.isChecked() and box.isEnabled())

    def _busy(self, busy: bool) -> None:
        self.send_button.setEnabled(not busy)
        self.node_combo.setEnabled(not busy)
        self.progress.setVisible(busy)
        if busy:
            self.progress.setValue(0)

    def send(self) -> None:
        """Build the chosen objects, then send them (both in the background)."""
        node, what = self.node(), self.what()
        if node is None or self._task is not None:
            return
        if not what:
            show_result(self.result, tr("Choose what to send."), False)
            return
        if self._built is not None and self._built[0] == what:
            self._objects = self._built[1]
            self._send(node)
            return
        window = self._window
        case = window.cases.case
        if case is None:  # closed since the dialog opened
            show_result(self.result, tr("Open a case first."), False)
            return
        twins = [t for t in window.registry.twins.values() if case.runs.get(t.id)]
        report_twin = window.twin_panel.twin if "pdf" in what else None
        snapshot = window.report_snapshot() if report_twin is not None else None
        self._busy(True)
        show_result(self.result, tr("Preparing the DICOM objects"), True)

        def built(objects) -> None:
            self._task = None
            self._objects = list(objects)
            self._built = (what, self._objects)
            self._send(node)

        self._task = window._start(
            N_("Preparing the DICOM objects"),
            lambda *, progress, cancelled: build_objects(
                case, twins, report_twin, snapshot, what,
                progress=sub_progress(progress, 0.0, 0.3), cancelled=cancelled),
            on_done=built, on_failed=self._failed, on_cancelled=self._cancelled, quiet=True,
        )  # fmt: skip
        self._task.progressed.connect(self._progressed)

    def _forget(self, *_) -> None:
        """The case changed: the next Send builds the objects again."""
        self._built = None

    def _send(self, node: pacs.Node) -> None:
        objects, local = self._objects, self.settings.local
        show_result(self.result, tr("Sending to {name}…").format(name=node.name), True)
        self._busy(True)

        def failed(error: BaseException) -> None:
            self._task = None
            if isinstance(error, IdentifiableDataError) and self.confirm(node, str(error)):
                self._send(self._consent(node))
                return
            if isinstance(error, IdentifiableDataError):
                self._busy(False)
                show_result(self.result, tr("Not sent: nothing left this computer."), False)
                return
            self._failed(error)

        self._task = self._window._start(
            N_("Sending to the PACS"),
            lambda *, progress, cancelled: pacs.send(
                node, local, objects,
                progress=sub_progress(progress, 0.3, 1.0), cancelled=cancelled),
            on_done=lambda sent: self._sent(node, sent), on_failed=failed,
            on_cancelled=self._cancelled, quiet=True,
        )  # fmt: skip
        self._task.progressed.connect(self._progressed)

    def confirm(self, node: pacs.Node, why: str) -> bool:
        """Ask before identifiable data go to `node` the first time."""
        answer = QMessageBox.question(
            self, tr("Send identifiable data?"),
            tr("Send identifiable data (name, ID, birth date) to {node} ({host})?\n\n{why}\n\n"
               "MEDITWIN will not ask again for this node.").format(
                node=node.name, host=node.host, why=why),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )  # fmt: skip
        return answer == QMessageBox.StandardButton.Yes

    def _consent(self, node: pacs.Node) -> pacs.Node:
        """Keep the user's yes with the node (saved), and return the node that carries it."""
        agreed = dataclasses.replace(node, identifiable_ok=True)
        settings = self.settings.with_node(agreed)
        try:
            pacs.save_settings(settings)
        except (MeditwinError, OSError):  # sent this time; asked again next time
            log.warning("PACS consent not saved")
        else:
            self.settings = settings
        return agreed

    def _progressed(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))

    def _sent(self, node: pacs.Node, sent) -> None:
        self._task = None
        self._busy(False)
        self.sent = sent
        text = tr_n("{n} object sent to {node}", "{n} objects sent to {node}", sent.sent).format(
            n=sent.sent, node=node.name
        )
        if sent.failed:
            text += " " + tr("({failed} refused by the PACS)").format(failed=sent.failed)
        show_result(self.result, text, sent.failed == 0 and sent.sent > 0)
        self._window.message.setText(text)

    def _failed(self, error: BaseException) -> None:
        self._task = None
        self._busy(False)
        show_result(self.result, error_text(error), False)

    def _cancelled(self) -> None:
        self._task = None
        self._busy(False)
        show_result(self.result, tr("Cancelled."), False)

    def reject(self) -> None:
        if self._task is not None:
            self._task.cancel()
        super().reject()


def show_send_dialog(window) -> SendToPacsDialog:
    """Case > Send to PACS…"""
    previous = getattr(window, "send_dialog", None)
    if previous is not None and previous._task is None:
        previous.deleteLater()  # its cached objects and signal connections go with it
    dialog = SendToPacsDialog(window)
    dialog.open()
    window.send_dialog = dialog
    return dialog
