"""Text drawn over images with a dark outline, readable on any window (bright bone, white
contrast, black air) as in 3D Slicer's and Horos's corner annotations."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPen

OUTLINE = QColor(0, 0, 0, 220)


def outlined_text(
    painter: QPainter,
    where: QPointF | QRectF,
    text: str,
    color: QColor,
    flags: Qt.AlignmentFlag | int = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
    width: float = 3.0,
) -> QRectF:
    """Draw `text` in `color` with a dark outline, at a baseline point or aligned in a
    rectangle (single line; `flags` as QPainter.drawText). Returns the text's box."""
    font = painter.font()
    metrics = QFontMetricsF(font)
    advance = metrics.horizontalAdvance(text)
    if isinstance(where, QRectF):
        x = where.left()
        if flags & Qt.AlignmentFlag.AlignRight:
            x = where.right() - advance
        elif flags & Qt.AlignmentFlag.AlignHCenter:
            x = where.center().x() - advance / 2
        y = where.top() + metrics.ascent()
        if flags & Qt.AlignmentFlag.AlignBottom:
            y = where.bottom() - metrics.descent()
        elif flags & Qt.AlignmentFlag.AlignVCenter:
            y = where.center().y() + (metrics.ascent() - metrics.descent()) / 2
        baseline = QPointF(x, y)
    else:
        baseline = QPointF(where)
    path = QPainterPath()
    path.addText(baseline, font, text)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.strokePath(
        path,
        QPen(
            OUTLINE,
            width,
            Qt.PenStyle.SolidLine,
            Qt.PenCapStyle.RoundCap,
            Qt.PenJoinStyle.RoundJoin,
        ),
    )
    painter.fillPath(path, color)
    painter.restore()
    return QRectF(baseline.x(), baseline.y() - metrics.ascent(), advance, metrics.height())
