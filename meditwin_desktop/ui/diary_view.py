"""The events diary (a seizure diary): a table (time, type, number of seizures, duration,
rescue medication, note) with add, edit and delete; seizures per week (convulsive and
others, from `core.seizure_diary.daily_counts`: periods the diary does not cover are gaps,
not zeros); and a calendar of the days (seizures, "no seizure" days, "not recorded"
periods, each in its colour, with a legend)."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta

import numpy as np
from matplotlib.figure import Figure
from PySide6.QtCore import QDate, QDateTime, Qt
from PySide6.QtGui import QColor, QTextCharFormat
from PySide6.QtWidgets import (
    QCalendarWidget,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.case import Event
from meditwin_desktop.core.csv_import import parse_duration
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.seizure_diary import KINDS as SEIZURE_KINDS
from meditwin_desktop.core.seizure_diary import (
    MODE_KEY,
    MODES,
    NOT_RECORDED,
    SEIZURE_FREE,
    ZONE_KEY,
    DiaryDays,
    case_diary,
    daily_counts,
    event_day,
    not_recorded_days,
    seizure_kind,
)
from meditwin_desktop.ui.measurements_view import (
    RecordDialog,
    RecordTable,
    dark_axes,
)
from meditwin_desktop.ui.plot_canvas import PlotCanvas

KINDS = (*SEIZURE_KINDS, SEIZURE_FREE, NOT_RECORDED)
MARKERS = (SEIZURE_FREE, NOT_RECORDED)
CONVULSIVE_COLOUR, OTHER_COLOUR = "#d9675f", "#e6a05a"
FREE_COLOUR, GAP_COLOUR, UNKNOWN_COLOUR = "#4f9a5a", "#6b6e73", "#43464b"


def format_duration(seconds: float | None) -> str:
    """90.0 -> '1 min 30 s'; 7 days -> '7 d'; None -> ''."""
    if seconds is None:
        return ""
    if seconds >= 86400:
        days, rest = divmod(round(seconds / 3600), 24)
        return f"{days} d {rest} h" if rest else f"{days} d"
    minutes, rest = divmod(round(seconds), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def event_date(event: Event) -> date | None:
    """The day of an event as written (None when its time cannot be read)."""
    return event_day(str(event.time))


def time_text(time: str) -> str:
    """'2024-03-31T02:30:00+02:00' -> '2024-03-31 02:30 +02:00' (the offset, if written)."""
    text = str(time).replace("T", " ")
    return (text[:16] + (" " + text[19:] if len(text) > 19 else "")).strip()


def diary_mode(case) -> str:
    """What a day without any entry means for this case ('seizure-free' by default)."""
    mode = str((getattr(case, "clinical", None) or {}).get(MODE_KEY) or MODES[0])
    return mode if mode in MODES else MODES[0]


def per_week(diary: DiaryDays) -> tuple[list[date], np.ndarray, np.ndarray, np.ndarray]:
    """Mondays of the diary's weeks, convulsive and other seizures per week (NaN: no day of
    the week reported) and the number of days reported in each week."""
    first = diary.start - timedelta(days=diary.start.weekday())
    offset = (diary.start - first).days
    weeks = (offset + diary.days + 6) // 7
    convulsive = np.full(weeks * 7, np.nan)
    every = np.full(weeks * 7, np.nan)
    convulsive[offset : offset + diary.days] = diary.convulsive
    every[offset : offset + diary.days] = diary.all_seizures
    convulsive, every = convulsive.reshape(weeks, 7), every.reshape(weeks, 7)
    reported = (~np.isnan(convulsive)).sum(axis=1)
    with np.errstate(invalid="ignore"):
        conv = np.where(reported > 0, np.nansum(convulsive, axis=1), np.nan)
        other = np.where(reported > 0, np.nansum(every, axis=1), np.nan) - conv
    return [first + timedelta(weeks=i) for i in range(weeks)], conv, other, reported


class EventDialog(RecordDialog):
    """Add or edit one diary event (a seizure or a cluster of them, a day without seizure,
    a period not recorded)."""

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
        self.kind.addItems(list(dict.fromkeys([*KINDS, *kinds])))
        self.kind.setCurrentText(record.kind if record else KINDS[0])
        self.kind.setObjectName("event_kind")
        details = record.details if record else {}
        self.count = QSpinBox(self)
        self.count.setRange(1, 999)
        self.count.setValue(int(details.get("count", 1) or 1))
        self.count.setObjectName("event_count")
        self.count.setToolTip("A cluster logged as one line: how many seizures it holds.")
        self.duration = QLineEdit(format_duration(record.duration_s) if record else "", self)
        self.duration.setPlaceholderText("90 s, 2 min, 1:30 (empty: unknown)")
        self.duration.setObjectName("event_duration")
        self.until = QDateEdit(self)
        self.until.setCalendarPopup(True)
        self.until.setDisplayFormat("yyyy-MM-dd")
        self.until.setObjectName("event_until")
        until = when.date()
        if record is not None and seizure_kind(record.kind) == NOT_RECORDED:
            try:
                last = not_recorded_days(record)[1]
                until = QDate(last.year, last.month, last.day)
            except InputError:
                pass
        self.until.setDate(until)
        self.rescue = QLineEdit(str(details.get("rescue", "")), self)
        self.rescue.setPlaceholderText("e.g. midazolam buccal 10 mg")
        self.note = QLineEdit(record.note if record else "", self)
        for label, widget in (
            ("Date and time", self.time),
            ("Type", self.kind),
            ("Number of seizures", self.count),
            ("Duration", self.duration),
            ("Not recorded until", self.until),
            ("Rescue medication", self.rescue),
            ("Note", self.note),
        ):
            self.form.addRow(label, widget)
        self.kind.currentTextChanged.connect(self._kind_changed)
        self._kind_changed(self.kind.currentText())

    def _kind_changed(self, text: str) -> None:
        kind = seizure_kind(text)
        self.count.setEnabled(kind not in MARKERS)
        self.duration.setEnabled(kind not in MARKERS)
        self.until.setEnabled(kind == NOT_RECORDED)

    def build(self) -> Event:
        typed = self.kind.currentText().strip()
        if not typed:
            raise ValueError("Give the type of event (e.g. focal).")
        kind = seizure_kind(typed)
        duration = None
        if self.duration.isEnabled() and self.duration.text().strip():
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
        for key in ("rescue", "count", "until"):
            details.pop(key, None)
        if original is None or typed != original.kind:
            details.pop("as_written", None)
            if typed != kind:
                details["as_written"] = typed
        if kind == NOT_RECORDED:  # a length, not a date (see core.csv_import._period)
            until = self.until.date().toString("yyyy-MM-dd")
            if until < when[:10]:
                raise ValueError(f"The period not recorded ends ({until}) before it starts.")
            start = datetime.fromisoformat(str(when)).replace(tzinfo=None)
            end = datetime.fromisoformat(until) + timedelta(days=1)
            duration = (end - start).total_seconds()
        elif kind != SEIZURE_FREE and self.count.value() > 1:
            details["count"] = self.count.value()
        if self.rescue.text().strip():
            details["rescue"] = self.rescue.text().strip()
        return Event(when, kind, duration, details, self.note.text().strip())


class DiaryView(RecordTable):
    """The case's events, seizures per week and a calendar of the days."""

    attribute, noun = "events", "event"
    headers = ("Date and time", "Type", "Seizures", "Duration", "Rescue medication", "Note")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views = QTabWidget(self)
        self.views.setObjectName("diary_views")
        self.figure = Figure(figsize=(4, 2.6), layout="constrained")
        self.canvas = PlotCanvas(self.figure)
        self.canvas.setMinimumHeight(180)
        self.views.addTab(self.canvas, "Per week")
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.calendar = QCalendarWidget(page)
        self.calendar.setObjectName("diary_calendar")
        self.calendar.setGridVisible(True)
        self.calendar.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
        layout.addWidget(self.calendar, stretch=1)
        self.legend = QLabel(_legend(), page)
        self.legend.setObjectName("diary_legend")
        self.legend.setWordWrap(True)
        layout.addWidget(self.legend)
        self.views.addTab(page, "Calendar")
        self.body.addWidget(self.views)
        self.summary = QLabel("", self)
        self.summary.setObjectName("diary_summary")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #bbbbbb;")
        self.body.addWidget(self.summary)
        self.body.setSizes([260, 240, 40])
        self._marked: list[QDate] = []
        self.diary: DiaryDays | None = None
        self.weekly: tuple[list[date], np.ndarray, np.ndarray, np.ndarray] | None = None

    def cells(self, e: Event) -> list[str]:
        kind = seizure_kind(e.kind)
        length = format_duration(e.duration_s)
        if kind == NOT_RECORDED:
            with contextlib.suppress(InputError):
                length = f"until {not_recorded_days(e)[1]}"
        return [
            time_text(e.time),
            e.kind,
            "" if kind in MARKERS else str(e.details.get("count", 1)),
            length,
            str(e.details.get("rescue", "")),
            e.note,
        ]

    def sort_key(self, e: Event) -> str:
        return str(e.time)

    def dialog(self, record: Event | None) -> EventDialog:
        return EventDialog(record, sorted({e.kind for e in self.records if e.kind}), self)

    def redraw(self) -> None:
        self.diary, problem = None, ""
        if self.records:
            try:
                clinical = getattr(self.case, "clinical", None) or {}
                self.diary = case_diary(self.records, clinical)
            except InputError as error:
                problem = str(error)
        self._plot(problem)
        self._mark_calendar()
        self._summarise(problem)

    def _summarise(self, problem: str) -> None:
        if self.diary is None:
            self.summary.setText(problem)
            return
        diary = self.diary
        mode = diary_mode(self.case)
        meaning = "seizure-free" if mode == "seizure-free" else "not reported"
        lines = [
            f"{diary.days} days from {diary.start} to {diary.end}, {diary.reported_days} "
            f"reported; days without any entry count as {meaning} (Clinical panel: Seizure "
            "diary, Days without an entry)."
        ]
        self.summary.setText(" ".join([*lines, *diary.notes]))

    def _plot(self, problem: str = "") -> None:
        axes = dark_axes(self.figure)
        self.weekly = None
        if self.diary is None:
            axes.text(
                0.5,
                0.5,
                problem or "Add events to see them per week.",
                color="#aaaaaa",
                ha="center",
                va="center",
                wrap=True,
                transform=axes.transAxes,
            )
            axes.set_axis_off()  # the message alone: no empty frame behind it
            self.canvas.draw_idle()
            return
        weeks, convulsive, other, _reported = self.weekly = per_week(self.diary)
        shown = ~np.isnan(convulsive)  # a week without any reported day: a gap, no bar
        x = [w for w, s in zip(weeks, shown, strict=True) if s]
        axes.bar(x, convulsive[shown], width=6, align="edge", label="convulsive",
                 color=CONVULSIVE_COLOUR)  # fmt: skip
        axes.bar(x, other[shown], width=6, align="edge", bottom=convulsive[shown],
                 label="other seizures", color=OTHER_COLOUR)  # fmt: skip
        labelled = False
        for day, value in zip(self.diary.dates(), self.diary.convulsive, strict=True):
            if np.isnan(value):  # each day not reported, shaded
                axes.axvspan(day, day + timedelta(days=1), color=GAP_COLOUR, alpha=0.45, lw=0,
                             label=None if labelled else "not reported")  # fmt: skip
                labelled = True
        axes.set_ylabel("seizures per week", color="#dddddd", fontsize=8)
        if len(weeks) <= 12:  # one tick per week, at its Monday
            axes.set_xticks(weeks, [f"{w:%d %b}" for w in weeks])
        axes.yaxis.get_major_locator().set_params(integer=True)
        legend = axes.legend(  # above the bars, not over them
            fontsize=7, frameon=True, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3
        )
        legend.get_frame().set_facecolor("#2b2d30")
        for text in legend.get_texts():
            text.set_color("#dddddd")
        axes.tick_params(axis="x", labelrotation=30)
        self.canvas.draw_idle()

    def _mark_calendar(self) -> None:
        plain = QTextCharFormat()
        for day in self._marked:
            self.calendar.setDateTextFormat(day, plain)
        self._marked = []
        if self.diary is None:
            return
        zone = str((getattr(self.case, "clinical", None) or {}).get(ZONE_KEY) or "") or None
        try:  # not recorded = NaN when days without entry count as seizure-free
            days = daily_counts(self.records, self.diary.start, self.diary.end, tz=zone)
        except InputError:
            return
        free = {event_date(e) for e in self.records if seizure_kind(e.kind) == SEIZURE_FREE}
        for day, convulsive, seizures, read in zip(
            days.dates(), days.convulsive, days.all_seizures, self.diary.all_seizures,
            strict=True,
        ):  # fmt: skip
            if np.isnan(seizures):
                colour, tip = QColor(GAP_COLOUR), "not recorded"
            elif np.isnan(read):  # no entry, and days without one are unknown for this case
                colour, tip = QColor(UNKNOWN_COLOUR), "no entry: unknown (not counted)"
            elif seizures > 0:
                colour = QColor(CONVULSIVE_COLOUR if convulsive > 0 else OTHER_COLOUR)
                if seizures == 1:
                    colour = colour.darker(130)
                tip = f"{seizures:g} seizure(s), {convulsive:g} convulsive"
            elif day in free:
                colour, tip = QColor(FREE_COLOUR), "no seizure (reported)"
            else:
                continue
            marked = QTextCharFormat()
            marked.setBackground(colour)
            marked.setForeground(QColor(255, 255, 255))
            marked.setToolTip(tip)
            qdate = QDate(day.year, day.month, day.day)
            self.calendar.setDateTextFormat(qdate, marked)
            self._marked.append(qdate)
        last = days.end  # the month of the last day (not selected: its colour stays)
        self.calendar.setCurrentPage(last.year, last.month)


def _legend() -> str:
    def square(colour: str, text: str) -> str:
        return f"<span style='color:{colour}'>&#9632;</span>&nbsp;{text}"

    return "&nbsp;&nbsp; ".join(
        [
            square(CONVULSIVE_COLOUR, "convulsive seizure(s)"),
            square(OTHER_COLOUR, "other seizures"),
            square(FREE_COLOUR, "no seizure (reported)"),
            square(GAP_COLOUR, "not recorded"),
            square(UNKNOWN_COLOUR, "no entry, unknown (when the diary says so)"),
        ]
    )
