"""PACS settings: our own AE (title, storage port, receiving) and the remote nodes, each
added, edited, removed or tested (C-ECHO, off the GUI thread). Saved with
`core.pacs.save_settings`; nothing is sent anywhere but to the nodes listed here."""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core import pacs
from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import N_, tr

log = logging.getLogger(__name__)

RETRIEVE_METHODS = {"get": N_("C-GET (direct)"), "move": N_("C-MOVE (to our receiver)")}
ERROR_STYLE = "color: #d05050;"
OK_STYLE = "color: #40a040;"


def echo_text(seconds: float) -> str:
    """ "Connected in 12 ms"."""
    return tr("Connected in {ms} ms").format(ms=max(1, round(seconds * 1000)))


def show_result(label: QLabel, text: str, ok: bool) -> None:
    """An inline result: green when it worked, red with the reason when not."""
    label.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
    label.setText(text)


def error_text(error: BaseException) -> str:
    """What the user reads for a failed network call (never a traceback)."""
    if isinstance(error, MeditwinError):
        return str(error)
    log.error("PACS call failed: %s", type(error).__name__)
    return tr("The PACS call failed ({error_type}); details are in the log.").format(
        error_type=type(error).__name__
    )


def _about(node: pacs.Node, result: str) -> str:
    return tr("{name}: {result}").format(name=node.name, result=result)


class NodeEditor(QDialog):
    """One remote node: name, AE title, host, port, TLS (and its files), retrieval."""

    def __init__(self, node: pacs.Node | None = None, taken: set[str] = frozenset(),
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setObjectName("pacs_node_editor")
        self.setWindowTitle(tr("PACS node") if node is None else tr("Edit PACS node"))
        self._original = node
        self._taken = {name.casefold() for name in taken}
        self.node: pacs.Node | None = None
        self.name = QLineEdit(node.name if node else "")
        self.name.setObjectName("node_name")
        self.name.setPlaceholderText(tr("e.g. Radiology PACS"))
        self.ae_title = QLineEdit(node.ae_title if node else "")
        self.ae_title.setObjectName("node_ae_title")
        self.ae_title.setMaxLength(16)
        self.host = QLineEdit(node.host if node else "")
        self.host.setObjectName("node_host")
        self.host.setPlaceholderText(tr("host name or IP address"))
        self.port = QSpinBox()
        self.port.setObjectName("node_port")
        self.port.setRange(1, 65535)
        self.port.setValue(node.port if node else 104)
        self.tls = QCheckBox(tr("Encrypt with TLS"))
        self.tls.setObjectName("node_tls")
        self.tls.setChecked(bool(node and node.tls))
        self.ca_file = QLineEdit(node.ca_file if node else "")
        self.cert_file = QLineEdit(node.cert_file if node else "")
        self.key_file = QLineEdit(node.key_file if node else "")
        for edit in (self.ca_file, self.cert_file, self.key_file):
            edit.setPlaceholderText(tr("path to a PEM file (optional)"))
        self.retrieve = QComboBox()
        self.retrieve.setObjectName("node_retrieve")
        for code, text in RETRIEVE_METHODS.items():
            self.retrieve.addItem(tr(text), code)
        self.retrieve.setCurrentIndex(max(0, self.retrieve.findData(node.retrieve if node
                                                                    else "get")))  # fmt: skip
        form = QFormLayout()
        form.addRow(tr("Name"), self.name)
        form.addRow(tr("AE title"), self.ae_title)
        form.addRow(tr("Host"), self.host)
        form.addRow(tr("Port"), self.port)
        form.addRow("", self.tls)
        form.addRow(tr("CA certificate"), self.ca_file)
        form.addRow(tr("Our certificate"), self.cert_file)
        form.addRow(tr("Our private key"), self.key_file)
        form.addRow(tr("Retrieve by"), self.retrieve)
        self.problem = QLabel("")
        self.problem.setObjectName("node_problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(ERROR_STYLE)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.tls.toggled.connect(self._tls_files)
        self._tls_files(self.tls.isChecked())
        self.setMinimumWidth(460)

    def _tls_files(self, on: bool) -> None:
        for edit in (self.ca_file, self.cert_file, self.key_file):
            edit.setEnabled(on)

    def entered(self) -> pacs.Node:
        """The node as typed (not yet validated)."""
        keep = self._original.identifiable_ok if self._original else False
        changed_place = self._original is not None and (
            self._original.host != self.host.text().strip()
            or self._original.port != self.port.value()
            or self._original.ae_title != self.ae_title.text().strip()
        )
        return pacs.Node(
            name=self.name.text().strip(),
            ae_title=self.ae_title.text().strip(),
            host=self.host.text().strip(),
            port=self.port.value(),
            tls=self.tls.isChecked(),
            ca_file=self.ca_file.text().strip(),
            cert_file=self.cert_file.text().strip(),
            key_file=self.key_file.text().strip(),
            retrieve=self.retrieve.currentData(),
            # a consent is for one place: moving the node asks again
            identifiable_ok=keep and not changed_place,
        )

    def accept(self) -> None:
        node = self.entered()
        try:
            pacs.validate_node(node)
        except MeditwinError as error:
            self.problem.setText(str(error))
            return
        if node.name.casefold() in self._taken:
            self.problem.setText(tr("A node named “{name}” exists already.").format(name=node.name))
            return
        self.node = node
        super().accept()


class PacsNodesDialog(QDialog):
    """File > Query PACS > Nodes…: our AE and the remote nodes; `saved` after a save."""

    saved = Signal(object)  # the PacsSettings written

    COLUMNS = (N_("Name"), N_("AE title"), N_("Host"), N_("Port"), N_("TLS"), N_("Retrieve"))

    def __init__(self, start, parent: QWidget | None = None,
                 settings: pacs.PacsSettings | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setObjectName("pacs_nodes_dialog")
        self.setWindowTitle(tr("PACS nodes"))
        self._start = start
        self._task = None
        self.problem = QLabel("")
        self.problem.setObjectName("nodes_problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(ERROR_STYLE)
        if settings is None:
            try:
                settings = pacs.load_settings()
            except MeditwinError as error:  # shown; saving writes a good file again
                self.problem.setText(str(error))
                settings = pacs.PacsSettings(pacs.LocalAE(), [])
        self.nodes: list[pacs.Node] = list(settings.nodes)
        self._local = settings.local

        self.local_ae = QLineEdit(settings.local.ae_title)
        self.local_ae.setObjectName("local_ae_title")
        self.local_ae.setMaxLength(16)
        self.storage_port = QSpinBox()
        self.storage_port.setObjectName("storage_port")
        self.storage_port.setRange(1, 65535)
        self.storage_port.setValue(settings.local.storage_port)
        self.receive = QCheckBox(
            tr("Receive retrieved studies (storage SCP) while MEDITWIN is open")
        )
        self.receive.setObjectName("receive")
        self.receive.setChecked(settings.local.receive)
        local_box = QGroupBox(tr("This workstation"))
        local_form = QFormLayout(local_box)
        local_form.addRow(tr("Our AE title"), self.local_ae)
        local_form.addRow(tr("Storage port"), self.storage_port)
        local_form.addRow("", self.receive)

        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("nodes_table")
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _: self.edit_node())
        self.add_button = QPushButton(tr("Add…"))
        self.add_button.setObjectName("add_node")
        self.edit_button = QPushButton(tr("Edit…"))
        self.edit_button.setObjectName("edit_node")
        self.remove_button = QPushButton(tr("Remove"))
        self.remove_button.setObjectName("remove_node")
        self.test_button = QPushButton(tr("Test"))
        self.test_button.setObjectName("test_node")
        self.add_button.clicked.connect(self.add_node)
        self.edit_button.clicked.connect(self.edit_node)
        self.remove_button.clicked.connect(self.remove_node)
        self.test_button.clicked.connect(self.test_node)
        self.test_result = QLabel("")
        self.test_result.setObjectName("test_result")
        self.test_result.setWordWrap(True)
        row = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.remove_button, self.test_button):
            row.addWidget(button)
        row.addStretch(1)
        nodes_box = QGroupBox(tr("PACS nodes"))
        nodes_layout = QVBoxLayout(nodes_box)
        nodes_layout.addWidget(self.table)
        nodes_layout.addLayout(row)
        nodes_layout.addWidget(self.test_result)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        layout = QVBoxLayout(self)
        layout.addWidget(local_box)
        layout.addWidget(nodes_box, stretch=1)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.table.itemSelectionChanged.connect(self._enable)
        self._fill()
        self.resize(720, 480)

    # -- the table ---------------------------------------------------------------------
    def _fill(self, select: int | None = None) -> None:
        self.table.setRowCount(len(self.nodes))
        for row, node in enumerate(self.nodes):
            cells = (node.name, node.ae_title, node.host, str(node.port),
                     tr("yes") if node.tls else tr("no"),
                     tr(RETRIEVE_METHODS.get(node.retrieve, node.retrieve)))  # fmt: skip
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        if select is not None and 0 <= select < len(self.nodes):
            self.table.selectRow(select)
        self._enable()

    def _row(self) -> int | None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        return min(rows) if rows else None

    def _enable(self) -> None:
        chosen = self._row() is not None
        for button in (self.edit_button, self.remove_button, self.test_button):
            button.setEnabled(chosen)

    def _names(self, skip: int | None = None) -> set[str]:
        return {n.name for i, n in enumerate(self.nodes) if i != skip}

    def add_node(self) -> None:
        """Add a node (the editor validates it)."""
        editor = NodeEditor(None, self._names(), self)
        if editor.exec() and editor.node is not None:
            self.nodes.append(editor.node)
            self._fill(select=len(self.nodes) - 1)

    def edit_node(self) -> None:
        """Edit the selected node."""
        row = self._row()
        if row is None:
            return
        editor = NodeEditor(self.nodes[row], self._names(skip=row), self)
        if editor.exec() and editor.node is not None:
            self.nodes[row] = editor.node
            self._fill(select=row)

    def remove_node(self) -> None:
        """Remove the selected node (saved with Save)."""
        row = self._row()
        if row is not None:
            del self.nodes[row]
            self._fill(select=min(row, len(self.nodes) - 1))

    def local(self) -> pacs.LocalAE:
        """Our AE as entered."""
        return pacs.LocalAE(
            ae_title=self.local_ae.text().strip(),
            storage_port=self.storage_port.value(),
            receive=self.receive.isChecked(),
        )

    # -- test (C-ECHO, in the background) ------------------------------------------------
    def test_node(self) -> None:
        """C-ECHO the selected node; the round trip or the reason shows below the table."""
        row = self._row()
        if row is None:
            return
        node, local = self.nodes[row], self.local()
        self.test_button.setEnabled(False)
        show_result(self.test_result, tr("Testing {name}…").format(name=node.name), True)

        def done(seconds: float) -> None:
            self.test_button.setEnabled(self._row() is not None)
            show_result(self.test_result, _about(node, echo_text(seconds)), True)

        def failed(error: BaseException) -> None:
            self.test_button.setEnabled(self._row() is not None)
            show_result(self.test_result, _about(node, error_text(error)), False)

        self._task = self._start(
            N_("Testing the PACS connection"),
            lambda *, progress, cancelled: pacs.echo(node, local),
            on_done=done, on_failed=failed, quiet=True,
        )  # fmt: skip

    # -- save ----------------------------------------------------------------------------
    def accept(self) -> None:
        local = self.local()
        settings = pacs.PacsSettings(local, list(self.nodes))
        try:
            pacs.save_settings(settings)
        except (MeditwinError, OSError) as error:
            text = str(error) if isinstance(error, MeditwinError) else error.strerror
            self.problem.setText(tr("The PACS settings were not saved: {reason}").format(
                reason=text))  # fmt: skip
            return
        self.saved.emit(settings)
        super().accept()

    def done(self, result: int) -> None:
        if self._task is not None:
            self._task.detach()
            self._task = None
        super().done(result)
