"""A 2D slice view (axial, coronal or sagittal): image, labels, crosshair, letters, tools.

Pixels come from `core.imaging.slicing`; this widget windows them to 8 bits and paints.
Mouse: left = the scene's tool (crosshair, paint, erase, ruler, ROI); right drag =
window/level; middle drag = pan; wheel = next/previous slice; Ctrl+wheel = zoom;
double-click = this view alone. Keys: Up/Down/PageUp/PageDown step slices.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from meditwin_desktop.core.i18n import N_, number, tr
from meditwin_desktop.core.imaging.geometry import offset_text
from meditwin_desktop.core.imaging.slicing import Orientation, PlaneImage, slice_through
from meditwin_desktop.core.segmentation.brush import brush_voxels
from meditwin_desktop.core.segmentation.statistics import region_statistics
from meditwin_desktop.ui.overlay_text import outlined_text
from meditwin_desktop.ui.scene import Ruler, Scene
from meditwin_desktop.ui.theme import VIEW_COLORS

_CROSSHAIR = QColor(255, 210, 60, 200)
_TEXT = QColor(235, 235, 235)
_PREVIEW = (60, 230, 90, 110)
_PREVIEW_RGBA = np.array(_PREVIEW, np.uint8).view(np.uint32)[0]
_RULER = QColor(90, 220, 255)
_TOOL = QColor(255, 170, 60)
_TOOL_NAMES = {"ruler": N_("Ruler"), "roi": N_("ROI"), "paint": N_("Paint"), "erase": N_("Erase")}
_VIEW_TITLES = {"axial": N_("Axial"), "coronal": N_("Coronal"), "sagittal": N_("Sagittal")}
_LINE = 16  # pixels between lines of the corner texts
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


class SliceLayer(Protocol):
    """Something drawn over a slice view that may take the left mouse button (a plan's
    applicator, a measurement): `mouse` returns True on "press" to take the drag, and then
    gets its "move" and "release" events."""

    def paint(self, view: SliceView, painter: QPainter) -> None: ...

    def mouse(self, view: SliceView, kind: str, event: QMouseEvent) -> bool: ...


class SliceView(QWidget):
    """One anatomical plane of the scene's volume."""

    hovered = Signal(object)  # LPS position under the mouse, or None
    edited = Signal()  # a brush stroke ended (labels changed)
    roi_measured = Signal(dict)  # statistics of a rectangle drawn with the ROI tool
    maximize_requested = Signal()

    def __init__(self, scene: Scene, orientation: Orientation, parent: QWidget | None = None):
        super().__init__(parent)
        self.scene = scene
        self.orientation = orientation
        self.setObjectName(f"{orientation.name}_view")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)
        self.zoom = 1.0
        self.pan = QPointF(0, 0)
        self._plane: PlaneImage | None = None
        self._image: QImage | None = None
        self._overlay: QImage | None = None
        self._buffers: tuple[np.ndarray, ...] = ()
        self._drag: tuple[str, QPointF, object] | None = None
        self._draft: Ruler | tuple[QPointF, QPointF] | None = None
        self._mouse: QPointF | None = None
        self._letters = orientation.edge_letters()
        self._layers: list[SliceLayer] = []
        for signal in (
            scene.volume_changed,
            scene.data_changed,
            scene.labels_changed,
            scene.window_changed,
            scene.overlay_changed,
            scene.cursor_changed,
            scene.preview_changed,
        ):
            signal.connect(self._refresh)
        scene.measurements_changed.connect(self.update)
        scene.tool_changed.connect(self._tool_changed)
        scene.volume_changed.connect(self.reset_zoom)

    # -- data ---------------------------------------------------------------------
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
        buffers: list[np.ndarray] = [gray]
        rgba = None  # one uint32 per pixel: the bytes R, G, B, A in memory order
        if scene.labels is not None and scene.overlay_visible:
            plane = slice_through(scene.labels.volume, self.orientation, scene.cursor, nearest=True)
            # a 1-D take of packed colours: ~5x faster than indexing an (n, 4) table
            rgba = np.take(label_colors(scene).view(np.uint32).ravel(), plane.pixels)
        if scene.preview_range is not None:
            low, high = scene.preview_range
            if rgba is None:
                rgba = np.zeros((rows, cols), np.uint32)
            rgba[(self._plane.pixels >= low) & (self._plane.pixels <= high)] = _PREVIEW_RGBA
        if scene.preview_mask is not None:  # e.g. region growing before it is applied
            mask = slice_through(scene.preview_mask, self.orientation, scene.cursor, nearest=True)
            if rgba is None:
                rgba = np.zeros((rows, cols), np.uint32)
            rgba[mask.pixels > 0] = _PREVIEW_RGBA
        self._overlay = None
        if rgba is not None:
            rgba = np.ascontiguousarray(rgba)
            self._overlay = QImage(rgba.data, cols, rows, cols * 4, QImage.Format.Format_RGBA8888)
            buffers.append(rgba)
        self._buffers = tuple(buffers)  # QImage does not own numpy memory
        self.update()

    def add_layer(self, layer: SliceLayer) -> None:
        """Draw `layer` over the slice and offer it the left mouse button first."""
        self._layers.append(layer)
        self.update()

    def plane(self) -> PlaneImage | None:
        """The slice on screen."""
        return self._plane

    def display_image(self) -> QImage | None:
        """The windowed greyscale slice (for the 3D view's slice planes)."""
        return self._image

    def reset_zoom(self) -> None:
        """Fit the slice to the view."""
        self.zoom, self.pan = 1.0, QPointF(0, 0)
        self.update()

    def image_rect(self) -> QRectF:
        """Where the slice's pixels are drawn, keeping true millimetre proportions."""
        if self._plane is None:
            return QRectF()
        rows, cols = self._plane.pixels.shape
        width_mm = cols * self._plane.pixel_size[0]
        height_mm = rows * self._plane.pixel_size[1]
        scale = min(self.width() / width_mm, self.height() / height_mm) * self.zoom
        w, h = width_mm * scale, height_mm * scale
        return QRectF(
            (self.width() - w) / 2 + self.pan.x(), (self.height() - h) / 2 + self.pan.y(), w, h
        )

    def _pixel_at(self, pos: QPointF) -> tuple[float, float]:
        rect = self.image_rect()
        rows, cols = self._plane.pixels.shape  # type: ignore[union-attr]
        return (pos.x() - rect.left()) / rect.width() * cols - 0.5, (
            pos.y() - rect.top()
        ) / rect.height() * rows - 0.5

    def widget_to_lps(self, pos: QPointF) -> np.ndarray | None:
        """LPS position under a widget point (None outside the image)."""
        if self._plane is None:
            return None
        col, row = self._pixel_at(pos)
        rows, cols = self._plane.pixels.shape
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

    def _mm_per_pixel_on_screen(self) -> float:
        rect = self.image_rect()
        return self._plane.pixels.shape[1] * self._plane.pixel_size[0] / rect.width()  # type: ignore[union-attr]

    def step_slice(self, steps: int) -> None:
        """Move the crosshair `steps` slices along this view's normal."""
        if self._plane is None:
            return
        normal = np.asarray(self.orientation.normal, float)
        current = float(normal @ self._plane.origin)  # the shown slice, not the cursor
        target = current + steps * self._plane.slice_step_mm
        self.scene.set_cursor(self.scene.cursor + normal * (target - normal @ self.scene.cursor))

    # -- painting -------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if self._plane is None or self._image is None:
            painter.setPen(QColor(140, 140, 140))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, tr("No image loaded"))
            self._draw_title(painter)
            return
        rect = self.image_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(rect, self._image)
        if self._overlay is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(rect, self._overlay)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._draw_crosshair(painter, rect)
        self._draw_rulers(painter)
        for layer in self._layers:
            painter.save()
            layer.paint(self, painter)
            painter.restore()
        self._draw_tool_cursor(painter)
        self._draw_letters(painter)
        self._draw_scale_bar(painter)
        self._draw_title(painter)
        self._draw_window_text(painter)
        self._draw_loading(painter)

    def _draw_loading(self, painter: QPainter) -> None:
        """While the series loads, say so: slices not yet read are blank, not anatomy."""
        unread = self.scene.slices_unread()
        if not unread:
            return
        total = len(self.scene.volume.meta.get("decoded", ()))
        self._font(painter, 10, bold=True)
        painter.setPen(QColor(240, 200, 90))
        text = tr("Loading {read}/{total} slices: blank ones are not read yet").format(
            read=total - unread, total=total
        )
        painter.drawText(
            QRectF(8, self.height() - 66, self.width() - 16, 40),  # above the bottom letter
            Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap,
            text,
        )

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

    def _on_this_slice(self, lps: np.ndarray) -> bool:
        normal = np.asarray(self.orientation.normal, float)
        distance = abs(float(normal @ (lps - self._plane.origin)))  # type: ignore[union-attr]
        return distance <= self._plane.slice_step_mm / 2 + 1e-6  # type: ignore[union-attr]

    def _draw_rulers(self, painter: QPainter) -> None:
        rulers = [
            r
            for r in self.scene.rulers
            if self._on_this_slice(r.start) and self._on_this_slice(r.end)
        ]
        if isinstance(self._draft, Ruler):
            rulers.append(self._draft)
        self._font(painter, 10, bold=True)
        for ruler in rulers:
            a, b = self.lps_to_widget(ruler.start), self.lps_to_widget(ruler.end)
            painter.setPen(QPen(_RULER, 2))
            painter.drawLine(a, b)
            for end in (a, b):
                painter.drawEllipse(end, 3, 3)
            outlined_text(
                painter, (a + b) / 2 + QPointF(6, -6), f"{number(ruler.length_mm, 1)} mm", _RULER
            )
        if isinstance(self._draft, tuple):
            painter.setPen(QPen(_RULER, 1, Qt.PenStyle.DashLine))
            painter.drawRect(QRectF(*self._draft).normalized())

    def _draw_tool_cursor(self, painter: QPainter) -> None:
        if self.scene.tool in ("paint", "erase") and self._mouse is not None:
            radius = self.scene.brush_radius_mm / self._mm_per_pixel_on_screen()
            color = QColor(255, 255, 255) if self.scene.tool == "paint" else QColor(255, 90, 90)
            painter.setPen(QPen(color, 1))
            painter.drawEllipse(self._mouse, radius, radius)

    def _draw_letters(self, painter: QPainter) -> None:
        """The edge letters; the top and bottom ones step aside (below the title, above
        the window text) where a narrow pane (1 x 3, 2x scaling) would overlap them."""
        self._font(painter, 12, bold=True)
        w, h, m, box = self.width(), self.height(), 8, 40
        letter = painter.fontMetrics().horizontalAdvance("M")
        header_end, header_bottom = self._header_extent(painter)
        footer_end = self._footer_extent(painter)
        self._font(painter, 12, bold=True)
        top = 22 if header_end < w / 2 - letter else header_bottom + 4
        bottom = h - box - m if footer_end < w / 2 - letter else h - box - m - 18
        align = Qt.AlignmentFlag
        places = {
            "left": (QRectF(m, h / 2 - box / 2, box, box), align.AlignLeft | align.AlignVCenter),
            "right": (
                QRectF(w - box - m, h / 2 - box / 2, box, box),
                align.AlignRight | align.AlignVCenter,
            ),
            "top": (QRectF(w / 2 - box / 2, top, box, box), align.AlignHCenter | align.AlignTop),
            "bottom": (
                QRectF(w / 2 - box / 2, bottom, box, box),
                align.AlignHCenter | align.AlignBottom,
            ),
        }
        for edge, (rect, flags) in places.items():
            outlined_text(painter, rect, self._letters[edge], _TEXT, flags)

    def _title_lines(self, painter: QPainter) -> list[str]:
        """The view's name, slice number and position: one line, or two in a narrow pane."""
        name = self.orientation.name
        name = tr(_VIEW_TITLES[name]) if name in _VIEW_TITLES else name.capitalize()
        if self._plane is None:
            return [name]
        normal = np.asarray(self.orientation.normal, float)
        position = float(normal @ self.scene.cursor)
        first = f"{name}   {self._plane.index + 1}/{self._plane.count}"
        second = offset_text(normal, position)
        self._font(painter, 9, bold=True)
        if painter.fontMetrics().horizontalAdvance(f"{first}   {second}") <= self.width() - 16:
            return [f"{first}   {second}"]
        return [first, second]

    def _header_lines(self, painter: QPainter) -> list[tuple[str, QColor]]:
        color = VIEW_COLORS[self.orientation.name].lighter(130)
        lines = [(text, color) for text in self._title_lines(painter)]
        tool = _TOOL_NAMES.get(self.scene.tool)
        if tool is not None:  # the active tool, in sight while it is not the crosshair
            lines.append((tr("{tool} tool · Esc: crosshair").format(tool=tr(tool)), _TOOL))
        return lines

    def _header_extent(self, painter: QPainter) -> tuple[float, float]:
        """Right end and bottom of the title block (top left)."""
        self._font(painter, 9, bold=True)
        metrics = painter.fontMetrics()
        lines = self._header_lines(painter)
        self._font(painter, 9, bold=True)
        end = max(8 + metrics.horizontalAdvance(text) for text, _ in lines)
        return end, 18 + _LINE * (len(lines) - 1) + metrics.descent()

    def _footer_extent(self, painter: QPainter) -> float:
        """Right end of the window text (bottom left)."""
        self._font(painter, 9)
        return 8 + painter.fontMetrics().horizontalAdvance(self._window_text())

    def _draw_title(self, painter: QPainter) -> None:
        painter.fillRect(QRectF(0, 0, self.width(), 3), VIEW_COLORS[self.orientation.name])
        for row, (text, color) in enumerate(self._header_lines(painter)):
            self._font(painter, 9, bold=True)
            outlined_text(painter, QPointF(8, 18 + _LINE * row), text, color)

    def _window_text(self) -> str:
        level, width = self.scene.window
        text = tr("W {width}  L {level}").format(width=number(width), level=number(level))
        if self.zoom != 1.0:
            text += "   " + tr("zoom {zoom}x").format(zoom=number(self.zoom, 1))
        return text

    def _draw_window_text(self, painter: QPainter) -> None:
        self._font(painter, 9)
        outlined_text(painter, QPointF(8, self.height() - 8), self._window_text(), _TEXT)

    def _draw_scale_bar(self, painter: QPainter) -> None:
        px_per_mm = 1.0 / self._mm_per_pixel_on_screen()
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
        outlined_text(
            painter, QRectF(x1 - bar, y - 20, bar, 16), label, _TEXT, Qt.AlignmentFlag.AlignCenter
        )

    # -- interaction -------------------------------------------------------------------
    def _tool_changed(self) -> None:
        cursor = (
            Qt.CursorShape.ArrowCursor
            if self.scene.tool == "navigate"
            else (Qt.CursorShape.CrossCursor)
        )
        self.setCursor(cursor)
        self.update()

    def _offer_to_layers(self, kind: str, event: QMouseEvent) -> bool:
        if self._plane is None:
            return False
        for layer in reversed(self._layers):  # the topmost first
            if layer.mouse(self, kind, event):
                self._drag = ("layer", event.position(), layer) if kind == "press" else self._drag
                return True
        return False

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if event.button() == Qt.MouseButton.LeftButton and self._offer_to_layers("press", event):
            return
        if event.button() == Qt.MouseButton.RightButton:
            self._drag = ("window", pos, self.scene.window)
        elif event.button() == Qt.MouseButton.MiddleButton:
            self._drag = ("pan", pos, QPointF(self.pan))
        elif event.button() == Qt.MouseButton.LeftButton and self._plane is not None:
            tool = self.scene.tool
            lps = self.widget_to_lps(pos)
            if tool == "navigate":
                self._drag = ("cursor", pos, None)
                self._move_cursor(pos)
            elif tool in ("paint", "erase") and lps is not None and self._can_paint():
                if self._refused(tool):
                    return
                self.scene.editor.begin_stroke(tool)  # type: ignore[union-attr]
                self._drag = ("brush", pos, lps)
                self._dab(lps)
            elif tool == "ruler" and lps is not None:
                self._drag = ("ruler", pos, lps)
                self._draft = Ruler(lps, lps)
            elif tool == "roi":
                self._drag = ("roi", pos, None)
                self._draft = (pos, pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        self._mouse = pos
        if self._drag is not None:
            kind, start, data = self._drag
            if kind == "layer":
                data.mouse(self, "move", event)
            elif kind == "cursor":
                self._move_cursor(pos)
            elif kind == "window":
                level, width = data
                delta = pos - start
                # 1 pixel = 0.5% of the width, as in most PACS viewers
                self.scene.set_window(
                    level - delta.y() * width * 0.005, width * math.exp(delta.x() * 0.005)
                )
            elif kind == "pan":
                self.pan = data + (pos - start)
                self.update()
            elif kind == "brush":
                lps = self.widget_to_lps(pos)
                if lps is not None:
                    self._stroke(data, lps)
                    self._drag = (kind, start, lps)
            elif kind == "ruler":
                lps = self.widget_to_lps(pos)
                if lps is not None:
                    self._draft = Ruler(data, lps)
            elif kind == "roi":
                self._draft = (start, pos)
        self.hovered.emit(self.widget_to_lps(pos))
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag is None:
            return
        kind, _, data = self._drag
        self._drag = None
        if kind == "layer":
            data.mouse(self, "release", event)
        elif kind == "brush":
            self.scene.editor.end_stroke()  # type: ignore[union-attr]
            self.scene.labels_changed.emit()
            self.edited.emit()
        elif kind == "ruler" and isinstance(self._draft, Ruler) and self._draft.length_mm > 0:
            self.scene.add_ruler(self._draft)
        elif kind == "roi" and isinstance(self._draft, tuple):
            self.roi_measured.emit(self.roi_statistics(QRectF(*self._draft).normalized()))
        self._draft = None
        self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self.scene.tool == "navigate":
            self.maximize_requested.emit()

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._mouse = None
        self.hovered.emit(None)
        self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if not steps:
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom = float(np.clip(self.zoom * 1.15**steps, 0.5, 20.0))
            self.update()
        else:
            self.step_slice(int(math.copysign(max(1, abs(steps)), steps)))

    def keyPressEvent(self, event) -> None:  # noqa: N802
        steps = {
            Qt.Key.Key_Up: 1,
            Qt.Key.Key_PageUp: 1,
            Qt.Key.Key_Down: -1,
            Qt.Key.Key_PageDown: -1,
        }.get(event.key())
        if steps:
            self.step_slice(steps)
        elif event.key() == Qt.Key.Key_Escape and self.scene.tool != "navigate":
            self.scene.set_tool("navigate")
        else:
            super().keyPressEvent(event)

    def _move_cursor(self, pos: QPointF) -> None:
        lps = self.widget_to_lps(pos)
        if lps is not None:
            self.scene.set_cursor(lps)

    # -- tools -----------------------------------------------------------------------------
    def _can_paint(self) -> bool:
        scene = self.scene
        return (
            scene.volume is not None
            and scene.active_label is not None
            and (scene.editor is not None)
        )

    def _refused(self, tool: str) -> bool:
        """A locked label (used by a twin) is not painted, erased, or painted inside: the
        scene asks the segmentation panel to offer unlocking it, and the stroke stops."""
        scene = self.scene
        for value in (scene.active_label, scene.edit_inside if tool == "paint" else None):
            if value is not None and value in scene.locked_labels:
                scene.edit_refused.emit(value)
                return True
        return False

    def _dab(self, lps: np.ndarray) -> None:
        scene = self.scene
        index = brush_voxels(scene.volume, self._plane, lps, scene.brush_radius_mm)  # type: ignore[arg-type]
        if scene.tool == "paint":
            scene.editor.paint_at(
                index, scene.active_label, policy=scene.edit_policy(), description=tr("paint")
            )  # type: ignore[union-attr]
        else:
            scene.editor.erase_at(index, scene.active_label, description=tr("erase"))  # type: ignore[union-attr]
        self._refresh_all_views()

    def _stroke(self, start: np.ndarray, end: np.ndarray) -> None:
        """Dabs every half radius from start to end, so fast strokes leave no gaps."""
        distance = float(np.linalg.norm(end - start))
        count = max(1, int(np.ceil(distance / (self.scene.brush_radius_mm / 2))))
        for t in np.linspace(0, 1, count + 1)[1:]:
            self._dab(start + t * (end - start))

    def _refresh_all_views(self) -> None:
        # the labels changed in place: every slice view re-reads them (cheap), the
        # heavier listeners (statistics, 3D) wait for the end of the stroke
        for view in self.window().findChildren(SliceView):
            view._refresh()

    def roi_statistics(self, rect: QRectF) -> dict:
        """Statistics of the image pixels inside a widget rectangle on this slice."""
        assert self._plane is not None
        c0, r0 = self._pixel_at(rect.topLeft())
        c1, r1 = self._pixel_at(rect.bottomRight())
        rows, cols = self._plane.pixels.shape
        c0, c1 = max(int(np.ceil(c0)), 0), min(int(np.floor(c1)), cols - 1)
        r0, r1 = max(int(np.ceil(r0)), 0), min(int(np.floor(r1)), rows - 1)
        values = self._plane.pixels[r0 : r1 + 1, c0 : c1 + 1] if c1 >= c0 and r1 >= r0 else []
        stats = region_statistics(values, self._plane.pixel_size[0] * self._plane.pixel_size[1])
        stats["view"] = self.orientation.name
        stats["slice"] = self._plane.index + 1
        # the rectangle's corners (pixel edges) in LPS, so that it is drawn again on its slice
        stats["corners"] = [
            self._plane.to_lps(c0 - 0.5, r0 - 0.5).tolist(),
            self._plane.to_lps(c1 + 0.5, r1 + 0.5).tolist(),
        ]
        return stats
