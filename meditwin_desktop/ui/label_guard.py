"""Labels a twin reads are locked: a tool never takes their voxels, and editing one asks
first. A yes unlocks that label for this label map (its twin's results then go out of
date: the run's input digest changes with the labels, `core.freshness`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QMessageBox, QWidget

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.i18n import language, tr
from meditwin_desktop.core.segmentation.protection import Protection, protected_labels
from meditwin_desktop.core.twin import Twin
from meditwin_desktop.ui.scene import Scene

Context = Callable[[], tuple[Iterable[Twin], Case | None]]


def lock_icon(closed: bool, size: int = 16) -> QIcon:
    """A padlock, closed (amber) or open (grey)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    color = QColor(240, 180, 60) if closed else QColor(160, 160, 160)
    painter.setPen(QPen(color, 1.6))
    lift = 0 if closed else 3
    painter.drawArc(QRectF(4.5, 1.5 - lift, 7, 9), 0, 180 * 16)
    painter.drawLine(QPointF(4.5, 6 - lift), QPointF(4.5, 7.5))
    if closed:
        painter.drawLine(QPointF(11.5, 6), QPointF(11.5, 7.5))
    painter.fillRect(QRectF(3, 7.5, 10, 7), color)
    painter.end()
    return QIcon(pixmap)


def _capitalized(text: str) -> str:
    """`text` with its first letter in capitals (English: str.capitalize, as always; other
    languages keep the rest as it is: a translated action may hold a name)."""
    return text.capitalize() if language() == "en" else text[:1].upper() + text[1:]


class LabelGuard(QObject):
    """Keeps `scene.locked_labels` (labels twins use, minus those the user unlocked) and
    asks before an edit changes a locked label."""

    changed = Signal()  # which labels are locked changed

    def __init__(self, scene: Scene, parent: QWidget) -> None:
        super().__init__(parent)
        self.scene = scene
        self._parent = parent
        self.context: Context | None = None
        self.protection = Protection({}, {})
        self._unlocked: set[int] = set()
        scene.labels_replaced.connect(self._unlocked.clear)
        scene.labels_changed.connect(self.refresh)

    def set_context(self, context: Context) -> None:
        """Where the twins and the open case come from."""
        self.context = context
        self.refresh()

    def refresh(self) -> None:
        """Find again which labels twins use (after a rename, new runs, another case)."""
        twins, case = self.context() if self.context is not None else ((), None)
        self.protection = protected_labels(twins, case, self.scene.labels)
        locked = set(self.protection.users) - self._unlocked
        if locked != self.scene.locked_labels:
            self.scene.locked_labels = locked
            self.changed.emit()

    def allow(self, value: int) -> None:
        """Leave a label unlocked without asking (one the user has just added to edit)."""
        self._unlocked.add(value)
        self.scene.locked_labels.discard(value)

    def icon(self, value: int) -> QIcon | None:
        """A closed lock for a locked label, an open one for an unlocked twin input."""
        if value not in self.protection:
            return None
        return lock_icon(value in self.scene.locked_labels)

    def tooltip(self, value: int) -> str:
        if value not in self.protection:
            return ""
        users = self.protection.describe(value)
        if value in self.scene.locked_labels:
            return tr("Used by {users}: protected, editing it asks first").format(users=users)
        return tr("Used by {users}: unlocked, its results go out of date when it changes").format(
            users=users
        )

    def _name(self, value: int) -> str:
        labels = self.scene.labels
        label = labels.labels.get(value) if labels is not None else None
        return f"'{label.name}'" if label else tr("label {value}").format(value=value)

    def confirm(self, values: Iterable[int | None], action: str) -> bool:
        """True when `action` may change the labels `values`: none is locked, or the user
        said yes (they are then unlocked)."""
        locked = [
            v for v in dict.fromkeys(values) if v is not None and v in self.scene.locked_labels
        ]
        if not locked:
            return True
        names = tr(" and ").join(self._name(v) for v in locked)
        users = "; ".join(sorted({self.protection.describe(v) for v in locked}))
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            tr("Edit a twin's input?"),
            tr(
                "{action} changes {names}, used by {users}.\n\n"
                "Results computed from the labels as they are will be marked out of date."
            ).format(action=_capitalized(action), names=names, users=users),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self._parent,
        )
        box.setObjectName("unlock_labels")
        box.button(QMessageBox.StandardButton.Yes).setText(tr("Unlock and edit"))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        if box.exec() != QMessageBox.StandardButton.Yes:
            return False
        self._unlocked.update(locked)
        self.scene.locked_labels -= set(locked)
        self.changed.emit()
        return True
