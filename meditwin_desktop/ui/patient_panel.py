"""The patient panel: patients > studies > series found by a DICOM scan."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.imaging.dicom import ScanResult, SeriesInfo

_SERIES_ROLE = Qt.ItemDataRole.UserRole


def _date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text


class PatientPanel(QWidget):
    """Tree of the scanned folder; double-click (or Enter) on a series opens it."""

    series_activated = Signal(object)  # SeriesInfo

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("patient_tree")
        self.tree.setHeaderLabels(["Patient / study / series", "Images"])
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.tree.itemActivated.connect(self._activated)
        self.summary = QLabel("No folder open. File > Open DICOM folder…", self)
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #aaa;")
        layout.addWidget(self.tree, stretch=1)
        layout.addWidget(self.summary)

    def show_scan(self, result: ScanResult, source: str) -> None:
        """Fill the tree from a scan."""
        self.tree.clear()
        for patient in result.patients:
            name = patient.name.replace("^", " ").strip() or "(no name)"
            p_item = QTreeWidgetItem([f"{name}  [{patient.id}]", ""])
            p_item.setToolTip(
                0,
                f"Patient ID {patient.id}, sex {patient.sex or '?'}, "
                f"born {_date(patient.birth_date) or '?'}",
            )
            self.tree.addTopLevelItem(p_item)
            for study in patient.studies:
                s_item = QTreeWidgetItem(
                    [f"{_date(study.date)}  {study.description or '(study)'}", ""]
                )
                s_item.setToolTip(0, study.description)
                p_item.addChild(s_item)
                for series in study.series:
                    text = f"{series.modality} #{series.number}  {series.description or '(series)'}"
                    item = QTreeWidgetItem([text, str(series.image_count)])
                    item.setData(0, _SERIES_ROLE, series)
                    item.setToolTip(0, f"Series UID {series.uid}\nBody part {series.body_part}")
                    s_item.addChild(item)
        self.tree.expandAll()
        skipped = f", {len(result.skipped)} files skipped" if result.skipped else ""
        self.summary.setText(
            f"{source}\n{result.file_count} files, {len(result.all_series())} series{skipped}"
        )

    def select_series(self, uid: str) -> None:
        """Highlight the series with this UID."""
        for item in self._series_items():
            if item.data(0, _SERIES_ROLE).uid == uid:
                self.tree.setCurrentItem(item)

    def _series_items(self) -> list[QTreeWidgetItem]:
        items = []
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            if isinstance(item.data(0, _SERIES_ROLE), SeriesInfo):
                items.append(item)
            stack.extend(item.child(i) for i in range(item.childCount()))
        return items

    def _activated(self, item: QTreeWidgetItem, column: int) -> None:
        series = item.data(0, _SERIES_ROLE)
        if isinstance(series, SeriesInfo):
            self.series_activated.emit(series)
