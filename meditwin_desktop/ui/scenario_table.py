"""The scenario table of the twin panel: one row per scenario (name, status, values; key
parameters first), edited in place by kind (`parameter_editors`), named by what each
scenario changes until the user names it (`core.scenario_names`), added, copied, renamed
and deleted. Rows keep one height and the panel's messages one height: an edit moves no
row (a value once landed in the wrong scenario).

`ScenarioTable` is a part of `TwinPanel` (it uses the panel's twin, case, baseline,
`scenarios` table, status line and signals).
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QInputDialog,
    QMenu,
    QTableWidgetItem,
)

from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import N_, decimal_separator, tr
from meditwin_desktop.core.scenario_names import (
    automatic_name,
    is_automatic,
    plan_order,
    unique_name,
)
from meditwin_desktop.core.scenarios import BASELINE
from meditwin_desktop.core.twin import Parameter, Scenario, TwinInputError
from meditwin_desktop.ui.parameter_editors import (
    bold,
    header_text,
    shown_value,
    typed_text,
)


class ScenarioTable:
    """Filling and editing the scenario table (mixed into `TwinPanel`)."""

    _columns: list[Parameter]  # the parameters' columns, key ones first
    _effective: list[dict[str, Any]]  # per row: the values it runs with

    def _fill_scenarios(self) -> None:
        """One row per scenario: its name, status, then its values (key parameters first)."""
        table = self.scenarios
        table.blockSignals(True)
        twin, scenarios = self.twin, self._scenario_list()
        self._columns = plan_order(twin) if twin is not None else []
        table.setColumnCount(len(self._columns) + 2)
        table.setHorizontalHeaderLabels([tr("Scenario"), tr("Status")])
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
                    scenario.name
                    + "\n"
                    + tr("Double-click to rename (empty: named by what it changes)")
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
        table.setColumnWidth(1, 96)  # the bar (58 px), its cancel button and margins
        for column, parameter in enumerate(self._columns, start=2):
            wide = 170 if parameter.kind in ("choice", "point", "vector", "file") else 90
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
        text = typed_text(parameter, item.text())
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
        self.status.setText(
            tr("{scenario}: {parameter} set.").format(
                scenario=scenario.name, parameter=tr(parameter.label)
            )
        )
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
        ran = False
        for run in self.case.runs.get(self.twin.id, []):
            if run.scenario == scenario.name:
                run.scenario = new
                ran = True
        for table in (self._handles, self.out_of_date):
            if scenario.name in table:
                table[new] = table.pop(scenario.name)
        if new in self._handles:  # still running under its first name: follow it
            started = [k for k, v in self._aliases.items() if v == scenario.name]
            for first in started or [scenario.name]:
                self._aliases[first] = new
        scenario.name = new
        if ran:  # the comparison shows runs by name (no redraw for a scenario not run)
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
        self.status.setText(tr("Renamed to {name}.").format(name=new))
        self.case_changed.emit()

    def _name_refused(self, new: str, scenario: Scenario) -> bool:
        """Warn and return True when a name is empty or another scenario's."""
        taken = {s.name for s in self._scenario_list() if s is not scenario} | {BASELINE}
        if not new or new in taken:
            self._warn(tr("'{name}' is empty or already used.").format(name=new))
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
            menu.addAction(tr("Rename"), lambda: self.scenarios.editItem(item))
        elif item.data(Qt.ItemDataRole.UserRole) and item.text():
            menu.addAction(tr("Use the baseline value"), lambda: item.setText(""))
        if not menu.isEmpty():
            menu.exec(self.scenarios.viewport().mapToGlobal(position))

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
        """Delete or Backspace on a value gives it back to the baseline; a resized table
        fits its key columns again."""
        if watched is self.scenarios and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self._size_columns)
        splitter = getattr(self, "_splitter", None)
        if watched is splitter and event.type() == QEvent.Type.Resize:
            self._share_height(splitter)
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

    def _share_height(self, splitter) -> None:
        """Twin list and baseline give way before the scenarios: at most a sixth and a
        fifth of a short panel, the scenario pane (buttons, table, messages) the rest."""
        if getattr(self, "_splitter_moved", False):
            return  # the user's own division stands
        total = max(0, splitter.height() - splitter.handleWidth() * 2)
        twins = min(66, total // 6)
        baseline = min(150, total // 5)
        splitter.setSizes([twins, baseline, max(0, total - twins - baseline)])

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
        new = name or automatic or tr("New scenario")
        scenario = Scenario(unique_name(new, taken), overrides)
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
            self._warn(tr("Select a scenario other than the baseline to rename it."))
            return
        if new is None:
            new, ok = QInputDialog.getText(
                self, tr("Rename scenario"), tr("Name:"), text=scenario.name
            )
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
            self._warn(tr("Select a scenario other than the baseline to delete it."))
            return
        self._scenario_list().remove(scenario)
        runs = self.case.runs.get(self.twin.id, [])
        self.case.runs[self.twin.id] = [r for r in runs if r.scenario != scenario.name]
        self._fill_scenarios()
        self.runs_changed.emit(self.twin.id)
        self.case_changed.emit()


_HOW = {"choice": N_("click to choose"), "flag": N_("click to switch")}


def _general(value: float) -> str:
    """A number as `:g` writes it, with the decimal separator of the language in use."""
    text = f"{value:g}"
    return text.replace(".", decimal_separator())


def _column_tip(parameter: Parameter) -> str:
    """A column's tooltip: what it is, its unit and range, how to edit it."""
    unit = " " + tr("in {unit}").format(unit=tr(parameter.unit)) if parameter.unit else ""
    span = (
        ", "
        + tr("{low} to {high}").format(
            low=_general(parameter.minimum), high=_general(parameter.maximum)
        )
        if parameter.minimum is not None and parameter.maximum is not None
        else ""
    )
    how = tr(_HOW.get(parameter.kind, N_("double-click to type")))
    key = tr("Key parameter.") + " " if parameter.key else ""
    more = f" {tr(parameter.help)}" if parameter.help else ""
    return key + tr(
        "{parameter}{unit}{span}: {how}. Grey: the baseline's value; "
        "Delete gives a value back to the baseline.{more}"
    ).format(parameter=tr(parameter.label), unit=unit, span=span, how=how, more=more)
