"""The DICOM browser panel: patients > studies > series, a thumbnail and details.

The panel only shows; scanning, loading and thumbnails run in the background at the
main window's request (signals out, `show_*` methods in).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.i18n import date_text, tr
from meditwin_desktop.core.imaging.dicom import ScanResult, SeriesInfo
from meditwin_desktop.core.imaging.dicom.scan import PatientInfo

_SERIES_ROLE = Qt.ItemDataRole.UserRole
_VOLUME_ROLE = Qt.ItemDataRole.UserRole + 1
THUMBNAIL_SIZE = 160


def _date(text: str) -> str:
    """A DICOM date (YYYYMMDD) as the language writes dates; other text unchanged."""
    if len(text) == 8 and text.isdigit():
        return date_text(f"{text[:4]}-{text[4:6]}-{text[6:8]}")
    return text


class PatientPanel(QWidget):
    """Tree of the scanned folder; double-click (or Enter) on a series opens it."""

    series_activated = Signal(object)  # SeriesInfo
    series_selected = Signal(object)  # SeriesInfo: wants a thumbnail
    volume_activated = Signal(str, int)  # series UID, index of the volume in that series

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("patient_tree")
        self.tree.setHeaderLabels([tr("Patient / study / series"), tr("Images")])
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.tree.itemActivated.connect(self._activated)
        self.tree.currentItemChanged.connect(self._selected)
        self.thumbnail = QLabel(self)
        self.thumbnail.setObjectName("series_thumbnail")
        self.thumbnail.setFixedSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setStyleSheet("background: black; color: #888;")
        self.details = QLabel(self)
        self.details.setObjectName("series_details")
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.summary = QLabel(tr("No folder open. File > Open DICOM folder…"), self)
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #aaa;")
        layout.addWidget(self.tree, stretch=1)
        layout.addWidget(self.thumbnail, alignment=Qt.AlignmentFlag.AlignHCenter)
        self.thumbnail.hide()  # until a series is selected: a black square reads as broken
        layout.addWidget(self.details)
        layout.addWidget(self.summary)
        self.hidden_note = QLabel(tr("Patients are hidden while the patient's identity is "
                                     "hidden (View menu)."), self)  # fmt: skip
        self.hidden_note.setWordWrap(True)
        self.hidden_note.hide()
        layout.addWidget(self.hidden_note)
        self._thumbnail_data: np.ndarray | None = None
        self._scan: ScanResult | None = None

    def clear(self) -> None:
        """Empty the browser (another patient's case was opened from the library)."""
        self._scan = None
        self.tree.clear()
        self.thumbnail.setPixmap(QPixmap())
        self.thumbnail.setText("")
        self.thumbnail.hide()  # an empty black square reads as a broken preview
        self.details.setText("")
        self.summary.setText(tr("No folder open. File > Open DICOM folder…"))
        self.summary.setToolTip("")

    def set_identity_hidden(self, hidden: bool) -> None:
        """Hide the browser, which names patients, while a pseudonym is shown (a board
        screen); show it again after."""
        for widget in (self.tree, self.details, self.summary):
            widget.setVisible(not hidden)
        self.thumbnail.setVisible(not hidden and self.tree.currentItem() is not None)
        self.hidden_note.setVisible(hidden)

    def patient_of(self, uid: str) -> PatientInfo | None:
        """The patient whose series has this UID, in the scan shown."""
        for patient in self._scan.patients if self._scan is not None else ():
            if any(s.uid == uid for study in patient.studies for s in study.series):
                return patient
        return None

    def find_series(self, uid: str) -> SeriesInfo | None:
        """The scanned series with this SeriesInstanceUID, if listed."""
        return self._scan.find_series(uid) if self._scan is not None else None

    def holds(self, uid: str) -> bool:
        """Whether the series with this UID is listed."""
        return self._series_item(uid) is not None

    def show_scan(self, result: ScanResult, source: str) -> None:
        """Fill the tree from a scan."""
        self._scan = result
        self.tree.clear()
        for patient in result.patients:
            name = patient.name.replace("^", " ").strip() or tr("(no name)")
            p_item = QTreeWidgetItem([f"{name}  [{patient.id}]", ""])
            p_item.setToolTip(
                0,
                tr("Patient ID {patient_id}, sex {sex}, born {birth_date}").format(
                    patient_id=patient.id,
                    sex=patient.sex or "?",
                    birth_date=_date(patient.birth_date) or "?",
                ),
            )
            self.tree.addTopLevelItem(p_item)
            for study in patient.studies:
                description = study.description or tr("(study)")
                text = f"{_date(study.date)}  {description}"
                s_item = QTreeWidgetItem([text, ""])
                s_item.setToolTip(0, study.description)
                p_item.addChild(s_item)
                for series in study.series:
                    number = f" #{series.number}" if series.number is not None else ""
                    description = series.description or tr("(series)")
                    text = f"{series.modality}{number}  {description}"
                    item = QTreeWidgetItem([text, str(series.image_count)])
                    item.setData(0, _SERIES_ROLE, series)
                    item.setToolTip(
                        0,
                        tr("Series UID {uid}\nBody part {body_part}").format(
                            uid=series.uid, body_part=series.body_part
                        ),
                    )
                    s_item.addChild(item)
        self.tree.expandAll()
        skipped = (
            tr(", {count} files skipped").format(count=len(result.skipped))
            if result.skipped
            else ""
        )
        self.summary.setText(
            f"{source}\n"
            + tr("{files} files, {series} series{skipped}").format(
                files=result.file_count, series=len(result.all_series()), skipped=skipped
            )
        )
        if result.skipped:
            self.summary.setToolTip(
                "\n".join(f"{p.name}: {reason}" for p, reason in result.skipped[:30])
            )

    def select_series(self, uid: str) -> None:
        """Highlight the series with this UID."""
        item = self._series_item(uid)
        if item is not None:
            self.tree.setCurrentItem(item)

    def show_volumes(self, uid: str, labels: list[str]) -> None:
        """List the volumes a series loaded as (time points, echoes...) under its item."""
        item = self._series_item(uid)
        if item is None:
            return
        item.takeChildren()
        if len(labels) < 2:
            return
        for index, label in enumerate(labels):
            child = QTreeWidgetItem([label or tr("volume {number}").format(number=index + 1), ""])
            child.setData(0, _VOLUME_ROLE, (uid, index))
            child.setToolTip(0, tr("Double-click to show this volume"))
            item.addChild(child)
        item.setExpanded(True)

    def show_thumbnail(self, series: SeriesInfo, image: np.ndarray | None, error: str = "") -> None:
        """Show a series' preview (uint8 image) and details, if it is still selected."""
        current = self.tree.currentItem()
        if current is None or current.data(0, _SERIES_ROLE) is not series:
            return
        if image is None:
            self.thumbnail.setPixmap(QPixmap())
            self.thumbnail.setText(tr("no preview"))
            self.thumbnail.setToolTip(error)
            return
        self._thumbnail_data = np.ascontiguousarray(image)
        rows, cols = image.shape
        qimage = QImage(
            self._thumbnail_data.data, cols, rows, cols, QImage.Format.Format_Grayscale8
        )
        pixmap = QPixmap.fromImage(qimage).scaled(
            THUMBNAIL_SIZE,
            THUMBNAIL_SIZE,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        self.thumbnail.setPixmap(pixmap)
        self.thumbnail.setToolTip("")

    def _series_item(self, uid: str) -> QTreeWidgetItem | None:
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            series = item.data(0, _SERIES_ROLE)
            if isinstance(series, SeriesInfo) and series.uid == uid:
                return item
            stack.extend(item.child(i) for i in range(item.childCount()))
        return None

    def _selected(self, item: QTreeWidgetItem | None, previous: QTreeWidgetItem | None) -> None:
        series = item.data(0, _SERIES_ROLE) if item is not None else None
        if not isinstance(series, SeriesInfo):
            return
        description = series.description or tr("(no description)")
        head = f"<b>{series.modality}</b> {description}<br>"
        self.details.setText(
            head
            + tr("{count} images, {date}").format(
                count=series.image_count, date=_date(series.date) or tr("no date")
            )
            + (f", {series.body_part}" if series.body_part else "")
        )
        self.thumbnail.show()
        self.thumbnail.setPixmap(QPixmap())
        self.thumbnail.setText("…")
        self.series_selected.emit(series)

    def _activated(self, item: QTreeWidgetItem, column: int) -> None:
        series = item.data(0, _SERIES_ROLE)
        if isinstance(series, SeriesInfo):
            self.series_activated.emit(series)
            return
        volume = item.data(0, _VOLUME_ROLE)
        if volume is not None:
            self.volume_activated.emit(*volume)
