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
from meditwin_desktop.core.i18n import N_, date_text, language, tr, tr_n
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
from meditwin_desktop.ui.parameter_editors import date_format
from meditwin_desktop.ui.plot_canvas import PlotCanvas

KINDS = (*SEIZURE_KINDS, SEIZURE_FREE, NOT_RECORDED)
MARKERS = (SEIZURE_FREE, NOT_RECORDED)
CONVULSIVE_COLOUR, OTHER_COLOUR = "#d9675f", "#e6a05a"
FREE_COLOUR, GAP_COLOUR, UNKNOWN_COLOUR = "#4f9a5a", "#6b6e73", "#43464b"
# the diary's kinds (`core.seizure_diary`, stored in English), for the catalogue: shown
# through tr() in the table and the event dialog
_KIND_WORDS = (
    N_("generalised tonic-clonic"), N_("focal to bilateral tonic-clonic"), N_("clonic"),
    N_("hemiclonic"), N_("tonic"), N_("atonic"), N_("focal"), N_("myoclonic"), N_("absence"),
    N_("status epilepticus"), N_("no seizure"), N_("not recorded"),
)  # fmt: skip


def kind_text(kind: str) -> str:
    """A stored kind as shown: a known one in the language in use, others as written."""
    return tr(kind) if kind in KINDS else kind


def kind_code(text: str) -> str:
    """A kind chosen in the language in use as the diary stores it (typed text as it is)."""
    return next((k for k in KINDS if text == tr(k)), text)


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
    shown = (text[:16] + (" " + text[19:] if len(text) > 19 else "")).strip()
    day = date_text(text[:10])  # 31/03/2024 in French
    return shown if day == text[:10] else day + shown[10:]


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
        super().__init__(tr("Edit event") if record else tr("Add event"), parent)
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
        self.time.setDisplayFormat(date_format(with_time=True))
        self.time.setObjectName("event_time")
        self.kind = QComboBox(self)
        self.kind.setEditable(True)
        self.kind.addItems(list(dict.fromkeys(kind_text(k) for k in [*KINDS, *kinds])))
        self.kind.setCurrentText(kind_text(record.kind) if record else kind_text(KINDS[0]))
        self.kind.setObjectName("event_kind")
        details = record.details if record else {}
        self.count = QSpinBox(self)
        self.count.setRange(1, 999)
        self.count.setValue(int(details.get("count", 1) or 1))
        self.count.setObjectName("event_count")
        self.count.setToolTip(tr("A cluster logged as one line: how many seizures it holds."))
        self.duration = QLineEdit(format_duration(record.duration_s) if record else "", self)
        self.duration.setPlaceholderText(tr("90 s, 2 min, 1:30 (empty: unknown)"))
        self.duration.setObjectName("event_duration")
        self.until = QDateEdit(self)
        self.until.setCalendarPopup(True)
        self.until.setDisplayFormat(date_format())
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
        self.rescue.setPlaceholderText(tr("e.g. midazolam buccal 10 mg"))
        self.note = QLineEdit(record.note if record else "", self)
        for label, widget in (
            (N_("Date and time"), self.time),
            (N_("Type"), self.kind),
            (N_("Number of seizures"), self.count),
            (N_("Duration"), self.duration),
            (N_("Not recorded until"), self.until),
            (N_("Rescue medication"), self.rescue),
            (N_("Note"), self.note),
        ):
            self.form.addRow(tr(label), widget)
        self.kind.currentTextChanged.connect(self._kind_changed)
        self._kind_changed(self.kind.currentText())

    def _kind_changed(self, text: str) -> None:
        kind = seizure_kind(kind_code(text))
        self.count.setEnabled(kind not in MARKERS)
        self.duration.setEnabled(kind not in MARKERS)
        self.until.setEnabled(kind == NOT_RECORDED)

    def build(self) -> Event:
        typed = kind_code(self.kind.currentText().strip())
        if not typed:
            raise ValueError(tr("Give the type of event (e.g. focal)."))
        kind = seizure_kind(typed)
        duration = None
        if self.duration.isEnabled() and self.duration.text().strip():
            try:
                duration = parse_duration(self.duration.text())
            except ValueError:
                raise ValueError(
                    tr("'{text}' is not a duration (90 s, 2 min, 1:30).").format(
                        text=self.duration.text()
                    )
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
                raise ValueError(
                    tr("The period not recorded ends ({date}) before it starts.").format(
                        date=date_text(until)
                    )
                )
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
    none_yet = N_("No event yet.")
    headers = (N_("Date and time"), N_("Type"), N_("Seizures"), N_("Duration"),
               N_("Rescue medication"), N_("Note"))  # fmt: skip

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views = QTabWidget(self)
        self.views.setObjectName("diary_views")
        self.figure = Figure(figsize=(4, 2.6), layout="constrained")
        self.canvas = PlotCanvas(self.figure)
        self.canvas.setMinimumHeight(180)
        self.views.addTab(self.canvas, tr("Per week"))
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
        self.views.addTab(page, tr("Calendar"))
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
                length = tr("until {date}").format(date=date_text(not_recorded_days(e)[1]))
        return [
            time_text(e.time),
            kind_text(e.kind),
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
        meaning = tr("seizure-free") if mode == "seizure-free" else tr("not reported")
        lines = [
            tr_n(
                "{n} days from {start} to {end}, {reported} reported; days without any entry "
                "count as {meaning} (Clinical panel: Seizure diary, Days without an entry).",
                "{n} days from {start} to {end}, {reported} reported; days without any entry "
                "count as {meaning} (Clinical panel: Seizure diary, Days without an entry).",
                diary.days,
            ).format(n=diary.days, start=date_text(diary.start), end=date_text(diary.end),
                     reported=diary.reported_days, meaning=meaning)
        ]
        self.summary.setText(" ".join([*lines, *diary.notes]))

    def _plot(self, problem: str = "") -> None:
        axes = dark_axes(self.figure)
        self.weekly = None
        if self.diary is None:
            axes.text(
                0.5,
                0.5,
                problem or tr("Add events to see them per week."),
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
        axes.bar(x, convulsive[shown], width=6, align="edge", label=tr("convulsive"),
                 color=CONVULSIVE_COLOUR)  # fmt: skip
        axes.bar(x, other[shown], width=6, align="edge", bottom=convulsive[shown],
                 label=tr("other seizures"), color=OTHER_COLOUR)  # fmt: skip
        labelled = False
        for day, value in zip(self.diary.dates(), self.diary.convulsive, strict=True):
            if np.isnan(value):  # each day not reported, shaded
                axes.axvspan(day, day + timedelta(days=1), color=GAP_COLOUR, alpha=0.45, lw=0,
                             label=None if labelled else tr("not reported"))  # fmt: skip
                labelled = True
        axes.set_ylabel(tr("seizures per week"), color="#dddddd", fontsize=8)
        if len(weeks) <= 12:  # one tick per week, at its Monday (07/12 in French)
            french = language() == "fr"
            axes.set_xticks(weeks, [f"{w:%d/%m}" if french else f"{w:%d %b}" for w in weeks])
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
                colour, tip = QColor(GAP_COLOUR), tr("not recorded")
            elif np.isnan(read):  # no entry, and days without one are unknown for this case
                colour, tip = QColor(UNKNOWN_COLOUR), tr("no entry: unknown (not counted)")
            elif seizures > 0:
                colour = QColor(CONVULSIVE_COLOUR if convulsive > 0 else OTHER_COLOUR)
                if seizures == 1:
                    colour = colour.darker(130)
                tip = tr_n("{n} seizure(s), {convulsive} convulsive",
                           "{n} seizure(s), {convulsive} convulsive", int(seizures)).format(
                    n=f"{seizures:g}", convulsive=f"{convulsive:g}")  # fmt: skip
            elif day in free:
                colour, tip = QColor(FREE_COLOUR), tr("no seizure (reported)")
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
            square(CONVULSIVE_COLOUR, tr("convulsive seizure(s)")),
            square(OTHER_COLOUR, tr("other seizures")),
            square(FREE_COLOUR, tr("no seizure (reported)")),
            square(GAP_COLOUR, tr("not recorded")),
            square(UNKNOWN_COLOUR, tr("no entry, unknown (when the diary says so)")),
        ]
    )
