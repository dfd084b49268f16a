"""A scenario's status cell in the twin panel: progress while it runs, then done, failed,
cancelled, damaged or out of date (with why), the model's warnings, and a cancel button."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QStyle,
    QStyleOptionProgressBar,
    QStylePainter,
    QToolButton,
    QWidget,
)

from meditwin_desktop.core.case import Run
from meditwin_desktop.core.i18n import N_, number, tr
from meditwin_desktop.core.runner import RunHandle

_STATUS_TEXT = {"ok": N_("done"), "failed": N_("failed"), "cancelled": N_("cancelled"),
                "unreadable": N_("damaged")}  # fmt: skip


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


def status_cell(
    scenario: str,
    run: Run | None,
    handle: RunHandle | None,
    out_of_date: str | None,
    cancel: Callable[[str], None],
) -> QWidget:
    """The cell of one scenario: its progress or result, warnings badge, cancel button."""
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(2, 0, 2, 0)
    bar = ProgressCell(holder)
    bar.setObjectName(f"progress_{scenario}")
    bar.setMaximumWidth(64)  # the key values beside it fit a 1280-pixel screen
    running = handle is not None and not handle.done()
    if running:
        bar.setValue(int(handle.progress * 1000))
        bar.setFormat(tr("running"))
    elif run is not None:
        bar.setValue(1000 if run.status == "ok" else 0)
        bar.setFormat(tr(_STATUS_TEXT.get(run.status, run.status)))
        bar.setToolTip(run.error or tr("{seconds} s").format(seconds=number(run.seconds, 1)))
        if out_of_date and run.status == "ok":
            bar.setFormat(tr("outdated"))  # "out of date" did not fit the cell
            bar.setStyleSheet("QProgressBar::chunk { background: #8a5a20; }")
            bar.setToolTip(
                tr("Out of date: {why}. Run all again to refresh it.").format(why=out_of_date)
            )
    else:
        bar.setValue(0)  # a bar with no value draws no text at all
        bar.setFormat(tr("not run"))
    bar.setTextVisible(True)
    bar.setAlignment(Qt.AlignmentFlag.AlignCenter)  # inside the bar: the column is narrow
    warnings = run.result.warnings if (run is not None and run.result is not None) else []
    if warnings and not running:
        badge = QLabel("⚠", holder)
        badge.setObjectName(f"warnings_{scenario}")
        badge.setStyleSheet("color: #f0c040; font-weight: bold;")
        badge.setToolTip(tr("What the model noted:") + "\n" + "\n".join(f"• {w}" for w in warnings))
        row.addWidget(badge)
    button = QToolButton(holder)
    button.setText("✕")
    button.setObjectName(f"cancel_{scenario}")
    button.setToolTip(tr("Cancel this scenario"))
    button.setEnabled(running)
    button.clicked.connect(lambda _=False: cancel(scenario))
    row.addWidget(bar)
    row.addWidget(button)
    return holder
