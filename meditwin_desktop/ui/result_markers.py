"""The selected scenario's points on the slice views: its point parameters (pacing sites,
a lesion, a line's end: small rings with their short names) and its latest result's point
outcomes (a VT isthmus: a diamond) and 0/1 zones on the image grid (ablation lesions:
contours), for twins without an applicator plan (the liver's plan has its own layer).

A point within half a slice of the plane is drawn solid and named; farther, hollow, faded
and unnamed (its projection), as the planning layer draws a projected applicator. An out of
date result's marks are dashed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.planning import section_contours
from meditwin_desktop.core.scenarios import parameters
from meditwin_desktop.core.twin import Twin, is_point
from meditwin_desktop.ui.overlay_text import outlined_text
from meditwin_desktop.ui.planning_controller import plans_points
from meditwin_desktop.ui.planning_layer import PlanningLayer

draw_lines = PlanningLayer._draw_lines  # polylines of slice pixels, as the plan draws its zone

PARAMETER_COLOUR = QColor(120, 200, 255)
OUTCOME_COLOUR = QColor(255, 220, 60)
ZONE_COLOUR = QColor(255, 150, 40)


@dataclass
class Mark:
    """A point drawn on the slices."""

    lps: np.ndarray
    text: str
    outcome: bool  # a result (diamond) rather than a parameter (ring)


@dataclass
class Marks:
    """What the layer draws for one scenario."""

    points: list[Mark] = field(default_factory=list)
    zones: list[tuple[str, np.ndarray, np.ndarray]] = field(default_factory=list)  # name,
    # values [k, j, i], affine
    stale: bool = False


def scenario_marks(twin: Twin, params: dict, result, stale: bool) -> Marks:
    """The marks of a scenario: its point parameters, its result's point outcomes and 0/1
    grid fields (None result: the parameters only)."""
    marks = Marks(stale=stale)
    for parameter in twin.parameters:
        value = params.get(parameter.name)
        if parameter.kind == "point" and is_point(value):
            text = parameter.short_labels[0] if parameter.short_labels else parameter.label
            marks.points.append(Mark(np.asarray(value, float), tr(text), False))
    if result is None:
        return marks
    for outcome in twin.outcomes:
        value = result.outcomes.get(outcome.name)
        if outcome.point and is_point(value):
            marks.points.append(Mark(np.asarray(value, float), tr(outcome.label), True))
    for name, item in result.fields.items():
        values = np.asarray(item.values)
        grid = item.affine is not None and values.ndim == 3 and values.size > 0
        if grid and (values.dtype == bool or np.isin(values, (0, 1)).all()):
            label = tr(item.label) if item.label else name
            marks.zones.append((label, values.astype(np.float32), item.affine))
    return marks


class ResultMarkerLayer:
    """A SliceLayer drawing `Marks` on every attached view (it takes no mouse button)."""

    def __init__(self) -> None:
        self.marks: Marks | None = None
        self.views: list = []
        self._cache: dict[tuple, dict] = {}

    def attach(self, view) -> None:
        self.views.append(view)
        view.add_layer(self)

    def set_marks(self, marks: Marks | None) -> None:
        self.marks = marks
        self._cache.clear()
        for view in self.views:
            view.update()

    def mouse(self, view, kind: str, event) -> bool:
        return False

    def paint(self, view, painter: QPainter) -> None:
        marks, plane = self.marks, view.plane()
        if marks is None or plane is None:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        style = Qt.PenStyle.DashLine if marks.stale else Qt.PenStyle.SolidLine
        for n, (_, values, affine) in enumerate(marks.zones):
            key = (id(view), n, plane.index, tuple(np.round(plane.origin, 3)))
            if key not in self._cache:
                self._cache[key] = section_contours(values, affine, plane, (0.5,), 0.0)
            draw_lines(view, painter, self._cache[key][0.5], QPen(ZONE_COLOUR, 2, style))
        normal = np.asarray(view.orientation.normal, float)
        half = plane.slice_step_mm / 2
        for mark in marks.points:
            offset = float(normal @ (mark.lps - plane.origin))
            self._draw_point(view, painter, mark, offset, half, style)

    @staticmethod
    def _draw_point(view, painter, mark: Mark, offset: float, half: float, style) -> None:
        at = view.lps_to_widget(mark.lps)
        near = abs(offset) <= half
        colour = QColor(OUTCOME_COLOUR if mark.outcome else PARAMETER_COLOUR)
        if not near:
            colour.setAlpha(120)
        painter.setPen(QPen(colour, 2.0 if near else 1.2, style))
        painter.setBrush(colour if near and mark.outcome else Qt.BrushStyle.NoBrush)
        r = 7.0 if mark.outcome else 5.0
        if mark.outcome:
            painter.drawPolygon(QPolygonF([at + QPointF(0, -r), at + QPointF(r, 0),
                                           at + QPointF(0, r), at + QPointF(-r, 0)]))  # fmt: skip
        else:
            painter.drawEllipse(at, r, r)
        if near:  # far ones stay unnamed: a small view would fill with words
            outlined_text(painter, at + QPointF(r + 4, -r), mark.text, colour)


class ResultMarkerController(QObject):
    """Keeps the marker layer on the selected scenario (else the baseline) of the twin
    panel's twin; twins with an applicator plan are drawn by the planning layer instead."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.panel = window.twin_panel
        self.layer = ResultMarkerLayer()
        for view in window.slice_views():
            self.layer.attach(view)
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
            signal.connect(self._timer.start)

    def refresh(self) -> None:
        """Show the marks of the selected scenario (nothing without a twin or a case)."""
        panel, twin = self.panel, self.panel.twin
        scenarios = panel._scenario_list()
        scenario = panel._selected_scenario() or (scenarios[0] if scenarios else None)
        if twin is None or panel.case is None or scenario is None or plans_points(twin):
            self.layer.set_marks(None)
            return
        try:
            params = parameters(twin, panel.baseline, scenario)
        except MeditwinError:
            params = {}
        run = panel._last_run(scenario.name)
        result = run.result if run is not None and run.status == "ok" else None
        stale = bool(panel.out_of_date.get(scenario.name))
        self.layer.set_marks(scenario_marks(twin, params, result, stale))
