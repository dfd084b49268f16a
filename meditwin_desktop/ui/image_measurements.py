"""The list of measurements made on the images (rulers and ROIs): name, where, values.

They belong to the case (`Case.image_measurements`, saved with it in the library and
restored on reopening; the board report reads them there). Rulers are drawn by the slice
views and the 3D view from `scene.rulers`, which this list fills with the active study's;
a ruler drawn (or cleared) there is added to (or removed from) the case. ROIs are drawn
here, as a slice layer: each rectangle stays on its slice.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.case import Case, now
from meditwin_desktop.core.i18n import number, tr
from meditwin_desktop.core.segmentation.measurements import (
    ImageMeasurement,
    next_name,
    ruler_measurement,
)
from meditwin_desktop.core.session import Session
from meditwin_desktop.ui.scene import Ruler, Scene
from meditwin_desktop.ui.slice_view import SliceView

_ROI = QColor(255, 150, 60)
_SELECTED = QColor(255, 240, 120)
_VIEWS = ("axial", "coronal", "sagittal")


class MeasurementLayer:
    """Draws the active study's ROIs on the slice they were drawn on (a `SliceLayer`)."""

    def __init__(self, owner: ImageMeasurementList) -> None:
        self.owner = owner

    def paint(self, view, painter: QPainter) -> None:
        plane = view.plane()
        if plane is None:
            return
        normal = np.asarray(view.orientation.normal, float)
        selected = self.owner.selected()
        for m in self.owner.on_study():
            if m.kind != "roi" or m.view != view.orientation.name:
                continue
            a, b = m.ends
            if max(abs(normal @ (p - plane.origin)) for p in (a, b)) > plane.slice_step_mm / 2:
                continue  # another slice
            rect = QRectF(view.lps_to_widget(a), view.lps_to_widget(b)).normalized()
            color = _SELECTED if m is selected else _ROI
            painter.setPen(QPen(color, 2 if m is selected else 1.5))
            painter.drawRect(rect)
            painter.setPen(QColor(0, 0, 0))
            text = (
                tr("{name}: {mean} HU").format(name=m.name, mean=number(m.values["mean"]))
                if m.values.get("pixels")
                else m.name
            )
            for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):  # an outline, legible anywhere
                painter.drawText(rect.bottomLeft() + QPointF(dx, 14 + dy), text)
            painter.setPen(color)
            painter.drawText(rect.bottomLeft() + QPointF(0, 14), text)

    def mouse(self, view, kind: str, event: QMouseEvent) -> bool:
        return False  # drawn, not dragged


class ImageMeasurementList(QWidget):
    """Rulers and ROIs of the open case, with delete, rename and go-to."""

    def __init__(self, scene: Scene, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.session = session
        self._loose: list[ImageMeasurement] = []  # no case open: kept until one is
        self._pairs: list[tuple[Ruler, ImageMeasurement]] = []  # rulers on screen
        self.layer = MeasurementLayer(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, 3, self)
        self.table.setObjectName("image_measurements")
        self.table.setHorizontalHeaderLabels([tr("Name"), tr("Where"), tr("Value")])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._renamed)
        self.table.itemSelectionChanged.connect(self._redraw_views)
        self.table.cellDoubleClicked.connect(lambda row, _: self.go_to(row))
        # as tall as the page allows (its own size hint pushed the buttons out at 1280 x 800)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.table.setMinimumHeight(90)
        row = QHBoxLayout()
        self.go_button = QPushButton(tr("Go to"), self)
        self.go_button.clicked.connect(lambda: self.go_to(self.table.currentRow()))
        self.delete_button = QPushButton(tr("Delete"), self)
        self.delete_button.setObjectName("image_measurement_delete")
        self.delete_button.clicked.connect(self.delete_selected)
        row.addWidget(self.go_button)
        row.addWidget(self.delete_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.table, stretch=1)
        hint = QLabel(tr("Draw with the Ruler and ROI tools; saved with the case, in the report."))
        hint.setWordWrap(True)
        layout.addWidget(hint)
        scene.volume_changed.connect(self.show_study)
        scene.measurements_changed.connect(self._rulers_changed)

    # -- the case --------------------------------------------------------------------------
    @property
    def case(self) -> Case | None:
        return self.session.case

    def _study_id(self) -> str | None:
        """The id of the study on screen (None when the views show no study of the case)."""
        case = self.case
        if case is None or case.study is None or self.scene.volume is None:
            return None
        return case.study.id if case.image is self.scene.volume else None

    def measurements(self) -> list[ImageMeasurement]:
        """Every measurement of the case (or of the open image when there is no case)."""
        return self.case.image_measurements if self.case is not None else self._loose

    def on_study(self) -> list[ImageMeasurement]:
        """The measurements of the study on screen."""
        study = self._study_id()
        if self.case is None:
            return list(self._loose)
        return [m for m in self.measurements() if study is not None and m.study == study]

    def _touch(self) -> None:
        if self.case is not None:
            self.session.touch("image_measurements")
        self.refresh()

    def show_study(self) -> None:
        """Show the rulers of the study on screen (another case, study or image)."""
        if self.case is not None:
            self._loose = []
        rulers = [m for m in self.on_study() if m.kind == "ruler"]
        self._pairs = [(Ruler(*m.ends), m) for m in rulers]
        self.scene.rulers = [r for r, _ in self._pairs]
        self.scene.measurements_changed.emit()
        self.refresh()

    # -- new and removed measurements ---------------------------------------------------
    def _rulers_changed(self) -> None:
        """Keep the case's rulers as the scene's: a ruler drawn is added, cleared removed."""
        shown = self.scene.rulers
        gone = [m for r, m in self._pairs if not any(r is s for s in shown)]
        known = [r for r, _ in self._pairs]
        new = [r for r in shown if not any(r is k for k in known)]
        if not gone and not new:
            return
        study = self._study_id() or ""
        for m in gone:
            if m in self.measurements():
                self.measurements().remove(m)
        self._pairs = [(r, m) for r, m in self._pairs if m not in gone]
        for ruler in new:
            view, number = self._where(ruler)
            m = ruler_measurement(
                next_name(self.measurements(), "ruler"), study, view, number,
                ruler.start, ruler.end, now(),
            )  # fmt: skip
            self.measurements().append(m)
            self._pairs.append((ruler, m))
        self._touch()

    def _where(self, ruler: Ruler) -> tuple[str, int]:
        """The view and slice a ruler lies on ('3D' when both ends are on no common slice)."""
        volume = self.scene.volume
        if volume is None:
            return "3D", 0
        a, b = (np.round(volume.lps_to_index(p)).astype(int) for p in (ruler.start, ruler.end))
        for axis, view in ((2, "axial"), (1, "coronal"), (0, "sagittal")):
            if a[axis] == b[axis]:
                return view, int(a[axis]) + 1
        return "3D", 0

    def add_roi(self, stats: dict) -> ImageMeasurement | None:
        """Keep an ROI drawn on a slice (`SliceView.roi_measured`)."""
        corners = stats.get("corners")
        if corners is None or stats.get("view") not in _VIEWS:
            return None
        values = {k: stats[k] for k in ("mean", "std", "min", "max", "area_mm2", "pixels")
                  if k in stats}  # fmt: skip
        unit = "HU" if (self.scene.volume.meta.get("modality") == "CT") else ""
        m = ImageMeasurement("roi", next_name(self.measurements(), "roi"), self._study_id() or "",
                             stats["view"], int(stats.get("slice", 0)), corners, values, unit,
                             now())  # fmt: skip
        self.measurements().append(m)
        self._touch()
        self.table.selectRow(self.table.rowCount() - 1)
        return m

    def delete_selected(self) -> None:
        """Delete the selected measurement (from the case and the views)."""
        m = self.selected()
        if m is None:
            return
        self.measurements().remove(m)
        if m.kind == "ruler":
            self._pairs = [(r, x) for r, x in self._pairs if x is not m]
            self.scene.rulers = [r for r, _ in self._pairs]
            self.scene.measurements_changed.emit()
        self._touch()

    # -- the table ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw the table (the study on screen's measurements) and the views."""
        shown = self.on_study()
        selected = self.selected()
        self.table.blockSignals(True)
        self.table.setRowCount(len(shown))
        for row, m in enumerate(shown):
            name = QTableWidgetItem(m.name)
            name.setData(Qt.ItemDataRole.UserRole, row)
            where = QTableWidgetItem(m.where())
            value = QTableWidgetItem(m.summary())
            value.setToolTip(m.summary())
            for item in (where, value):
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            for column, item in enumerate((name, where, value)):
                self.table.setItem(row, column, item)
        self.table.blockSignals(False)
        self._shown = shown
        if selected in shown:
            self.table.selectRow(shown.index(selected))
        self._redraw_views()

    def selected(self) -> ImageMeasurement | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        shown = getattr(self, "_shown", [])
        return shown[rows[0].row()] if rows and rows[0].row() < len(shown) else None

    def _renamed(self, item: QTableWidgetItem) -> None:
        shown = getattr(self, "_shown", [])
        if item.column() == 0 and item.row() < len(shown) and item.text().strip():
            shown[item.row()].name = item.text().strip()
            self._touch()

    def go_to(self, row: int) -> None:
        """Move the crosshair to a measurement (its slice comes up in every view)."""
        shown = getattr(self, "_shown", [])
        if 0 <= row < len(shown):
            a, b = shown[row].ends
            self.scene.set_cursor((a + b) / 2)

    def _redraw_views(self) -> None:
        window = self.window()
        for view in window.findChildren(SliceView) if window is not None else []:
            view.update()
