"""The studies of the open case: dated series and photographs, the one on screen marked;
choose one to show it, or add a follow-up series or a photograph."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.case import Case, Study
from meditwin_desktop.core.i18n import date_text, tr, tr_n


def _date(text: str) -> str:
    """An ISO date as the language writes it; other text (a DICOM date) as it is."""
    return date_text(text) if text[4:5] == "-" else text


def study_text(study: Study) -> str:
    """'2024-01-10  CT  baseline  (3 labels)'."""
    labels = (
        "  " + tr("({count} labels)").format(count=len(study.labels.labels))
        if study.labels is not None
        else ""
    )
    date = _date(study.date) if study.date else tr("no date")
    parts = [date, study.modality or "?", study.description or ""]
    return "  ".join(p for p in parts if p) + labels


class StudiesPanel(QWidget):
    """A list of the case's studies; `chosen(index)` asks to show one."""

    chosen = Signal(int)
    add_series = Signal()
    add_photo = Signal()
    remove = Signal(int)
    compare = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.heading = QLabel(tr("Open a case to see its imaging studies."), self)
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.list = QListWidget(self)
        self.list.setObjectName("studies_list")
        self.list.itemActivated.connect(lambda item: self.chosen.emit(self.list.row(item)))
        self.list.itemClicked.connect(lambda item: self.chosen.emit(self.list.row(item)))
        layout.addWidget(self.list, stretch=1)
        row = QHBoxLayout()
        self.series_button = QPushButton(tr("Add a series…"), self)
        self.series_button.setObjectName("add_series")
        self.series_button.setToolTip(
            tr("A follow-up CT or MR of this patient, from a DICOM folder")
        )
        self.series_button.clicked.connect(lambda _=False: self.add_series.emit())
        self.photo_button = QPushButton(tr("Add a photograph…"), self)
        self.photo_button.setObjectName("add_photo")
        self.photo_button.setToolTip(tr("A fundus or other photograph (PNG, JPEG, TIFF, DICOM)"))
        self.photo_button.clicked.connect(lambda _=False: self.add_photo.emit())
        self.remove_button = QPushButton(tr("Remove"), self)
        self.remove_button.setObjectName("remove_study")
        self.remove_button.setToolTip(tr("Take the selected study out of this case (its files "
                                         "stay; File > Case history keeps earlier "
                                         "revisions)"))  # fmt: skip
        self.remove_button.clicked.connect(
            lambda _=False: self.remove.emit(self.list.currentRow())
            if self.list.currentRow() >= 0 else None
        )  # fmt: skip
        row.addWidget(self.series_button)
        row.addWidget(self.photo_button)
        row.addWidget(self.remove_button)
        layout.addLayout(row)
        self.compare_button = QPushButton(tr("Compare studies side by side…"), self)
        self.compare_button.setObjectName("compare_studies")
        self.compare_button.setToolTip(tr("The follow-up workspace: two dated studies at the "
                                          "same anatomical point, lesions measured on "
                                          "each"))  # fmt: skip
        self.compare_button.clicked.connect(lambda _=False: self.compare.emit())
        layout.addWidget(self.compare_button)
        self.show_case(None)

    def show_case(self, case: Case | None) -> None:
        """List the studies of `case` (oldest first as stored), the active one in bold."""
        self.list.blockSignals(True)
        self.list.clear()
        for n, study in enumerate(case.studies if case is not None else ()):
            item = QListWidgetItem(study_text(study))
            item.setToolTip(study.reference.get("file") or study.reference.get("folder", ""))
            if n == case.active:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
                item.setText("▶ " + item.text())
            self.list.addItem(item)
        if case is not None and case.studies:
            self.list.setCurrentRow(case.active)
        self.list.blockSignals(False)
        for button in (self.series_button, self.photo_button):
            button.setEnabled(case is not None)
        self.remove_button.setEnabled(case is not None and bool(case.studies))
        self.compare_button.setEnabled(case is not None and len(case.studies) >= 2)
        count = len(case.studies) if case is not None else 0
        self.heading.setText(
            tr("Open a case to see its imaging studies.") if case is None
            else tr_n("{count} imaging study; click one to show it.",
                      "{count} imaging studies; click one to show it.", count).format(count=count)
            if count else tr("This case has no images yet.")
        )  # fmt: skip
        self.heading.setAlignment(Qt.AlignmentFlag.AlignLeft)
