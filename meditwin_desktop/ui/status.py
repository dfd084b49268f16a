"""The status bar: what is open, warnings about it, the cursor, and background work."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar, QStatusBar, QToolButton, QWidget

from meditwin_desktop.core.i18n import tr, tr_n
from meditwin_desktop.ui.background import Task


class StatusBar(QStatusBar):
    """Message, warnings badge, cursor read-out, and progress + Cancel for the current task."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel(tr("Ready"))
        self.message.setObjectName("status_message")
        self.warnings = QToolButton()
        self.warnings.setObjectName("warnings_badge")
        self.warnings.setStyleSheet("color: #f0c040; font-weight: bold; border: none;")
        self.warnings.clicked.connect(self.show_warnings)
        self.cursor_info = QLabel("")
        self.cursor_info.setObjectName("cursor_info")
        self.activity = QLabel("")
        self.activity.setObjectName("activity")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setText(tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        self.addWidget(self.message, 1)
        self.addWidget(self.warnings)
        for widget in (self.cursor_info, self.activity, self.progress, self.cancel_button):
            self.addPermanentWidget(widget)
        for widget in (self.warnings, self.activity, self.progress, self.cancel_button):
            widget.hide()
        self._task: Task | None = None
        self._warning_list: list[str] = []

    def set_warnings(self, warnings: list[str]) -> None:
        """Show a badge for the open data's warnings (empty list hides it)."""
        self._warning_list = list(warnings)
        self.warnings.setVisible(bool(warnings))
        count = len(warnings)
        # English: "0 warning", "1 warning", "2 warnings" (as before)
        self.warnings.setText(
            tr_n("⚠ {count} warning", "⚠ {count} warnings", 1 if count <= 1 else count).format(
                count=count
            )
        )
        self.warnings.setToolTip("\n\n".join(warnings))

    def show_warnings(self) -> None:
        """Open the list of warnings in a dialog."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            tr("Warnings about the open series"),
            "\n\n".join(self._warning_list),
            parent=self.window(),
        )
        box.setObjectName("warnings_dialog")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()

    def track(self, task: Task) -> None:
        """Show `task`'s progress (and offer Cancel) until it finishes."""
        self._task = task
        self.activity.setText(f"{tr(task.name)}…")  # task names: N_ where started
        self.progress.setValue(0)
        for widget in (self.activity, self.progress, self.cancel_button):
            widget.show()
        task.progressed.connect(self._on_progress)
        task.finished.connect(lambda: self._on_finished(task))

    def cancel(self) -> None:
        """Cancel the task shown."""
        if self._task is not None:
            self._task.cancel()

    def current_task(self) -> Task | None:
        """The task shown, if any."""
        return self._task

    def _on_progress(self, fraction: float, message: str) -> None:
        if self.sender() is self._task:
            self.progress.setValue(int(fraction * 1000))
            self.activity.setText(message)

    def _on_finished(self, task: Task) -> None:
        if task is self._task:
            self._task = None
            for widget in (self.activity, self.progress, self.cancel_button):
                widget.hide()
