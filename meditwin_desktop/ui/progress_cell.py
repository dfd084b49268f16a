"""A scenario's progress bar that repaints with the next frame instead of at once."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QProgressBar,
    QStyle,
    QStyleOptionProgressBar,
    QStylePainter,
    QWidget,
)


class ProgressCell(QProgressBar):
    """A scenario's progress bar whose live updates repaint with the next frame.

    `QProgressBar.setValue` repaints at once; next to OpenGL views every repaint composes
    the whole window (about 15 ms with software OpenGL), so live progress goes through
    `show_fraction`, which only schedules a paint.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(0, 1000)
        self.fraction: float | None = None

    def show_fraction(self, fraction: float) -> None:
        self.fraction = min(max(fraction, 0.0), 1.0)
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self.fraction is None:
            super().paintEvent(event)
            return
        option = QStyleOptionProgressBar()
        self.initStyleOption(option)
        option.progress = int(self.fraction * 1000)
        option.text = f"{self.fraction:.0%}"
        QStylePainter(self).drawControl(QStyle.ControlElement.CE_ProgressBar, option)
