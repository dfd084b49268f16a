"""File > Query PACS…: a non-modal window to test a node, query it (C-FIND), browse the
studies and their series, and retrieve (C-GET or C-MOVE) with a progress bar and Cancel
per retrieval. A retrieved study opens like File > Open DICOM folder, so it lands in the
case library. Every network call runs off the GUI thread; errors are messages here."""

from __future__ import annotations

import logging

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core import pacs
from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import N_, date_text, tr, tr_n
from meditwin_desktop.ui.pacs_nodes_dialog import (
    PacsNodesDialog,
    echo_text,
    error_text,
    show_result,
)
from meditwin_desktop.ui.parameter_editors import date_format

log = logging.getLogger(__name__)

MODALITIES = ("CT", "MR", "PT", "US", "CR", "DX", "MG", "NM", "XA", "OP", "SEG", "SR")
_UID = Qt.ItemDataRole.UserRole
_KIND = Qt.ItemDataRole.UserRole + 1  # "study" | "series" | "loading"
_ANY = QDate(1900, 1, 1)


class OptionalDate(QDateEdit):
    """A date that may be "any" (its minimum, shown as the word)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCalendarPopup(True)
        self.setDisplayFormat(date_format())
        self.setMinimumDate(_ANY)
        self.setSpecialValueText(tr("any"))
        self.clear_date()

    def clear_date(self) -> None:
        """Back to "any"."""
        self.setDate(_ANY)

    def dicom(self) -> str:
        """YYYYMMDD, or "" for any date."""
        return "" if self.date() == _ANY else self.date().toString("yyyyMMdd")


def _date(text: str) -> str:
    """A DICOM date (YYYYMMDD) as the language writes dates (other text as is)."""
    if len(text) == 8 and text.isdigit():
        return date_text(f"{text[:4]}-{text[4:6]}-{text[6:8]}")
    return text


def _person(name: str) -> str:
    """A DICOM person name as read: "DOE^JANE" -> "DOE, JANE"."""
    parts = [p for p in name.split("^") if p]
    return ", ".join(parts[:2]) + (" " + " ".join(parts[2:]) if len(parts) > 2 else "")


class Retrieval(QFrame):
    """One retrieval in the panel: what, a progress bar, Cancel, then its outcome."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("retrieval")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.task = None
        self.title = QLabel(title)
        self.bar = QProgressBar()
        self.bar.setObjectName("retrieval_progress")
        self.bar.setRange(0, 1000)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setObjectName("retrieval_cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.state = QLabel("")
        self.state.setObjectName("retrieval_state")
        self.state.setWordWrap(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 3, 6, 3)
        column = QVBoxLayout()
        column.addWidget(self.title)
        column.addWidget(self.state)
        row.addLayout(column, stretch=1)
        row.addWidget(self.bar)
        row.addWidget(self.cancel_button)

    def progressed(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(fraction * 1000))
        if message:
            self.state.setText(message)

    def cancel(self) -> None:
        """Ask the retrieval to stop."""
        if self.task is not None:
            self.task.cancel()
            self.state.setText(tr("Cancelling…"))
            self.cancel_button.setEnabled(False)

    def finish(self, text: str, ok: bool) -> None:
        self.task = None
        self.cancel_button.hide()
        self.bar.setValue(1000 if ok else self.bar.value())
        show_result(self.state, text, ok)


class PacsPanel(QDialog):
    """The PACS window of `window` (the main window: its task runner, `open_folder`,
    its storage SCP `pacs_receiver`)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.setObjectName("pacs_panel")
        self.setWindowTitle(tr("PACS"))
        self.setModal(False)
        self._window = window
        self._search = 0  # generation: results of an older search are dropped
        self._results_from = ""  # the node whose studies are listed
        self.settings = pacs.PacsSettings()

        self.node_combo = QComboBox()
        self.node_combo.setObjectName("pacs_node")
        self.node_combo.setMinimumContentsLength(18)
        self.test_button = QPushButton(tr("Test connection"))
        self.test_button.setObjectName("test_connection")
        self.nodes_button = QPushButton(tr("Nodes…"))
        self.nodes_button.setObjectName("pacs_nodes")
        self.connection = QLabel("")
        self.connection.setObjectName("connection_state")
        self.connection.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("PACS")))
        top.addWidget(self.node_combo, stretch=1)
        top.addWidget(self.test_button)
        top.addWidget(self.nodes_button)

        self.patient_name = QLineEdit()
        self.patient_name.setObjectName("query_patient_name")
        self.patient_name.setPlaceholderText(tr("e.g. DOE^J*"))
        self.patient_id = QLineEdit()
        self.patient_id.setObjectName("query_patient_id")
        self.birth_date = OptionalDate()
        self.birth_date.setObjectName("query_birth_date")
        self.accession = QLineEdit()
        self.accession.setObjectName("query_accession")
        self.modality = QComboBox()
        self.modality.setObjectName("query_modality")
        self.modality.addItem(tr("any"), "")
        for code in MODALITIES:
            self.modality.addItem(code, code)
        self.date_from = OptionalDate()
        self.date_from.setObjectName("query_date_from")
        self.date_to = OptionalDate()
        self.date_to.setObjectName("query_date_to")
        self.search_button = QPushButton(tr("Search"))
        self.search_button.setObjectName("search")
        self.search_button.setDefault(True)
        self.clear_button = QPushButton(tr("Clear"))
        form = QGridLayout()
        pairs = (
            (tr("Patient name"), self.patient_name, tr("Patient ID"), self.patient_id),
            (tr("Birth date"), self.birth_date, tr("Accession number"), self.accession),
            (tr("Study date from"), self.date_from, tr("to"), self.date_to),
        )
        for row, (left, left_widget, right, right_widget) in enumerate(pairs):
            form.addWidget(QLabel(left), row, 0)
            form.addWidget(left_widget, row, 1)
            form.addWidget(QLabel(right), row, 2)
            form.addWidget(right_widget, row, 3)
        form.addWidget(QLabel(tr("Modality")), 3, 0)
        form.addWidget(self.modality, 3, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.search_button)
        form.addLayout(buttons, 3, 2, 1, 2)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)

        self.results = QTreeWidget()
        self.results.setObjectName("pacs_results")
        self.results.setHeaderLabels([
            tr("Date"), tr("Description"), tr("Modalities"), tr("Accession number"),
            tr("Patient"), tr("Patient ID"), tr("Images"),
        ])  # fmt: skip
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.results.setUniformRowHeights(True)
        self.results.setAlternatingRowColors(True)
        header = self.results.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.results.itemExpanded.connect(self._expanded)
        self.results.itemSelectionChanged.connect(self._enable)
        self.found = QLabel("")
        self.found.setObjectName("pacs_message")
        self.found.setWordWrap(True)
        self.retrieve_button = QPushButton(tr("Retrieve"))
        self.retrieve_button.setObjectName("retrieve")
        self.retrieve_button.setToolTip(tr("Retrieve the selected studies or series and open them"))
        bottom = QHBoxLayout()
        bottom.addWidget(self.found, stretch=1)
        bottom.addWidget(self.retrieve_button)

        self.retrievals = QVBoxLayout()
        self.retrievals.setContentsMargins(0, 0, 0, 0)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.connection)
        layout.addLayout(form)
        layout.addWidget(self.results, stretch=1)
        layout.addLayout(bottom)
        layout.addLayout(self.retrievals)

        self.test_button.clicked.connect(self.test_connection)
        self.nodes_button.clicked.connect(self.edit_nodes)
        self.search_button.clicked.connect(self.search)
        self.clear_button.clicked.connect(self.clear_form)
        self.retrieve_button.clicked.connect(self.retrieve_selected)
        self.node_combo.currentIndexChanged.connect(lambda _: self._node_changed())
        self.reload_settings()
        self.resize(1120, 680)

    # -- settings and nodes ---------------------------------------------------------------
    def reload_settings(self, settings: pacs.PacsSettings | None = None) -> None:
        """Read the settings again (after the Nodes dialog saved) and list the nodes."""
        problem = ""
        if settings is None:
            try:
                settings = pacs.load_settings()
            except MeditwinError as error:
                settings, problem = pacs.PacsSettings(), str(error)
        self.settings = settings
        current = self.node_combo.currentText()
        self.node_combo.blockSignals(True)
        self.node_combo.clear()
        for node in settings.nodes:
            self.node_combo.addItem(node.name)
        index = self.node_combo.findText(current)
        self.node_combo.setCurrentIndex(index if index >= 0 else 0)
        self.node_combo.blockSignals(False)
        self._node_changed()
        if problem:
            show_result(self.connection, problem, False)

    def node(self) -> pacs.Node | None:
        """The chosen node, or None when none is configured."""
        name = self.node_combo.currentText()
        return next((n for n in self.settings.nodes if n.name == name), None)

    def _node_changed(self) -> None:
        node = self.node()
        if self._results_from and (node is None or node.name != self._results_from):
            self._search += 1  # another PACS: its studies are not these
            self._results_from = ""
            self.results.clear()
            self.found.clear()
        for widget in (self.test_button, self.search_button):
            widget.setEnabled(node is not None)
        if node is None:
            show_result(self.connection, tr("No PACS is configured: add one with Nodes…"), False)
        else:
            self.connection.setStyleSheet("")
            self.connection.setText(
                tr("{ae} at {host}, port {port}").format(
                    ae=node.ae_title, host=node.host, port=node.port
                )
            )
        self._enable()

    def edit_nodes(self) -> None:
        """Open the PACS settings; a save lists the nodes again and restarts the receiver."""
        dialog = PacsNodesDialog(self._window._start, self, self.settings)
        dialog.saved.connect(self.reload_settings)
        receiver = getattr(self._window, "pacs_receiver", None)
        if receiver is not None:
            dialog.saved.connect(receiver.apply)
        dialog.open()
        self.nodes_dialog = dialog

    def _start(self, name: str, fn, on_done, on_failed, **kwargs):
        """Network work on the window's task runner; its outcome is shown here, quietly."""
        return self._window._start(name, fn, on_done=on_done, on_failed=on_failed, quiet=True,
                                   **kwargs)  # fmt: skip

    # -- test ----------------------------------------------------------------------------
    def test_connection(self) -> None:
        """C-ECHO the chosen node: "Connected in 12 ms" or why not."""
        node, local = self.node(), self.settings.local
        if node is None:
            return
        self.test_button.setEnabled(False)
        show_result(self.connection, tr("Testing {name}…").format(name=node.name), True)

        def done(seconds: float) -> None:
            self.test_button.setEnabled(True)
            show_result(self.connection, echo_text(seconds), True)

        def failed(error: BaseException) -> None:
            self.test_button.setEnabled(True)
            show_result(self.connection, error_text(error), False)

        self._start(N_("Testing the PACS connection"),
                    lambda *, progress, cancelled: pacs.echo(node, local),
                    done, failed)  # fmt: skip

    # -- query ---------------------------------------------------------------------------
    def keys(self) -> pacs.QueryKeys:
        """The query form as C-FIND keys."""
        return pacs.QueryKeys(
            patient_name=self.patient_name.text().strip(),
            patient_id=self.patient_id.text().strip(),
            birth_date=self.birth_date.dicom(),
            accession=self.accession.text().strip(),
            modality=self.modality.currentData() or "",
            date_from=self.date_from.dicom(),
            date_to=self.date_to.dicom(),
        )

    def clear_form(self) -> None:
        """Empty every field of the query."""
        for edit in (self.patient_name, self.patient_id, self.accession):
            edit.clear()
        for date in (self.birth_date, self.date_from, self.date_to):
            date.clear_date()
        self.modality.setCurrentIndex(0)

    def search(self) -> None:
        """Study-level C-FIND with the form's keys; the studies fill the tree."""
        node, local, keys = self.node(), self.settings.local, self.keys()
        if node is None:
            return
        if keys.date_from and keys.date_to and keys.date_from > keys.date_to:
            show_result(self.found, tr("The study date range ends before it starts."), False)
            return
        self._search += 1
        generation = self._search
        self.results.clear()
        self.search_button.setEnabled(False)
        show_result(self.found, tr("Searching {name}…").format(name=node.name), True)

        def done(matches) -> None:
            if generation != self._search:
                return
            self.search_button.setEnabled(True)
            self._results_from = node.name
            self.show_studies(matches)

        def failed(error: BaseException) -> None:
            if generation == self._search:
                self.search_button.setEnabled(True)
                show_result(self.found, error_text(error), False)

        self._start(
            N_("Querying the PACS"),
            lambda *, progress, cancelled: pacs.find(node, local, "STUDY", keys,
                                                     cancelled=cancelled),
            done, failed,
        )  # fmt: skip

    def show_studies(self, matches) -> None:
        """One row per study, its series loaded when it is expanded."""
        self.results.clear()
        matches = sorted(matches, key=lambda m: m.study_date, reverse=True)
        for match in matches:
            item = QTreeWidgetItem([
                _date(match.study_date), match.study_description, match.modalities,
                match.accession, _person(match.patient_name), match.patient_id,
                "" if match.instances is None else str(match.instances),
            ])  # fmt: skip
            item.setData(0, _UID, match.study_uid)
            item.setData(0, _KIND, "study")
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
            self.results.addTopLevelItem(item)
        for column in (0, 2, 3, 4, 5, 6):
            self.results.resizeColumnToContents(column)
        if matches:
            self.found.setStyleSheet("")
            self.found.setText(tr_n("{n} study found", "{n} studies found",
                                    len(matches)).format(n=len(matches)))  # fmt: skip
            self.results.setCurrentItem(self.results.topLevelItem(0))
        else:
            show_result(self.found, tr("No study matches."), False)
        self._enable()

    def study_item(self, study_uid: str) -> QTreeWidgetItem | None:
        """The tree row of a study."""
        for index in range(self.results.topLevelItemCount()):
            item = self.results.topLevelItem(index)
            if item.data(0, _UID) == study_uid:
                return item
        return None

    def _expanded(self, item: QTreeWidgetItem) -> None:
        if item.data(0, _KIND) != "study" or item.childCount():
            return  # loaded (or loading) already
        node, local = self.node(), self.settings.local
        if node is None:
            return
        study_uid = item.data(0, _UID)
        loading = QTreeWidgetItem([tr("Loading series…")])
        loading.setData(0, _KIND, "loading")
        loading.setFlags(Qt.ItemFlag.ItemIsEnabled)
        item.addChild(loading)
        generation = self._search

        def done(matches) -> None:
            if generation == self._search:
                self.show_series(item, matches)

        def failed(error: BaseException) -> None:
            if generation == self._search:
                loading.setText(1, error_text(error))
                loading.setText(0, "")

        keys = pacs.QueryKeys(study_uid=study_uid)
        self._start(
            N_("Querying the PACS"),
            lambda *, progress, cancelled: pacs.find(node, local, "SERIES", keys,
                                                     cancelled=cancelled),
            done, failed,
        )  # fmt: skip

    def show_series(self, study: QTreeWidgetItem, matches) -> None:
        """The study's series under it."""
        study.takeChildren()
        ordered = sorted(
            matches, key=lambda m: int(m.series_number) if m.series_number.isdigit() else 1 << 30
        )
        for match in ordered:
            number = tr("Series {number}").format(number=match.series_number or "?")
            child = QTreeWidgetItem([
                number, match.series_description, match.modality, "", "", "",
                "" if match.instances is None else str(match.instances),
            ])  # fmt: skip
            child.setData(0, _UID, match.series_uid)
            child.setData(0, _KIND, "series")
            study.addChild(child)
        if not ordered:
            study.setChildIndicatorPolicy(
                QTreeWidgetItem.ChildIndicatorPolicy.DontShowIndicatorWhenChildless
            )
        self._enable()

    # -- retrieve ------------------------------------------------------------------------
    def selection(self) -> dict[str, list[str] | None]:
        """study UID -> the selected series UIDs (None: the whole study)."""
        chosen: dict[str, list[str] | None] = {}
        for item in self.results.selectedItems():
            kind = item.data(0, _KIND)
            if kind == "study":
                chosen[item.data(0, _UID)] = None
        for item in self.results.selectedItems():
            if item.data(0, _KIND) == "series":
                study_uid = item.parent().data(0, _UID)
                if study_uid in chosen and chosen[study_uid] is None:
                    continue  # the whole study is chosen
                chosen.setdefault(study_uid, []).append(item.data(0, _UID))
        return chosen

    def _enable(self) -> None:
        self.retrieve_button.setEnabled(self.node() is not None and bool(self.selection()))

    def _tidy_retrievals(self, keep: int = 2) -> None:
        """Drop finished retrievals but the last `keep`."""
        rows = [self.retrievals.itemAt(i).widget() for i in range(self.retrievals.count())]
        finished = [r for r in rows if isinstance(r, Retrieval) and r.task is None]
        for row in finished[:-keep] if keep else finished:
            self.retrievals.removeWidget(row)
            row.deleteLater()

    def retrieve_selected(self) -> None:
        """Retrieve each selected study (or its selected series)."""
        for study_uid, series in self.selection().items():
            self.retrieve(study_uid, series)

    def retrieve(self, study_uid: str, series: list[str] | None = None) -> Retrieval | None:
        """Retrieve a study (or some of its series) from the chosen node in the
        background; when done, it opens in the main window."""
        node, local = self.node(), self.settings.local
        if node is None:
            return None
        study = self.study_item(study_uid)
        label = (study.text(1) or study.text(0)) if study is not None else study_uid
        if series:
            label = tr_n("{study}: {n} series", "{study}: {n} series", len(series)).format(
                study=label or tr("study"), n=len(series)
            )
        row = Retrieval(
            tr("Retrieving {what} from {node}").format(what=label or tr("study"), node=node.name),
            self,
        )
        self._tidy_retrievals()
        self.retrievals.addWidget(row)
        server = None
        if node.retrieve == "move":
            receiver = getattr(self._window, "pacs_receiver", None)
            server = receiver.server if receiver is not None else None
            if server is None or not server.running:
                why = receiver.problem if receiver is not None and receiver.problem else ""
                row.finish(" ".join(filter(None, (tr(
                    "C-MOVE needs our receiver (storage SCP) running: turn on receiving in "
                    "Nodes…, or retrieve by C-GET."), why))), False)  # fmt: skip
                return row

        def done(result) -> None:
            if result.failed:
                text = tr("{files} images received, {failed} failed; opening them.").format(
                    files=result.files, failed=result.failed
                )
            else:
                text = tr_n("{files} image received; opening it.",
                            "{files} images received; opening them.",
                            result.files).format(files=result.files)  # fmt: skip
            row.finish(text, result.files > 0)
            if result.files:
                self._window.open_folder(result.folder)

        def failed(error: BaseException) -> None:
            row.finish(error_text(error), False)

        def cancelled_() -> None:
            row.finish(tr("Cancelled: nothing was opened."), False)

        row.task = self._start(
            N_("Retrieving from the PACS"),
            lambda *, progress, cancelled: pacs.retrieve(
                node, local, study_uid, series, server=server,
                progress=progress, cancelled=cancelled),
            done, failed, on_cancelled=cancelled_,
        )  # fmt: skip
        row.task.progressed.connect(row.progressed)
        return row


def show_pacs_panel(window) -> PacsPanel:
    """File > Query PACS…: the window's PACS panel, made once, shown and raised."""
    panel = getattr(window, "pacs_panel", None)
    if panel is None:
        panel = window.pacs_panel = PacsPanel(window)
    panel.show()
    panel.raise_()
    panel.activateWindow()
    return panel
