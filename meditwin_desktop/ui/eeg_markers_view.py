"""EEG markers of a recording (`core.eeg_markers`), opened from the EEG viewer's "Markers…".

The markers are computed in the background (the whole recording is read, filtered, cut in
epochs and checked for artefacts), with a busy sign; closing the window cancels the work. It
shows the occipital spectrum (log power, alpha band shaded, the peak marked), a table of
each marker beside the published values for healthy older adults and Alzheimer's disease,
the warnings, and "Save as measurements of <date>", which hands the markers to the case
through `save` (the Case data panel's measurements path).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

from matplotlib.figure import Figure
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core import eeg_markers, signals
from meditwin_desktop.core.case import Measurement
from meditwin_desktop.core.errors import Cancelled, InputError
from meditwin_desktop.core.i18n import N_, date_text, decimal_separator, language, number, tr, tr_n
from meditwin_desktop.ui.measurements_view import dark_axes
from meditwin_desktop.ui.plot_canvas import PlotCanvas

ADULT_AGE_Y = 18.0
ADULTS_ONLY = N_("adults only")
HEADERS = (
    N_("Marker"),
    N_("Value"),
    N_("Healthy older adults"),
    N_("Alzheimer's disease"),
    N_("Source"),
)
LINE_FREQS = (50.0, 60.0)
_STARTING = object()


def compute_file_markers(
    path: str, line_freq: float, *, progress=None, cancelled=None
) -> eeg_markers.EegMarkers:
    """Read a recording and compute its markers (runs in the background)."""
    if progress is not None:
        progress(0.0, tr("Reading the recording"))
    signal = signals.read_recording(path)
    if cancelled is not None and cancelled():
        raise Cancelled()
    return eeg_markers.compute_markers(
        signal, line_freq=line_freq, progress=progress, cancelled=cancelled
    )


def ask_date(parent: QWidget, file_name: str, dated: str = "") -> str | None:
    """The visit a recording's markers belong to, asked of the user (None: cancelled):
    a recording without a date, or dated `dated`, a day that is no visit of the case (a
    de-identified file may carry a made-up date)."""
    dialog = QDialog(parent)
    dialog.setObjectName("eeg_markers_date")
    dialog.setWindowTitle(tr("Date of the recording"))
    layout = QVBoxLayout(dialog)
    if dated:
        question = tr(
            "{file} is dated {date}, which is no visit of this case (a de-identified file "
            "may carry a made-up date). Which visit are these markers of?"
        ).format(file=file_name, date=date_text(dated))
    else:
        question = tr("{file} has no recording date. On which day was it made?").format(
            file=file_name
        )
    label = QLabel(question)
    label.setWordWrap(True)
    layout.addWidget(label)
    default = QDate.fromString(dated, "yyyy-MM-dd") if dated else QDate.currentDate()
    edit = QDateEdit(default if default.isValid() else QDate.currentDate(), dialog)
    edit.setCalendarPopup(True)
    shown = "dd/MM/yyyy" if language() == "fr" else "yyyy-MM-dd"  # as date_text writes it
    edit.setDisplayFormat(shown)
    layout.addWidget(edit)
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return edit.date().toString("yyyy-MM-dd")


def _value_text(name: str, value: float) -> str:
    if name == eeg_markers.PEAK_ALPHA:
        return f"{number(value, 2)} Hz"
    if name == eeg_markers.THETA_ALPHA:
        return number(value, 2)
    return f"{number(100 * value, 1)} %"


def _g(value: float) -> str:
    """`value` as `:g` writes it, with the decimal separator of the language."""
    return f"{value:g}".replace(".", decimal_separator())


class EegMarkersView(QWidget):
    """A window with the markers of one recording; `start_task` is `MainWindow._start`;
    `save(measurements) -> message` adds them to the case (None: no case to save into)."""

    def __init__(
        self,
        path: str,
        start_task,
        recorded: datetime | None = None,
        save: Callable[[list[Measurement]], str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("eeg_markers_view")
        self.path, self._start, self._save = path, start_task, save
        self.file_name = os.path.basename(path)
        self.date = recorded.date().isoformat() if recorded else ""
        # the case's visit days (studies, measurements): a recording dated otherwise asks
        self.visit_dates: set[str] = set()
        self.markers: eeg_markers.EegMarkers | None = None
        self.age_y: float | None = None  # the patient's age at the recording, when known
        self._task = None
        self._closed = False
        self.setWindowTitle(tr("EEG markers · {file}").format(file=self.file_name))
        self._build()
        self.resize(1100, 720)
        self.compute()

    # -- construction ------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        if self.date:
            heading = tr("{file} · recorded {date}").format(
                file=self.file_name, date=date_text(self.date)
            )
        else:
            heading = tr("{file} · recorded on an unknown date").format(file=self.file_name)
        self.heading = QLabel(heading)
        self.heading.setObjectName("eeg_markers_heading")
        top.addWidget(self.heading, stretch=1)
        top.addWidget(QLabel(tr("Mains")))
        self.line = QComboBox(self)
        self.line.setObjectName("eeg_markers_mains")
        self.line.addItems([f"{_g(f)} Hz" for f in LINE_FREQS])
        self.line.setToolTip(tr("Mains frequency removed by a notch (50 Hz Europe, 60 Hz America)"))
        self.line.currentIndexChanged.connect(lambda _: self.compute())
        top.addWidget(self.line)
        layout.addLayout(top)
        self.busy = QProgressBar(self)
        self.busy.setObjectName("eeg_markers_busy")
        self.busy.setRange(0, 0)  # a busy sign: moving, no percentage
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        layout.addWidget(self.busy)
        split = QSplitter(Qt.Orientation.Vertical, self)
        self.figure = Figure(figsize=(8, 3.2), layout="constrained")
        self.canvas = PlotCanvas(self.figure)
        self.canvas.setMinimumHeight(220)
        split.addWidget(self.canvas)
        self.table = QTableWidget(0, len(HEADERS), split)
        self.table.setObjectName("eeg_markers_table")
        self.table.setHorizontalHeaderLabels([tr(h) for h in HEADERS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        split.addWidget(self.table)
        split.setSizes([330, 300])
        layout.addWidget(split, stretch=1)
        self.status = QLabel("", self)
        self.status.setObjectName("eeg_markers_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.warnings = QLabel("", self)
        self.warnings.setObjectName("eeg_markers_warnings")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #f0ad4e;")
        layout.addWidget(self.warnings)
        row = QHBoxLayout()
        self.save_button = QPushButton(tr("Save as measurements"), self)
        self.save_button.setObjectName("eeg_markers_save")
        self.save_button.clicked.connect(lambda _=False: self.save())
        self.save_button.setEnabled(False)
        row.addWidget(self.save_button)
        row.addStretch(1)
        close = QPushButton(tr("Close"), self)
        close.clicked.connect(self.close)
        row.addWidget(close)
        layout.addLayout(row)
        self._label_save()

    def _label_save(self) -> None:
        self.save_button.setText(
            tr("Save as measurements of {date}").format(date=date_text(self.date))
            if self.date
            else tr("Save as measurements…")
        )
        if self._save is None:
            self.save_button.setToolTip(tr("Open the recording from a case to save its markers."))

    # -- computing ----------------------------------------------------------------------------
    def compute(self) -> None:
        """(Re)compute the markers in the background; one job at a time."""
        if self._task not in (None, _STARTING):
            self._task.detach()  # its result is dropped (cancelled at its next step)
        self.markers = None
        self.save_button.setEnabled(False)
        self.busy.show()
        self.status.setText(tr("Computing the EEG markers of the whole recording…"))
        self.warnings.setText("")
        line = LINE_FREQS[self.line.currentIndex()]
        self._task = _STARTING
        task = self._start(
            N_("Computing EEG markers"),
            compute_file_markers,
            self.path,
            line,
            on_done=self._done,
            on_failed=self._failed,
            quiet=True,
        )
        if self._task is _STARTING:
            self._task = task

    def _done(self, markers: eeg_markers.EegMarkers) -> None:
        self._task = None
        if self._closed:
            return
        self.markers = markers
        self.busy.hide()
        self._fill_table(markers)
        self._plot(markers)
        peak_names = ", ".join(signals.standard_name(c) for c in markers.peak_channels)
        summary = tr(
            "{channels} EEG channels, average reference; {epochs} epochs of {epoch} s (50 % "
            "overlap), {rejected} rejected; {used} of {duration} s used. Peak alpha from "
            "{names}; alpha centre of gravity {cog} Hz. Published values (hover for what was "
            "read in each source) describe resting recordings."
        )
        self.status.setText(
            summary.format(
                channels=len(markers.channels),
                epochs=markers.n_epochs,
                epoch=_g(markers.epoch_s),
                rejected=markers.n_rejected,
                used=_g(markers.duration_used_s),
                duration=_g(markers.duration_s),
                names=peak_names,
                cog=number(markers.alpha_cog_hz, 2),
            )
        )
        notes = list(markers.warnings)
        if self.children_only:
            child = tr("The patient was {age} at this recording: the published values are "
                       "adults' (older adults, Alzheimer's disease) and are not shown; a child's "
                       "alpha rhythm is slower and rises with age.")  # fmt: skip
            notes.insert(0, child.format(age=number(self.age_y)))
        self.warnings.setText("\n".join(notes))
        self.save_button.setEnabled(self._save is not None)

    @property
    def children_only(self) -> bool:
        """Whether the patient was a child at the recording (the references are adults')."""
        return self.age_y is not None and self.age_y < ADULT_AGE_Y

    def _failed(self, error: BaseException) -> None:
        self._task = None
        if self._closed:
            return
        self.busy.hide()
        self.table.setRowCount(0)
        dark_axes(self.figure)
        self.canvas.draw_idle()
        self.status.setText(tr("The EEG markers cannot be computed: {error}").format(error=error))

    # -- showing ------------------------------------------------------------------------------
    def _fill_table(self, markers: eeg_markers.EegMarkers) -> None:
        values = eeg_markers.marker_values(markers)
        self.table.setRowCount(len(values))
        for row, (name, value, _, target) in enumerate(values):
            ref = eeg_markers.reference(name)
            adults = (
                (tr(ADULTS_ONLY), tr(ADULTS_ONLY))
                if self.children_only
                else (tr(ref.healthy), tr(ref.alzheimer))
            )
            # names, targets and the references' texts are declared in English (N_)
            marker = f"{tr(name)} ({tr(target)})"
            cells = (marker, _value_text(name, value), *adults, ref.source)
            note = tr(ref.note)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip("\n".join(t for t in (text, note) if t) if column > 1 else text)
                self.table.setItem(row, column, item)
        self.table.resizeRowsToContents()

    def _plot(self, markers: eeg_markers.EegMarkers) -> None:
        axes = dark_axes(self.figure)
        keep = (markers.freqs >= 0.5) & (markers.freqs <= 40)
        freqs, psd = markers.freqs[keep], markers.occipital_psd[keep] * 1e12  # µV²/Hz
        axes.semilogy(freqs, psd, color="#5aa0e6", linewidth=1.2)
        low, high = eeg_markers.BANDS["alpha"]
        axes.axvspan(
            low,
            high,
            color="#f0ad4e",
            alpha=0.15,
            label=tr("alpha {low}-{high} Hz").format(low=_g(low), high=_g(high)),
        )
        peak = markers.peak_alpha_hz
        height = float(psd[abs(freqs - peak).argmin()])
        axes.axvline(peak, color="#e06c75", linewidth=1, linestyle="--")
        axes.plot(
            [peak],
            [height],
            "o",
            color="#e06c75",
            label=tr("peak {peak} Hz").format(peak=number(peak, 2)),
        )
        axes.set_xlabel(tr("Frequency (Hz)"), color="#dddddd", fontsize=8)
        names = ", ".join(signals.standard_name(c) for c in markers.peak_channels)
        axes.set_ylabel(tr("PSD {names} (µV²/Hz)").format(names=names), color="#dddddd", fontsize=8)
        axes.set_xlim(0.5, 40)
        axes.legend(fontsize=8, facecolor="#2b2d30", labelcolor="#dddddd", edgecolor="#555555")
        self.canvas.draw_idle()

    # -- saving -------------------------------------------------------------------------------
    def save(self) -> list[Measurement]:
        """Add the markers to the case as measurements of the recording's date (asked when the
        recording has none); returns what was handed over."""
        if self.markers is None or self._save is None:
            return []
        if not self.date or (self.visit_dates and self.date not in self.visit_dates):
            date = ask_date(self, self.file_name, self.date)
            if not date:
                return []
            self.date = date
            self._label_save()
        rows = eeg_markers.markers_as_measurements(self.markers, self.date, f"EEG {self.file_name}")
        try:
            message = self._save(rows)
        except InputError as error:  # e.g. another case opened meanwhile: nothing saved
            self.status.setText(tr("Not saved: {error}").format(error=error))
            return []
        saved = tr_n(
            "{count} measurements of {date} saved.",
            "{count} measurements of {date} saved.",
            len(rows),
        )
        self.status.setText(message or saved.format(count=len(rows), date=date_text(self.date)))
        return rows

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._closed = True
        if self._task not in (None, _STARTING):
            self._task.detach()
        self._task = None
        super().closeEvent(event)


__all__ = ["EegMarkersView", "ask_date", "compute_file_markers"]
