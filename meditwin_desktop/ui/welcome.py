"""The welcome page: what the centre of the window shows while no case is open.

As 3D Slicer's Welcome module and Horos's start window: open images (a DICOM folder or a
DICOMDIR), reopen a recent case from the library, or try a built-in demo case.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.i18n import N_, date_text, tr
from meditwin_desktop.core.store import CaseSummary

RECENT_SHOWN = 12


class WelcomePage(QScrollArea):
    """Start points of a session: open DICOM, recent cases, demo cases."""

    open_dicom = Signal()
    open_dicomdir = Signal()
    import_case = Signal()
    case_chosen = Signal(str)  # a library case id
    demo_chosen = Signal(str)  # a demo case name

    def __init__(self, demos: dict[str, dict], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome_page")
        self.setWidgetResizable(True)
        body = QWidget(self)
        column = QVBoxLayout(body)
        column.setContentsMargins(32, 24, 32, 24)
        column.setSpacing(12)
        title = QLabel(
            _rich("h2", tr("Welcome to MEDITWIN"))
            + tr("Open a patient's images, a saved case, or a demo case to see how the twins work.")
        )
        title.setWordWrap(True)
        column.addWidget(title)
        buttons = QGridLayout()
        for row, (text, signal, name) in enumerate(
            (
                (N_("Open DICOM folder…"), self.open_dicom, "welcome_open_dicom"),
                (N_("Open DICOMDIR…"), self.open_dicomdir, "welcome_open_dicomdir"),
                (N_("Import a case file or a photograph…"), self.import_case, "welcome_import"),
            )
        ):
            button = QPushButton(tr(text))
            button.setObjectName(name)
            button.clicked.connect(signal.emit)
            buttons.addWidget(button, row // 2, row % 2)
        column.addLayout(buttons)
        column.addWidget(_heading(tr("Recent cases")))
        self.recent = QListWidget()
        self.recent.setObjectName("welcome_recent")
        self.recent.itemActivated.connect(self._recent_activated)
        self.recent.setMinimumHeight(120)
        column.addWidget(self.recent, stretch=1)
        self.recent_hint = QLabel(tr("Double-click a case to open it with its scenarios and runs."))
        self.recent_hint.setStyleSheet("color: #999;")
        column.addWidget(self.recent_hint)
        column.addWidget(_heading(tr("Demo cases (synthetic patients)")))
        self.demo_buttons: dict[str, QPushButton] = {}
        for name, spec in demos.items():
            button = QPushButton(tr(spec["title"]))
            button.setObjectName(f"welcome_demo_{name}")
            button.setStyleSheet("text-align: left; padding: 6px 10px;")
            button.clicked.connect(lambda _=False, n=name: self.demo_chosen.emit(n))
            column.addWidget(button)
            self.demo_buttons[name] = button
        column.addStretch(1)
        self.setWidget(body)

    def show_recent(self, cases: list[CaseSummary] | None, why_none: str = "") -> None:
        """List the most recently changed cases (None: the library cannot be used)."""
        self.recent.clear()
        if cases is None:
            self.recent_hint.setText(why_none or tr("The case library cannot be used."))
            return
        for summary in cases[:RECENT_SHOWN]:
            twins = f"  · {', '.join(summary.twins)}" if summary.twins else ""
            modified = date_text(summary.modified[:10]) + summary.modified[10:16]
            text = f"{summary.name}  [{summary.patient_id}]  {modified}{twins}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, summary.id)
            self.recent.addItem(item)
        self.recent_hint.setText(
            tr("Double-click a case to open it with its scenarios and runs.")
            if cases
            else tr("No saved case yet: cases are saved as you work on them.")
        )

    def _recent_activated(self, item: QListWidgetItem) -> None:
        self.case_chosen.emit(str(item.data(Qt.ItemDataRole.UserRole)))


def _rich(tag: str, text: str) -> str:
    """`text` in an HTML element."""
    return f"<{tag}>{text}</{tag}>"


def _heading(text: str) -> QLabel:
    label = QLabel(_rich("b", text))
    label.setStyleSheet("margin-top: 8px;")
    return label
