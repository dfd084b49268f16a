"""The EEG viewer: 10-second pages of a recording, as a clinical EEG reader shows them.

Montage (as recorded, average reference, longitudinal bipolar "double banana" when the
10-20 electrodes are there), band-pass and notch filters, sensitivity in µV/mm, channel
selection, the file's annotations and the case's events drawn where they fall. Pages
are read, re-referenced and filtered in the background (`core.signals`), two seconds of
margin on each side so the filters settle; the next page is prepared ahead, so paging
forward is immediate. Keys: → / PgDn / space next page, ← / PgUp previous, Home / End,
↑ / ↓ sensitivity. "Markers…" opens the recording's spectral markers (`eeg_markers_view`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter, QPen, QPolygonF, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core import seizure_diary, signals
from meditwin_desktop.core.case import Measurement
from meditwin_desktop.core.csv_import import new_records
from meditwin_desktop.core.errors import Cancelled, InputError
from meditwin_desktop.core.i18n import N_, date_text, decimal_separator, tr, tr_n
from meditwin_desktop.ui.eeg_markers_view import EegMarkersView

PAGE_S = 10.0
_MARGIN_S = 2.0  # read around a page so that the filters settle before it
_POINTS = 2400  # at most this many points per trace (min/max envelope beyond)
MONTAGES = (N_("As recorded"), N_("Average reference"), N_("Bipolar (double banana)"))  # keys
LOW_CUTS = (None, 0.3, 0.5, 1.0, 5.0)
HIGH_CUTS = (None, 15.0, 30.0, 35.0, 70.0)
NOTCHES = (None, 50.0, 60.0)
SENSITIVITIES = (3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 200)  # µV/mm
_TRACE = QColor(215, 220, 226)
_GRID = QColor(70, 74, 80)
_ANNOTATION = QColor(240, 190, 60)
_EVENT = QColor(235, 95, 95)
_LABEL = QColor(190, 194, 200)
_BACKGROUND = QColor(22, 23, 26)
_EDGE = 22  # pixels above and below the traces, for the marks' labels and the time
_STARTING = object()  # a job being started (see EegViewer._run)


@dataclass(frozen=True)
class PageRequest:
    """What to show: a page start, a montage, channels, filters."""

    start_s: float
    montage: str
    channels: tuple[str, ...]  # displayed names (derivations for the bipolar montage)
    low: float | None
    high: float | None
    notch: float | None


@dataclass(frozen=True)
class Page:
    """A page ready to draw: per trace, times (s from the recording start) and volts."""

    request: PageRequest
    times: np.ndarray  # (n_points,)
    data: np.ndarray  # (n_channels, n_points)
    names: tuple[str, ...]
    spread_uv: float  # median over channels of the 5-95 % range, in µV (to fit the gain)


def _envelope(times: np.ndarray, data: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """Min/max per bin so that a trace keeps its peaks with at most `points` points."""
    n = data.shape[1]
    if n <= points:
        return times, data
    size = int(np.ceil(n / (points // 2)))
    bins = n // size
    block = data[:, : bins * size].reshape(data.shape[0], bins, size)
    low, high = block.min(axis=2), block.max(axis=2)
    out = np.empty((data.shape[0], 2 * bins))
    out[:, 0::2], out[:, 1::2] = low, high
    t = times[: bins * size].reshape(bins, size)
    return np.repeat(t.mean(axis=1), 2), out


def prepare_page(edf: signals.EdfFile, request: PageRequest, **_) -> Page:
    """Read, re-reference and filter one page (runs in the background)."""
    margin = _MARGIN_S if (request.low or request.high or request.notch) else 0.0
    start, duration = request.start_s - margin, PAGE_S + 2 * margin
    if request.montage == MONTAGES[2]:
        pairs = [
            p
            for p in signals.double_banana(edf.channels)
            if f"{signals.standard_name(p[0])}-{signals.standard_name(p[1])}" in request.channels
        ]
        needed = list(dict.fromkeys(name for pair in pairs for name in pair))
        signal = signals.bipolar(edf.read(start, duration, needed), pairs)
    elif request.montage == MONTAGES[1]:
        volts = [c for c, u in zip(edf.channels, edf.units, strict=True) if u == "V"]
        signal = signals.average_reference(edf.read(start, duration, volts))
        signal = signal.pick([c for c in request.channels if c in signal.channels])
    else:
        signal = edf.read(start, duration, list(request.channels))
    data = signal.data
    if data.shape[0] and (request.low or request.high):
        data = signals.bandpass(data, signal.sfreq, request.low, request.high)
    if data.shape[0] and request.notch:
        data = signals.notch(data, signal.sfreq, request.notch)
    first = round(margin * signal.sfreq)
    left = edf.n_samples - round(request.start_s * signal.sfreq)  # the page may pass the end
    count = max(min(round(PAGE_S * signal.sfreq), left), 0)
    data = data[:, first : first + count]
    times = signal.times[first : first + count]
    spread = 0.0
    if data.size:
        data = data - np.median(data, axis=1, keepdims=True)  # each trace on its row
        spread = float(np.median(np.percentile(data, 95, axis=1) - np.percentile(data, 5, axis=1)))
    times, data = _envelope(times, data, _POINTS)
    return Page(request, times, data, signal.channels, spread * 1e6)


class TraceCanvas(QWidget):
    """Draws a page: one trace per channel, a grid every second, annotations and events."""

    page_step = Signal(int)  # -1 / +1 from the mouse wheel

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("eeg_canvas")
        self.setMinimumSize(500, 300)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.page: Page | None = None
        self.start_s = 0.0
        self.sensitivity = 7.0  # µV/mm
        self.annotations: tuple[signals.Annotation, ...] = ()
        self.events: list[tuple[float, float, str]] = []  # (onset s, duration s, label)
        self.message = tr("Opening the recording…")
        self.label_width = 84

    def show_page(self, page: Page | None, message: str = "") -> None:
        self.page, self.message = page, message
        self.update()

    def px_per_mm(self) -> float:
        return self.logicalDpiY() / 25.4

    def row_height(self, rows: int) -> float:
        """Pixels between two traces when `rows` are shown."""
        return (self.height() - 2 * _EDGE) / max(rows, 1)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        self.page_step.emit(-1 if event.angleDelta().y() > 0 else 1)

    def _x(self, t: np.ndarray | float) -> np.ndarray | float:
        width = self.width() - self.label_width - 8
        return self.label_width + (np.asarray(t) - self.start_s) / PAGE_S * width

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.fillRect(self.rect(), _BACKGROUND)
        top, bottom = _EDGE, self.height() - _EDGE
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        painter.setFont(font)
        page = self.page
        names = page.names if page is not None else ()
        widest = max((painter.fontMetrics().horizontalAdvance(n) for n in names), default=60)
        self.label_width = min(widest + 14, 180)
        self._shades(painter, top, bottom)
        self._grid(painter, top, bottom)
        if page is not None and page.data.shape[0]:
            self._traces(painter, page, top, bottom)
        elif self.message or page is not None:
            painter.setPen(_TRACE)
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                self.message or tr("No channel selected."),
            )
        self._marks(painter, top, bottom)
        painter.end()

    def _grid(self, painter: QPainter, top: int, bottom: int) -> None:
        for second in range(int(PAGE_S) + 1):
            x = float(self._x(self.start_s + second))
            painter.setPen(QPen(_GRID, 1))
            painter.drawLine(QPointF(x, top), QPointF(x, bottom))
            if second < PAGE_S:
                painter.setPen(_LABEL)
                painter.drawText(
                    QPointF(x + 3, self.height() - 6), f"{_g(self.start_s + second)} s"
                )

    def _traces(self, painter: QPainter, page: Page, top: int, bottom: int) -> None:
        rows = page.data.shape[0]
        spacing = (bottom - top) / rows
        px_per_volt = self.px_per_mm() / (self.sensitivity * 1e-6)
        xs = self._x(page.times)
        every = int(np.ceil(painter.fontMetrics().height() / spacing))  # labels that fit
        for row in range(0, rows, every):
            centre = top + spacing * (row + 0.5)
            painter.setPen(_LABEL)
            painter.drawText(
                QRectF(2, centre - 9, self.label_width - 8, 18),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                page.names[row],
            )
        painter.save()
        painter.setClipRect(QRectF(self.label_width, top, self.width(), bottom - top))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(_TRACE, 1))
        for row in range(rows):
            centre = top + spacing * (row + 0.5)
            ys = np.clip(centre - page.data[row] * px_per_volt, top - spacing, bottom + spacing)
            painter.drawPolyline(_polygon(xs, ys))
        painter.restore()

    def _visible(self) -> list[tuple[float, float, str, QColor, bool]]:
        """Annotations and events on this page: (onset, duration, text, colour, at top)."""
        end = self.start_s + PAGE_S
        marks = [(a.onset, a.duration, a.text, _ANNOTATION, True) for a in self.annotations]
        marks += [(o, d, text, _EVENT, False) for o, d, text in self.events]
        visible = [m for m in marks if m[0] <= end and m[0] + m[1] >= self.start_s]
        return sorted(visible, key=lambda m: m[0])

    def _shades(self, painter: QPainter, top: int, bottom: int) -> None:
        for onset, duration, _, colour, _ in self._visible():
            if duration <= 0:
                continue
            x0 = float(self._x(max(onset, self.start_s)))
            x1 = float(self._x(min(onset + duration, self.start_s + PAGE_S)))
            shade = QColor(colour)
            shade.setAlpha(22 if colour == _ANNOTATION else 40)
            painter.fillRect(QRectF(x0, top, max(x1 - x0, 1.0), bottom - top), shade)

    def _marks(self, painter: QPainter, top: int, bottom: int) -> None:
        metrics = painter.fontMetrics()
        taken = {True: -1.0, False: -1.0}  # right end of the last label, at top and bottom
        for onset, _, text, colour, at_top in self._visible():
            x = float(self._x(max(onset, self.start_s)))
            if onset >= self.start_s:
                painter.setPen(QPen(colour, 1.5))
                painter.drawLine(QPointF(x, top), QPointF(x, bottom))
            height = metrics.height() + 2  # events: inside the traces, at the bottom
            y = 3 if at_top else bottom - height - 2
            box = QRectF(x + 3, y, metrics.horizontalAdvance(text) + 8, height)
            if box.left() < taken[at_top]:
                continue  # it would cover the previous label (the line shows it)
            taken[at_top] = box.right()
            painter.fillRect(box, _BACKGROUND)
            painter.setPen(colour)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def _polygon(xs: np.ndarray, ys: np.ndarray) -> QPolygonF:
    """A QPolygonF filled from numpy through its buffer (as pyqtgraph does): fast paging."""
    polygon = QPolygonF()
    polygon.resize(len(xs))
    buffer = shiboken6.VoidPtr(polygon.data(), len(xs) * 16, True)
    points = np.frombuffer(buffer, np.float64).reshape(-1, 2)
    points[:, 0], points[:, 1] = xs, ys
    return polygon


def _g(value: float) -> str:
    """`value` as `:g` writes it, with the decimal separator of the language."""
    return f"{value:g}".replace(".", decimal_separator())


def _hz(value: float | None) -> str:
    return tr("off") if value is None else f"{_g(value)} Hz"


def _age_at(clinical, when: datetime | None) -> float | None:
    """The patient's age in years on `when` (the birth date, else the clinical age)."""
    born = str(clinical.get("birth_date") or "")
    try:
        if born and when is not None:
            return (when.date() - date.fromisoformat(born[:10])).days / 365.25
        return float(clinical["age_y"])
    except (KeyError, TypeError, ValueError):
        return None


def event_marks(events, start: datetime | None, duration_s: float, tz: str | None = None) -> list:
    """The case's events within the recording: (onset s, duration s, label). An event's time
    is read as the recording's wall clock; one written with a UTC offset ('Z') is first moved
    to the diary's time zone `tz` when it is known. Events dated by the day alone have no
    place on a recording and are left out."""
    if start is None:
        return []
    try:
        seizure_diary.local_time("2000-01-01T00:00:00Z", tz)
    except InputError:
        tz = None  # an unknown zone: times as written
    marks = []
    for event in events:
        when = seizure_diary.local_time(str(event.time), tz)
        if when is None or not seizure_diary.has_clock(str(event.time)):
            continue
        onset = (when - start.replace(tzinfo=None)) / timedelta(seconds=1)
        if 0 <= onset <= duration_s:
            marks.append(
                (onset, float(event.duration_s or 0.0), tr(event.kind))
            )  # a canonical kind
    return marks


class EegViewer(QWidget):
    """A window showing one recording; `start_task` is `MainWindow._start`."""

    page_shown = Signal(float)  # the start of the page now on screen, in s

    def __init__(
        self,
        path: str,
        start_task,
        events=(),
        title: str = "",
        parent: QWidget | None = None,
        time_zone: str | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("eeg_viewer")
        self.setWindowTitle(title or f"EEG · {path}")
        self.path, self._start, self._events = path, start_task, list(events)
        self._time_zone = time_zone or None  # the diary's, for times written in UTC
        self.edf: signals.EdfFile | None = None
        self._cache: dict[PageRequest, Page] = {}
        self._task = None
        self._running: PageRequest | None = None
        self._wanted: PageRequest | None = None
        self._closed = False
        self._fit_gain = True  # choose the sensitivity from the first page shown
        self.markers_view: EegMarkersView | None = None
        # how markers reach the case: set by the owner; None: the Case data panel it came from
        self.save_measurements: Callable[[list[Measurement]], str] | None = None
        self._build()
        self.resize(1280, 820)
        self._run(
            N_("Opening the recording"),
            self._open,
            path,
            on_done=self._opened,
            on_failed=self._failed,
        )

    def _open(self, path: str, **_) -> signals.EdfFile:
        """Open the file (background); closed again if the window went meanwhile."""
        edf = signals.open_recording(path)
        if self._closed:
            edf.close()
            raise Cancelled()
        return edf

    def _run(self, name: str, fn, *args, on_done, on_failed) -> None:
        """Start the one background job of this window. A job that ends before `_start`
        returns has already called its handler (and maybe started the next job)."""
        self._task = _STARTING
        task = self._start(name, fn, *args, on_done=on_done, on_failed=on_failed, quiet=True)
        if self._task is _STARTING:
            self._task = task

    # -- construction ------------------------------------------------------------------------
    def _combo(self, name: str, items: list[str], tip: str, slot=None) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        combo.addItems(items)
        combo.setToolTip(tip)
        combo.currentIndexChanged.connect(slot or (lambda _: self._request()))
        return combo

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.previous = QPushButton(tr("◀ Previous"), self)
        self.next = QPushButton(tr("Next ▶"), self)
        self.previous.clicked.connect(lambda: self.step(-1))
        self.next.clicked.connect(lambda: self.step(1))
        self.position = QLabel("", self)
        self.position.setObjectName("eeg_position")
        self.montage = self._combo(
            "eeg_montage", [tr(m) for m in MONTAGES], tr("Montage"), lambda _: self._fill_channels()
        )
        self.low = self._combo("eeg_low", [_hz(v) for v in LOW_CUTS], tr("Low cut (high-pass)"))
        self.high = self._combo("eeg_high", [_hz(v) for v in HIGH_CUTS], tr("High cut (low-pass)"))
        self.notch = self._combo("eeg_notch", [_hz(v) for v in NOTCHES], tr("Mains notch"))
        self.gain = self._combo(
            "eeg_sensitivity",
            [f"{s} µV/mm" for s in SENSITIVITIES],
            tr("Sensitivity (↑ ↓): microvolts per millimetre"),
            self._gain_changed,
        )
        self.gain.blockSignals(True)  # the canvas starts at 7 µV/mm too
        self.gain.setCurrentIndex(SENSITIVITIES.index(7))
        self.gain.blockSignals(False)
        self.markers_button = QPushButton(tr("Markers…"), self)
        self.markers_button.setObjectName("eeg_markers_button")
        self.markers_button.setToolTip(
            tr(
                "Spectral markers of the whole recording: peak alpha frequency, relative band "
                "powers, theta/alpha ratio"
            )
        )
        self.markers_button.clicked.connect(lambda _=False: self.open_markers())
        self.markers_button.setEnabled(False)
        for widget in (self.previous, self.next, self.position):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.markers_button)
        for text, widget in (
            (N_("Montage"), self.montage),
            (N_("Low cut"), self.low),
            (N_("High cut"), self.high),
            (N_("Notch"), self.notch),
            (N_("Sensitivity"), self.gain),
        ):
            bar.addWidget(QLabel(tr(text), self))
            bar.addWidget(widget)
        layout.addLayout(bar)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        side = QWidget(split)
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        self.channel_list = QListWidget(side)
        self.channel_list.setObjectName("eeg_channels")
        self.channel_list.itemChanged.connect(lambda _: self._request())
        column.addWidget(self.channel_list, stretch=1)
        row = QHBoxLayout()
        for text, state in ((N_("All"), True), (N_("None"), False)):
            button = QPushButton(tr(text), side)
            button.clicked.connect(lambda _=False, s=state: self._check_all(s))
            row.addWidget(button)
        column.addLayout(row)
        self.canvas = TraceCanvas(split)
        self.canvas.page_step.connect(self.step)
        split.addWidget(side)
        split.addWidget(self.canvas)
        split.setSizes([130, 1100])
        split.setStretchFactor(1, 1)
        layout.addWidget(split, stretch=1)
        self.scroll = QScrollBar(Qt.Orientation.Horizontal, self)
        self.scroll.setObjectName("eeg_scroll")
        self.scroll.setSingleStep(1)
        self.scroll.setPageStep(int(PAGE_S))
        self.scroll.valueChanged.connect(lambda _: self._request())
        layout.addWidget(self.scroll)
        self.status = QLabel("", self)
        self.status.setObjectName("eeg_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        for widget in (self.montage, self.low, self.high, self.notch, self.channel_list):
            widget.setEnabled(False)

    # -- opening ----------------------------------------------------------------------------
    def _opened(self, edf: signals.EdfFile) -> None:
        self._task = None
        self.edf = edf
        nyquist = edf.sfreq / 2
        for combo, values in ((self.low, LOW_CUTS), (self.high, HIGH_CUTS), (self.notch, NOTCHES)):
            for i, value in enumerate(values):
                combo.model().item(i).setEnabled(value is None or value < nyquist)
            combo.setEnabled(True)
        banana = signals.double_banana(edf.channels)
        self.montage.model().item(2).setEnabled(len(banana) >= 8)
        self.montage.setEnabled(True)
        self.channel_list.setEnabled(True)
        self.markers_button.setEnabled(True)
        self.canvas.annotations = edf.annotations
        self.canvas.events = event_marks(self._events, edf.start, edf.duration_s, self._time_zone)
        self.scroll.setRange(0, max(0, int(np.ceil(edf.duration_s - PAGE_S))))
        if edf.start:
            when = f"{date_text(edf.start)} {edf.start.strftime('%H:%M:%S')}"
        else:
            when = tr("unknown start")
        events = len(self.canvas.events)
        summary = tr_n(
            "{format}, {channels} channels, {rate} Hz, {duration} s, started {when}; "
            "{annotations} annotations, {events} diary event in it.",
            "{format}, {channels} channels, {rate} Hz, {duration} s, started {when}; "
            "{annotations} annotations, {events} diary events in it.",
            events,
        )
        notes = [
            summary.format(
                format=edf.format,
                channels=len(edf.channels),
                rate=_g(edf.sfreq),
                duration=_g(edf.duration_s),
                when=when,
                annotations=len(edf.annotations),
                events=events,
            )
        ]
        if edf.discontinuous:
            notes.append(tr("This EDF+D recording has gaps: they are not shown."))
        if len(set(edf.rates)) > 1:
            notes.append(
                tr("Channels at {rates} Hz are shown at {rate} Hz.").format(
                    rates=", ".join(_g(r) for r in sorted(set(edf.rates))), rate=_g(edf.sfreq)
                )
            )
        self.status.setText(" ".join(notes))
        self._fill_channels()

    def set_events(self, events) -> None:
        """The case's events changed: draw them anew."""
        self._events = list(events)
        if self.edf is not None:
            self.canvas.events = event_marks(
                self._events, self.edf.start, self.edf.duration_s, self._time_zone
            )
            self.canvas.update()

    def _failed(self, error: BaseException) -> None:
        self._task = None
        self.canvas.show_page(
            None, tr("This recording cannot be shown.\n{error}").format(error=error)
        )
        self.status.setText(str(error))

    def _fill_channels(self) -> None:
        if self.edf is None:
            return
        if self.montage.currentIndex() == 2:
            names = [
                f"{signals.standard_name(a)}-{signals.standard_name(b)}"
                for a, b in signals.double_banana(self.edf.channels)
            ]
        elif self.montage.currentIndex() == 1:
            names = [c for c, u in zip(self.edf.channels, self.edf.units, strict=True) if u == "V"]
        else:
            names = list(self.edf.channels)
        self._fit_gain = True
        self.channel_list.blockSignals(True)
        self.channel_list.clear()
        for name in names:
            item = QListWidgetItem(name, self.channel_list)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
        self.channel_list.blockSignals(False)
        self._request()

    def _check_all(self, state: bool) -> None:
        self.channel_list.blockSignals(True)
        for i in range(self.channel_list.count()):
            self.channel_list.item(i).setCheckState(
                Qt.CheckState.Checked if state else Qt.CheckState.Unchecked
            )
        self.channel_list.blockSignals(False)
        self._request()

    # -- paging ----------------------------------------------------------------------------
    def step(self, pages: int) -> None:
        """Move by whole pages (negative: back)."""
        self.scroll.setValue(self.scroll.value() + pages * int(PAGE_S))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        key = event.key()
        if key in (Qt.Key.Key_Right, Qt.Key.Key_PageDown, Qt.Key.Key_Space):
            self.step(1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_PageUp):
            self.step(-1)
        elif key == Qt.Key.Key_Home:
            self.scroll.setValue(0)
        elif key == Qt.Key.Key_End:
            self.scroll.setValue(self.scroll.maximum())
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Plus):
            self.gain.setCurrentIndex(max(self.gain.currentIndex() - 1, 0))
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Minus):
            self.gain.setCurrentIndex(min(self.gain.currentIndex() + 1, self.gain.count() - 1))
        else:
            super().keyPressEvent(event)

    def _gain_changed(self, index: int) -> None:
        self.canvas.sensitivity = float(SENSITIVITIES[index])
        self.canvas.update()

    def current_request(self, start_s: float | None = None) -> PageRequest:
        """The page the controls ask for (at `start_s`, default the scroll bar's)."""
        checked = tuple(
            self.channel_list.item(i).text()
            for i in range(self.channel_list.count())
            if self.channel_list.item(i).checkState() == Qt.CheckState.Checked
        )
        return PageRequest(
            float(self.scroll.value() if start_s is None else start_s),
            MONTAGES[self.montage.currentIndex()],  # the key, not the text shown
            checked,
            LOW_CUTS[self.low.currentIndex()],
            HIGH_CUTS[self.high.currentIndex()],
            NOTCHES[self.notch.currentIndex()],
        )

    def _request(self, *_: object) -> None:
        if self.edf is None:
            return
        request = self.current_request()
        end = min(request.start_s + PAGE_S, self.edf.duration_s)
        self.position.setText(
            tr("{clock} · {start}–{end} s of {duration} s").format(
                clock=self._clock(request.start_s),
                start=_g(request.start_s),
                end=_g(end),
                duration=_g(self.edf.duration_s),
            )
        )
        self.canvas.start_s = request.start_s
        self._wanted = request
        if request in self._cache:
            self._show(self._cache[request])
        else:
            self.canvas.update()  # the grid moves at once; the traces follow
        self._next_job()

    def _clock(self, offset_s: float) -> str:
        start = self.edf.start if self.edf is not None else None
        return (start + timedelta(seconds=offset_s)).strftime("%H:%M:%S") if start else ""

    def _next_job(self) -> None:
        """Prepare the page wanted, else the next one ahead; one at a time."""
        if self._task is not None or self.edf is None or self._wanted is None:
            return
        wanted = self._wanted
        ahead = self.current_request(wanted.start_s + PAGE_S)
        for request in (wanted, ahead):
            if request not in self._cache and request.start_s < self.edf.duration_s:
                self._running = request
                self._run(
                    N_("Reading the EEG page"),
                    prepare_page,
                    self.edf,
                    request,
                    on_done=self._prepared,
                    on_failed=self._page_failed,
                )
                return

    def _prepared(self, page: Page) -> None:
        self._task, self._running = None, None
        if len(self._cache) > 24:
            self._cache.pop(next(iter(self._cache)))
        self._cache[page.request] = page
        if page.request == self._wanted:
            self._show(page)
        self._next_job()

    def _page_failed(self, error: BaseException) -> None:
        self._task, self._running = None, None
        self.canvas.show_page(None, str(error))
        self.status.setText(str(error))

    def _show(self, page: Page) -> None:
        if self._fit_gain and page.spread_uv > 0:  # the first page of a montage: fit the gain
            self._fit_gain = False
            row_mm = self.canvas.row_height(len(page.names)) / self.canvas.px_per_mm()
            wanted = page.spread_uv / row_mm
            fitting = [i for i, s in enumerate(SENSITIVITIES) if s >= wanted]
            self.gain.setCurrentIndex(fitting[0] if fitting else len(SENSITIVITIES) - 1)
        self.canvas.start_s = page.request.start_s
        self.canvas.show_page(page)
        self.page_shown.emit(page.request.start_s)

    # -- markers ---------------------------------------------------------------------------
    def open_markers(self) -> EegMarkersView | None:
        """Show the recording's spectral markers (computed in the background)."""
        if self.edf is None:
            return None
        if self.markers_view is None:
            self.markers_view = EegMarkersView(
                self.path, self._start, self.edf.start, self._saver(), self
            )
            session = getattr(self.parent(), "session", None)
            case = session.case if session is not None else None
            if case is not None:
                self.markers_view.age_y = _age_at(case.clinical, self.edf.start)
                self.markers_view.visit_dates = {
                    d[:10] for d in [s.date for s in case.studies]
                    + [m.date for m in case.measurements] if d
                }  # fmt: skip
            self.markers_view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.markers_view.destroyed.connect(lambda _=None: setattr(self, "markers_view", None))
        self.markers_view.show()
        self.markers_view.raise_()
        self.markers_view.activateWindow()
        return self.markers_view

    def _saver(self) -> Callable[[list[Measurement]], str] | None:
        """`save_measurements`, else the measurements table of the Case data panel this viewer
        was opened from (its own path: the case is saved); None without a case."""
        if self.save_measurements is not None:
            return self.save_measurements
        panel = self.parent()
        table, session = getattr(panel, "measurements", None), getattr(panel, "session", None)
        if table is None or session is None or session.case is None:
            return None
        case = session.case

        def save(rows: list[Measurement]) -> str:
            if session.case is not case:
                raise InputError(tr("Another case is open now: the markers were not saved."))
            keys = {(m.name, m.target, m.date, m.source) for m in rows}
            earlier = [m for m in case.measurements if (m.name, m.target, m.date, m.source) in keys]
            case.measurements[:] = [
                m for m in case.measurements if not any(m is e for e in earlier)
            ]
            fresh, _ = new_records(table.records, rows)
            table.add_records(fresh)  # the view's path: the case is saved, runs go stale
            added = tr_n(
                "{count} measurements of {date} added to the case.",
                "{count} measurements of {date} added to the case.",
                len(fresh),
            )
            text = added.format(count=len(fresh), date=date_text(rows[0].date))
            if earlier:
                replaced = tr_n(
                    "{count} earlier value(s) from this recording replaced.",
                    "{count} earlier value(s) from this recording replaced.",
                    len(earlier),
                )
                text += " " + replaced.format(count=len(earlier))
            return text

        return save

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._closed = True
        if self.markers_view is not None:
            self.markers_view.close()
        if self._task not in (None, _STARTING):
            self._task.detach()
        self._task = None
        if self.edf is not None:
            self.edf.close()
            self.edf = None
        super().closeEvent(event)
