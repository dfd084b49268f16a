"""The CT resliced along the applicator: an oblique plane that contains the applicator's
axis (turned about it with a slider), with the labels, the predicted zone, the tumour's
5/10 mm margins, the applicator with depth ticks from the entry every 10 mm.

The plane is resampled from the scene's volume (trilinear; labels nearest) at 0.75 mm,
a few hundred pixels a side: milliseconds, on the GUI thread, at each plan change.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QVBoxLayout, QWidget
from scipy import ndimage

from meditwin_desktop.core.i18n import number, tr
from meditwin_desktop.core.imaging.slicing import PlaneImage
from meditwin_desktop.core.planning import section_contours
from meditwin_desktop.ui.overlay_text import outlined_text
from meditwin_desktop.ui.planning_layer import (
    APPLICATOR,
    MARGIN_5,
    MARGIN_10,
    TUMOUR,
    ZONE,
    Plan,
    scenario_title,
)
from meditwin_desktop.ui.slice_view import label_colors, window_to_uint8

PIXEL_MM = 0.75
BEFORE_MM, BEYOND_MM, HALF_WIDTH_MM = 15.0, 45.0, 55.0


def applicator_plane(
    entry: np.ndarray, target: np.ndarray, angle_deg: float, shape_mm: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(origin, col_step, row_step) of a plane containing the axis entry -> target: columns
    run along the applicator from `BEFORE_MM` before the entry, rows across it (at angle 0
    the across direction is closest to the patient's superior, upwards on screen)."""
    axis = np.asarray(target, float) - np.asarray(entry, float)
    axis /= np.linalg.norm(axis)
    helper = np.array([0.0, 0.0, 1.0]) if abs(axis[2]) < 0.9 else np.array([0.0, -1.0, 0.0])
    up = helper - (helper @ axis) * axis
    up /= np.linalg.norm(up)
    angle = np.radians(angle_deg)
    up = np.cos(angle) * up + np.sin(angle) * np.cross(axis, up)
    col_step, row_step = axis * PIXEL_MM, -up * PIXEL_MM
    origin = np.asarray(entry, float) - axis * BEFORE_MM - row_step * (shape_mm[1] / 2 / PIXEL_MM)
    return origin, col_step, row_step


class _Canvas(QWidget):
    """A plain surface painted by its owner."""

    def __init__(self, paint, parent: QWidget) -> None:
        super().__init__(parent)
        self._paint_with = paint

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._paint_with(event)


class ApplicatorView(QWidget):
    """The selected scenario's plan on a plane through its applicator."""

    def __init__(self, scene, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("applicator_view")
        self.scene = scene
        self.plan: Plan | None = None
        self.plane: PlaneImage | None = None
        self._image: QImage | None = None
        self._overlay: QImage | None = None
        self._buffers: tuple = ()
        self._lines: dict = {}
        self._dirty = True
        self._air: tuple[int, float] | None = None  # (id of the volume's array, its minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("Turn the plane about the applicator:")))
        self.angle = QSlider(Qt.Orientation.Horizontal, self)
        self.angle.setObjectName("applicator_angle")
        self.angle.setRange(0, 179)
        self.angle.setToolTip(tr("0°: the plane holding the applicator and the head-feet axis"))
        self.angle.valueChanged.connect(lambda _: self.refresh())
        row.addWidget(self.angle, stretch=1)
        self.angle_text = QLabel("0°")
        row.addWidget(self.angle_text)
        layout.addLayout(row)
        self.canvas = _Canvas(self._paint, self)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.canvas.setMinimumHeight(60)  # never the tallest page of the comparison
        layout.addWidget(self.canvas, stretch=1)
        for signal in (scene.volume_changed, scene.window_changed, scene.labels_changed,
                       scene.overlay_changed):  # fmt: skip
            signal.connect(self.refresh)

    def set_plan(self, plan: Plan | None) -> None:
        """Show another plan (None: an explanation)."""
        self.plan = plan
        self.refresh()

    def refresh(self) -> None:
        """Show the plan as it is now: at once while on screen, else when next shown (a
        window or label change must not reslice a hidden tab, ~30 ms on a 512² CT)."""
        self._dirty = True
        if self.isVisible():
            self._compute()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._dirty:
            self._compute()

    def _compute(self) -> None:
        """Resample the plane and trace the contours (cheap: one small oblique slice)."""
        self._dirty = False
        self.angle_text.setText(f"{self.angle.value()}°")
        plan, volume = self.plan, self.scene.volume
        self.plane = self._image = self._overlay = None
        self._lines = {}
        if plan is None or volume is None or np.linalg.norm(plan.target - plan.entry) < 1.0:
            self.canvas.update()
            return
        length = float(np.linalg.norm(plan.target - plan.entry))
        shape_mm = (BEFORE_MM + length + BEYOND_MM, 2 * HALF_WIDTH_MM)
        origin, col_step, row_step = applicator_plane(
            plan.entry, plan.target, self.angle.value(), shape_mm
        )
        cols, rows = (round(s / PIXEL_MM) for s in shape_mm)
        c, r = np.meshgrid(np.arange(cols), np.arange(rows))
        lps = origin + c[..., None] * col_step + r[..., None] * row_step
        if self._air is None or self._air[0] != id(volume.array):
            self._air = (id(volume.array), float(volume.array.min()))  # once per volume
        pixels = _resample(volume, lps, order=1, fill=self._air[1])
        self.plane = PlaneImage(pixels, origin, col_step, row_step, 0, 1, PIXEL_MM)
        gray = np.ascontiguousarray(window_to_uint8(pixels, *self.scene.window))
        self._image = QImage(gray.data, cols, rows, cols, QImage.Format.Format_Grayscale8)
        buffers = [gray]
        labels = self.scene.labels
        if labels is not None and self.scene.overlay_visible:
            values = _resample(labels.volume, lps, order=0).astype(np.int64)
            table = label_colors(self.scene).view(np.uint32).ravel()
            rgba = np.ascontiguousarray(np.take(table, np.clip(values, 0, len(table) - 1)))
            self._overlay = QImage(rgba.data, cols, rows, cols * 4, QImage.Format.Format_RGBA8888)
            buffers.append(rgba)
        self._buffers = tuple(buffers)  # QImage does not own numpy memory
        if plan.zone is not None:
            self._lines["zone"] = section_contours(*plan.zone, self.plane, (0.5,), 0.0)[0.5]
        if plan.margins is not None:
            half = float(min(np.linalg.norm(plan.margins.affine[:3, :3], axis=0))) / 2
            found = section_contours(
                plan.margins.distance, plan.margins.affine, self.plane, (half, 5.0, 10.0), 1e6
            )
            self._lines.update(tumour=found[half], m5=found[5.0], m10=found[10.0])
        self.canvas.update()

    # -- painting -----------------------------------------------------------------------------
    def image_rect(self) -> QRectF:
        """Where the plane's pixels are drawn (true proportions)."""
        if self.plane is None:
            return QRectF()
        rows, cols = self.plane.pixels.shape
        w, h = self.canvas.width(), self.canvas.height()
        scale = min(w / cols, h / rows)
        return QRectF((w - cols * scale) / 2, (h - rows * scale) / 2, cols * scale, rows * scale)

    def to_widget(self, lps: np.ndarray) -> QPointF:
        """Canvas point of an LPS position on (or projected onto) the plane."""
        col, row = self.plane.from_lps(lps)
        rect = self.image_rect()
        rows, cols = self.plane.pixels.shape
        return QPointF(rect.left() + (col + 0.5) * rect.width() / cols,
                       rect.top() + (row + 0.5) * rect.height() / rows)  # fmt: skip

    def _paint(self, event) -> None:
        painter = QPainter(self.canvas)
        painter.fillRect(self.canvas.rect(), Qt.GlobalColor.black)
        font = QFont(self.font())
        font.setPointSizeF(9)
        painter.setFont(font)
        if self.plane is None or self._image is None:
            painter.setPen(QColor(160, 160, 160))
            painter.drawText(
                self.canvas.rect(),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                tr(
                    "Along the applicator: select a scenario of a twin with an entry and a "
                    "target (the liver ablation twin) on a case with a CT."
                ),
            )
            return
        rect = self.image_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(rect, self._image)
        if self._overlay is not None:
            painter.drawImage(rect, self._overlay)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rows, cols = self.plane.pixels.shape
        sx, sy = rect.width() / cols, rect.height() / rows
        styles = {
            "tumour": QPen(TUMOUR, 2.0),
            "m5": QPen(MARGIN_5, 1.5, Qt.PenStyle.DashLine),
            "m10": QPen(MARGIN_10, 1.5, Qt.PenStyle.DotLine),
            "zone": QPen(ZONE, 2.5),
        }
        for name, pen in styles.items():
            painter.setPen(pen)
            for line in self._lines.get(name, []):
                points = [QPointF(rect.left() + (c + 0.5) * sx, rect.top() + (r + 0.5) * sy)
                          for c, r in line]  # fmt: skip
                painter.drawPolyline(QPolygonF(points))
        self._draw_applicator(painter)
        title = tr("Along the applicator ({scenario})").format(
            scenario=scenario_title(self.plan.scenario)
        )
        outlined_text(painter, QPointF(8, 16), title, QColor(235, 235, 235))

    def _draw_applicator(self, painter: QPainter) -> None:
        plan = self.plan
        entry, target = self.to_widget(plan.entry), self.to_widget(plan.target)
        painter.setPen(QPen(APPLICATOR, 3.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLine(entry, target)
        axis = plan.target - plan.entry
        length = float(np.linalg.norm(axis))
        across = QPointF(-(target - entry).y(), (target - entry).x())
        norm = max((across.x() ** 2 + across.y() ** 2) ** 0.5, 1e-6)
        across = across / norm * 5
        painter.setPen(QPen(APPLICATOR, 1.2))
        for mm in range(10, int(length), 10):  # depth ticks from the entry
            at = self.to_widget(plan.entry + axis * (mm / length))
            painter.drawLine(at - across, at + across)
        painter.setBrush(APPLICATOR)
        painter.drawEllipse(entry, 4, 4)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(ZONE, 2.0))
        painter.drawEllipse(target, 6, 6)
        outlined_text(painter, target + QPointF(9, -9), f"{number(length)} mm", APPLICATOR)


def _resample(volume, lps: np.ndarray, order: int, fill: float = 0.0) -> np.ndarray:
    ijk = volume.lps_to_index(lps)
    return ndimage.map_coordinates(
        volume.array, [ijk[..., 2], ijk[..., 1], ijk[..., 0]], order=order, cval=fill
    ).astype(volume.array.dtype)
