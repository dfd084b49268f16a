"""The ablation plan over the slice views (a `SliceLayer`): the applicator from entry to
target, the predicted zone, the tumour with its 5 and 10 mm margins, and a small legend
(minimal margin in traffic-light colours, zone size and its calibration, path warnings).

The applicator is drawn projected on every slice: thick and solid where it lies within
half a slice of the plane, thin and dashed elsewhere. Its two ends are handles: a left
drag moves one (keeping its depth across the slice), every view redraws only lines while
dragging, and the new point goes to `on_moved(name, lps)` on release (the scenario, and
its results' staleness, change then). Contours are traced once per slice and cached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QMouseEvent, QPainter, QPen, QPolygonF

from meditwin_desktop.core.i18n import N_, tr
from meditwin_desktop.core.planning import MarginField, section_contours
from meditwin_desktop.core.scenarios import BASELINE
from meditwin_desktop.ui.overlay_text import outlined_text

ENTRY, TARGET = "entry_lps_mm", "target_lps_mm"
HANDLE_PX = 9.0  # how near a handle a press must be to take it
ZONE = QColor(255, 140, 40)
TUMOUR = QColor(250, 230, 70)
MARGIN_5 = QColor(120, 235, 140)
MARGIN_10 = QColor(90, 200, 235)
APPLICATOR = QColor(245, 245, 245)
STATE_COLORS = {
    "green": QColor(90, 220, 110),
    "amber": QColor(255, 190, 60),
    "red": QColor(255, 90, 80),
    "grey": QColor(180, 180, 180),
}


@dataclass
class Plan:
    """What the layer draws: built by the planning controller from the selected scenario."""

    entry: np.ndarray
    target: np.ndarray
    scenario: str = ""
    zone: tuple[np.ndarray, np.ndarray] | None = None  # (values [k, j, i], affine)
    zone_stale: bool = False  # the zone is from other parameters than the plan's now
    margins: MarginField | None = None
    legend: list[tuple[str, QColor]] = field(default_factory=list)


class PlanningLayer:
    """Draws a `Plan` on slice views and lets the user drag its ends."""

    def __init__(self, on_moved: Callable[[str, np.ndarray], None]) -> None:
        self.plan: Plan | None = None
        self.on_moved = on_moved
        self.views: list = []
        self._dragging: str | None = None
        self._cache: dict[tuple, list] = {}

    def attach(self, view) -> None:
        """Draw on `view` too."""
        self.views.append(view)
        view.add_layer(self)

    def set_plan(self, plan: Plan | None) -> None:
        """Show another plan (None: nothing); a drag in progress keeps its point."""
        if self._dragging and plan is not None and self.plan is not None:
            attribute = _attribute(self._dragging)
            setattr(plan, attribute, getattr(self.plan, attribute))
        self.plan = plan
        self._cache.clear()
        self._update_views()

    def dragging(self) -> bool:
        """Whether an end is being dragged."""
        return self._dragging is not None

    def _update_views(self) -> None:
        for view in self.views:
            view.update()

    # -- painting -------------------------------------------------------------------------
    def paint(self, view, painter: QPainter) -> None:
        plan, plane = self.plan, view.plane()
        if plan is None or plane is None:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if plan.margins is not None:
            margins = plan.margins
            levels = (float(min(_spacing(margins.affine))) / 2, 5.0, 10.0)
            lines = self._contours(view, "margins", margins.distance, margins.affine, levels, 1e6)
            styles = (
                (TUMOUR, 2.0, Qt.PenStyle.SolidLine),
                (MARGIN_5, 1.5, Qt.PenStyle.DashLine),
                (MARGIN_10, 1.5, Qt.PenStyle.DotLine),
            )
            for level, (color, width, style) in zip(levels, styles, strict=True):
                self._draw_lines(view, painter, lines[level], QPen(color, width, style))
        if plan.zone is not None:
            values, affine = plan.zone
            lines = self._contours(view, "zone", values, affine, (0.5,), 0.0)[0.5]
            color = QColor(ZONE)
            style = Qt.PenStyle.SolidLine
            if plan.zone_stale:
                color.setAlpha(140)
                style = Qt.PenStyle.DashDotLine
            self._draw_lines(view, painter, lines, QPen(color, 2.5, style))
        self._draw_applicator(view, painter, plan)
        self._draw_legend(view, painter, plan)

    def _contours(self, view, kind, values, affine, levels, fill) -> dict[float, list]:
        plane = view.plane()
        key = (id(view), kind, plane.index, tuple(np.round(plane.origin, 3)))
        if key not in self._cache:
            self._cache[key] = section_contours(values, affine, plane, levels, fill)
        return self._cache[key]

    @staticmethod
    def _draw_lines(view, painter: QPainter, lines: list[np.ndarray], pen: QPen) -> None:
        if not lines:
            return
        rect = view.image_rect()
        rows, cols = view.plane().pixels.shape
        sx, sy = rect.width() / cols, rect.height() / rows
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for line in lines:
            x = rect.left() + (line[:, 0] + 0.5) * sx
            y = rect.top() + (line[:, 1] + 0.5) * sy
            painter.drawPolyline(QPolygonF([QPointF(a, b) for a, b in zip(x, y, strict=True)]))

    def _draw_applicator(self, view, painter: QPainter, plan: Plan) -> None:
        plane = view.plane()
        entry, target = view.lps_to_widget(plan.entry), view.lps_to_widget(plan.target)
        painter.setPen(QPen(APPLICATOR, 1.2, Qt.PenStyle.DashLine))
        painter.drawLine(entry, target)  # projected
        span = in_slab(plan.entry, plan.target, plane)
        if span is not None:  # the part within half a slice of this plane
            a, b = span
            along = plan.target - plan.entry
            p, q = plan.entry + a * along, plan.entry + b * along
            painter.setPen(QPen(APPLICATOR, 3.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawLine(view.lps_to_widget(p), view.lps_to_widget(q))
        painter.setPen(QPen(QColor(20, 20, 20), 1.5))
        painter.setBrush(QBrush(APPLICATOR))
        painter.drawEllipse(entry, 5, 5)  # entry: a filled disc
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(ZONE, 2.5))
        painter.drawEllipse(target, 6, 6)  # target: a ring with a dot
        painter.setBrush(QBrush(ZONE))
        painter.drawEllipse(target, 1.5, 1.5)

    def _draw_legend(self, view, painter: QPainter, plan: Plan) -> None:
        """Top right: level with the title when clear of it and of the top letter (centred),
        else below both (narrow panes); in a short pane only the lines that end above the
        side letters (the margin first: the plan summary in the Twins panel has them all)."""
        if not plan.legend:
            return
        header = getattr(view, "_header_extent", None)
        header_end, header_bottom = header(painter) if header is not None else (160.0, 24.0)
        font = QFont(view.font())
        font.setPointSizeF(8.5)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        width = max(metrics.horizontalAdvance(text) for text, _ in plan.legend)
        key = self._key_width(metrics, self._key_items(plan))
        if key <= view.width() - 16:  # the key row is drawn: it must clear the letter too
            width = max(width, key)
        left = view.width() - 8 - width
        clear = left > view.width() / 2 + 14 and left > header_end + 12
        y = 8.0 if clear else max(header_bottom, 44.0) + 26.0
        room = view.width() - 16
        bottom = view.height() / 2 - 14  # the L/R (A/P) letters sit at mid-height
        for text, color in plan.legend:
            if y + 15 > bottom:
                return
            shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, room)  # narrow panes
            box = QRectF(8, y, room, 16)
            outlined_text(painter, box, shown, color, Qt.AlignmentFlag.AlignRight)
            y += 15
        if y + 2 + metrics.height() <= bottom:
            self._draw_key(view, painter, plan, y + 2)

    @staticmethod
    def _key_items(plan: Plan) -> list[tuple[QPen, str]]:
        items = []
        if plan.margins is not None:
            items += [
                (QPen(TUMOUR, 2.0), tr("tumour")),
                (QPen(MARGIN_5, 1.5, Qt.PenStyle.DashLine), "5 mm"),
                (QPen(MARGIN_10, 1.5, Qt.PenStyle.DotLine), "10 mm"),
            ]
        if plan.zone is not None:
            style = Qt.PenStyle.DashDotLine if plan.zone_stale else Qt.PenStyle.SolidLine
            items.append(
                (QPen(ZONE, 2.5, style), tr("zone (old)") if plan.zone_stale else tr("zone"))
            )
        return items

    @staticmethod
    def _key_width(metrics, items: list[tuple[QPen, str]]) -> float:
        if not items:
            return 0.0
        width = sum(_SAMPLE + 3 + metrics.horizontalAdvance(t) for _, t in items)
        return width + _GAP * (len(items) - 1)

    def _draw_key(self, view, painter: QPainter, plan: Plan, y: float) -> None:
        """What each line is: right-aligned samples, left out where the pane is too narrow."""
        items = self._key_items(plan)
        metrics = painter.fontMetrics()
        sample, gap = _SAMPLE, _GAP
        width = self._key_width(metrics, items)
        if not items or width > view.width() - 16:
            return
        x = view.width() - 8 - width
        base = y + metrics.ascent()
        for pen, text in items:
            painter.setPen(pen)
            middle = base - metrics.ascent() / 2 + 1
            painter.drawLine(QPointF(x, middle), QPointF(x + sample, middle))
            x += sample + 3
            outlined_text(painter, QPointF(x, base), text, QColor(225, 225, 225))
            x += metrics.horizontalAdvance(text) + gap

    # -- dragging ---------------------------------------------------------------------------
    def mouse(self, view, kind: str, event: QMouseEvent) -> bool:
        plan = self.plan
        if plan is None:
            return False
        pos = event.position()
        if kind == "press":
            name = self.handle_at(view, pos)
            if name is None:
                return False
            self._dragging = name
            return True
        if self._dragging is None:
            return False
        name = self._dragging
        point = self._moved_point(view, pos, getattr(plan, _attribute(name)))
        if point is not None:
            setattr(plan, _attribute(name), point)
            self._update_views()  # lines only: the contours stay cached
        if kind == "release":
            self._dragging = None
            self.on_moved(name, getattr(plan, _attribute(name)))
        return True

    def handle_at(self, view, pos: QPointF) -> str | None:
        """ENTRY or TARGET when `pos` is on that end's handle (the target first)."""
        plan = self.plan
        if plan is None or view.plane() is None:
            return None
        for name, point in ((TARGET, plan.target), (ENTRY, plan.entry)):
            where = view.lps_to_widget(point)
            if np.hypot(where.x() - pos.x(), where.y() - pos.y()) <= HANDLE_PX:
                return name
        return None

    @staticmethod
    def _moved_point(view, pos: QPointF, before: np.ndarray) -> np.ndarray | None:
        """The LPS point under the mouse at the dragged end's depth across the slice."""
        on_plane = view.widget_to_lps(pos)
        if on_plane is None:
            return None
        normal = np.asarray(view.orientation.normal, float)
        return on_plane + normal * float(normal @ (np.asarray(before, float) - on_plane))


_SAMPLE, _GAP = 16.0, 8.0  # the key's line samples and the space between its items


def scenario_title(name: str) -> str:
    """A scenario's name as shown: the baseline's in the language in use, others as typed."""
    return tr(BASELINE) if name == BASELINE else name


# the margin states (`margin_state`) as words
STATE_WORDS = {"green": N_("green"), "amber": N_("amber"), "red": N_("red"), "grey": N_("grey")}


def _attribute(name: str) -> str:
    return "entry" if name == ENTRY else "target"


def _spacing(affine: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.asarray(affine)[:3, :3], axis=0)


def in_slab(entry: np.ndarray, target: np.ndarray, plane) -> tuple[float, float] | None:
    """The fractions [a, b] of the segment entry -> target lying within half a slice of
    `plane` (None when none does)."""
    normal = np.cross(plane.col_step, plane.row_step)
    normal /= np.linalg.norm(normal)
    half = plane.slice_step_mm / 2
    d0 = float(normal @ (np.asarray(entry, float) - plane.origin))
    d1 = float(normal @ (np.asarray(target, float) - plane.origin))
    if abs(d1 - d0) < 1e-9:
        return (0.0, 1.0) if abs(d0) <= half else None
    a, b = sorted(((-half - d0) / (d1 - d0), (half - d0) / (d1 - d0)))
    a, b = max(a, 0.0), min(b, 1.0)
    return (a, b) if a < b else None
