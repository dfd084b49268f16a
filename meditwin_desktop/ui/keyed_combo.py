"""A combo box of keys shown translated (settings, presets, units)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox

from meditwin_desktop.core.i18n import tr


class KeyedComboBox(QComboBox):
    """A combo box of keys (settings, presets) shown translated. Its text methods speak
    keys (`addItems`, `insertItem`, `findText`, `setCurrentText`, `currentText`): code and
    settings keep the English keys whatever the language; `keyActivated(key)` when the
    user picks one."""

    keyActivated = Signal(str)  # noqa: N815 (as Qt's textActivated)

    def __init__(self, display: Callable[[str], str] = tr, parent=None) -> None:
        super().__init__(parent)
        self._display = display
        self.activated.connect(lambda index: self.keyActivated.emit(self.key(index)))

    def key(self, index: int) -> str:
        data = self.itemData(index)
        return data if isinstance(data, str) else self.itemText(index)

    def addItem(self, key: str) -> None:  # noqa: N802 (Qt API)
        super().addItem(self._display(key), key)

    def addItems(self, keys) -> None:  # noqa: N802 (Qt API)
        for key in keys:
            self.addItem(key)

    def insertItem(self, index: int, key: str) -> None:  # noqa: N802 (Qt API)
        super().insertItem(index, self._display(key), key)

    def findText(self, key: str, *args) -> int:  # noqa: N802 (Qt API)
        return self.findData(key)

    def setCurrentText(self, key: str) -> None:  # noqa: N802 (Qt API)
        index = self.findData(key)
        if index >= 0:
            self.setCurrentIndex(index)

    def currentText(self) -> str:  # noqa: N802 (Qt API)
        index = self.currentIndex()
        return self.key(index) if index >= 0 else ""

    def currentDisplayText(self) -> str:  # noqa: N802 (Qt style)
        """What the user reads."""
        return super().currentText()
