"""The events diary (a seizure diary): a table (time, type, duration, rescue medication,
note) with add, edit and delete, seizures per week by type, and a calendar of the days."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from matplotlib.figure import Figure
from PySide6.QtCore import QDate, QDateTime, Qt
from PySide6.QtGui import QColor, QTextCharFormat
from PySide6.QtWidgets import (
    QCalendarWidget,
    QComboBox,
    QDateTimeEdit,
    QLineEdit,
    QTabWidget,
    QWidget,
)

from meditwin_desktop.core.case import Event
from meditwin_desktop.core.csv_import import parse_duration
from meditwin_desktop.ui.measurements_view import (
    RecordDialog,
    RecordTable,
    dark_axes,
)
from meditwin_desktop.ui.plot_canvas import PlotCanvas

KINDS = (
    "generalised tonic-clonic",
    "focal",
    "focal to bilateral tonic-clonic",
    "myoclonic",
    "absence",
    "atonic",
    "tonic",
    "status epilepticus",
)
_COLOURS = ("#5aa0e6", "#e6a05a", "#7cc47c", "#d9675f", "#b48ee0", "#e0d06a", "#6fd0d0", "#aaa")


def format_duration(seconds: float | None) -> str:
    """90.0 -> '1 min 30 s'; None -> ''."""
    if seconds is None:
        return ""
    minutes, rest = divmod(round(seconds), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def event_date(event: Event) -> date | None:
    """The day of an event (None when its time cannot be read)."""
    try:
        return datetime.fromisoformat(str(event.time)).date()
    except ValueError:
        return None


def per_week(events: list[Event]) -> tuple[list[date], dict[str, list[int]]]:
    """Mondays from the first to the last event's week, and the count per week per type."""
    days = [(event_date(e), e.kind or "unspecified") for e in events]
    days = [(d, k) for d, k in days if d is not None]
    if not days:
        return [], {}
    first = min(d for d, _ in days)
    last = max(d for d, _ in days)
    monday = first - timedelta(days=first.weekday())
    weeks = [monday + timedelta(weeks=i) for i in range((last - monday).days // 7 + 1)]
    counts = Counter(((d - monday).days // 7, k) for d, k in days)
    kinds = sorted({k for _, k in days})
    return weeks, {k: [counts[(i, k)] for i in range(len(weeks))] for k in kinds}


class EventDialog(RecordDialog):
    """Add or edit one diary event."""

    def __init__(self, record: Event | None, kinds: list[str], parent=None) -> None:
        super().__init__("Edit event" if record else "Add event", parent)
        self._original = record
        when = (
            QDateTime.fromString(str(record.time)[:19], Qt.DateFormat.ISODate)
            if record
            else (QDateTime.currentDateTime())
        )
        if not when.isValid():
            when = QDateTime(QDate.fromString(str(record.time)[:10], "yyyy-MM-dd").startOfDay())
        self.time = QDateTimeEdit(when, self)
        self.time.setCalendarPopup(True)
        self.time.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.time.setObjectName("event_time")
        self.kind = QComboBox(self)
        self.kind.setEditable(True)
        self.kind.addItems(list(dict.fromkeys([*kinds, *KINDS])))
        self.kind.setCurrentText(record.kind if record else KINDS[0])
        self.kind.setObjectName("event_kind")
        self.duration = QLineEdit(format_duration(record.duration_s) if record else "", self)
        self.duration.setPlaceholderText("90 s, 2 min, 1:30 (empty: unknown)")
        self.duration.setObjectName("event_duration")
        details = record.details if record else {}
        self.rescue = QLineEdit(str(details.get("rescue", "")), self)
        self.rescue.setPlaceholderText("e.g. midazolam buccal 10 mg")
        self.note = QLineEdit(record.note if record else "", self)
        for label, widget in (
            ("Date and time", self.time),
            ("Type", self.kind),
            ("Duration", self.duration),
            ("Rescue medication", self.rescue),
            ("Note", self.note),
        ):
            self.form.addRow(label, widget)

    def build(self) -> Event:
        kind = self.kind.currentText().strip()
        if not kind:
            raise ValueError("Give the type of event (e.g. focal).")
        duration = None
        if self.duration.text().strip():
            try:
                duration = parse_duration(self.duration.text())
            except ValueError:
                raise ValueError(
                    f"'{self.duration.text()}' is not a duration (90 s, 2 min, 1:30)."
                ) from None
        when = self.time.dateTime().toString("yyyy-MM-ddTHH:mm:ss")
        original = self._original
        if original is not None and str(original.time)[:16] == when[:16]:
            when = original.time  # unchanged: keep it as it was written (a date alone...)
        details = dict(original.details) if original is not None else {}
        details.pop("rescue", None)
        if self.rescue.text().strip():
            details["rescue"] = self.rescue.text().strip()
        return Event(when, kind, duration, details, self.note.text().strip())


class DiaryView(RecordTable):
    """The case's events, their weekly counts by type and a calendar."""

    attribute, noun = "events", "event"
    headers = ("Date and time", "Type", "Duration", "Rescue medication", "Note")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views = QTabWidget(self)
        self.views.setObjectName("diary_views")
        self.figure = Figure(figsize=(4, 2.6), layout="constrained")
        self.canvas = PlotCanvas(self.figure)
        self.canvas.setMinimumHeight(180)
        self.views.addTab(self.canvas, "Per week")
        self.calendar = QCalendarWidget(self)
        self.calendar.setObjectName("diary_calendar")
        self.calendar.setGridVisible(True)
        self.calendar.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
        self.views.addTab(self.calendar, "Calendar")
        self.body.addWidget(self.views)
        self.body.setSizes([260, 240])
        self._marked: list[QDate] = []

    def cells(self, e: Event) -> list[str]:
        return [
            str(e.time).replace("T", " ")[:16],
            e.kind,
            format_duration(e.duration_s),
            str(e.details.get("rescue", "")),
            e.note,
        ]

    def sort_key(self, e: Event) -> str:
        return str(e.time)

    def dialog(self, record: Event | None) -> EventDialog:
        return EventDialog(record, sorted({e.kind for e in self.records if e.kind}), self)

    def redraw(self) -> None:
        self._plot()
        self._mark_calendar()

    def _plot(self) -> None:
        axes = dark_axes(self.figure)
        weeks, counts = per_week(self.records)
        if not weeks:
            axes.text(
                0.5,
                0.5,
                "Add events to see them per week.",
                color="#aaaaaa",
                ha="center",
                va="center",
                transform=axes.transAxes,
            )
            axes.set_axis_off()  # the message alone: no empty frame behind it
        else:
            bottom = [0] * len(weeks)
            for i, (kind, values) in enumerate(counts.items()):
                axes.bar(
                    weeks,
                    values,
                    width=6,
                    bottom=bottom,
                    align="edge",
                    label=kind,
                    color=_COLOURS[i % len(_COLOURS)],
                )
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
            axes.set_ylabel("events per week", color="#dddddd", fontsize=8)
            if len(weeks) <= 12:  # one tick per week, at its Monday
                axes.set_xticks(weeks, [f"{w:%d %b}" for w in weeks])
            axes.yaxis.get_major_locator().set_params(integer=True)
            legend = axes.legend(fontsize=7, frameon=True)
            legend.get_frame().set_facecolor("#2b2d30")
            for text in legend.get_texts():
                text.set_color("#dddddd")
            axes.tick_params(axis="x", labelrotation=30)
        self.canvas.draw_idle()

    def _mark_calendar(self) -> None:
        plain = QTextCharFormat()
        for day in self._marked:
            self.calendar.setDateTextFormat(day, plain)
        per_day = Counter(d for d in (event_date(e) for e in self.records) if d is not None)
        self._marked = []
        for day, count in per_day.items():
            qdate = QDate(day.year, day.month, day.day)
            marked = QTextCharFormat()
            marked.setBackground(QColor(217, 103, 95) if count > 1 else QColor(160, 80, 75))
            marked.setForeground(QColor(255, 255, 255))
            marked.setToolTip(f"{count} event(s)")
            self.calendar.setDateTextFormat(qdate, marked)
            self._marked.append(qdate)
        if per_day:  # the month of the last event (not selected: its colour stays)
            last = max(per_day)
            self.calendar.setCurrentPage(last.year, last.month)
