"""The segmentation panel: labels (names, colours, statistics) and the tools that edit them.

Every whole-volume operation (threshold, region growing and its preview, cleanup,
statistics) runs in the background through `run`; brush strokes are drawn on the slice
views themselves. Region growing is previewed on the slices and applied on confirmation.
Labels a twin reads are locked (`ui.label_guard`): tools never take their voxels, and
editing one asks first. By default tools fill only unlabelled voxels; they may be
restricted to the inside of one label (Slicer's "editable area").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolBox,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import N_, decimal_separator, number, tr, tr_n
from meditwin_desktop.core.imaging.nifti import write_label_map
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.segmentation import tools
from meditwin_desktop.core.segmentation.dicom_seg import write_dicom_seg
from meditwin_desktop.core.segmentation.editor import EditPolicy
from meditwin_desktop.core.segmentation.label_files import FILE_FILTER as LABEL_FILE_FILTER
from meditwin_desktop.core.segmentation.statistics import LabelStatistics, label_statistics
from meditwin_desktop.ui.label_guard import LabelGuard
from meditwin_desktop.ui.scene import Scene

Runner = Callable[..., object]  # run(name, fn, *, on_done) -> Task
# the brush tools as the question about a locked label names them
_TOOL_WORDS = {"paint": N_("paint"), "erase": N_("erase")}


def _g(value: float) -> str:
    """`value` as `:g` writes it, with the decimal separator of the language."""
    return f"{value:g}".replace(".", decimal_separator())


def _spin(
    low: float, high: float, value: float, step: float = 10.0, suffix: str = ""
) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(1)
    box.setSingleStep(step)
    box.setValue(value)
    if suffix:
        box.setSuffix(suffix)
    return box


class SegmentPanel(QWidget):
    """Label list and segmentation tools acting on `scene.editor`."""

    surface_requested = Signal(int)  # label value to show as a surface in 3D
    surface_export_requested = Signal(int, str)  # label value, file path
    import_requested = Signal(object)  # a label file (Path) to import onto the open image

    def __init__(self, scene: Scene, run: Runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self._run = run
        self._busy = False
        self._stats: dict[int, LabelStatistics] = {}
        self._preview: dict | None = None  # the region growing shown, not yet applied
        self.guard = LabelGuard(scene, self)
        self.guard.changed.connect(self._labels_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._label_table())
        layout.addLayout(self._label_buttons())
        self.overwrite = QCheckBox(tr("Tools may take voxels from other labels"))
        self.overwrite.setObjectName("segment_overwrite")
        self.overwrite.setChecked(False)
        self.overwrite.setToolTip(
            tr(
                "Off: threshold, growing and the brush only fill unlabelled voxels. Labels a "
                "twin uses (padlock) stay protected either way until you unlock them."
            )
        )
        self.overwrite.toggled.connect(self._overwrite_changed)
        layout.addWidget(self.overwrite)
        inside = QHBoxLayout()
        inside.addWidget(QLabel(tr("Edit only inside")))
        self.inside = QComboBox(self)
        self.inside.setObjectName("segment_inside")
        self.inside.setToolTip(tr("Paint, threshold and growing change only voxels of this label"))
        self.inside.currentIndexChanged.connect(self._inside_changed)
        inside.addWidget(self.inside, stretch=1)
        layout.addLayout(inside)
        self.tools = QToolBox(self)
        self.tools.addItem(self._threshold_page(), tr("Threshold"))
        self.tools.addItem(self._grow_page(), tr("Grow from the crosshair"))
        self.tools.addItem(self._brush_page(), tr("Paint and erase"))
        self.tools.addItem(self._cleanup_page(), tr("Clean up"))
        self.tools.addItem(self._files_page(), tr("Surface, import, export"))
        self.tools.currentChanged.connect(self._page_changed)
        layout.addWidget(self.tools, stretch=1)
        self.status = QLabel("")
        self.status.setObjectName("segment_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self._regrow = QTimer(self, singleShot=True, interval=400)
        self._regrow.timeout.connect(self._refresh_preview)
        scene.labels_changed.connect(self._labels_changed)
        scene.volume_changed.connect(self._labels_changed)
        scene.labels_replaced.connect(self.cancel_preview)
        scene.volume_changed.connect(self.cancel_preview)
        scene.active_label_changed.connect(self._select_active)
        scene.active_label_changed.connect(self._refresh_preview)
        scene.edit_refused.connect(self._edit_refused)
        self._labels_changed()

    # -- construction -------------------------------------------------------------------
    def _label_table(self) -> QTableWidget:
        self.table = QTableWidget(0, 4, self)
        self.table.setObjectName("label_table")
        self.table.setHorizontalHeaderLabels(["", tr("Label"), tr("Volume"), tr("Mean ± SD")])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(0, 22)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemChanged.connect(self._item_changed)
        self.table.cellDoubleClicked.connect(self._cell_double_clicked)
        self.table.setMinimumHeight(160)
        return self.table

    def _label_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.add_button = QPushButton(tr("Add label"))
        self.add_button.clicked.connect(self.ask_new_label)
        self.delete_button = QPushButton(tr("Delete"))
        self.delete_button.clicked.connect(self._delete_label)
        self.undo_button = QPushButton(tr("Undo"))
        self.undo_button.setShortcut("Ctrl+Z")
        self.undo_button.clicked.connect(self.undo)
        self.redo_button = QPushButton(tr("Redo"))
        self.redo_button.setShortcut("Ctrl+Y")
        self.redo_button.clicked.connect(self.redo)
        for button in (self.add_button, self.delete_button, self.undo_button, self.redo_button):
            row.addWidget(button)
        return row

    def _threshold_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.threshold_low = _spin(-5000, 50000, 200)
        self.threshold_high = _spin(-5000, 50000, 3000)
        self.threshold_preview = QCheckBox(tr("Preview on the slices (green)"))
        self.threshold_preview.setChecked(True)
        self.threshold_connected = QCheckBox(tr("Only the part connected to the crosshair"))
        self.threshold_apply = QPushButton(tr("Add to the selected label"))
        self.threshold_apply.clicked.connect(self.apply_threshold)
        for box in (self.threshold_low, self.threshold_high):
            box.valueChanged.connect(self._update_preview)
        self.threshold_preview.toggled.connect(self._update_preview)
        form.addRow(tr("From"), self.threshold_low)
        form.addRow(tr("To"), self.threshold_high)
        form.addRow(self.threshold_preview)
        form.addRow(self.threshold_connected)
        form.addRow(self.threshold_apply)
        return page

    def _grow_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.grow_low = _spin(-5000, 50000, 60)
        self.grow_high = _spin(-5000, 50000, 140)
        suggest = QPushButton(tr("Suggest range from the crosshair"))
        suggest.clicked.connect(self.suggest_range)
        self.grow_preview_button = QPushButton(tr("Preview from the crosshair"))
        self.grow_preview_button.setObjectName("grow_preview")
        self.grow_preview_button.clicked.connect(self.grow)
        self.grow_button = QPushButton(tr("Apply to the selected label"))
        self.grow_button.setObjectName("grow_apply")
        self.grow_button.clicked.connect(self.apply_grow)
        self.grow_cancel = QPushButton(tr("Cancel"))
        self.grow_cancel.setObjectName("grow_cancel")
        self.grow_cancel.clicked.connect(self.cancel_preview)
        for box in (self.grow_low, self.grow_high):
            box.valueChanged.connect(lambda _: self._preview and self._regrow.start())
        confirm = QHBoxLayout()
        confirm.addWidget(self.grow_button, stretch=1)
        confirm.addWidget(self.grow_cancel)
        explain = QLabel(tr("Voxels in the range, connected to the crosshair: previewed in "
                            "green, applied when you confirm."))  # fmt: skip
        explain.setWordWrap(True)
        form.addRow(explain)
        form.addRow(tr("From"), self.grow_low)
        form.addRow(tr("To"), self.grow_high)
        form.addRow(suggest)
        form.addRow(self.grow_preview_button)
        form.addRow(confirm)
        return page

    def _brush_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.brush_radius = _spin(0.5, 50, self.scene.brush_radius_mm, 0.5, " mm")
        self.brush_radius.valueChanged.connect(self._brush_radius_changed)
        buttons = QHBoxLayout()
        self.brush_group = QButtonGroup(self)
        for tool, text in (("navigate", N_("Off")), ("paint", N_("Paint")), ("erase", N_("Erase"))):
            button = QPushButton(tr(text))
            button.setCheckable(True)
            button.setObjectName(f"brush_{tool}")
            button.setChecked(tool == "navigate")
            button.clicked.connect(lambda _=False, t=tool: self.scene.set_tool(t))
            self.brush_group.addButton(button)
            buttons.addWidget(button)
        form.addRow(tr("Radius"), self.brush_radius)
        form.addRow(buttons)
        form.addRow(QLabel(tr("Drag on a slice; each stroke undoes as one step.")))
        self.scene.tool_changed.connect(self._tool_changed)
        return page

    def _cleanup_page(self) -> QWidget:
        page = QWidget()
        grid = QGridLayout(page)
        self.morph_radius = _spin(0.5, 20, 2.0, 0.5, " mm")
        actions = [
            (N_("Fill holes"), lambda m, s: tools.fill_holes(m)),
            (N_("Keep largest part"), lambda m, s: tools.largest_component(m)),
            (
                N_("Open (remove thin parts)"),
                lambda m, s: tools.opening(m, self.morph_radius.value(), s),
            ),
            (
                N_("Close (bridge gaps)"),
                lambda m, s: tools.closing(m, self.morph_radius.value(), s),
            ),
        ]
        self.cleanup_buttons = {}
        for n, (text, operation) in enumerate(actions):
            button = QPushButton(tr(text))
            button.clicked.connect(lambda _=False, t=text, op=operation: self.cleanup(t, op))
            grid.addWidget(button, n // 2, n % 2)
            self.cleanup_buttons[text] = button
        grid.addWidget(QLabel(tr("Radius for open/close")), 2, 0)
        grid.addWidget(self.morph_radius, 2, 1)
        return page

    def _files_page(self) -> QWidget:
        page = QWidget()
        grid = QGridLayout(page)
        buttons = [
            (N_("Show surface in 3D"), lambda: self._with_active(self.surface_requested.emit)),
            (N_("Export surface (STL/VTP)…"), self._ask_export_surface),
            (N_("Import labels (NIfTI, NRRD, DICOM SEG)…"), self._ask_import),
            (N_("Export labels as NIfTI…"), lambda: self._ask_export("nifti")),
            (N_("Export labels as DICOM SEG…"), lambda: self._ask_export("seg")),
        ]
        for n, (text, slot) in enumerate(buttons):
            button = QPushButton(tr(text))
            button.clicked.connect(slot)
            grid.addWidget(button, n, 0)
        return page

    # -- labels ----------------------------------------------------------------------------
    def _visible_labels(self):
        labels = self.scene.labels
        if labels is None:
            return []
        return [
            lab
            for lab in sorted(labels.labels.values(), key=lambda x: x.value)
            if lab.name not in self.scene.hidden_labels
        ]

    def _labels_changed(self) -> None:
        self.table.blockSignals(True)
        labels = self._visible_labels()
        self.table.setRowCount(len(labels))
        for row, label in enumerate(labels):
            swatch = QTableWidgetItem("")
            swatch.setBackground(QColor(*label.color))
            swatch.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            swatch.setData(Qt.ItemDataRole.UserRole, label.value)
            swatch.setToolTip(tr("Double-click to change the colour"))
            name = QTableWidgetItem(label.name)
            name.setData(Qt.ItemDataRole.UserRole, label.value)
            icon = self.guard.icon(label.value)
            if icon is not None:  # a twin's input: locked (or unlocked by the user)
                name.setIcon(icon)
                name.setToolTip(self.guard.tooltip(label.value))
            stats = self._stats.get(label.value)
            volume = QTableWidgetItem(f"{number(stats.volume_ml, 1)} mL" if stats else "–")
            values = QTableWidgetItem(_mean_sd(stats) if stats else "–")
            for item in (volume, values):
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for column, item in enumerate((swatch, name, volume, values)):
                self.table.setItem(row, column, item)
        self.table.blockSignals(False)
        self._fill_inside(labels)
        self._select_active()
        self._update_buttons()
        self.refresh_statistics()

    def _fill_inside(self, labels) -> None:
        self.inside.blockSignals(True)
        self.inside.clear()
        self.inside.addItem(tr("anywhere"), None)
        for label in labels:
            self.inside.addItem(label.name, label.value)
        index = self.inside.findData(self.scene.edit_inside)
        self.inside.setCurrentIndex(max(index, 0))
        self.inside.blockSignals(False)
        if index < 0:  # that label is gone
            self.scene.edit_inside = None

    def _inside_changed(self, index: int) -> None:
        self.scene.edit_inside = self.inside.itemData(index)
        self._refresh_preview()

    def _select_active(self) -> None:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 1).data(Qt.ItemDataRole.UserRole) == self.scene.active_label:
                self.table.blockSignals(True)
                self.table.selectRow(row)
                self.table.blockSignals(False)

    def _selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.scene.set_active_label(
                self.table.item(rows[0].row(), 1).data(Qt.ItemDataRole.UserRole)
            )

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 1 or self.scene.editor is None:
            return
        value, name = item.data(Qt.ItemDataRole.UserRole), item.text()
        label = self.scene.labels.labels.get(value) if self.scene.labels is not None else None
        # a twin finds its inputs by name ("tumour 1"): renaming one is an edit of them (the
        # question's answer rebuilds the table: the item is not used after it)
        if (
            label is not None
            and name != label.name
            and not self.guard.confirm([value], tr("renaming '{name}'").format(name=label.name))
        ):
            if shiboken6.isValid(item):
                blocked = self.table.blockSignals(True)
                item.setText(label.name)
                self.table.blockSignals(blocked)
            return
        try:
            self.scene.editor.rename(value, name)
        except MeditwinError as error:
            self._message(str(error))
        self.scene.labels_changed.emit()

    def _cell_double_clicked(self, row: int, column: int) -> None:
        if column != 0 or self.scene.editor is None:
            return
        value = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        color = QColorDialog.getColor(QColor(*self.scene.labels.labels[value].color), self)
        if color.isValid():
            self.scene.editor.recolor(value, (color.red(), color.green(), color.blue()))
            self.scene.labels_changed.emit()

    def ask_new_label(self) -> None:
        """Ask for a name and add a label."""
        name, ok = QInputDialog.getText(self, tr("New label"), tr("Name (e.g. tumour 3, scar):"))
        if ok:
            self.add_label(name)

    def add_label(self, name: str) -> int | None:
        """Add a label (creating an empty label map if needed) and select it."""
        if self.scene.volume is None:
            self._message(tr("Open an image first."))
            return None
        try:
            label = self.scene.ensure_editor().add_label(name)
        except MeditwinError as error:
            self._message(str(error))
            return None
        self.guard.allow(label.value)  # added to be edited: a twin's use of it is news
        self.scene.labels_changed.emit()
        self.scene.set_active_label(label.value)
        return label.value

    def _delete_label(self) -> None:
        value = self.scene.active_label
        if value is None or self.scene.editor is None:
            return
        name = self.scene.labels.labels[value].name
        if value in self.scene.locked_labels:  # one question, naming the twin
            agreed = self.guard.confirm(
                [value], tr("deleting '{name}' and its voxels").format(name=name)
            )
        else:
            answer = QMessageBox.question(
                self, tr("Delete label"), tr("Delete '{name}' and its voxels?").format(name=name)
            )
            agreed = answer == QMessageBox.StandardButton.Yes
        if agreed:
            self.scene.editor.remove_label(value)
            self.scene.set_active_label(None)
            self.scene.labels_changed.emit()

    def undo(self) -> None:
        """Undo the last edit of the labels."""
        if self.scene.editor is not None and not self._busy:
            done = self.scene.editor.undo()
            if done:
                self._message(tr("Undone: {action}").format(action=done))
                self.scene.labels_changed.emit()

    def redo(self) -> None:
        """Redo the last undone edit."""
        if self.scene.editor is not None and not self._busy:
            done = self.scene.editor.redo()
            if done:
                self._message(tr("Redone: {action}").format(action=done))
                self.scene.labels_changed.emit()

    # -- tools --------------------------------------------------------------------------------
    def _page_changed(self, index: int) -> None:
        self._update_preview()
        if index != 1:
            self.cancel_preview()
        if index != 2 and self.scene.tool in ("paint", "erase"):
            self.scene.set_tool("navigate")

    def _update_preview(self) -> None:
        on_page = self.tools.currentIndex() == 0 and self.threshold_preview.isChecked()
        value_range = (self.threshold_low.value(), self.threshold_high.value())
        self.scene.set_preview(value_range if on_page else None)

    def _tool_changed(self) -> None:
        for button in self.brush_group.buttons():
            button.setChecked(button.objectName() == f"brush_{self.scene.tool}")

    def _brush_radius_changed(self, value: float) -> None:
        self.scene.brush_radius_mm = value

    def _overwrite_changed(self, overwrite: bool) -> None:
        self.scene.overwrite = overwrite
        self._refresh_preview()

    def _edit_refused(self, value: int) -> None:
        """A brush stroke met a locked label: offer to unlock it (after the mouse event)."""

        def ask() -> None:
            name = self.scene.labels.labels[value].name if self.scene.labels else str(value)
            tool = tr(_TOOL_WORDS.get(self.scene.tool, self.scene.tool))
            if self.guard.confirm([value], tr("painting with the {tool} tool").format(tool=tool)):
                self._message(tr("'{name}' is unlocked: paint again.").format(name=name))
            else:
                self._message(tr("'{name}' is protected: nothing was painted.").format(name=name))

        QTimer.singleShot(0, ask)

    def _with_active(self, action: Callable[[int], object]) -> None:
        if self.scene.active_label is None or self.scene.editor is None:
            self._message(tr("Select a label first (or add one)."))
            return
        action(self.scene.active_label)

    def _start(self, name: str, work: Callable[[], str]) -> None:
        """Run an edit in the background, one at a time; refresh when it is done."""
        if self._busy:
            self._message(tr("Another operation is still running."))
            return
        self._busy = True
        self._update_buttons()

        def done(text: str) -> None:
            self._message(text)
            self.scene.labels_changed.emit()

        task = self._run(name, lambda *, progress, cancelled: work(), on_done=done)
        task.finished.connect(lambda: self._finished(task))
        self._task = task

    def _finished(self, task) -> None:
        if task is getattr(self, "_task", None):
            self._busy = False
            self._update_buttons()

    def apply_threshold(self) -> None:
        """Add the voxels within the threshold range to the selected label (after asking,
        when the edit changes a label a twin uses)."""
        self._with_active(self._threshold_into)

    def _threshold_into(self, value: int) -> None:
        scene, low, high = self.scene, self.threshold_low.value(), self.threshold_high.value()
        connected = self.threshold_connected.isChecked()
        seed = tools.seed_index(scene.volume, scene.cursor) if connected else None
        labels, policy = scene.editor.array, self._open_policy()
        description = tr("threshold {low} to {high}").format(low=_g(low), high=_g(high))

        def work(*, progress, cancelled) -> tuple[np.ndarray, set[int]]:
            mask = tools.threshold(scene.volume.array, low, high)
            if seed is not None:
                mask = tools.component_at(mask, seed)
            return _takes(mask, labels, value, policy)

        def done(result: tuple[np.ndarray, set[int]]) -> None:
            mask, taken = result
            self._apply(value, mask, taken, description, N_("Threshold"))

        self._compute(N_("Threshold"), work, done)

    def suggest_range(self) -> None:
        """Set the growing range from the values around the crosshair."""
        if self.scene.volume is None:
            return
        try:
            seed = tools.seed_index(self.scene.volume, self.scene.cursor)
        except MeditwinError as error:
            self._message(str(error))
            return
        low, high = tools.seed_range(self.scene.volume.array, seed)
        self.grow_low.setValue(low)
        self.grow_high.setValue(high)

    def grow(self) -> None:
        """Region growing from the crosshair: a preview on the slices (`apply_grow` applies
        it to the selected label)."""
        self._with_active(self._grow_preview)

    def _grow_preview(self, value: int, seed: tools.Index | None = None) -> None:
        scene, low, high = self.scene, self.grow_low.value(), self.grow_high.value()
        try:
            seed = seed or tools.seed_index(scene.volume, scene.cursor)
        except MeditwinError as error:
            self._message(str(error))
            return
        image, labels, policy = scene.volume, scene.editor.array, self._open_policy()

        def work(*, progress, cancelled) -> tuple[np.ndarray, set[int]]:
            return _takes(tools.region_grow(image.array, seed, low, high), labels, value, policy)

        def done(result: tuple[np.ndarray, set[int]]) -> None:
            if scene.volume is not image:
                return
            mask, taken = result
            grown = tr("grow {low} to {high}").format(low=_g(low), high=_g(high))
            self._preview = {"value": value, "seed": seed, "mask": mask, "taken": taken,
                             "description": grown}  # fmt: skip
            preview = np.zeros(mask.shape, np.uint8)
            preview[mask] = 1
            scene.set_preview_mask(Volume(preview, image.affine))
            ml = int(mask.sum()) * float(np.prod(image.spacing)) / 1000.0
            takes = self._names(taken)
            if not mask.any():
                self._message(
                    tr(
                        "Preview: nothing to add. The grown region's voxels already belong to "
                        "this or other labels: allow taking voxels from other labels, or edit "
                        "only inside a label."
                    )
                )
                self._update_buttons()
                return
            if takes:
                text = tr(
                    "Preview: {volume} mL in green, taken from {labels}. Apply to add it to the "
                    "label, or Cancel."
                )
            else:
                text = tr("Preview: {volume} mL in green. Apply to add it to the label, or Cancel.")
            self._message(text.format(volume=number(ml, 1), labels=takes))
            self._update_buttons()

        def failed(error: BaseException) -> None:
            self._message(str(error))

        self._compute(N_("Region growing"), work, done, failed)

    def _refresh_preview(self) -> None:
        """The range, label or options changed: grow the shown preview again."""
        if self._preview is None:
            return
        if self._busy:
            self._regrow.start()
            return
        value = self.scene.active_label
        if value is None:
            self.cancel_preview()
            return
        self._grow_preview(value, self._preview["seed"])

    def apply_grow(self) -> None:
        """Apply the previewed region growing to the selected label."""
        preview = self._preview
        if preview is None or self._busy:
            return
        value = preview["value"]
        self.cancel_preview()
        self._apply(value, preview["mask"], preview["taken"], preview["description"],
                    N_("Region growing"))  # fmt: skip

    def cancel_preview(self) -> None:
        """Drop the region growing preview (nothing is changed)."""
        self._regrow.stop()
        if self._preview is not None or self.scene.preview_mask is not None:
            self._preview = None
            self.scene.set_preview_mask(None)
            self._update_buttons()

    def cleanup(self, text: str, operation: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
        """Apply a morphological operation to the selected label."""
        self._with_active(lambda value: self._cleanup(value, text, operation))

    def _cleanup(self, value: int, text: str, operation) -> None:
        shown = tr(text)
        if not self.guard.confirm([value], shown.lower()):
            return
        editor, spacing = self.scene.editor, self.scene.volume.spacing
        policy = self.scene.edit_policy()

        def work() -> str:
            mask = operation(editor.array == value, spacing)
            count = editor.replace(value, mask, shown.lower(), policy=policy)
            changed = tr_n("{action}: {count} voxels changed.", "{action}: {count} voxels changed.",
                           count)  # fmt: skip
            return changed.format(action=shown, count=count)

        self._start(text, work)

    # -- applying a mask, with the twins' inputs protected ----------------------------------
    def _open_policy(self) -> EditPolicy:
        """The panel's options without the locks: what an edit would take if allowed (locked
        labels it would take are asked about before it is applied)."""
        policy = self.scene.edit_policy()
        return EditPolicy(policy.overwrite, policy.inside)

    def _names(self, values) -> str:
        labels = self.scene.labels
        names = [f"'{labels.labels[v].name}'" for v in sorted(values) if v in labels.labels]
        return ", ".join(names)

    def _apply(self, value: int, mask: np.ndarray, taken: set[int], description: str,
               title: str) -> None:  # fmt: skip
        """Paint `mask` into label `value` in the background, once the user has agreed to
        change any locked label it touches (the label itself, or labels it takes from)."""
        if self.scene.editor is None or value not in self.scene.labels.labels:
            return
        shown = tr(title)
        if not self.guard.confirm([value, *sorted(taken)], shown.lower()):
            refused = tr("{action}: nothing was changed (protected labels).")
            self._message(refused.format(action=shown))
            return
        editor, policy = self.scene.editor, self.scene.edit_policy()

        def work() -> str:
            count = editor.paint(mask, value, description=description, policy=policy)
            added = tr_n("{action}: {count} voxels added.", "{action}: {count} voxels added.",
                         count)  # fmt: skip
            return added.format(action=shown, count=count)

        self._start(title, work)

    def _compute(self, name: str, work, done, failed=None) -> None:
        """Run a computation that changes nothing in the background, one at a time."""
        if self._busy:
            self._message(tr("Another operation is still running."))
            return
        self._busy = True
        self._update_buttons()

        def then(handler):
            def call(value) -> None:  # free for the next operation (an apply) first
                self._busy, self._task = False, None
                self._update_buttons()
                if handler is not None:
                    handler(value)

            return call

        task = self._run(
            name, work, on_done=then(done), on_failed=then(failed), quiet=failed is not None
        )
        task.finished.connect(lambda: self._finished(task))
        self._task = task

    # -- statistics and files ------------------------------------------------------------------
    def refresh_statistics(self) -> None:
        """Recompute volumes and mean ± SD in the background."""
        scene = self.scene
        if scene.labels is None or scene.volume is None:
            self._stats = {}
            return
        labels, image = scene.labels, scene.volume

        def done(stats: list[LabelStatistics]) -> None:
            if scene.labels is labels:
                self._stats = {s.value: s for s in stats}
                self._fill_statistics()

        self._run(
            N_("Label statistics"),
            lambda *, progress, cancelled: label_statistics(labels, image),
            on_done=done,
            quiet=True,
        )

    def _fill_statistics(self) -> None:
        self.table.blockSignals(True)
        for row in range(self.table.rowCount()):
            stats = self._stats.get(self.table.item(row, 1).data(Qt.ItemDataRole.UserRole))
            volume = number(stats.volume_ml if stats else 0.0, 1)
            self.table.item(row, 2).setText(f"{volume} mL")
            self.table.item(row, 3).setText(_mean_sd(stats) if stats else "–")
        self.table.blockSignals(False)

    def statistics(self) -> dict[int, LabelStatistics]:
        """The last computed statistics, by label value."""
        return dict(self._stats)

    def _ask_import(self) -> None:
        if self.scene.volume is None:
            self._message(tr("Open an image first."))
            return
        path, _ = QFileDialog.getOpenFileName(self, tr("Import labels"), "", tr(LABEL_FILE_FILTER))
        if path:
            self.import_labels(Path(path))

    def import_labels(self, path: Path) -> None:
        """Import a NIfTI or NRRD label map or a DICOM SEG onto the open image: the window
        does it, as File > Import labels (asked first when a twin uses the labels on
        screen; the 3D surfaces follow)."""
        self.import_requested.emit(path)

    def _ask_export(self, kind: str) -> None:
        if self.scene.labels is None:
            self._message(tr("There are no labels to export."))
            return
        suffix = "NIfTI (*.nii.gz)" if kind == "nifti" else "DICOM SEG (*.dcm)"
        default = "labels.nii.gz" if kind == "nifti" else "segmentation.dcm"
        path, _ = QFileDialog.getSaveFileName(self, tr("Export labels"), default, suffix)
        if path:
            self.export_labels(Path(path), kind)

    def export_labels(self, path: Path, kind: str) -> None:
        """Write the labels as NIfTI or DICOM SEG (in the background)."""
        labels, image = self.scene.labels, self.scene.volume

        def work(*, progress, cancelled):
            if kind == "nifti":
                write_label_map(labels, path)
            else:
                write_dicom_seg(labels, image, path)

        self._run(
            N_("Exporting labels"),
            work,
            on_done=lambda _: self._message(tr("Saved {path}").format(path=path)),
        )

    def _ask_export_surface(self) -> None:
        def ask(value: int) -> None:
            default = f"{self.scene.labels.labels[value].name}.stl"  # a file name: not translated
            path, _ = QFileDialog.getSaveFileName(
                self,
                tr("Export surface"),
                default,
                tr("Surface meshes (*.stl *.vtp)"),
            )
            if path:
                self.surface_export_requested.emit(value, path)

        self._with_active(ask)

    # -- helpers -----------------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        editor = self.scene.editor
        has_image = self.scene.volume is not None
        self.add_button.setEnabled(has_image and not self._busy)
        self.delete_button.setEnabled(editor is not None and not self._busy)
        self.undo_button.setEnabled(editor is not None and editor.can_undo() and not self._busy)
        self.redo_button.setEnabled(editor is not None and editor.can_redo() and not self._busy)
        for button in (
            self.threshold_apply,
            self.grow_preview_button,
            *self.cleanup_buttons.values(),
        ):
            button.setEnabled(has_image and not self._busy)
        self.grow_button.setEnabled(self._preview is not None and not self._busy)
        self.grow_cancel.setEnabled(self._preview is not None)

    def _message(self, text: str) -> None:
        self.status.setText(text)


def _mean_sd(stats: LabelStatistics) -> str:
    return f"{number(stats.mean)} ± {number(stats.std)}"


def _takes(
    mask: np.ndarray, labels: np.ndarray, value: int, policy: EditPolicy
) -> tuple[np.ndarray, set[int]]:
    """`mask` cut to what `policy` lets label `value` have, and the labels it takes from."""
    allowed = mask & policy.allowed(labels, value)
    taken = set(np.unique(labels[allowed]).tolist()) - {0}
    return allowed, taken
