"""A 2D photograph on screen (a fundus photograph): fitted to the view, wheel to zoom,
drag to pan, with its pixel size when known. A click picks a pixel (a vessel to occlude);
right-click marks the vessel under the cursor as artery or vein; the marks and the last
pick are drawn on the photograph."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QMenu,
    QWidget,
)

from meditwin_desktop.core.i18n import N_, number, tr
from meditwin_desktop.core.imaging.photo import Photo

MARK_COLOURS = {"artery": QColor("#ff4040"), "vein": QColor("#4aa3ff")}
_KINDS = {"artery": N_("artery"), "vein": N_("vein")}  # the stored kind -> the word shown
PICK_COLOUR = QColor("#ffe14a")
_CLICK_SLOP = 4  # a press and release closer than this (screen px) is a click, not a drag


def photo_image(photo: Photo) -> QImage:
    """The photograph as an 8-bit QImage (16-bit grey scaled to its range)."""
    pixels = np.asarray(photo.pixels)
    if pixels.dtype != np.uint8:
        low, high = float(pixels.min()), float(pixels.max())
        pixels = ((pixels - low) * (255.0 / max(high - low, 1.0))).astype(np.uint8)
    pixels = np.ascontiguousarray(pixels)
    rows, columns = pixels.shape[:2]
    if pixels.ndim == 3:
        image = QImage(pixels.data, columns, rows, 3 * columns, QImage.Format.Format_RGB888)
    else:
        image = QImage(pixels.data, columns, rows, columns, QImage.Format.Format_Grayscale8)
    return image.copy()  # owns its pixels (the array may go)


class PhotoView(QGraphicsView):
    """Shows one photograph; reports clicks and artery/vein marks in its pixels."""

    clicked = Signal(float, float)  # row, column of the photograph's pixel
    mark_requested = Signal(float, float, str)  # row, column, "artery" | "vein" | "" (clear)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("photo_view")
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(Qt.GlobalColor.black)
        self._item: QGraphicsPixmapItem | None = None
        self._marks: list[QGraphicsItem] = []
        self._pick_item: QGraphicsItem | None = None
        self._overlay: QGraphicsPixmapItem | None = None
        self._press = None
        self.photo: Photo | None = None
        self.last_click: tuple[float, float] | None = None  # (row, column)

    def show_photo(self, photo: Photo | None) -> None:
        """Show `photo` fitted to the view (None empties it)."""
        self.scene().clear()
        self._item, self.photo = None, photo
        self._marks, self._pick_item, self.last_click = [], None, None
        self._overlay = None
        if photo is None:
            return
        self._item = self.scene().addPixmap(QPixmap.fromImage(photo_image(photo)))
        self.scene().setSceneRect(self._item.boundingRect())
        self.fit()

    def fit(self) -> None:
        """The whole photograph in the view."""
        if self._item is not None:
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)

    def pixel_at(self, position) -> tuple[float, float] | None:
        """(row, column) of the photograph under a view position, None off the photograph."""
        if self._item is None:
            return None
        point = self.mapToScene(position.toPoint() if hasattr(position, "toPoint") else position)
        rows, columns = self.photo.shape
        if not (0 <= point.y() < rows and 0 <= point.x() < columns):
            return None
        return float(point.y()), float(point.x())

    # -- a result drawn over the photograph ----------------------------------------------------
    def show_overlay(self, rgba: np.ndarray | None, tip: str = "") -> None:
        """Lay (rows, columns, 4) uint8 colours over the photograph (None removes them)."""
        if self._overlay is not None:
            self.scene().removeItem(self._overlay)
            self._overlay = None
        if rgba is None or self._item is None or rgba.shape[:2] != self.photo.shape:
            return
        pixels = np.ascontiguousarray(rgba)
        rows, columns = pixels.shape[:2]
        image = QImage(pixels.data, columns, rows, 4 * columns, QImage.Format.Format_RGBA8888)
        self._overlay = self.scene().addPixmap(QPixmap.fromImage(image.copy()))
        self._overlay.setToolTip(tip)
        self._overlay.setZValue(1)  # above the photograph, below the marks and the pick

    # -- marks -------------------------------------------------------------------------------
    def show_marks(self, marks: Sequence[tuple]) -> None:
        """Draw the artery/vein marks (row, column, kind, ...) as coloured rings."""
        for item in self._marks:
            self.scene().removeItem(item)
        self._marks = []
        if self._item is None:
            return
        radius = max(4.0, 0.008 * max(self.photo.shape))
        for row, col, kind, *_ in marks:
            pen = QPen(MARK_COLOURS.get(kind, PICK_COLOUR), radius / 3)
            ring = self.scene().addEllipse(col - radius, row - radius, 2 * radius, 2 * radius,
                                           pen, QBrush(Qt.BrushStyle.NoBrush))  # fmt: skip
            ring.setToolTip(
                tr("Marked as {kind} (row {row}, column {column})").format(
                    kind=tr(_KINDS.get(kind, kind)), row=number(row), column=number(col)
                )
            )
            ring.setZValue(2)
            self._marks.append(ring)

    def show_pick(self, row: float, col: float) -> None:
        """Mark the picked pixel with a cross."""
        if self._pick_item is not None:
            self.scene().removeItem(self._pick_item)
            self._pick_item = None
        if self._item is None:
            return
        size = max(6.0, 0.012 * max(self.photo.shape))
        pen = QPen(PICK_COLOUR, size / 4)
        group = self.scene().createItemGroup([
            self.scene().addLine(col - size, row, col + size, row, pen),
            self.scene().addLine(col, row - size, col, row + size, pen),
        ])  # fmt: skip
        group.setToolTip(
            tr("Picked: row {row}, column {column}").format(row=number(row), column=number(col))
        )
        group.setZValue(2)
        self._pick_item = group

    # -- mouse -------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._press = event.position() if event.button() == Qt.MouseButton.LeftButton else None
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().mouseReleaseEvent(event)
        press, self._press = self._press, None
        if press is None or event.button() != Qt.MouseButton.LeftButton:
            return
        moved = event.position() - press
        if abs(moved.x()) > _CLICK_SLOP or abs(moved.y()) > _CLICK_SLOP:
            return  # a drag (pan), not a pick
        pixel = self.pixel_at(event.position())
        if pixel is None:
            return
        self.last_click = pixel
        self.show_pick(*pixel)
        self.clicked.emit(*pixel)

    def contextMenuEvent(self, event) -> None:  # noqa: N802 - Qt API
        pixel = self.pixel_at(QPointF(event.pos()))
        if pixel is None:
            return
        menu = QMenu(self)
        menu.setObjectName("photo_menu")
        row, col = pixel
        for kind in ("artery", "vein"):
            text = tr("Mark the vessel here as {kind}").format(kind=tr(_KINDS[kind]))
            action = menu.addAction(text)
            action.setObjectName(f"mark_{kind}")
            action.triggered.connect(lambda _=False, k=kind: self.mark_requested.emit(row, col, k))
        menu.addSeparator()
        clear = menu.addAction(tr("Remove the artery/vein mark here"))
        clear.setObjectName("mark_clear")
        clear.triggered.connect(lambda _=False: self.mark_requested.emit(row, col, ""))
        menu.popup(event.globalPos())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self.fit()

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt API
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        self.scale(factor, factor)
