"""The follow-up workspace: two dated studies of the case side by side, kept at the same
anatomical point, and a lesion tool that records each target lesion's diameter per study.

Each side has a scene of its own (its own volume, labels, cursor and rulers) and an axial
`SliceView`. A point p on the left study is shown on the right at p + offset (LPS mm):
the offset comes from matching the liver (or body) centroid, nudged by the user. Window
and level are shared. A ruler drawn on either side, with a lesion chosen, becomes that
lesion's `Measurement` (longest diameter, or short axis for a node) on that study's date,
written into the case as the Measurements panel writes (`Session.touch`: saved with the
case); its ends are kept as an image ruler named after the lesion so that the table can
go back to it. Images load in the background (`start_task`, the window's `_start`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.case import Case, Measurement, Study, now
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import N_, date_text, decimal_separator, number, tr
from meditwin_desktop.core.imaging.slicing import AXIAL
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.lesions import (
    LONGEST,
    SHORT_AXIS,
    VOLUME,
    centroid_alignment,
    is_node,
    measure_labels,
)
from meditwin_desktop.core.segmentation.measurements import ruler_measurement
from meditwin_desktop.core.session import Session
from meditwin_desktop.core.units import UnitError, convert
from meditwin_desktop.ui.overlay_text import outlined_text
from meditwin_desktop.ui.scene import Ruler, Scene
from meditwin_desktop.ui.slice_view import SliceView

NEW_LESION = N_("New lesion…")  # shown through tr()
NOT_EVALUABLE = "—"
SUM_ROW = N_("Sum (lesions at baseline)")  # the sum row's key (`cell`); shown through tr()
MIN_RULER_MM = 2.0  # shorter: a slip of the mouse, not a diameter
_CORNER = QColor(255, 225, 120)
_TITLE_PX = 230  # room the view's own title ("Axial  48/88   I 56.0 mm") takes, top left
_LOADING = "background: rgba(0, 0, 0, 170); color: #f0c060; padding: 8px; font-weight: bold;"
# nudge buttons: (text, axis, step mm in LPS, tooltip direction)
_NUDGES = (
    ("R", 0, -1.0, N_("Nudge: the right study's point 1 mm right")),
    ("L", 0, 1.0, N_("Nudge: the right study's point 1 mm left")),
    ("A", 1, -1.0, N_("Nudge: the right study's point 1 mm anterior")),
    ("P", 1, 1.0, N_("Nudge: the right study's point 1 mm posterior")),
    ("S", 2, 1.0, N_("Nudge: the right study's point 1 mm superior")),
    ("I", 2, -1.0, N_("Nudge: the right study's point 1 mm inferior")),
)
# what the alignment says it matched (`core.lesions.centroid_alignment`), for the catalogue
_MATCHED = (N_("the liver centre"), N_("the body centre"))
_ALIGNING = {"liver": N_("Aligning by the liver centre"), "body": N_("Aligning by the body centre")}
_NOT_ALIGNED = {"liver": N_("Could not align by the liver centre: {error}"),
                "body": N_("Could not align by the body centre: {error}")}  # fmt: skip


def offset_text(offset: np.ndarray) -> str:
    """'offset R 3.0 / A 4.0 / S 6.0 mm' for an LPS offset (mm)."""
    x, y, z = (float(v) for v in offset)
    parts = (("R" if x < 0 else "L", abs(x)), ("A" if y < 0 else "P", abs(y)),
             ("I" if z < 0 else "S", abs(z)))  # fmt: skip
    shown = " / ".join(f"{letter} {number(value, 1)}" for letter, value in parts)
    return tr("offset {offset} mm").format(offset=shown)


def week_of(date: str, baseline: str) -> int | None:
    """Whole weeks from the baseline date to `date` (None when either is not a date)."""
    try:
        days = (dt.date.fromisoformat(date[:10]) - dt.date.fromisoformat(baseline[:10])).days
    except ValueError:
        return None
    return round(days / 7)


def is_3d(study: Study) -> bool:
    """Whether a study is (or will load as) a 3D series, not a photograph."""
    if study.image is not None:
        return isinstance(study.image, Volume)
    return not study.reference.get("file") and study.modality not in ("XC", "OP")


def _is_label_value(m: Measurement) -> bool:
    return m.source.startswith("labels of")


class _CornerText:
    """Draws the study's date and 'Week N' in the top-right corner, or above the scale bar
    (bottom right) where a narrow view's title would run into it (a `SliceLayer`)."""

    def __init__(self, pane: FollowUpPane) -> None:
        self.pane = pane

    def paint(self, view: SliceView, painter: QPainter) -> None:
        text = self.pane.corner_text()
        if not text:
            return
        font = painter.font()
        font.setPointSizeF(10)
        font.setBold(True)
        painter.setFont(font)
        room = view.width() - painter.fontMetrics().horizontalAdvance(text) - 16
        top = 6 if room >= _TITLE_PX else view.height() - 58
        rect = QRectF(8, top, view.width() - 16, 20)
        outlined_text(painter, rect, text, _CORNER, Qt.AlignmentFlag.AlignRight)

    def mouse(self, view: SliceView, kind: str, event: QMouseEvent) -> bool:
        return False


class FollowUpPane(QWidget):
    """One side: a study chooser and that study's axial slice, with its own scene."""

    study_chosen = Signal(int)  # index into the case's studies
    ruler_drawn = Signal(object)  # Ruler

    def __init__(self, side: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.side = side
        self.scene = Scene(self)
        self.study: Study | None = None
        self.week: int | None = None
        self.loading = False
        self._indices: list[int] = []  # chooser row -> index into the case's studies
        self._known: list[Ruler] = []  # rulers on screen that are not new
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.chooser = QComboBox(self)
        self.chooser.setObjectName(f"followup_{side}_study")
        self.chooser.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.chooser.setMinimumContentsLength(10)
        self.chooser.activated.connect(self._chosen)
        layout.addWidget(self.chooser)
        self.view = SliceView(self.scene, AXIAL, self)
        self.view.setObjectName(f"followup_{side}_view")
        self.view.add_layer(_CornerText(self))
        layout.addWidget(self.view, stretch=1)
        over = QVBoxLayout(self.view)  # the loading sign, centred over the (empty) view
        self.loading_label = QLabel("", self.view)
        self.loading_label.setObjectName(f"followup_{side}_loading")
        self.loading_label.setStyleSheet(_LOADING)
        self.loading_label.setWordWrap(True)
        self.loading_label.hide()
        over.addWidget(self.loading_label, alignment=Qt.AlignmentFlag.AlignCenter)
        self.scene.measurements_changed.connect(self._rulers_changed)

    # -- what is shown ------------------------------------------------------------------------
    def set_choices(self, case: Case | None, indices: list[int], baseline: str) -> None:
        """Fill the chooser with the case's 3D studies (by index), keeping the choice."""
        self._indices = list(indices)
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for index in indices:
            study = case.studies[index]  # type: ignore[union-attr]
            week = week_of(study.date, baseline)
            when = tr("week {n}").format(n=week) if week is not None else tr("date unknown")
            date = _day(study.date) if study.date else tr("no date")
            self.chooser.addItem(f"{date} ({when}) {study.modality}")
        if self.study is not None and case is not None:
            current = next((i for i in indices if case.studies[i] is self.study), None)
            if current is not None:
                self.chooser.setCurrentIndex(indices.index(current))
        self.chooser.blockSignals(False)

    def _chosen(self, row: int) -> None:
        if 0 <= row < len(self._indices):
            self.study_chosen.emit(self._indices[row])

    def select(self, index: int) -> None:
        """Show `index` as chosen in the chooser (no signal)."""
        if index in self._indices:
            self.chooser.blockSignals(True)
            self.chooser.setCurrentIndex(self._indices.index(index))
            self.chooser.blockSignals(False)

    def corner_text(self) -> str:
        if self.study is None:
            return ""
        week = "   " + tr("Week {n}").format(n=self.week) if self.week is not None else ""
        day = _day(self.study.date) if self.study.date else tr("no date")
        return f"{day}{week}"

    def set_loading(self, text: str) -> None:
        """Say what is loading ("" when nothing): the view is empty meanwhile."""
        self.loading = bool(text)
        self.loading_label.setText(text)
        self.loading_label.setVisible(bool(text))

    def show_study(self, study: Study | None, week: int | None) -> None:
        """Show a study whose image is loaded (None: empty the view)."""
        self.study, self.week = study, week
        image = study.image if study is not None else None
        volume = image if isinstance(image, Volume) else None
        self._known = []
        self.scene.set_volume(volume)
        if volume is not None and study.labels is not None:  # type: ignore[union-attr]
            self.scene.set_labels(study.labels)  # type: ignore[union-attr]
        self.view.update()

    def clear(self) -> None:
        """Nothing shown, nothing chosen (another case)."""
        self.set_loading("")
        self.show_study(None, None)
        self._indices = []
        self.chooser.clear()

    def show_rulers(self, rulers: list[Ruler]) -> None:
        """Draw these rulers (the study's lesion rulers) on the slices."""
        self._known = list(rulers)
        self.scene.rulers = list(rulers)
        self.scene.measurements_changed.emit()

    def _rulers_changed(self) -> None:
        new = [r for r in self.scene.rulers if not any(r is k for k in self._known)]
        self._known = list(self.scene.rulers)
        for ruler in new:
            self.ruler_drawn.emit(ruler)


class NewLesionDialog(QDialog):
    """Organ, name and whether the lesion is a lymph node."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("New lesion"))
        form = QFormLayout(self)
        self.organ = QLineEdit(tr("liver"), self)  # the target's first word (case data)
        self.organ.setObjectName("lesion_organ")
        self.name = QLineEdit("", self)
        self.name.setObjectName("lesion_name")
        self.name.setPlaceholderText(tr("e.g. tumour 3, hilar"))
        self.node = QCheckBox(tr("Lymph node (measured by its short axis)"), self)
        self.node.setObjectName("lesion_node")
        form.addRow(tr("Organ:"), self.organ)
        form.addRow(tr("Name:"), self.name)
        form.addRow("", self.node)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def target(self) -> str:
        """'organ: name' ('' when the name is empty)."""
        name = self.name.text().strip()
        organ = self.organ.text().strip() or ("lymph node" if self.node.isChecked() else "")
        return f"{organ}: {name}" if name and organ else name


class FollowUpView(QWidget):
    """Two studies side by side, the alignment, the lesion tool and the lesion table."""

    close_requested = Signal()
    measured = Signal()  # a lesion measurement was written into the case

    def __init__(self, session: Session, start_task, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("followup_view")
        self.session = session
        self._start = start_task
        self.offset = np.zeros(3)  # right study's point = left study's point + offset (LPS)
        self._auto = np.zeros(3)  # the offset the last alignment found (Reset goes back)
        self._syncing = False
        self._new_lesions: dict[str, bool] = {}  # target -> node, chosen but not measured
        self._cells: list[tuple[str, str]] = []  # (target, date) per table cell, row-major
        self._generation = -1
        self.left = FollowUpPane("left", self)
        self.right = FollowUpPane("right", self)
        self._build()
        for pane, other, sign in ((self.left, self.right, 1.0), (self.right, self.left, -1.0)):
            pane.study_chosen.connect(lambda index, p=pane: self.show_study(p, index))
            pane.scene.cursor_changed.connect(lambda p=pane, o=other, s=sign: self._follow(p, o, s))
            pane.scene.window_changed.connect(lambda p=pane, o=other: self._share_window(p, o))
            pane.ruler_drawn.connect(lambda ruler, p=pane: self.record_ruler(p, ruler))
            pane.scene.tool_changed.connect(lambda p=pane: self._tool_changed(p))

    # -- construction ----------------------------------------------------------------------
    def _button(self, layout, text: str, slot, name: str, tip: str = "") -> QPushButton:
        """A button (`text` and `tip` in English, marked with N_: shown translated)."""
        button = QPushButton(tr(text), self)
        button.setObjectName(name)
        button.setToolTip(tr(tip))
        button.clicked.connect(lambda _=False: slot())
        layout.addWidget(button)
        return button

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(3)
        tools = QHBoxLayout()
        tools.addWidget(QLabel(tr("Lesion:"), self))
        self.lesion = QComboBox(self)
        self.lesion.setObjectName("followup_lesion")
        self.lesion.setMinimumContentsLength(12)
        self.lesion.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.lesion.activated.connect(self._lesion_chosen)
        tools.addWidget(self.lesion)
        self.ruler_button = self._button(
            tools, N_("Ruler"), self._ruler_toggled, "followup_ruler",
            N_("Draw the lesion's longest diameter (a node: its short axis) on either study"),
        )  # fmt: skip
        self.ruler_button.setCheckable(True)
        self.labels_button = self._button(
            tools, N_("Measure from labels"), self.measure_from_labels, "followup_from_labels",
            N_("Every lesion of every study from its segmentation (ruler and typed values kept)"),
        )  # fmt: skip
        tools.addStretch(1)
        self._button(tools, N_("Close"), self.close_requested.emit, "followup_close",
                     N_("Back to the usual views"))  # fmt: skip
        layout.addLayout(tools)
        align = QHBoxLayout()
        align.setSpacing(2)
        self._button(align, N_("Align by liver"), lambda: self.align("liver"),
                     "followup_align_liver", N_("Match the liver centres of the two studies"))
        self._button(align, N_("Align by body"), lambda: self.align("body"),
                     "followup_align_body", N_("Match the body centres of the two studies"))
        align.addSpacing(6)
        self.nudges: dict[str, QToolButton] = {}
        for text, axis, step, tip in _NUDGES:
            button = QToolButton(self)
            button.setText(text)  # an anatomical letter (R, L, A, P, S, I), as on the views
            button.setObjectName(f"followup_nudge_{text}")
            button.setToolTip(tr(tip))
            button.clicked.connect(lambda _=False, a=axis, s=step: self.nudge(a, s))
            align.addWidget(button)
            self.nudges[text] = button
        self._button(align, N_("Reset"), self.reset_offset, "followup_nudge_reset",
                     N_("Back to the offset of the last alignment"))  # fmt: skip
        align.addStretch(1)
        layout.addLayout(align)
        split = QSplitter(Qt.Orientation.Vertical, self)
        views = QWidget(split)
        row = QHBoxLayout(views)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(3)
        row.addWidget(self.left)
        row.addWidget(self.right)
        split.addWidget(views)
        self.table = QTableWidget(0, 0, split)
        self.table.setObjectName("followup_table")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.table.setMinimumHeight(80)
        self.table.cellDoubleClicked.connect(self.go_to_cell)
        split.addWidget(self.table)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        split.setSizes([600, 160])
        layout.addWidget(split, stretch=1)
        bottom = QHBoxLayout()
        self.status = QLabel("", self)
        self.status.setObjectName("followup_status")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bottom.addWidget(self.status, stretch=1)
        self.offset_label = QLabel(offset_text(self.offset), self)
        self.offset_label.setObjectName("followup_offset")
        self.offset_label.setToolTip(tr("Where the right study's point is from the left's (LPS)"))
        bottom.addWidget(self.offset_label)
        layout.addLayout(bottom)

    # -- the case ------------------------------------------------------------------------------
    @property
    def case(self) -> Case | None:
        return self.session.case

    def studies(self) -> list[int]:
        """Indices of the case's 3D studies, oldest first."""
        case = self.case
        if case is None:
            return []
        indices = [i for i, s in enumerate(case.studies) if is_3d(s)]
        return sorted(indices, key=lambda i: (case.studies[i].date or "9999", i))

    def baseline(self) -> str:
        indices = self.studies()
        return self.case.studies[indices[0]].date if indices else ""  # type: ignore[union-attr]

    def clear(self) -> None:
        """Forget everything shown: another case (none of its images may stay)."""
        self._generation = self.session.generation
        self.left.clear()
        self.right.clear()
        self.offset, self._auto = np.zeros(3), np.zeros(3)
        self._new_lesions = {}
        self.offset_label.setText(offset_text(self.offset))
        self.ruler_button.setChecked(False)
        self._ruler_toggled()
        self.status.setText("")
        self.refresh()

    def open(self) -> bool:
        """Show the case's baseline left and its latest study right (unless chosen
        already for this case). False when it has fewer than two 3D studies."""
        indices = self.studies()
        if len(indices) < 2 or self.case is None:
            return False
        if self._generation != self.session.generation:
            self.clear()
        self.refresh_choices()
        if self.left.study is None and not self.left.loading:
            self.show_study(self.left, indices[0])
        if self.right.study is None and not self.right.loading:
            self.show_study(self.right, indices[-1])
        self.refresh()
        return True

    def refresh_choices(self) -> None:
        """The choosers list the case's studies (after a study was added or removed)."""
        indices, baseline = self.studies(), self.baseline()
        for pane in (self.left, self.right):
            pane.set_choices(self.case, indices, baseline)

    def case_changed(self, what: str) -> None:
        """The open case changed (`SessionBridge.changed`)."""
        if self._generation != self.session.generation:
            return
        if what == "studies":
            studies = self.case.studies if self.case is not None else []
            for pane in (self.left, self.right):  # a removed study leaves the screen
                if pane.study is not None and not any(s is pane.study for s in studies):
                    pane.clear()
            self.refresh_choices()
            self.refresh()
        elif what in ("measurements", "image_measurements"):
            self.refresh()
        elif what == "labels":  # the active study's labels edited or replaced
            for pane in (self.left, self.right):
                study = pane.study
                if study is not None and pane.scene.volume is not None:
                    labels = study.labels
                    if labels is not None and pane.scene.labels is not labels:
                        pane.scene.set_labels(labels)

    # -- studies -----------------------------------------------------------------------------
    def show_study(self, pane: FollowUpPane, index: int) -> None:
        """Show the case's study `index` on one side, loading its image in the background."""
        case = self.case
        if case is None or not 0 <= index < len(case.studies):
            return
        study = case.studies[index]
        pane.select(index)
        week = week_of(study.date, self.baseline())
        if isinstance(study.image, Volume):
            pane.set_loading("")
            self._shown(pane, study, week)
            return
        pane.show_study(None, None)  # never the previous study under this one's name
        pane.study = study
        when = _day(study.date) if study.date else tr("unknown date")
        pane.set_loading(tr("Loading the study of {date}…").format(date=when))
        from meditwin_desktop.core.case_images import load_study_image

        generation = self.session.generation

        def done(_) -> None:
            if self.session.generation == generation and pane.study is study:
                pane.set_loading("")
                self._shown(pane, study, week)

        def failed(error) -> None:
            if self.session.generation == generation and pane.study is study:
                pane.set_loading(tr("The study of {date} could not be loaded: {error}").format(
                    date=when, error=error))  # fmt: skip

        self._start(
            tr("Loading a study to compare"),
            lambda *, progress, cancelled: load_study_image(
                case, study, progress=progress, cancelled=cancelled
            ),
            on_done=done,
            on_failed=failed,
            quiet=True,  # the side says it; a dialog could outlive a switch of case
        )

    def _shown(self, pane: FollowUpPane, study: Study, week: int | None) -> None:
        other = self.right if pane is self.left else self.left
        self._syncing = True  # a new volume's own cursor and window must not move the other
        try:
            pane.show_study(study, week)
        finally:
            self._syncing = False
        self._show_rulers(pane)
        if other.scene.volume is not None:
            self._syncing = True
            try:
                pane.scene.set_window(*other.scene.window)
            finally:
                self._syncing = False
            self._follow(other, pane, 1.0 if other is self.left else -1.0)
            self.align("liver", quiet=True)
        self.refresh()

    def loaded(self) -> bool:
        """Whether both sides show their image."""
        return self.left.scene.volume is not None and self.right.scene.volume is not None

    # -- position -------------------------------------------------------------------------------
    def _follow(self, source: FollowUpPane, target: FollowUpPane, sign: float) -> None:
        """Move `target` to the anatomical point `source` shows (through the offset)."""
        if self._syncing or source.scene.volume is None or target.scene.volume is None:
            return
        self._syncing = True
        try:
            target.scene.set_cursor(source.scene.cursor + sign * self.offset)
        finally:
            self._syncing = False

    def _share_window(self, source: FollowUpPane, target: FollowUpPane) -> None:
        if self._syncing or source.scene.volume is None:
            return
        self._syncing = True
        try:
            target.scene.set_window(*source.scene.window)
        finally:
            self._syncing = False

    def set_offset(self, offset: np.ndarray) -> None:
        """Use this offset (LPS mm): the right side moves to the left side's point."""
        self.offset = np.asarray(offset, float).copy()
        self.offset_label.setText(offset_text(self.offset))
        self._follow(self.left, self.right, 1.0)

    def nudge(self, axis: int, step_mm: float) -> None:
        """Move the right study's point by `step_mm` along an LPS axis."""
        offset = self.offset.copy()
        offset[axis] += step_mm
        self.set_offset(offset)

    def reset_offset(self) -> None:
        """Back to the offset the last alignment found (zero before any)."""
        self.set_offset(self._auto)

    def align(self, label: str, quiet: bool = False) -> None:
        """Match the centres of `label` ('liver' or 'body') of the two studies (in the
        background); the offset then holds the difference."""
        left, right = self.left.study, self.right.study
        if not self.loaded() or left is None or right is None:
            if not quiet:
                self.status.setText(tr("Both studies must be shown before aligning them."))
            return
        generation = self.session.generation

        def done(result) -> None:
            if self.session.generation != generation or not (
                self.left.study is left and self.right.study is right
            ):
                return
            offset, matched = result
            self._auto = np.asarray(offset, float)
            self.set_offset(self._auto)
            self.status.setText(tr("Aligned by {matched}: {offset}.").format(
                matched=tr(matched), offset=offset_text(self.offset)))  # fmt: skip

        def failed(error) -> None:
            if self.session.generation == generation:
                failure = _NOT_ALIGNED.get(label, N_("Could not align by the {label} centre: "
                                                     "{error}"))  # fmt: skip
                self.status.setText(tr(failure).format(label=label, error=error))

        aligning = _ALIGNING.get(label, N_("Aligning by the {label} centre"))
        self._start(tr(aligning).format(label=label),
                    lambda *, progress, cancelled: centroid_alignment(left, right, label=label),
                    on_done=done, on_failed=failed, quiet=True)  # fmt: skip

    # -- lesions -----------------------------------------------------------------------------------
    def lesions(self) -> dict[str, bool]:
        """The case's lesion targets (and the new ones chosen), each with whether it is a
        lymph node (measured by its short axis)."""
        found: dict[str, bool] = {}
        for m in self.case.measurements if self.case is not None else []:
            if m.name in (LONGEST, SHORT_AXIS) and m.target:
                found[m.target] = is_node(m.target)  # a node by its name, not by a column
        for target, node in self._new_lesions.items():
            found.setdefault(target, node)
        return dict(sorted(found.items()))

    def current_lesion(self) -> str | None:
        text = self.lesion.currentText()
        return text if text and text != tr(NEW_LESION) else None

    def choose_lesion(self, target: str) -> None:
        """Choose a lesion for the ruler."""
        index = self.lesion.findText(target)
        if index >= 0:
            self.lesion.setCurrentIndex(index)

    def add_lesion(self, target: str, node: bool = False) -> None:
        """A new lesion ('organ: name'), chosen for the ruler."""
        target = target.strip()
        if not target:
            return
        if target not in self.lesions():
            self._new_lesions[target] = node or is_node(target)
        self.refresh()
        self.choose_lesion(target)
        if self.lesions()[target]:
            text = tr("{lesion}: draw its short axis with the Ruler on either study.")
        else:
            text = tr("{lesion}: draw its longest diameter with the Ruler on either study.")
        self.status.setText(text.format(lesion=target))

    def _lesion_chosen(self, row: int) -> None:
        if self.lesion.itemText(row) != tr(NEW_LESION):
            return
        dialog = NewLesionDialog(self)
        dialog.setObjectName("new_lesion_dialog")
        generation = self.session.generation

        def accepted() -> None:
            if self.session.generation == generation:
                self.add_lesion(dialog.target(), dialog.node.isChecked())

        dialog.accepted.connect(accepted)
        dialog.rejected.connect(lambda: self.lesion.setCurrentIndex(0))
        dialog.open()

    def _ruler_toggled(self) -> None:
        tool = "ruler" if self.ruler_button.isChecked() else "navigate"
        for pane in (self.left, self.right):
            pane.scene.set_tool(tool)

    def _tool_changed(self, pane: FollowUpPane) -> None:
        """Esc on a view (back to the crosshair) ends the ruler on both sides."""
        ruler = pane.scene.tool == "ruler"
        if self.ruler_button.isChecked() != ruler:
            self.ruler_button.setChecked(ruler)
            self._ruler_toggled()

    def record_ruler(self, pane: FollowUpPane, ruler: Ruler) -> Measurement | None:
        """A ruler drawn on a side becomes the chosen lesion's measurement on that study
        (replacing the lesion's earlier value on that study)."""
        case, study, target = self.case, pane.study, self.current_lesion()
        if case is None or study is None or target is None:
            self.status.setText(tr("Choose a lesion first: the ruler is not recorded."))
            self._show_rulers(pane)
            return None
        if not study.date:
            self.status.setText(tr("This study has no date: a diameter needs its study's "
                                   "date. The ruler is not recorded."))  # fmt: skip
            self._show_rulers(pane)
            return None
        if ruler.length_mm < MIN_RULER_MM:
            self.status.setText(tr("A ruler under {length} mm is taken for a slip of the "
                                   "mouse: not recorded.").format(
                length=_general(MIN_RULER_MM)))  # fmt: skip
            self._show_rulers(pane)
            return None
        node = self.lesions().get(target, False)
        name = SHORT_AXIS if node else LONGEST
        value = round(ruler.length_mm, 1)
        old = [m for m in case.measurements if m.name == name and m.target == target
               and same_day(m.date, study.date)]  # fmt: skip
        typed = [m for m in old if not _is_label_value(m) and not m.source.startswith("ruler")]
        if typed and not self._confirm_replace(typed[0], value):
            self.status.setText(tr("{lesion}, {date}: kept {value} {unit} ({source}).").format(
                lesion=target, date=_day(study.date), value=_general(typed[0].value),
                unit=typed[0].unit, source=typed[0].source or tr("typed")))  # fmt: skip
            self._show_rulers(pane)
            return None
        for m in old:
            case.measurements.remove(m)
        record = Measurement(name, value, "mm", study.date, target, f"ruler on study {study.date}")
        case.measurements.append(record)
        volume = pane.scene.volume
        k = round(float(volume.lps_to_index(ruler.start)[2])) + 1 if volume is not None else 0
        case.image_measurements[:] = [
            x for x in case.image_measurements
            if not (x.kind == "ruler" and x.study == study.id and x.name == target)
        ]  # fmt: skip
        case.image_measurements.append(
            ruler_measurement(target, study.id, "axial", k, ruler.start, ruler.end, now())
        )
        self._new_lesions.pop(target, None)
        self.session.touch("image_measurements")
        self.session.touch("measurements")
        what = tr("short axis") if node else tr("longest diameter")
        text = tr("{lesion}, {date}: {what} {value} mm").format(
            lesion=target, date=_day(study.date), what=what, value=number(value, 1))
        if old:
            text += " " + tr("(replaces {value} mm, {source})").format(
                value=number(old[0].value, 1), source=old[0].source or tr("typed"))
        self.status.setText(text + ".")
        self._show_rulers(pane)
        self.refresh()
        self.measured.emit()
        return record

    def _confirm_replace(self, old: Measurement, value: float) -> bool:
        """Ask before a ruler replaces a typed or imported value (nothing is lost unasked)."""
        answer = QMessageBox.question(
            self, tr("Replace a measurement?"),
            tr("{lesion} on {date} has {value} {unit} ({source}). Replace it with the ruler's "
               "{ruler} mm?").format(lesion=old.target, date=_day(old.date[:10]),
                                     value=_general(old.value), unit=old.unit,
                                     source=old.source or tr("typed"), ruler=number(value, 1)),
        )  # fmt: skip
        return answer == QMessageBox.StandardButton.Yes

    def _show_rulers(self, pane: FollowUpPane) -> None:
        case, study = self.case, pane.study
        if case is None or study is None:
            pane.show_rulers([])
            return
        lesions = self.lesions()
        pane.show_rulers([
            Ruler(*m.ends) for m in case.image_measurements
            if m.kind == "ruler" and m.study == study.id and m.name in lesions
        ])  # fmt: skip

    # -- measuring from the labels ----------------------------------------------------------
    def measure_from_labels(self) -> None:
        """Every lesion of every study from its labels, in the background; label-derived
        values are replaced, ruler and typed values kept."""
        case = self.case
        if case is None:
            return
        snapshot, generation = self.session.snapshot(), self.session.generation
        self.status.setText(tr("Measuring the lesions from the labels…"))
        self.labels_button.setEnabled(False)

        def done(found) -> None:
            self.labels_button.setEnabled(True)
            if self.session.generation == generation and self.case is case:
                self._from_labels(list(found))

        def failed(error) -> None:
            self.labels_button.setEnabled(True)
            if self.session.generation == generation:
                self.status.setText(
                    tr("Measuring from the labels failed: {error}").format(error=error)
                )

        self._start(tr("Measuring lesions from labels"),
                    lambda *, progress, cancelled: measure_labels(snapshot),
                    on_done=done, on_failed=failed)  # fmt: skip

    def _from_labels(self, found: list[Measurement]) -> None:
        case = self.case
        added, changed, kept, same_value = 0, [], 0, 0
        given = {(m.name, m.target, m.date) for m in found}
        gone = [m for m in case.measurements if _is_label_value(m)
                and (m.name, m.target, m.date) not in given]  # fmt: skip
        for m in gone:  # a label renamed or deleted since: its old values would count twice
            case.measurements.remove(m)
        for new in found:
            same = [m for m in case.measurements
                    if (m.name, m.target, m.date) == (new.name, new.target, new.date)]  # fmt: skip
            if any(not _is_label_value(m) for m in same):
                kept += 1  # a ruler or typed value wins
                continue
            if not same:
                added += 1
            elif abs(same[0].value - new.value) > 1e-9:
                changed.append(f"{new.target} {_day(new.date)} "
                               f"{number(same[0].value, 1)} → {number(new.value, 1)}")  # fmt: skip
            else:
                same_value += 1
            for m in same:
                case.measurements.remove(m)
            case.measurements.append(new)
        if added or changed or gone:
            self.session.touch("measurements")
        text = tr("From the labels: {added} added, {changed} changed, {same} unchanged").format(
            added=added, changed=len(changed), same=same_value)
        if gone:
            text += tr(", {n} removed (no such label any more)").format(n=len(gone))
        if changed:
            text += " (" + "; ".join(changed[:4]) + ("; …" if len(changed) > 4 else "") + ")"
        text += tr(", {n} kept (measured by ruler or typed).").format(n=kept) if kept else "."
        self.status.setText(text if found else tr("No lesion found in the studies' labels."))
        for pane in (self.left, self.right):
            self._show_rulers(pane)
        self.refresh()

    # -- the table ------------------------------------------------------------------------------
    def dates(self) -> list[str]:
        """The table's columns: the studies' dates and any other lesion measurement date."""
        case = self.case
        if case is None:
            return []
        dates = {case.studies[i].date for i in self.studies() if case.studies[i].date}
        lesions = self.lesions()
        kinds = (LONGEST, SHORT_AXIS)
        dates |= {m.date[:10] for m in case.measurements
                  if m.target in lesions and m.name in kinds and m.date}  # fmt: skip
        return sorted(dates)

    def value(self, target: str, date: str, node: bool) -> Measurement | None:
        """The lesion's diameter (short axis for a node) on a date, if measured."""
        name = SHORT_AXIS if node else LONGEST
        found = [m for m in self.case.measurements if m.name == name and m.target == target
                 and same_day(m.date, date)] if self.case else []  # fmt: skip
        if not found:
            return None
        m = found[-1]
        try:
            return replace(m, value=convert(m.value, m.unit, "mm", m.name), unit="mm")
        except UnitError:
            return None  # not a length: the twin says so

    def refresh(self) -> None:
        """Redraw the lesion chooser and the table (lesions x dates, and the sum)."""
        lesions = self.lesions()
        chosen = self.current_lesion()
        self.lesion.blockSignals(True)
        self.lesion.clear()
        self.lesion.addItems(list(lesions))
        self.lesion.addItem(tr(NEW_LESION))
        if chosen in lesions:
            self.lesion.setCurrentIndex(list(lesions).index(chosen))
        self.lesion.blockSignals(False)
        dates, baseline = self.dates(), self.baseline()
        self.table.clear()
        self.table.setColumnCount(len(dates))
        self.table.setRowCount(len(lesions) + (1 if lesions else 0))
        headers = []
        for date in dates:
            week = week_of(date, baseline)
            shown = _day(date)
            headers.append(shown + "\n" + tr("week {n}").format(n=week) if week is not None
                           else shown)  # fmt: skip
        self.table.setHorizontalHeaderLabels(headers)
        rows = [tr("{lesion} (short axis)").format(lesion=t) if node else t
                for t, node in lesions.items()]  # fmt: skip
        self.table.setVerticalHeaderLabels([*rows, tr(SUM_ROW)] if lesions else [])
        first = dates[0] if dates else ""
        at_baseline = {t for t, node in lesions.items() if self.value(t, first, node)}
        self._cells = []
        for column, date in enumerate(dates):
            total, missing = 0.0, []
            for row, (target, node) in enumerate(lesions.items()):
                m = self.value(target, date, node)
                item = QTableWidgetItem(number(m.value, 1) if m else NOT_EVALUABLE)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setToolTip(self._tip(m, target, date))
                self.table.setItem(row, column, item)
                if target not in at_baseline:
                    continue  # a new lesion: not in the sum (RECIST: it is progression)
                if m:
                    total += m.value
                else:
                    missing.append(target)
            if lesions:
                text = NOT_EVALUABLE if missing else number(total, 1)
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                item.setToolTip(
                    tr("not evaluable: {lesions} not measured").format(lesions=", ".join(missing))
                    if missing
                    else tr("sum of the diameters of the lesions measured on the first date, mm "
                            "(all of them: the twin's RECIST table picks the targets)")
                )  # fmt: skip
                self.table.setItem(len(lesions), column, item)
        self.table.resizeRowsToContents()

    def _tip(self, m: Measurement | None, target: str, date: str) -> str:
        if m is None:
            return tr("not measured: not evaluable")
        volume = [v for v in self.case.measurements if v.name == VOLUME and v.target == target
                  and v.date[:10] == date]  # fmt: skip
        extra = ""
        if volume:
            extra = "; " + tr("volume {value} {unit}").format(
                value=number(volume[-1].value, 1), unit=volume[-1].unit)  # fmt: skip
        source = m.source or tr("typed")
        return f"{number(m.value, 1)} mm, {source}{extra}"

    def cell(self, target: str, date: str) -> str:
        """The text of a table cell ('' when there is none)."""
        lesions = list(self.lesions())
        rows = [*lesions, SUM_ROW]
        dates = self.dates()
        if target not in rows or date not in dates:
            return ""
        item = self.table.item(rows.index(target), dates.index(date))
        return item.text() if item is not None else ""

    def go_to_cell(self, row: int, column: int) -> None:
        """Show that lesion on that study: its ruler's middle, else its label's centre."""
        lesions, dates, case = list(self.lesions()), self.dates(), self.case
        if case is None or not (0 <= row < len(lesions) and 0 <= column < len(dates)):
            return
        target, date = lesions[row], dates[column]
        index = next((i for i in self.studies() if same_day(case.studies[i].date, date)), None)
        if index is None:
            self.status.setText(tr("No study of {date} in this case.").format(date=_day(date)))
            return
        study = case.studies[index]
        pane = next((p for p in (self.left, self.right) if p.study is study), None)
        if pane is None:
            pane = self.right if self.left.study is not None else self.left
            self.show_study(pane, index)
        ruler = next((m for m in case.image_measurements if m.kind == "ruler"
                      and m.study == study.id and m.name == target), None)  # fmt: skip
        if ruler is not None:
            a, b = ruler.ends
            self._go(pane, study, (a + b) / 2)
            return
        labels = study.labels
        name = target.split(":", 1)[-1].strip()
        if labels is None or not any(lb.name == name for lb in labels.labels.values()):
            self.status.setText(tr("{lesion} has no ruler or label on {date} to go to.").format(
                lesion=target, date=_day(date)))  # fmt: skip
            return
        generation = self.session.generation

        def failed(error) -> None:
            if self.session.generation == generation:
                self.status.setText(tr("{lesion} on {date}: {error}").format(
                    lesion=target, date=_day(date), error=error))  # fmt: skip

        self._start(tr("Finding {lesion}").format(lesion=target),
                    lambda *, progress, cancelled: _label_centre(labels, name),
                    on_done=lambda point: self.session.generation == generation
                    and self._go(pane, study, point), on_failed=failed, quiet=True)  # fmt: skip

    def _go(self, pane: FollowUpPane, study: Study, point: np.ndarray) -> None:
        """Put the cursor on `point` of `study` once the side shows it."""
        point = np.asarray(point, float)
        if pane.study is not study or point.shape != (3,) or not np.isfinite(point).all():
            return
        if pane.scene.volume is None:  # still loading: go there once it is shown
            pane.scene.volume_changed.connect(
                lambda: pane.study is study and pane.scene.set_cursor(point),
                Qt.ConnectionType.SingleShotConnection,
            )
            return
        pane.scene.set_cursor(np.asarray(point, float))


def _label_centre(labels, name: str) -> np.ndarray:
    """LPS centre (mm) of a label's voxels; InputError when it has none (a lesion gone)."""
    mask = labels.mask(name)
    if not mask.any():
        raise InputError(
            tr("'{name}' has no voxels on this study (0 mm: nothing to show).").format(name=name)
        )
    k, j, i = (float(v.mean()) for v in np.nonzero(mask))
    return labels.volume.index_to_lps(np.array([i, j, k]))


def _general(value: float) -> str:
    """A number as `:g` writes it, with the decimal separator of the language in use."""
    return f"{value:g}".replace(".", decimal_separator())


def _day(text: str) -> str:
    """A stored date as the language writes it (07/12/2026 in French); in English, as
    stored (with its time of day, if any)."""
    shown = date_text(text)
    return text if shown == text[:10] else shown


def same_day(a: str, b: str) -> bool:
    """Whether two ISO dates (or date-times) are the same day (and neither is empty)."""
    return bool(a) and bool(b) and a[:10] == b[:10]


__all__ = ["FollowUpPane", "FollowUpView", "NewLesionDialog", "offset_text", "week_of"]
