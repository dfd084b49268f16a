"""The comparison's Images, Tables and Charts tabs: overlays on the case's photographs,
result tables and charts (waterfall, spider plots), side by side across scenarios (drawn
with `core.result_plots`, as in the report).

Each page draws only while its tab is looked at (`shown()`); out-of-date runs keep their
mark in every panel title and table cell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from matplotlib.figure import Figure
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.case import Run
from meditwin_desktop.core.comparison import OUT_OF_DATE
from meditwin_desktop.core.i18n import N_, decimal_separator, tr, tr_n
from meditwin_desktop.core.result_plots import (
    category_legend,
    chart_groups,
    photo_pixels,
    plot_chart,
    plot_overlay,
    result_labels,
    scenario_title,
    shared_range,
    table_shared,
    table_side_by_side,
    table_stacked,
)
from meditwin_desktop.ui.plot_canvas import PlotCanvas

MAX_PANELS = 4
STALE_COLOUR = "#f08c6e"


def refill(combo: QComboBox, labels: dict[str, str]) -> None:
    """Replace a combo box's items (shown: label, translated; data: name), keeping the
    current choice."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for name, label in labels.items():
        combo.addItem(tr(label), name)
    index = combo.findData(current)
    combo.setCurrentIndex(index if index >= 0 else 0)
    combo.blockSignals(False)


def _marked_old(text: str) -> bool:
    """Whether a table heading or cell carries the out-of-date mark (in either language)."""
    return OUT_OF_DATE in text or tr(OUT_OF_DATE) in text


def _title(run: Run, stale: set[str]) -> str:
    """A panel's title: the scenario, marked when out of date (in the language in use)."""
    title = scenario_title(run, stale)
    return title.replace(f"({OUT_OF_DATE})", f"({tr(OUT_OF_DATE)})")


def _g3(value: float) -> str:
    """`value` with 3 significant digits (`:.3g`), in the decimal separator in use."""
    return f"{value:.3g}".replace(".", decimal_separator())


class _ResultPage(QWidget):
    """A page with a chooser of one result (by name) of the compared runs."""

    kind = ""
    empty = ""

    def __init__(self, shown: Callable[[], bool], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shown = shown
        self.runs: list[Run] = []
        self.stale: set[str] = set()
        self.case: Any = None
        self.layout_ = QVBoxLayout(self)
        self.top = QHBoxLayout()
        self.choice = QComboBox(self)
        self.choice.setObjectName(f"{self.kind}_choice")
        self.choice.currentIndexChanged.connect(lambda _: self.draw())
        self.top.addWidget(self.choice, stretch=1)
        self.layout_.addLayout(self.top)
        self.note = QLabel(tr(self.empty), self)
        self.note.setObjectName(f"{self.kind}_note")
        self.note.setWordWrap(True)

    def set_runs(self, runs: list[Run], stale: set[str], case: Any) -> None:
        """The runs to compare (scenario order), the out-of-date scenarios and the case."""
        self.runs, self.stale, self.case = runs, set(stale), case
        refill(self.choice, result_labels(runs, self.kind))
        self.draw()

    def chosen(self) -> tuple[str | None, list[Run]]:
        """The chosen result's name and the runs that have it."""
        name = self.choice.currentData()
        runs = [r for r in self.runs if r.result and name in getattr(r.result, self.kind)]
        return name, runs

    def draw(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class _FigurePage(_ResultPage):
    """A result page drawn as one matplotlib figure (its canvas named `<kind>_canvas`)."""

    canvas_name = ""

    def __init__(self, shown: Callable[[], bool], parent: QWidget | None = None) -> None:
        super().__init__(shown, parent)
        self.figure = Figure(figsize=(6, 3), layout="constrained")
        self.figure.patch.set_facecolor("#2b2d30")
        self.canvas = PlotCanvas(self.figure)
        self.canvas.setObjectName(self.canvas_name)
        self.layout_.addWidget(self.canvas, stretch=1)
        self.layout_.addWidget(self.note)


class ImagesPage(_FigurePage):
    """Overlays on a 2D photograph: one panel per scenario, a shared colour scale; the first
    scenario's overlay that lies on the photograph on screen can also be laid over it (to
    check the labels and mark vessels there)."""

    kind = "overlays"
    canvas_name = "images_canvas"
    empty = N_("Run scenarios of a twin with results on a photograph to compare them here.")
    on_photo_changed = Signal(object)  # the chosen overlay of each run (a list), or None

    def __init__(self, shown: Callable[[], bool], parent: QWidget | None = None) -> None:
        super().__init__(shown, parent)
        self.on_photo = QCheckBox(tr("Show on the photograph"), self)
        self.on_photo.setObjectName("images_on_photo")
        self.on_photo.setToolTip(
            tr("Lay the map of the first scenario run on the photograph on screen over it "
               "(right-click a vessel there to mark it artery or vein)")
        )  # fmt: skip
        self.on_photo.toggled.connect(lambda _: self._send_to_photo())
        self.choice.currentIndexChanged.connect(lambda _: self._send_to_photo())
        self.top.addWidget(self.on_photo)

    def set_runs(self, runs: list[Run], stale: set[str], case: Any) -> None:
        """As for every page; the map on the photograph follows."""
        super().set_runs(runs, stale, case)
        self._send_to_photo()

    def refresh_photo(self) -> None:
        """Send the chosen map again (another photograph is on screen)."""
        self._send_to_photo()

    def _send_to_photo(self) -> None:
        name, runs = self.chosen()
        shown = self.on_photo.isChecked() and runs
        self.on_photo_changed.emit([r.result.overlays[name] for r in runs] if shown else None)

    def draw(self) -> None:
        """Draw the chosen overlay of each scenario (only while the tab is looked at)."""
        if not self.shown():
            return
        self.figure.clear()
        name, runs = self.chosen()
        runs = runs[:MAX_PANELS]
        if not runs:
            self.note.setText(tr(self.empty))
            self.canvas.draw_idle()
            return
        overlays = [r.result.overlays[name] for r in runs]
        clim = shared_range(o.values for o in overlays)
        axes_row = self.figure.subplots(1, len(runs), squeeze=False)[0]
        mapping, missing = None, False
        for axes, run, overlay in zip(axes_row, runs, overlays, strict=True):
            photo = photo_pixels(self.case, overlay)
            missing |= photo is None
            mapping = plot_overlay(axes, overlay, photo, clim=clim) or mapping
            old = run.scenario in self.stale
            axes.set_title(_title(run, self.stale), fontsize=9,
                           color=STALE_COLOUR if old else "#dddddd")  # fmt: skip
        unit = f" [{overlays[0].unit}]" if overlays[0].unit else ""
        if mapping is not None:
            bar = self.figure.colorbar(mapping, ax=list(axes_row), fraction=0.03, pad=0.02)
            bar.ax.tick_params(colors="#dddddd", labelsize=8)
            bar.set_label(tr(overlays[0].label) + unit, color="#dddddd", fontsize=8)
        if overlays[0].categories:
            category_legend(self.figure, overlays[0], labelcolor="#dddddd",
                            loc="outside lower center")  # fmt: skip
        if mapping is not None:
            how = tr("shared colour scale {low} to {high}{unit}.").format(
                low=_g3(clim[0]), high=_g3(clim[1]), unit=unit
            )
        elif overlays[0].categories:
            how = tr("{categories} in the legend's colours.").format(
                categories=", ".join(tr(c) for c in overlays[0].categories)
            )
        else:
            how = tr("the mask in cyan (fill and outline).")
        text = tr_n("{n} scenario(s); {how}", "{n} scenario(s); {how}", len(runs)).format(
            n=len(runs), how=how
        )
        if missing:
            text += " " + tr("Grey background: the photograph is not loaded (or not in this case).")
        self.note.setText(text)
        self.canvas.draw_idle()


class TablesPage(_ResultPage):
    """A result table of every scenario, side by side (rows matched on the first column)
    or one scenario after another."""

    kind = "tables"
    empty = N_("Run scenarios of a twin with result tables to compare them here.")

    def __init__(self, shown: Callable[[], bool], parent: QWidget | None = None) -> None:
        super().__init__(shown, parent)
        self.side = QCheckBox(tr("Scenarios side by side"), self)
        self.side.setObjectName("tables_side_by_side")
        self.side.setChecked(True)
        self.side.toggled.connect(lambda _: self.draw())
        self.top.addWidget(self.side)
        self.table = QTableWidget(0, 0, self)
        self.table.setObjectName("result_table")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.layout_.addWidget(self.table, stretch=1)
        self.layout_.addWidget(self.note)

    def draw(self) -> None:
        """Fill the table (only while the tab is looked at)."""
        if not self.shown():
            return
        name, runs = self.chosen()
        shared = table_shared(runs, name, self.stale)
        side = table_side_by_side(runs, name, self.stale) if self.side.isChecked() else None
        headings, rows = shared or side or table_stacked(runs, name, self.stale)
        self.side.setEnabled(bool(runs) and table_side_by_side(runs, name) is not None)
        self.table.clear()
        self.table.setColumnCount(len(headings))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels(headings)
        for column, heading in enumerate(headings):
            if _marked_old(heading):
                self.table.horizontalHeaderItem(column).setForeground(QColor(STALE_COLOUR))
        for row, cells in enumerate(rows):
            old_row = _marked_old(cells[0])
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if old_row or _marked_old(headings[column]):
                    font = QFont(item.font())
                    font.setItalic(True)
                    item.setFont(font)
                    item.setForeground(QColor(150, 150, 150))
                    item.setToolTip(
                        tr("Out of date: computed from other data than the case holds")
                    )
                self.table.setItem(row, column, item)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        how = tr("side by side") if side else tr("one scenario after another")
        if shared:
            how = tr("the same in every scenario: shown once")
        self.note.setText(
            tr_n("{n} scenario(s), {how}.", "{n} scenario(s), {how}.", len(runs)).format(
                n=len(runs), how=how
            )
            if runs
            else tr(self.empty)
        )


class ChartsPage(_FigurePage):
    """A chart (waterfall, spider plot) of every scenario: identical charts drawn once,
    titled with every scenario that has it."""

    kind = "charts"
    canvas_name = "charts_canvas"
    empty = N_("Run scenarios of a twin with charts (waterfall, spider plots) to see them here.")

    def draw(self) -> None:
        """Draw the chosen chart (only while the tab is looked at)."""
        if not self.shown():
            return
        self.figure.clear()
        name, runs = self.chosen()
        groups = chart_groups(runs, name)[:MAX_PANELS] if name else []
        if not groups:
            self.note.setText(tr(self.empty))
            self.canvas.draw_idle()
            return
        axes_row = self.figure.subplots(1, len(groups), squeeze=False)[0]
        for axes, (members, chart) in zip(axes_row, groups, strict=True):
            axes.set_facecolor("#1e1f22")
            for spine in axes.spines.values():
                spine.set_color("#aaaaaa")
            axes.tick_params(colors="#dddddd", labelsize=8)
            title = ", ".join(_title(r, self.stale) for r in members)
            plot_chart(axes, chart, title)
            old = any(r.scenario in self.stale for r in members)
            axes.title.set_color(STALE_COLOUR if old else "#dddddd")
            axes.yaxis.label.set_color("#dddddd")
            axes.xaxis.label.set_color("#dddddd")
        shared = len(groups) == 1 and len(runs) > 1
        self.note.setText(
            tr("The same in every scenario (it comes from the patient's measurements).")
            if shared
            else tr_n(
                "{n} chart(s), one per scenario.", "{n} chart(s), one per scenario.", len(groups)
            ).format(n=len(groups))
        )
        self.canvas.draw_idle()
