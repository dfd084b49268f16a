"""A 2D photograph on screen (a fundus photograph): fitted to the view, wheel to zoom,
drag to pan, with its pixel size when known."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QWidget

from meditwin_desktop.core.imaging.photo import Photo


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
    """Shows one photograph."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("photo_view")
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(Qt.GlobalColor.black)
        self._item: QGraphicsPixmapItem | None = None
        self.photo: Photo | None = None

    def show_photo(self, photo: Photo | None) -> None:
        """Show `photo` fitted to the view (None empties it)."""
        self.scene().clear()
        self._item, self.photo = None, photo
        if photo is None:
            return
        self._item = self.scene().addPixmap(QPixmap.fromImage(photo_image(photo)))
        self.scene().setSceneRect(self._item.boundingRect())
        self.fit()

    def fit(self) -> None:
        """The whole photograph in the view."""
        if self._item is not None:
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self.fit()

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt API
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        self.scale(factor, factor)
