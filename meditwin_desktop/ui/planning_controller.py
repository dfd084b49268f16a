"""Connects the twin panel's selected scenario to the planning layer on the slice views
and to a plan summary in the twin panel (for twins with entry and target points).

The plan is rebuilt (coalesced, 60 ms) when the scenarios, runs, selection or labels
change: the applicator from the scenario's parameters, the zone of its latest result, the
target tumour's margins, the path check on the labels and the minimal margin's colour
against the twin's declared target. Dragging an end writes the scenario's point on
release (a new scenario when the baseline is selected: the baseline is the case's own).
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel

from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import N_, decimal_separator, number, tr
from meditwin_desktop.core.planning import (
    margin_field,
    margin_state,
    path_crossings,
    target_label,
)
from meditwin_desktop.core.scenarios import BASELINE, parameters
from meditwin_desktop.core.twin import Scenario, Twin
from meditwin_desktop.ui.applicator_view import ApplicatorView
from meditwin_desktop.ui.planning_layer import (
    ENTRY,
    STATE_COLORS,
    STATE_WORDS,
    TARGET,
    Plan,
    PlanningLayer,
    scenario_title,
)

ZONE_FIELD = "ablation_zone"
MARGIN_OUTCOME = "min_margin_mm"
_GREY = QColor(200, 200, 200)
_WARN = QColor(255, 120, 100)


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def plans_points(twin: Twin | None) -> bool:
    """Whether a twin's scenarios have an applicator (entry and target points)."""
    if twin is None:
        return False
    names = {p.name for p in twin.parameters if p.kind == "point"}
    return {ENTRY, TARGET} <= names


class PlanningController(QObject):
    """Keeps the planning layer and the plan summary in step with the twin panel."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.panel = window.twin_panel
        self.layer = PlanningLayer(self._moved)
        for view in window.slice_views():
            self.layer.attach(view)
        self.along = ApplicatorView(window.scene)
        tabs = window.comparison.tabs
        self._along_tab = tabs.addTab(self.along, tr("Along the applicator"))
        tabs.setTabVisible(self._along_tab, False)
        self.summary = QLabel(self.panel)
        self.summary.setObjectName("plan_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(self.summary.textFormat().RichText)
        self.summary.hide()
        self.panel.layout().insertWidget(1, self.summary)  # under the scenarios, above status
        self._margins: tuple[tuple, object] | None = None  # (key, MarginField) cache
        self._tumour: tuple[tuple, int | None] | None = None  # (where, label) cache
        self._timer = QTimer(self, singleShot=True, interval=60)
        self._timer.timeout.connect(self.refresh)
        panel = self.panel
        for signal in (panel.runs_changed, panel.case_changed, panel.run_finished,
                       panel.personalised):  # fmt: skip
            signal.connect(self._timer.start)
        panel.scenarios.itemSelectionChanged.connect(self._timer.start)
        model = panel.scenarios.model()
        for signal in (model.dataChanged, model.rowsInserted, model.rowsRemoved,
                       model.modelReset):  # fmt: skip
            signal.connect(self._timer.start)  # _fill_scenarios: baseline, staleness, runs
        window.scene.labels_changed.connect(self._labels_changed)
        window.scene.labels_replaced.connect(self._labels_changed)

    def _labels_changed(self, *_) -> None:
        self._margins = self._tumour = None
        self._timer.start()

    # -- the plan ---------------------------------------------------------------------------
    def scenario(self) -> Scenario | None:
        """The scenario the plan shows: the selected one, else the baseline."""
        panel = self.panel
        scenarios = panel._scenario_list()
        return panel._selected_scenario() or (scenarios[0] if scenarios else None)

    def refresh(self) -> None:
        """Rebuild the plan from the selected scenario (nothing for twins without one)."""
        panel, twin = self.panel, self.panel.twin
        scenario = self.scenario()
        self.window.comparison.tabs.setTabVisible(self._along_tab, plans_points(twin))
        if not plans_points(twin) or scenario is None or panel.case is None:
            self._show(None)
            self.summary.hide()
            return
        try:
            params = parameters(twin, panel.baseline, scenario)
        except MeditwinError:
            self._show(None)
            self.summary.hide()
            return
        plan = Plan(
            np.asarray(params[ENTRY], float), np.asarray(params[TARGET], float), scenario.name
        )
        run = panel._last_run(scenario.name)
        result = run.result if run is not None and run.status == "ok" else None
        lines: list[tuple[str, QColor]] = []
        summary: list[str] = []
        if result is not None and ZONE_FIELD in result.fields:
            zone = result.fields[ZONE_FIELD]
            plan.zone = (zone.values, zone.affine)
            moved = any(
                tuple(np.round(run.parameters.get(name, ()), 1)) != tuple(np.round(params[name], 1))
                for name in (ENTRY, TARGET)
            )
            plan.zone_stale = moved or scenario.name in panel.out_of_date
        plan.margins = self._margin_field(plan.target)
        self._margin_lines(twin, result, plan, lines, summary)
        self._zone_lines(result, plan, lines, summary)
        self._path_lines(plan, lines, summary)
        if plan.zone is None:
            self.summary.setToolTip("")
        plan.legend = lines
        self._show(plan)
        self.summary.setText("<br>".join(summary))
        self.summary.setVisible(bool(summary))

    def _show(self, plan: Plan | None) -> None:
        self.layer.set_plan(plan)
        self.along.set_plan(plan)

    def _margin_field(self, target: np.ndarray):
        labels = self.window.scene.labels
        if labels is None:
            return None
        names = {v: lab.name for v, lab in labels.labels.items()}
        array, affine = labels.volume.array, labels.volume.affine
        where = (id(labels), tuple(np.round(target, 1)))
        if self._tumour is None or self._tumour[0] != where:  # a scan of the labels when
            self._tumour = (where, target_label(array, affine, names, target))  # off a tumour
        value = self._tumour[1]
        key = (id(labels), value)
        if self._margins is None or self._margins[0] != key:
            field = None
            if value is not None and (array == value).any():
                field = margin_field(array == value, affine, reach_mm=12.0)
            self._margins = (key, field)
        return self._margins[1]

    def _margin_lines(self, twin, result, plan, lines, summary) -> None:
        outcome = next((o for o in twin.outcomes if o.name == MARGIN_OUTCOME), None)
        if outcome is None:
            return
        if result is None:
            title = _esc(scenario_title(plan.scenario))
            summary.append(tr("<b>Plan ({scenario})</b>: not run yet.").format(scenario=title))
            return
        value = result.outcomes.get(MARGIN_OUTCOME)
        low = outcome.target.low if outcome.target is not None else None
        state = margin_state(value, low, outcome.resolution, outcome.precision)
        color = STATE_COLORS[state.state]
        shown = tr("n/a") if value is None else f"{number(value, 1)} mm"
        stale = " " + tr("(out of date)") if plan.zone_stale else ""
        word = tr(STATE_WORDS.get(state.state, state.state))
        if value is not None and value < 0:  # a signed distance: part of the tumour is outside
            shown = tr("none: tumour up to {distance} mm outside the zone").format(
                distance=number(-value, 1)
            )
            lines.append((tr("No margin: tumour outside the zone") + stale, color))
        else:
            lines.append((tr("Min margin {value}: {state}").format(value=shown, state=word) + stale,
                          color))  # fmt: skip
        resolution = f"{outcome.resolution:g}".replace(".", decimal_separator())
        summary.append(
            tr(
                "<b>Plan ({scenario})</b>: minimal margin <span style='color:{color}'><b>{value} "
                "({state})</b></span>: {text}{stale}. Colours as in the comparison: green meets "
                "the target, amber misses it by up to {resolution} mm, red by more (Laimer 2020)."
            ).format(
                scenario=_esc(scenario_title(plan.scenario)),
                color=color.name(),
                value=shown,
                state=word,
                text=_esc(state.text),
                stale=stale,
                resolution=resolution,
            )
        )

    def _zone_lines(self, result, plan, lines, summary) -> None:
        if result is None or plan.zone is None:
            return
        short = result.outcomes.get("ablation_short_axis_mm")
        long = result.outcomes.get("ablation_long_axis_mm")
        if short is None or long is None:
            return
        note = result.notes.get("ablation_short_axis_mm", "")
        calibration = note.split(" (")[0] if note else ""
        zone = tr("Zone {short} × {long} mm").format(short=number(short), long=number(long))
        lines.append(
            (
                zone + (f" · {calibration.split(':')[0].rstrip()}" if calibration else ""),
                QColor(255, 170, 90),
            )
        )
        axes = tr("Zone {short} × {long} mm (short × long axis)")
        summary.append(
            axes.format(short=number(short), long=number(long))
            + (f" — <i>{_esc(calibration)}</i>" if calibration else "")
            + ("" if not note else " " + tr("(hover for the device's reference)"))
        )
        self.summary.setToolTip(note)

    def _path_lines(self, plan, lines, summary) -> None:
        labels = self.window.scene.labels
        if labels is None:
            return
        names = {v: lab.name for v, lab in labels.labels.items()}
        crossings = path_crossings(
            labels.volume.array, labels.volume.affine, names, plan.entry, plan.target
        )
        depth = float(np.linalg.norm(plan.target - plan.entry))
        if not crossings:
            lines.append((tr("Path {depth} mm: clear").format(depth=number(depth)), _GREY))
            clear = tr("Path {depth} mm: crosses no labelled vessel, bone or other organ.")
            summary.append(clear.format(depth=number(depth)))
            return
        first = crossings[0]
        crosses = tr("⚠ path crosses the {label} at {depth} mm")
        lines.append((crosses.format(label=first.name, depth=number(first.start_mm)), _WARN))
        summary += [
            f"<span style='color:{_WARN.name()}'>⚠ {_esc(c.text())}</span>" for c in crossings
        ]

    # -- dragging -----------------------------------------------------------------------------
    def _moved(self, name: str, lps: np.ndarray) -> None:
        """An end was dropped: write it into the selected scenario (a new one for the
        baseline), which marks that scenario's results out of date."""
        panel = self.panel
        scenario = panel._selected_scenario()
        if scenario is None or scenario.name == BASELINE:
            base = self.scenario()
            overrides = dict(base.overrides) if base is not None else {}
            scenario = panel.add_scenario(N_("Moved path"), overrides)  # a name, kept in English
            if scenario is None:
                return
            panel.scenarios.selectRow(panel._scenario_list().index(scenario))
        panel.set_point(name, lps)
        self._timer.start()
