"""The twin panel: pick a twin that fits the case, see its personalised baseline, edit
scenarios, run them all in the background with per-scenario progress and cancel.

Scenarios are validated and their inputs prepared in a background thread
(`core.scenarios.prepare_scenarios`, as `meditwin run` does), then submitted to the twin
runner; it calls back from its own thread, so finished runs reach the GUI thread through
signals and are recorded there (`run_finished` -> `Session.add_run`). A run whose inputs
changed since is marked out of date (`set_stale`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.errors import IdentifiableDataError, MeditwinError
from meditwin_desktop.core.i18n import N_, number, tr, tr_n
from meditwin_desktop.core.imaging.geometry import position_text
from meditwin_desktop.core.registry import Registry
from meditwin_desktop.core.runner import RunHandle, Runner
from meditwin_desktop.core.scenario_names import (
    plan_order,
)
from meditwin_desktop.core.scenarios import (
    BASELINE,
    Prepared,
    baseline_of,
    parameters,
    prepare_scenarios,
    submit_prepared,
)
from meditwin_desktop.core.twin import Parameter, Personalized, Scenario, Twin
from meditwin_desktop.core.uncertainty import UncertaintyPlan
from meditwin_desktop.ui.parameter_editors import (
    FLAG_TEXT,
    ParameterDelegate,
    bold,
    point_parameters,
    shown_value,
)
from meditwin_desktop.ui.scenario_status import ProgressCell, status_cell
from meditwin_desktop.ui.scenario_table import ScenarioTable
from meditwin_desktop.ui.uncertainty_dialog import UncertaintyDialog

_TWIN_ROLE = Qt.ItemDataRole.UserRole


class _RunBridge(QObject):
    """Carries runner callbacks (runner thread) into the GUI thread."""

    progressed = Signal(object)  # RunHandle
    finished = Signal(object, object)  # RunHandle, Run


class TwinPanel(ScenarioTable, QWidget):
    """Twins, baseline, scenarios and runs for the open case."""

    runs_changed = Signal(str)  # twin id whose runs changed (for the comparison)
    runs_started = Signal(str)  # twin id whose scenarios were submitted
    run_finished = Signal(object)  # a finished Run, to record in the case (GUI thread)
    point_requested = Signal(str)  # a point parameter's name: send the crosshair
    photo_point_requested = Signal(str)  # a point-on-the-photograph parameter: send the pick
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
        self._aliases: dict[str, str] = {}  # a running scenario's name -> its name now
        self._preparing = False
        self._personalising = None  # token of the personalisation in progress
        self.out_of_date: dict[str, str] = {}  # scenario -> why its run is out of date
        self.stale = False  # the case changed while runs went on: personalise again after
        self._cluster: tuple[str, Runner] | None = None  # (scheduler address, its runner)
        self.uncertainty_dialog: UncertaintyDialog | None = None
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
        splitter.setSizes([100, 140, 380])  # the list shows five twins without scrolling
        # small minimums: the message's fixed height must not make the window taller than
        # a 1280 x 800 screen (the panes shrink first)
        for pane, least in ((self.twins, 40), (self.baseline_table, 48), (self.scenarios, 48)):
            pane.setMinimumHeight(least)
        for index, stretch in enumerate((0, 0, 1)):  # the scenarios take what is left
            splitter.setStretchFactor(index, stretch)
        # ...and keep at least half when the panel is short (1280 x 800 with the comparison
        # open): a splitter otherwise takes a shrink from the stretching pane, which left
        # the scenario table with its header and no row; until the user moves a handle
        self._splitter = splitter
        self._splitter_moved = False
        splitter.splitterMoved.connect(lambda *_: setattr(self, "_splitter_moved", True))
        splitter.installEventFilter(self)
        layout.addWidget(splitter, stretch=1)

    # -- construction ------------------------------------------------------------------
    def _run_all_button(self) -> QToolButton:
        """'Run all', with a menu arrow: 'Run all with uncertainty…'."""
        button = QToolButton(self)
        button.setText(tr("Run all"))
        button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        menu = QMenu(button)
        self.uncertainty_action = menu.addAction(tr("Run all with uncertainty…"))
        self.uncertainty_action.setObjectName("run_all_with_uncertainty")
        self.uncertainty_action.triggered.connect(lambda _=False: self.run_with_uncertainty())
        button.setMenu(menu)
        button.setToolTip(tr("Run every scenario; the arrow: with the uncertainty of the "
                             "inputs (intervals and probabilities)"))  # fmt: skip
        return button

    def _twin_list(self) -> QWidget:
        self.twins = QListWidget(self)
        self.twins.setObjectName("twin_list")
        self.twins.currentItemChanged.connect(self._twin_selected)
        return self.twins

    def _baseline_table(self) -> QWidget:
        self.baseline_table = QTableWidget(0, 3, self)
        self.baseline_table.setObjectName("baseline_table")
        self.baseline_table.setHorizontalHeaderLabels([tr("Parameter"), tr("Baseline"), tr("From")])
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
            (N_("Add"), self.add_scenario),
            (N_("Duplicate"), self.duplicate_scenario),
            (N_("Rename"), self.rename_scenario),
            (N_("Delete"), self.delete_scenario),
            (N_("Run all"), self.run_all),
        ):
            # keyed and named by its English text; Run all's arrow offers the same with
            # uncertainty (a button of its own made the window wider than a 1280 px screen)
            button = QPushButton(tr(text)) if text != "Run all" else self._run_all_button()
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
        # Messages of any length take one fixed height: a shorter one gave the table more
        # room, which moved its rows (~20 px, the panes sharing it; a scrolled table
        # scrolled back) under the user's next click.
        self.status = QLabel(tr("Open a case to see which twins fit it."), area)
        self.status.setObjectName("twin_status")
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.status.setFixedHeight(self.status.fontMetrics().lineSpacing() * 4 + 4)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
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
            reasons = twin.missing(case) if case is not None else [tr("no case is open")]
            title = tr(twin.title)
            item = QListWidgetItem(f"{title}  ({tr(twin.specialty)})")
            item.setData(_TWIN_ROLE, twin.id)
            fits = ""
            if reasons:
                fits = "\n\n" + tr("Does not fit: {reasons}").format(reasons="; ".join(reasons))
            item.setToolTip(tr(twin.question) + fits)
            if reasons:
                item.setText(tr("{names}: {text}").format(names=title, text="; ".join(reasons)))
                item.setForeground(QColor(150, 150, 150))
            self.twins.addItem(item)
        for problem in self.registry.problems:
            item = QListWidgetItem(f"⚠ {problem}")
            item.setForeground(QColor(230, 160, 60))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.twins.addItem(item)
        self.twins.blockSignals(False)
        if not self.registry.twins:
            self.status.setText(tr("No twins are installed (see `meditwin twins`)."))
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
                self.status.setText(tr("Personalising the twin to this case…"))
                self._start(
                    tr("Personalising the twin"),
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
        self.status.setText(problem or tr(twin.question))
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
                else (
                    tr("default; {source}").format(source=parameter.source)
                    if parameter.source
                    else tr("default")
                )
            )
            shown = shown_value(parameter, value, unit=True)
            if parameter.kind == "flag" and shown in FLAG_TEXT:
                shown = tr(FLAG_TEXT[shown])
            if parameter.kind in ("point", "vector") and parameter.unit:
                shown = f"{shown} {parameter.unit}"
            cells = (tr(parameter.label), shown, source)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(tr(parameter.help) if parameter.help else text)
                if parameter.key and column == 0:
                    item.setFont(bold(item.font()))
                self.baseline_table.setItem(row, column, item)

    def _fill_point_buttons(self) -> None:
        """A "<point> ← crosshair" button per point parameter; beyond two (a VT twin's pacing
        sites, lesion, line end, electrode), one chooser and one button: six buttons in a
        row made the panel 1000 px wide, wider than a 1280 px screen allows."""
        while self.point_row.count():
            self.point_row.takeAt(0).widget().deleteLater()
        for parameter in self.twin.parameters if self.twin else ():
            if parameter.on_photo:
                label = tr(parameter.label)
                button = QPushButton(tr("{point} ← photograph").format(point=label))
                button.setObjectName(f"photo_point_{parameter.name}")
                tip = tr("Set the selected scenario's {point} to the pixel last clicked on the "
                         "photograph")  # fmt: skip
                button.setToolTip(tip.format(point=label.lower()))
                button.clicked.connect(
                    lambda _=False, n=parameter.name: self.photo_point_requested.emit(n)
                )
                self.point_row.addWidget(button)
        points = point_parameters(self.twin)
        tip = tr("Set the selected scenario's {point} to the crosshair position (click on a "
                 "slice view to place the crosshair)")  # fmt: skip
        if len(points) <= 2:
            for name, label in points:  # the labels are translated
                button = QPushButton(tr("{point} ← crosshair").format(point=label))
                button.setObjectName(f"point_{name.removesuffix('_lps_mm')}")
                button.setToolTip(tip.format(point=label.lower()))
                button.clicked.connect(lambda _=False, n=name: self.point_requested.emit(n))
                self.point_row.addWidget(button)
            return
        choice = QComboBox()
        choice.setObjectName("point_choice")
        for name, label in points:
            choice.addItem(label, name)
        choice.setMinimumContentsLength(12)
        choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        button = QPushButton(tr("← crosshair"))
        button.setObjectName("point_set")
        button.setToolTip(tip.format(point=tr("chosen point")))
        button.clicked.connect(lambda _=False: self.point_requested.emit(choice.currentData()))
        self.point_row.addWidget(choice, stretch=1)
        self.point_row.addWidget(button)

    def set_point(self, name: str, lps) -> None:
        """Write an LPS point (mm) into the selected scenario's parameter `name`."""
        scenario = self._selected_scenario()
        if scenario is None or scenario.name == BASELINE:
            self._warn(tr("Select a scenario other than the baseline (or add one) first."))
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
        where = (tr("row {row}, column {column}").format(row=number(point[0]),
                                                         column=number(point[1]))
                 if parameter.on_photo else f"{position_text(point)} mm")  # fmt: skip
        self.status.setText(tr("{scenario}: {parameter} set to {where}.").format(
            scenario=scenario.name, parameter=tr(parameter.label), where=where))
        self.case_changed.emit()

    # -- scenarios ----------------------------------------------------------------------------
    def _scenario_list(self) -> list[Scenario]:
        if self.twin is None or self.case is None:
            return []
        return self.case.scenarios.setdefault(self.twin.id, [Scenario(BASELINE)])

    def _status_widget(self, scenario: str) -> QWidget:
        return status_cell(scenario, self._last_run(scenario), self._handles.get(scenario),
                           self.out_of_date.get(scenario), self.cancel)  # fmt: skip

    def _last_run(self, scenario: str) -> Run | None:
        if self.case is None or self.twin is None:
            return None
        runs = [r for r in self.case.runs.get(self.twin.id, []) if r.scenario == scenario]
        return runs[-1] if runs else None

    # -- running ---------------------------------------------------------------------------
    def run_with_uncertainty(self) -> None:
        """Ask how (samples, sensitivity, where), then run every scenario with uncertainty."""
        if self.twin is None or self.case is None:
            return
        if not self.twin.uncertain:
            self._warn(tr("{twin} declares no uncertain input: its outcomes have no interval.")
                       .format(twin=tr(self.twin.title)))  # fmt: skip
            return
        last = [r.seconds for r in self.case.runs.get(self.twin.id, [])
                if r.status == "ok" and r.seconds > 0]  # fmt: skip
        dialog = UncertaintyDialog(self.twin, len(self._scenario_list()),
                                   min(last) if last else None,
                                   self.runner.max_parallel, self)  # fmt: skip
        self.uncertainty_dialog = dialog  # for tests: the dialog is modal to the window
        dialog.accepted.connect(lambda: self.run_all(dialog.plan(), dialog.scheduler()))
        dialog.open()

    def run_all(self, uncertainty: UncertaintyPlan | None = None, scheduler: str = "") -> None:
        """Validate every scenario, prepare the inputs in the background, run them all
        (with uncertainty if a plan is given, on a Dask cluster if a scheduler is)."""
        if self.twin is None or self.case is None:
            return
        if self.running():
            busy = [name for name, h in self._handles.items() if not h.done()]
            names = ", ".join(busy) or tr("the scenarios are being prepared")
            self._warn(tr("Still running: {names}.").format(names=names))
            return
        if self.personalising():
            self._warn(
                tr("The twin is still being personalised to this case; run again in a moment.")
            )
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
        self.status.setText(
            tr_n("Preparing {n} scenario(s)…", "Preparing {n} scenario(s)…", len(scenarios)).format(
                n=len(scenarios)
            )
        )

        baseline = self.baseline or None  # as validated above

        def prepare(*, progress, cancelled) -> tuple[Prepared, Runner]:
            prepared = prepare_scenarios(twin, case, scenarios, baseline)
            return prepared, self._runner_for(scheduler, prepared, case)  # connects: here

        def ended(*_) -> None:
            self._preparing = False

        self._start(
            tr("Preparing the scenarios") if not scheduler else
            tr("Preparing the scenarios and connecting to the cluster"),
            prepare,
            on_done=lambda ready: self._submit(ready[0], case, uncertainty, ready[1]),
            on_failed=ended,
            on_cancelled=ended,
        )  # fmt: skip

    def _runner_for(self, scheduler: str, prepared: Prepared, case: Case) -> Runner:
        """This computer's runner, or one on the Dask cluster at `scheduler` (connected in
        this background thread; reused while the address stays the same)."""
        if not scheduler:
            return self.runner
        from meditwin_desktop.core.cluster import cluster_runner
        from meditwin_desktop.core.cluster_privacy import protect_case

        protect_case(case)  # the birth date typed in the form too: checked before sending

        if self._cluster is None or self._cluster[0] != scheduler:
            old, self._cluster = self._cluster, (scheduler, cluster_runner(scheduler))
            if old is not None:
                old[1].shutdown()
        return self._cluster[1]

    def shutdown(self) -> None:
        """Stop the cluster connection, if any (the local runner is the window's)."""
        if self._cluster is not None:
            self._cluster[1].shutdown()
            self._cluster = None

    def _submit(self, prepared: Prepared, case: Case,
                uncertainty: UncertaintyPlan | None = None,
                runner: Runner | None = None) -> None:  # fmt: skip
        self._preparing = False
        if case is not self.case or prepared.twin is not self.twin:
            return  # another case or twin is shown now
        runner = runner or self.runner

        def submit() -> list[RunHandle]:
            return submit_prepared(
                prepared,
                runner,
                on_progress=self._bridge.progressed.emit,
                on_done=lambda handle, run: self._bridge.finished.emit(handle, run),
                uncertainty=uncertainty,
            )

        try:
            handles = submit()
        except IdentifiableDataError as error:  # refused by a cluster on another computer
            if not self._confirm_identifiable(runner, str(error)):
                self.status.setText(tr("Not run: nothing was sent."))
                return
            handles = submit()
        self._handles = {h.scenario: h for h in handles}
        self._aliases = {}
        self.status.setText(
            tr_n("Running {n} scenario(s)…", "Running {n} scenario(s)…", len(handles)).format(
                n=len(handles)
            )
        )
        self._fill_scenarios()
        self.runs_started.emit(prepared.twin.id)

    def _confirm_identifiable(self, runner: Runner, why: str) -> bool:
        """Ask before identifiable data go to a cluster on another computer (once per
        connection); True when the user agrees."""
        answer = QMessageBox.question(
            self, tr("Send identifiable data?"),
            tr("{why}\n\nSend them to this cluster anyway?").format(why=why),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )  # fmt: skip
        if answer != QMessageBox.StandardButton.Yes:
            return False
        runner.executor.allow_identifiable = True
        return True

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
        self._progressed[self._name_now(handle.scenario)] = handle
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

    def _name_now(self, scenario: str) -> str:
        """A running scenario's name now (it may have been renamed since it started)."""
        return self._aliases.get(scenario, scenario)

    def _on_finished(self, handle: RunHandle, run: Run) -> None:
        name = self._name_now(handle.scenario)
        if self._handles.get(name) is not handle:
            return  # a run of a case or twin no longer shown (it was cancelled)
        run.scenario = name
        self.out_of_date.pop(run.scenario, None)  # made from the case as it is
        self.run_finished.emit(run)  # recorded in the case, in this (the GUI) thread
        row = self._row_of(name)
        if row is not None:
            self.scenarios.setCellWidget(row, 1, self._status_widget(name))
        if not self.running() and self.stale and self.case is not None:
            self._show_case(self.case, keep_twin=True)  # changed during the runs: personalise
        if not self.running():
            failed = [name for name, h in self._handles.items() if h.status != "ok"]
            self.status.setText(
                tr("All scenarios ran.")
                if not failed
                else tr("Done; not completed: {names} (hover for why).").format(
                    names=", ".join(failed)
                )
            )

    def warn_user(self, text: str) -> None:
        """Say what the user must do first (status line and a non-modal message)."""
        self._warn(text)

    def _warn(self, text: str) -> None:
        self.status.setText(text)
        box = QMessageBox(QMessageBox.Icon.Warning, tr("Scenario"), text, parent=self)
        box.setObjectName("scenario_warning")
        box.open()


def _personalise(twin: Twin, case: Case) -> tuple[dict[str, Personalized], str]:
    """The personalised baseline, and why there is none ('' when there is)."""
    try:
        return baseline_of(twin, case), ""
    except MeditwinError as error:
        return {}, str(error)
