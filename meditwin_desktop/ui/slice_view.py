"""A 2D slice view (axial, coronal or sagittal) with crosshair, letters and scale bar.

Pixels come from `core.imaging.slicing`; this widget only windows them to 8 bits and
paints. Left button: move the linked crosshair. Right drag: window/level. Wheel or
Up/Down/PageUp/PageDown: next/previous slice.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from meditwin_desktop.core.imaging.geometry import direction_letter
from meditwin_desktop.core.imaging.slicing import Orientation, PlaneImage, slice_through
from meditwin_desktop.ui.scene import Scene
from meditwin_desktop.ui.theme import VIEW_COLORS

_CROSSHAIR = QColor(255, 210, 60, 200)
_TEXT = QColor(235, 235, 235)
_NICE_LENGTHS_MM = (1, 2, 5, 10, 20, 50, 100, 200, 500)


def window_to_uint8(pixels: np.ndarray, level: float, width: float) -> np.ndarray:
    """Map values in [level - width/2, level + width/2] linearly to 0..255."""
    lo = level - width / 2.0
    scaled = (pixels.astype(np.float32) - lo) * (255.0 / width)
    return np.clip(scaled, 0, 255).astype(np.uint8)


def label_colors(scene: Scene) -> np.ndarray:
    """RGBA lookup table (one row per label value) for the scene's labels."""
    assert scene.labels is not None
    size = max(scene.labels.labels, default=0) + 1
    table = np.zeros((max(size, 256), 4), np.uint8)
    alpha = int(255 * scene.overlay_opacity)
    for value, label in scene.labels.labels.items():
        if label.name not in scene.hidden_labels:
            table[value] = (*label.color, alpha)
    table[0] = 0
    return table


class SliceView(QWidget):
    """One anatomical plane of the scene's volume."""

    hovered = Signal(object)  # LPS position under the mouse, or None

    def __init__(self, scene: Scene, orientation: Orientation, parent: QWidget | None = None):
        super().__init__(parent)
        self.scene = scene
        self.orientation = orientation
        self.setObjectName(f"{orientation.name}_view")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)
        self._plane: PlaneImage | None = None
        self._image: QImage | None = None
        self._overlay: QImage | None = None
        self._buffers: tuple[np.ndarray, ...] = ()
        self._drag_start: tuple[QPointF, tuple[float, float]] | None = None
        self._letters = orientation.edge_letters()
        for signal in (
            scene.volume_changed,
            scene.data_changed,
            scene.labels_changed,
            scene.window_changed,
            scene.overlay_changed,
            scene.cursor_changed,
        ):
            signal.connect(self._refresh)

    # -- data ---------------------------------------------------------------
    def _refresh(self) -> None:
        scene = self.scene
        if scene.volume is None:
            self._plane = self._image = self._overlay = None
            self.update()
            return
        self._plane = slice_through(scene.volume, self.orientation, scene.cursor)
        gray = np.ascontiguousarray(window_to_uint8(self._plane.pixels, *scene.window))
        rows, cols = gray.shape
        self._image = QImage(gray.data, cols, rows, cols, QImage.Format.Format_Grayscale8)
        self._overlay = None
        buffers: list[np.ndarray] = [gray]
        if scene.labels is not None and scene.overlay_visible:
            plane = slice_through(scene.labels.volume, self.orientation, scene.cursor, nearest=True)
            rgba = np.ascontiguousarray(label_colors(scene)[plane.pixels])
            self._overlay = QImage(rgba.data, cols, rows, cols * 4, QImage.Format.Format_RGBA8888)
            buffers.append(rgba)
        self._buffers = tuple(buffers)  # QImage does not own numpy memory
        self.update()

    def plane(self) -> PlaneImage | None:
        """The slice on screen."""
        return self._plane

    def image_rect(self) -> QRectF:
        """Where the slice's pixels are drawn, keeping true millimetre proportions."""
        if self._plane is None:
            return QRectF()
        rows, cols = self._plane.pixels.shape
        width_mm = cols * self._plane.pixel_size[0]
        height_mm = rows * self._plane.pixel_size[1]
        scale = min(self.width() / width_mm, self.height() / height_mm)
        w, h = width_mm * scale, height_mm * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def widget_to_lps(self, pos: QPointF) -> np.ndarray | None:
        """LPS position under a widget point (None outside the image)."""
        if self._plane is None:
            return None
        rect = self.image_rect()
        rows, cols = self._plane.pixels.shape
        col = (pos.x() - rect.left()) / rect.width() * cols - 0.5
        row = (pos.y() - rect.top()) / rect.height() * rows - 0.5
        if not (-0.5 <= col <= cols - 0.5 and -0.5 <= row <= rows - 0.5):
            return None
        return self._plane.to_lps(col, row)

    def lps_to_widget(self, lps: np.ndarray) -> QPointF:
        """Widget point of the projection of an LPS position."""
        assert self._plane is not None
        col, row = self._plane.from_lps(lps)
        rect = self.image_rect()
        rows, cols = self._plane.pixels.shape
        return QPointF(
            rect.left() + (col + 0.5) / cols * rect.width(),
            rect.top() + (row + 0.5) / rows * rect.height(),
        )

    def step_slice(self, steps: int) -> None:
        """Move the crosshair `steps` slices along this view's normal."""
        if self._plane is None:
            return
        normal = np.asarray(self.orientation.normal, float)
        current = float(normal @ self._plane.origin)  # the shown slice, not the cursor
        target = current + steps * self._plane.slice_step_mm
        self.scene.set_cursor(self.scene.cursor + normal * (target - normal @ self.scene.cursor))

    # -- painting ------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if self._plane is None or self._image is None:
            painter.setPen(QColor(140, 140, 140))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No image loaded")
            self._draw_title(painter)
            return
        rect = self.image_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(rect, self._image)
        if self._overlay is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(rect, self._overlay)
        self._draw_crosshair(painter, rect)
        self._draw_letters(painter)
        self._draw_scale_bar(painter)
        self._draw_title(painter)
        self._draw_window_text(painter)

    def _font(self, painter: QPainter, points: float, bold: bool = False) -> None:
        font = QFont(self.font())
        font.setPointSizeF(points)
        font.setBold(bold)
        painter.setFont(font)

    def _draw_crosshair(self, painter: QPainter, rect: QRectF) -> None:
        point = self.lps_to_widget(self.scene.cursor)
        painter.setPen(QPen(_CROSSHAIR, 1))
        gap = 8
        painter.drawLine(QPointF(rect.left(), point.y()), QPointF(point.x() - gap, point.y()))
        painter.drawLine(QPointF(point.x() + gap, point.y()), QPointF(rect.right(), point.y()))
        painter.drawLine(QPointF(point.x(), rect.top()), QPointF(point.x(), point.y() - gap))
        painter.drawLine(QPointF(point.x(), point.y() + gap), QPointF(point.x(), rect.bottom()))

    def _draw_letters(self, painter: QPainter) -> None:
        self._font(painter, 12, bold=True)
        painter.setPen(_TEXT)
        w, h, m, box = self.width(), self.height(), 6, 40
        align = Qt.AlignmentFlag
        places = {
            "left": (QRectF(m, h / 2 - box / 2, box, box), align.AlignLeft | align.AlignVCenter),
            "right": (
                QRectF(w - box - m, h / 2 - box / 2, box, box),
                align.AlignRight | align.AlignVCenter,
            ),
            "top": (QRectF(w / 2 - box / 2, 22, box, box), align.AlignHCenter | align.AlignTop),
            "bottom": (
                QRectF(w / 2 - box / 2, h - box - m, box, box),
                align.AlignHCenter | align.AlignBottom,
            ),
        }
        for edge, (rect, flags) in places.items():
            painter.drawText(rect, flags, self._letters[edge])

    def _draw_title(self, painter: QPainter) -> None:
        color = VIEW_COLORS[self.orientation.name]
        painter.fillRect(QRectF(0, 0, self.width(), 3), color)
        self._font(painter, 9, bold=True)
        painter.setPen(color.lighter(130))
        text = self.orientation.name.capitalize()
        if self._plane is not None:
            normal = np.asarray(self.orientation.normal, float)
            position = float(normal @ self.scene.cursor)
            axis = direction_letter(normal)
            text += f"   {self._plane.index + 1}/{self._plane.count}   {axis} {position:+.1f} mm"
        painter.drawText(QPointF(8, 18), text)

    def _draw_window_text(self, painter: QPainter) -> None:
        self._font(painter, 9)
        painter.setPen(_TEXT)
        level, width = self.scene.window
        painter.drawText(QPointF(8, self.height() - 8), f"W {width:.0f}  L {level:.0f}")

    def _draw_scale_bar(self, painter: QPainter) -> None:
        assert self._plane is not None
        rect = self.image_rect()
        cols = self._plane.pixels.shape[1]
        px_per_mm = rect.width() / (cols * self._plane.pixel_size[0])
        target_mm = self.width() / 5 / px_per_mm
        length = max((n for n in _NICE_LENGTHS_MM if n <= target_mm), default=1)
        bar = length * px_per_mm
        x1, y = self.width() - 14, self.height() - 14
        painter.setPen(QPen(_TEXT, 2))
        painter.drawLine(QPointF(x1 - bar, y), QPointF(x1, y))
        painter.drawLine(QPointF(x1 - bar, y - 4), QPointF(x1 - bar, y))
        painter.drawLine(QPointF(x1, y - 4), QPointF(x1, y))
        self._font(painter, 9)
        label = f"{length / 10:g} cm" if length >= 10 else f"{length} mm"
        painter.drawText(QRectF(x1 - bar, y - 20, bar, 16), Qt.AlignmentFlag.AlignCenter, label)

    # -- interaction -----------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._move_cursor(event.position())
        elif event.button() == Qt.MouseButton.RightButton:
            self._drag_start = (event.position(), self.scene.window)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        buttons = event.buttons()
        if buttons & Qt.MouseButton.LeftButton:
            self._move_cursor(event.position())
        elif buttons & Qt.MouseButton.RightButton and self._drag_start is not None:
            start, (level, width) = self._drag_start
            delta = event.position() - start
            # 1 pixel = 0.5% of the width, as in most PACS viewers
            self.scene.set_window(
                level - delta.y() * width * 0.005, width * math.exp(delta.x() * 0.005)
            )
        self.hovered.emit(self.widget_to_lps(event.position()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._drag_start = None

    def leaveEvent(self, event) -> None:  # noqa: N802
        self.hovered.emit(None)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() // 120
        if steps:
            self.step_slice(int(steps))

    def keyPressEvent(self, event) -> None:  # noqa: N802
        steps = {
            Qt.Key.Key_Up: 1,
            Qt.Key.Key_PageUp: 1,
            Qt.Key.Key_Down: -1,
            Qt.Key.Key_PageDown: -1,
        }.get(event.key())
        if steps:
            self.step_slice(steps)
        else:
            super().keyPressEvent(event)

    def _move_cursor(self, pos: QPointF) -> None:
        lps = self.widget_to_lps(pos)
        if lps is not None:
            self.scene.set_cursor(lps)
