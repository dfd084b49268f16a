"""The twin panel: pick a twin that fits the case, see its personalised baseline, edit
scenarios, run them all in the background with per-scenario progress and cancel.

Scenarios are validated and their inputs prepared in a background thread
(`core.scenarios.prepare_scenarios`, as `meditwin run` does), then submitted to the twin
runner; it calls back from its own thread, so finished runs reach the GUI thread through
signals and are recorded there (`run_finished` -> `Session.add_run`). A run whose inputs
changed since is marked out of date (`set_stale`).
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.registry import Registry
from meditwin_desktop.core.runner import RunHandle, Runner
from meditwin_desktop.core.scenario_names import (
    automatic_name,
    is_automatic,
    plan_order,
    unique_name,
)
from meditwin_desktop.core.scenarios import (
    BASELINE,
    Prepared,
    baseline_of,
    parameters,
    prepare_scenarios,
    submit_prepared,
)
from meditwin_desktop.core.twin import Parameter, Personalized, Scenario, Twin, TwinInputError
from meditwin_desktop.ui.parameter_editors import (
    ParameterDelegate,
    bold,
    decimal_text,
    header_text,
    point_parameters,
    shown_value,
)
from meditwin_desktop.ui.scenario_status import ProgressCell, status_cell

_TWIN_ROLE = Qt.ItemDataRole.UserRole


class _RunBridge(QObject):
    """Carries runner callbacks (runner thread) into the GUI thread."""

    progressed = Signal(object)  # RunHandle
    finished = Signal(object, object)  # RunHandle, Run


class TwinPanel(QWidget):
    """Twins, baseline, scenarios and runs for the open case."""

    runs_changed = Signal(str)  # twin id whose runs changed (for the comparison)
    runs_started = Signal(str)  # twin id whose scenarios were submitted
    run_finished = Signal(object)  # a finished Run, to record in the case (GUI thread)
    point_requested = Signal(str)  # a point parameter's name: send the crosshair
    case_changed = Signal()  # scenarios edited (for autosave)
    personalised = Signal()  # the baseline was computed (the plan on the views follows)

    def __init__(
        self, registry: Registry, runner: Runner, start_task, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.registry = registry
        self.runner = runner
        self._start = start_task  # MainWindow._start: background work
        self.case: Case | None = None
        self.twin: Twin | None = None
        self.baseline: dict[str, Personalized] = {}
        self._handles: dict[str, RunHandle] = {}
        self._preparing = False
        self._personalising = None  # token of the personalisation in progress
        self.out_of_date: dict[str, str] = {}  # scenario -> why its run is out of date
        self.stale = False  # the case changed while runs went on: personalise again after
        self._bridge = _RunBridge(self)
        self._bridge.progressed.connect(self._on_progress)
        self._bridge.finished.connect(self._on_finished)
        self._progressed: dict[str, RunHandle] = {}
        self._progress_timer = QTimer(self, singleShot=True, interval=100)
        self._progress_timer.timeout.connect(self._show_progress)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self._twin_list())
        splitter.addWidget(self._baseline_table())
        splitter.addWidget(self._scenario_area())
        splitter.setSizes([66, 150, 400])
        for index, stretch in enumerate((0, 0, 1)):  # the scenarios take what is left
            splitter.setStretchFactor(index, stretch)
        layout.addWidget(splitter, stretch=1)

    # -- construction ------------------------------------------------------------------
    def _twin_list(self) -> QWidget:
        self.twins = QListWidget(self)
        self.twins.setObjectName("twin_list")
        self.twins.currentItemChanged.connect(self._twin_selected)
        return self.twins

    def _baseline_table(self) -> QWidget:
        self.baseline_table = QTableWidget(0, 3, self)
        self.baseline_table.setObjectName("baseline_table")
        self.baseline_table.setHorizontalHeaderLabels(["Parameter", "Baseline", "From"])
        self.baseline_table.verticalHeader().hide()
        self.baseline_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.baseline_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        return self.baseline_table

    def _scenario_area(self) -> QWidget:
        area = QWidget(self)
        layout = QVBoxLayout(area)
        layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        self.buttons = {}
        for text, slot in (
            ("Add", self.add_scenario),
            ("Duplicate", self.duplicate_scenario),
            ("Rename", self.rename_scenario),
            ("Delete", self.delete_scenario),
            ("Run all", self.run_all),
        ):
            button = QPushButton(text)
            button.setObjectName(f"scenario_{text.lower().replace(' ', '_')}")
            # clicked(bool) must not reach the slot: Rename took `False` as the new name
            button.clicked.connect(lambda _=False, slot=slot: slot())
            buttons.addWidget(button)
            self.buttons[text] = button
        layout.addLayout(buttons)
        self.point_row = QHBoxLayout()  # "Target from crosshair"... for twins with points
        layout.addLayout(self.point_row)
        self.scenarios = QTableWidget(0, 0, area)
        self.scenarios.setObjectName("scenario_table")
        self.scenarios.itemChanged.connect(self._cell_edited)
        self.scenarios.setItemDelegate(
            ParameterDelegate(
                lambda name: self.twin.parameter(name), self.scenarios, self._inherited
            )
        )
        self.scenarios.verticalHeader().hide()
        rows = self.scenarios.verticalHeader()  # one fixed height: an edit moves no row
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(max(30, self.fontMetrics().height() + 14))
        self.scenarios.setWordWrap(False)
        self.scenarios.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.scenarios.customContextMenuRequested.connect(self._cell_menu)
        self.scenarios.installEventFilter(self)
        self._columns: list[Parameter] = []  # the parameters' columns, key ones first
        self._effective: list[dict[str, Any]] = []  # per row: the values it runs with
        layout.addWidget(self.scenarios, stretch=1)
        # the message goes under the table, inside its pane: a message of another length
        # resizes the table from below, the rows stay where they are (below the splitter,
        # it gave every pane a share and moved the rows ~20 px after each edit)
        self.status = QLabel("Open a case to see which twins fit it.", area)
        self.status.setObjectName("twin_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        return area

    # -- case and twins -------------------------------------------------------------------
    def refresh_case(self, case: Case) -> None:
        """The case's data changed: personalise again now, or once the runs have ended."""
        if self.running():
            self.stale = True
        else:
            self._show_case(case, keep_twin=True)

    def set_case(self, case: Case | None) -> None:
        """Show a different case: its twins, the one it ran (else the first that fits).
        Runs still going for the previous case are cancelled."""
        self.cancel_all()
        self._handles = {}
        self._preparing = False
        self.out_of_date = {}
        self.twin = None
        self._show_case(case, keep_twin=False)

    def set_stale(self, reasons: dict[str, str]) -> None:
        """Mark the runs whose inputs changed since (scenario -> why)."""
        self.out_of_date = dict(reasons)
        self._fill_scenarios()

    def _show_case(self, case: Case | None, keep_twin: bool) -> None:
        """Show the twins for a case (and why the others do not fit)."""
        self.case = case
        self.stale = False
        self.twins.blockSignals(True)
        self.twins.clear()
        for twin in sorted(self.registry.twins.values(), key=lambda t: (t.specialty, t.title)):
            reasons = twin.missing(case) if case is not None else ["no case is open"]
            item = QListWidgetItem(f"{twin.title}  ({twin.specialty})")
            item.setData(_TWIN_ROLE, twin.id)
            item.setToolTip(
                twin.question + ("\n\nDoes not fit: " + "; ".join(reasons) if reasons else "")
            )
            if reasons:
                item.setText(f"{twin.title}: {'; '.join(reasons)}")
                item.setForeground(QColor(150, 150, 150))
            self.twins.addItem(item)
        for problem in self.registry.problems:
            item = QListWidgetItem(f"⚠ {problem}")
            item.setForeground(QColor(230, 160, 60))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.twins.addItem(item)
        self.twins.blockSignals(False)
        if not self.registry.twins:
            self.status.setText("No twins are installed (see `meditwin twins`).")
        ran = [
            t
            for t, r in (case.runs if case is not None else {}).items()
            if r and t in self.registry.twins
        ]
        keep = self.twin.id if (keep_twin and self.twin) else None
        self.select_twin(keep or (ran[0] if ran else None))

    def select_twin(self, twin_id: str | None) -> None:
        """Select a twin by id (None: the first that fits)."""
        for row in range(self.twins.count()):
            item = self.twins.item(row)
            value = item.data(_TWIN_ROLE)
            if value is not None and (twin_id is None or value == twin_id):
                twin = self.registry.twins[value]
                if twin_id is not None or (self.case is not None and not twin.missing(self.case)):
                    self.twins.setCurrentItem(item)
                    return
        self._show_twin(None)

    def _twin_selected(self, item: QListWidgetItem | None, previous) -> None:
        twin_id = item.data(_TWIN_ROLE) if item is not None else None
        self._show_twin(self.registry.twins.get(twin_id) if twin_id else None)

    def _show_twin(self, twin: Twin | None) -> None:
        """Show a twin and personalise it: in the background when the case has images or
        recordings (reading a large CT's labels or an EEG takes seconds), at once for
        clinical data."""
        self.twin = twin
        self.baseline = {}
        self._personalising = None
        case = self.case
        if twin is not None and case is not None:
            case.scenarios.setdefault(twin.id, [Scenario(BASELINE)])
            if case.image is None and not case.recordings:  # clinical values only: quick
                self._personalised(twin, case, None, _personalise(twin, case))
            else:
                token = self._personalising = object()
                self.status.setText("Personalising the twin to this case…")
                self._start(
                    "Personalising the twin",
                    lambda *, progress, cancelled: _personalise(twin, case),
                    on_done=lambda found: self._personalised(twin, case, token, found),
                    quiet=True,
                )
        self._fill_baseline()
        self._fill_scenarios()
        self._fill_point_buttons()
        self.runs_changed.emit(twin.id if twin else "")

    def _personalised(self, twin: Twin, case: Case, token, found) -> None:
        if twin is not self.twin or case is not self.case or token is not self._personalising:
            return  # another twin or case is shown now
        self._personalising = None
        self.baseline, problem = found
        self.status.setText(problem or twin.question)
        self._fill_baseline()
        self._fill_scenarios()
        self.personalised.emit()

    def personalising(self) -> bool:
        """Whether the baseline is still being computed."""
        return self._personalising is not None

    def _fill_baseline(self) -> None:
        twin = self.twin
        rows = plan_order(twin) if twin is not None else ()
        self.baseline_table.setRowCount(len(rows))
        for row, parameter in enumerate(rows):
            personalized = self.baseline.get(parameter.name)
            value = personalized.value if personalized else parameter.default
            source = (
                personalized.provenance
                if personalized
                else (f"default; {parameter.source}" if parameter.source else "default")
            )
            shown = shown_value(parameter, value, unit=True)
            if parameter.kind in ("point", "vector") and parameter.unit:
                shown = f"{shown} {parameter.unit}"
            cells = (parameter.label, shown, source)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(parameter.help or text)
                if parameter.key and column == 0:
                    item.setFont(bold(item.font()))
                self.baseline_table.setItem(row, column, item)

    def _fill_point_buttons(self) -> None:
        while self.point_row.count():
            self.point_row.takeAt(0).widget().deleteLater()
        for name, label in point_parameters(self.twin):
            button = QPushButton(f"{label} ← crosshair")
            button.setObjectName(f"point_{name.removesuffix('_lps_mm')}")
            button.setToolTip(
                f"Set the selected scenario's {label.lower()} to the crosshair position "
                "(click on a slice view to place the crosshair)"
            )
            button.clicked.connect(lambda _=False, n=name: self.point_requested.emit(n))
            self.point_row.addWidget(button)

    def set_point(self, name: str, lps) -> None:
        """Write an LPS point (mm) into the selected scenario's parameter `name`."""
        scenario = self._selected_scenario()
        if scenario is None or scenario.name == BASELINE:
            self._warn("Select a scenario other than the baseline (or add one) first.")
            return
        parameter = self.twin.parameter(name)
        try:
            point = parameter.validate([round(float(v), 1) for v in lps])
        except MeditwinError as error:
            self._warn(str(error))
            return
        before = dict(scenario.overrides)
        scenario.overrides[name] = point
        self._name_automatically(scenario, before)
        self._fill_scenarios()
        self.status.setText(
            f"{scenario.name}: {parameter.label} set to L {point[0]:.1f}, P {point[1]:.1f}, "
            f"S {point[2]:.1f} mm."
        )
        self.case_changed.emit()

    # -- scenarios ----------------------------------------------------------------------------
    def _scenario_list(self) -> list[Scenario]:
        if self.twin is None or self.case is None:
            return []
        return self.case.scenarios.setdefault(self.twin.id, [Scenario(BASELINE)])

    def _fill_scenarios(self) -> None:
        """One row per scenario: its name, status, then its values (key parameters first)."""
        table = self.scenarios
        table.blockSignals(True)
        twin, scenarios = self.twin, self._scenario_list()
        self._columns = plan_order(twin) if twin is not None else []
        table.setColumnCount(len(self._columns) + 2)
        table.setHorizontalHeaderLabels(["Scenario", "Status"])
        for column, parameter in enumerate(self._columns, start=2):
            header = QTableWidgetItem(header_text(parameter))
            header.setToolTip(_column_tip(parameter))
            if parameter.key:
                header.setFont(bold(header.font()))
            table.setHorizontalHeaderItem(column, header)
        table.setRowCount(len(scenarios))
        self._effective = [self._values_of(s) for s in scenarios]
        for row, scenario in enumerate(scenarios):
            name = QTableWidgetItem(scenario.name)
            if scenario.name == BASELINE:
                name.setFlags(name.flags() & ~Qt.ItemFlag.ItemIsEditable)
            else:
                name.setToolTip(
                    f"{scenario.name}\nDouble-click to rename (empty: named by what it changes)"
                )
            table.setItem(row, 0, name)
            table.setCellWidget(row, 1, self._status_widget(scenario.name))
            for column, parameter in enumerate(self._columns, start=2):
                value = scenario.overrides.get(parameter.name)
                item = QTableWidgetItem("" if value is None else shown_value(parameter, value))
                item.setData(Qt.ItemDataRole.UserRole, parameter.name)
                item.setToolTip(_column_tip(parameter))
                if scenario.name == BASELINE:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    item.setText("")  # drawn as the baseline's value, in grey
                table.setItem(row, column, item)
        self._size_columns()
        table.blockSignals(False)

    def _size_columns(self) -> None:
        """Columns as wide as their content, within bounds: the name and the key values
        fit beside the status without scrolling in the docked panel (1280 x 800)."""
        table = self.scenarios
        table.resizeColumnsToContents()
        table.setColumnWidth(0, min(max(table.columnWidth(0), 80), 130))
        table.setColumnWidth(1, 80)
        for column, parameter in enumerate(self._columns, start=2):
            wide = 150 if parameter.kind in ("choice", "point", "vector", "file") else 90
            table.setColumnWidth(column, min(max(table.columnWidth(column), 40), wide))
        self._fit_key_columns()

    def _fit_key_columns(self) -> None:
        """Narrow the name and the drop-downs (to their short labels) until the key
        values fit the table's width: no scrolling to see them."""
        table = self.scenarios
        keys = [c for c, p in enumerate(self._columns, start=2) if p.key]
        if not keys:
            return
        excess = sum(table.columnWidth(c) for c in range(max(keys) + 1))
        excess -= table.viewport().width()
        for column, floor in [(0, 72), *((c, 96) for c in keys if self._is_choice(c))]:
            if excess <= 0:
                break
            cut = min(excess, max(table.columnWidth(column) - floor, 0))
            table.setColumnWidth(column, table.columnWidth(column) - cut)
            excess -= cut

    def _is_choice(self, column: int) -> bool:
        return self._columns[column - 2].kind == "choice"

    def column_of(self, name: str) -> int:
        """The table column of the parameter `name`."""
        return 2 + [p.name for p in self._columns].index(name)

    def _values_of(self, scenario: Scenario) -> dict[str, Any]:
        """The values a scenario runs with (defaults < baseline < its own), {} if invalid."""
        if self.twin is None:
            return {}
        try:
            return self.twin.parameters_for(self._baseline_values(), scenario.overrides)
        except TwinInputError:
            return {}

    def _baseline_values(self) -> dict[str, Any]:
        return {name: p.value for name, p in self.baseline.items()}

    def _inherited(self, index) -> Any:
        """What a cell takes without its own value (the baseline's, or its variant's)."""
        name = index.data(Qt.ItemDataRole.UserRole)
        row = index.row()
        scenarios = self._scenario_list()
        if not name or row >= len(self._effective) or row >= len(scenarios):
            return None
        overrides = scenarios[row].overrides
        if name in overrides:
            others = {k: v for k, v in overrides.items() if k != name}
            return self._values_of(Scenario("", others)).get(name)
        return self._effective[row].get(name)

    def _status_widget(self, scenario: str) -> QWidget:
        return status_cell(scenario, self._last_run(scenario), self._handles.get(scenario),
                           self.out_of_date.get(scenario), self.cancel)  # fmt: skip

    def _last_run(self, scenario: str) -> Run | None:
        if self.case is None or self.twin is None:
            return None
        runs = [r for r in self.case.runs.get(self.twin.id, []) if r.scenario == scenario]
        return runs[-1] if runs else None

    def _cell_edited(self, item: QTableWidgetItem) -> None:
        name = item.data(Qt.ItemDataRole.UserRole)
        scenarios = self._scenario_list()
        if item.row() >= len(scenarios):
            return
        scenario = scenarios[item.row()]
        if item.column() == 0:
            self._renamed_in_table(scenario, item)
            return
        if not name:
            return
        parameter = self.twin.parameter(name)
        text = decimal_text(item.text(), parameter.kind)
        before = dict(scenario.overrides)
        if not text:
            scenario.overrides.pop(name, None)
        else:
            try:
                parameter.validate(text)
            except MeditwinError as error:
                self._warn(str(error))
                self._set_text(item, scenario.overrides.get(name), parameter)
                return
            # codes are stored for choices (their labels are shown), values for flags and
            # dates; numbers as typed (validated again when run)
            typed = parameter.kind in ("choice", "flag", "date", "file")
            scenario.overrides[name] = parameter.validate(text) if typed else text
        self._name_automatically(scenario, before)
        self._refresh_row(item.row())
        self.status.setText(f"{scenario.name}: {parameter.label} set.")
        self.case_changed.emit()

    def _set_text(self, item: QTableWidgetItem, value: Any, parameter: Parameter) -> None:
        self.scenarios.blockSignals(True)
        item.setText("" if value is None else shown_value(parameter, value))
        self.scenarios.blockSignals(False)

    def _refresh_row(self, row: int) -> None:
        """Redraw one scenario's row in place (name, inherited values): nothing moves."""
        scenario = self._scenario_list()[row]
        self._effective[row] = self._values_of(scenario)
        name = self.scenarios.item(row, 0)
        if name is not None and name.text() != scenario.name:
            self.scenarios.blockSignals(True)
            name.setText(scenario.name)
            self.scenarios.blockSignals(False)
            self.scenarios.setCellWidget(row, 1, self._status_widget(scenario.name))
        self.scenarios.viewport().update()

    def _name_automatically(self, scenario: Scenario, before: dict[str, Any]) -> None:
        """A scenario the user has not named is named by what it changes now."""
        if self.twin is None or scenario.name == BASELINE:
            return
        baseline = self._baseline_values()
        if not is_automatic(scenario.name, automatic_name(self.twin, baseline, before)):
            return
        name = automatic_name(self.twin, baseline, scenario.overrides)
        others = [s.name for s in self._scenario_list() if s is not scenario]
        if name is not None and name != scenario.name:
            self._rename(scenario, unique_name(name, [*others, BASELINE]))

    def _rename(self, scenario: Scenario, new: str) -> None:
        """Rename a scenario and its runs (the comparison and the report follow)."""
        for run in self.case.runs.get(self.twin.id, []):
            if run.scenario == scenario.name:
                run.scenario = new
        for table in (self._handles, self.out_of_date):
            if scenario.name in table:
                table[new] = table.pop(scenario.name)
        scenario.name = new
        self.runs_changed.emit(self.twin.id)

    def _renamed_in_table(self, scenario: Scenario, item: QTableWidgetItem) -> None:
        """The name typed over the name cell (empty: named by what it changes)."""
        new = item.text().strip()
        if new == scenario.name:
            return
        if not new:
            automatic = automatic_name(self.twin, self._baseline_values(), scenario.overrides)
            others = [s.name for s in self._scenario_list() if s is not scenario]
            new = unique_name(automatic or scenario.name, [*others, BASELINE])
        if self._name_refused(new, scenario):
            self.scenarios.blockSignals(True)
            item.setText(scenario.name)
            self.scenarios.blockSignals(False)
            return
        self._rename(scenario, new)
        self._refresh_row(item.row())
        self.status.setText(f"Renamed to {new}.")
        self.case_changed.emit()

    def _name_refused(self, new: str, scenario: Scenario) -> bool:
        """Warn and return True when a name is empty or another scenario's."""
        taken = {s.name for s in self._scenario_list() if s is not scenario} | {BASELINE}
        if not new or new in taken:
            self._warn(f"'{new}' is empty or already used.")
            return True
        return False

    def _cell_menu(self, position) -> None:
        """Right click: rename a scenario, or give a value back to the baseline."""
        item = self.scenarios.itemAt(position)
        scenarios = self._scenario_list()
        if item is None or item.row() >= len(scenarios) or scenarios[item.row()].name == BASELINE:
            return
        menu = QMenu(self)
        if item.column() == 0:
            menu.addAction("Rename", lambda: self.scenarios.editItem(item))
        elif item.data(Qt.ItemDataRole.UserRole) and item.text():
            menu.addAction("Use the baseline value", lambda: item.setText(""))
        if not menu.isEmpty():
            menu.exec(self.scenarios.viewport().mapToGlobal(position))

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
        """Delete or Backspace on a value gives it back to the baseline; a resized table
        fits its key columns again."""
        if watched is self.scenarios and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self._size_columns)
        if (
            watched is self.scenarios
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
            and self.scenarios.state() != QAbstractItemView.State.EditingState
        ):
            for item in self.scenarios.selectedItems():
                if (
                    item.data(Qt.ItemDataRole.UserRole)
                    and item.flags() & Qt.ItemFlag.ItemIsEditable
                ):
                    item.setText("")
            return True
        return super().eventFilter(watched, event)

    def _selected_scenario(self) -> Scenario | None:
        rows = self.scenarios.selectionModel().selectedRows() or [
            self.scenarios.model().index(i.row(), 0) for i in self.scenarios.selectedIndexes()
        ]
        scenarios = self._scenario_list()
        return scenarios[rows[0].row()] if rows and rows[0].row() < len(scenarios) else None

    def add_scenario(
        self, name: str | None = None, overrides: dict | None = None
    ) -> Scenario | None:
        """A new scenario (overrides on the baseline), named by what it changes unless
        `name` is given; selected, ready to edit."""
        if self.twin is None:
            return None
        overrides = dict(overrides or {})
        automatic = automatic_name(self.twin, self._baseline_values(), overrides)
        taken = [s.name for s in self._scenario_list()] + [BASELINE]
        scenario = Scenario(unique_name(name or automatic or "New scenario", taken), overrides)
        self._scenario_list().append(scenario)
        self._fill_scenarios()
        self.scenarios.setCurrentCell(self.scenarios.rowCount() - 1, 0)
        self.case_changed.emit()
        return scenario

    def duplicate_scenario(self) -> None:
        """Copy the selected scenario, named by what it changes (then edit the copy)."""
        scenario = self._selected_scenario()
        if scenario is not None:
            self.add_scenario(overrides=copy.deepcopy(scenario.overrides))

    def rename_scenario(self, new: str | None = None) -> None:
        """Rename the selected scenario (not the baseline); the name sticks (it is no
        longer named by what it changes) and is saved with the case."""
        scenario = self._selected_scenario()
        if scenario is None or scenario.name == BASELINE:
            self._warn("Select a scenario other than the baseline to rename it.")
            return
        if new is None:
            new, ok = QInputDialog.getText(self, "Rename scenario", "Name:", text=scenario.name)
            if not ok:
                return
        new = new.strip()
        if self._name_refused(new, scenario):
            return
        self._rename(scenario, new)
        self._fill_scenarios()
        self.case_changed.emit()

    def delete_scenario(self) -> None:
        """Delete the selected scenario (not the baseline) and its runs."""
        scenario = self._selected_scenario()
        if scenario is None or scenario.name == BASELINE:
            self._warn("Select a scenario other than the baseline to delete it.")
            return
        self._scenario_list().remove(scenario)
        runs = self.case.runs.get(self.twin.id, [])
        self.case.runs[self.twin.id] = [r for r in runs if r.scenario != scenario.name]
        self._fill_scenarios()
        self.runs_changed.emit(self.twin.id)
        self.case_changed.emit()

    # -- running ---------------------------------------------------------------------------
    def run_all(self) -> None:
        """Validate every scenario, prepare the inputs in the background, run them all."""
        if self.twin is None or self.case is None:
            return
        if self.running():
            busy = [name for name, h in self._handles.items() if not h.done()]
            self._warn(f"Still running: {', '.join(busy) or 'the scenarios are being prepared'}.")
            return
        if self.personalising():
            self._warn("The twin is still being personalised to this case; run again in a moment.")
            return
        twin, case, scenarios = self.twin, self.case, list(self._scenario_list())
        try:
            if self.baseline:  # else preparing says why the twin does not fit
                for scenario in scenarios:
                    parameters(twin, self.baseline, scenario)
        except MeditwinError as error:
            self._warn(str(error))
            return
        self._preparing = True
        self.status.setText(f"Preparing {len(scenarios)} scenario(s)…")

        baseline = self.baseline or None  # as validated above

        def prepare(*, progress, cancelled) -> Prepared:
            return prepare_scenarios(twin, case, scenarios, baseline)

        def ended(*_) -> None:
            self._preparing = False

        self._start(
            "Preparing the scenarios",
            prepare,
            on_done=lambda prepared: self._submit(prepared, case),
            on_failed=ended,
            on_cancelled=ended,
        )

    def _submit(self, prepared: Prepared, case: Case) -> None:
        self._preparing = False
        if case is not self.case or prepared.twin is not self.twin:
            return  # another case or twin is shown now
        handles = submit_prepared(
            prepared,
            self.runner,
            on_progress=self._bridge.progressed.emit,
            on_done=lambda handle, run: self._bridge.finished.emit(handle, run),
        )
        self._handles = {h.scenario: h for h in handles}
        self.status.setText(f"Running {len(handles)} scenario(s)…")
        self._fill_scenarios()
        self.runs_started.emit(prepared.twin.id)

    def cancel(self, scenario: str) -> None:
        """Cancel one running scenario."""
        handle = self._handles.get(scenario)
        if handle is not None:
            handle.cancel()

    def cancel_all(self) -> None:
        for handle in self._handles.values():
            handle.cancel()

    def running(self) -> bool:
        """Whether scenarios are being prepared or are still running."""
        return self._preparing or any(not h.done() for h in self._handles.values())

    def _row_of(self, scenario: str) -> int | None:
        for row in range(self.scenarios.rowCount()):
            if self.scenarios.item(row, 0).text() == scenario:
                return row
        return None

    def _on_progress(self, handle: RunHandle) -> None:
        """Progress is shown at most every 100 ms, however often twins report it."""
        self._progressed[handle.scenario] = handle
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    def _show_progress(self) -> None:
        progressed, self._progressed = self._progressed, {}
        for scenario, handle in progressed.items():
            row = self._row_of(scenario)
            if row is not None and not handle.done():
                self.scenarios.cellWidget(row, 1).findChild(ProgressCell).show_fraction(
                    handle.progress
                )

    def _on_finished(self, handle: RunHandle, run: Run) -> None:
        if self._handles.get(handle.scenario) is not handle:
            return  # a run of a case or twin no longer shown (it was cancelled)
        self.out_of_date.pop(run.scenario, None)  # made from the case as it is
        self.run_finished.emit(run)  # recorded in the case, in this (the GUI) thread
        row = self._row_of(handle.scenario)
        if row is not None:
            self.scenarios.setCellWidget(row, 1, self._status_widget(handle.scenario))
        if not self.running() and self.stale and self.case is not None:
            self._show_case(self.case, keep_twin=True)  # changed during the runs: personalise
        if not self.running():
            failed = [h.scenario for h in self._handles.values() if h.status != "ok"]
            self.status.setText(
                "All scenarios ran."
                if not failed
                else f"Done; not completed: {', '.join(failed)} (hover for why)."
            )

    def _warn(self, text: str) -> None:
        self.status.setText(text)
        box = QMessageBox(QMessageBox.Icon.Warning, "Scenario", text, parent=self)
        box.setObjectName("scenario_warning")
        box.open()


def _personalise(twin: Twin, case: Case) -> tuple[dict[str, Personalized], str]:
    """The personalised baseline, and why there is none ('' when there is)."""
    try:
        return baseline_of(twin, case), ""
    except MeditwinError as error:
        return {}, str(error)


def _column_tip(parameter: Parameter) -> str:
    """A column's tooltip: what it is, its unit and range, how to edit it."""
    unit = f" in {parameter.unit}" if parameter.unit else ""
    span = (
        f", {parameter.minimum:g} to {parameter.maximum:g}"
        if parameter.minimum is not None and parameter.maximum is not None
        else ""
    )
    how = {
        "choice": "click to choose",
        "flag": "click to switch",
    }.get(parameter.kind, "double-click to type")
    key = "Key parameter. " if parameter.key else ""
    more = f" {parameter.help}" if parameter.help else ""
    return (
        f"{key}{parameter.label}{unit}{span}: {how}. Grey: the baseline's value; "
        f"Delete gives a value back to the baseline.{more}"
    )
