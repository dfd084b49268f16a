"""A wheel turned over a form scrolls the form: it never changes a drop-down list or a
number box the user has not clicked first (a clinical value changed by scrolling past it,
APOE e3/e4 -> e4/e4, was saved and moved every eligibility warning).

Installed once on the application: drop-down lists and spin boxes take the focus only by a
click or the keyboard (not by the wheel), and an unfocused one passes the wheel to the form
that scrolls around it.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox

_GUARDED = (QComboBox, QAbstractSpinBox)


class WheelGuard(QObject):
    """The application-wide event filter (see the module's docstring)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind == QEvent.Type.Polish and isinstance(watched, _GUARDED):
            watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        elif kind == QEvent.Type.Wheel and isinstance(watched, _GUARDED):
            if watched.hasFocus():
                return False
            area = watched.parentWidget()
            while area is not None and not isinstance(area, QAbstractScrollArea):
                area = area.parentWidget()
            if area is not None:
                QCoreApplication.sendEvent(area.verticalScrollBar(), event)
            return True
        return False


def install_wheel_guard(app: QApplication) -> WheelGuard:
    """Install the guard on `app` (kept as its child, so it lives as long as the app)."""
    existing = app.findChild(WheelGuard)
    if existing is not None:
        return existing
    guard = WheelGuard(app)
    app.installEventFilter(guard)
    return guard
