"""Scenarios side by side: an outcomes table (each value coloured against its clinical
target, ★ only beyond the clinical resolution, clinical rounding, the user's unit system),
overlaid time series with observed points, bars with the target, linked 3D viewports (grid
fields and surface maps), overlays on photographs and result tables (`ui.result_tabs`)."""

from __future__ import annotations

import numpy as np
import pyvista as pv
from matplotlib.figure import Figure
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSlider,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.comparison import (
    BEST_RULE,
    OUT_OF_DATE,
    STATE_COLOURS,
    TARGET_RULE,
    baseline_run,
    best_scenarios,
    cell_text,
    outcome_heading,
    outcome_note,
    plot_bars,
    plot_series,
    resolution_text,
    ruled_out,
    spread_of,
    state_text,
    target_state,
    target_text,
    write_comparison_csv,
)
from meditwin_desktop.core.i18n import N_, decimal_separator, number, tr, tr_n
from meditwin_desktop.core.result_plots import result_labels, shared_range
from meditwin_desktop.core.twin import Field, Twin, is_point
from meditwin_desktop.core.uncertainty_text import reading_note, spread_tip
from meditwin_desktop.core.units import SYSTEM_SETTING, UNIT_SYSTEMS, system_unit, user_system
from meditwin_desktop.ui.plot_canvas import PlotCanvas
from meditwin_desktop.ui.result_tabs import ChartsPage, ImagesPage, TablesPage, refill
from meditwin_desktop.ui.sensitivity_view import SensitivityPage
from meditwin_desktop.ui.window_views import settings

# Table cells: a dark tint of the target state's colour behind light text (the ↓/↑ marks
# and the tooltip say the same for colour-blind readers)
CELL_TINTS = {"met": QColor(36, 92, 58), "near": QColor(112, 84, 20), "off": QColor(118, 38, 36)}
EMPTY_PLOTS = {  # before any run, and when the results have none
    "curves": (N_("No curves yet: they appear here, side by side, once the scenarios have run."),
               N_("The results of this twin have no curves.")),
    "outcomes": (N_("No outcomes yet: they appear here, side by side, once the scenarios have "
                    "run."), N_("The results of this twin have no outcomes.")),
}  # fmt: skip

MAX_VIEWPORTS = 4


def field_to_mesh(field: Field, frame: int | None = None) -> pv.DataSet:
    """A field as a pyvista dataset in LPS mm (grid fields: image data placed by affine);
    a field over time at `frame` (None: its last)."""
    if field.points is not None:
        faces = np.column_stack([np.full(len(field.faces), 3), field.faces]).ravel()
        mesh = pv.PolyData(field.points, faces)
        mesh.point_data["values"] = field.frame(frame)
        return mesh
    nk, nj, ni = field.values.shape
    affine = field.affine if field.affine is not None else np.eye(4)
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    grid = pv.ImageData(dimensions=(ni, nj, nk), spacing=spacing, origin=affine[:3, 3])
    grid.direction_matrix = affine[:3, :3] / spacing
    grid.point_data["values"] = field.values.reshape(-1)
    return grid


def _nearest_frame(field: Field, at: float) -> int:
    """The frame of a movie closest in time to `at`."""
    return int(np.abs(np.asarray(field.times, float) - at).argmin())


def _colour_bar(title: str) -> dict:
    """A slim vertical colour bar along the right edge (a horizontal one ran across the
    ventricle in a short viewport)."""
    return {"title": title.replace(" []", ""), "vertical": True, "position_x": 0.82,
            "position_y": 0.12, "width": 0.05, "height": 0.76, "title_font_size": 12,
            "label_font_size": 11, "n_labels": 4, "fmt": "%.3g"}  # fmt: skip


def _mark_points(viewport, twin: Twin | None, run: Run) -> None:
    """The run's point outcomes (a VT isthmus) as labelled yellow spheres."""
    if twin is None or run.result is None:
        return
    for outcome in twin.outcomes:
        value = run.result.outcomes.get(outcome.name)
        if outcome.point and is_point(value):
            centre = np.asarray(value, float)
            viewport.add_mesh(pv.Sphere(radius=4.0, center=centre), color="#ffdc3c")
            viewport.add_point_labels(centre[None, :], [tr(outcome.label)], font_size=10,
                                      text_color="#ffdc3c", shape=None, show_points=False,
                                      always_visible=True)  # fmt: skip


def _is_zone(mesh: pv.DataSet) -> bool:
    """A 0/1 grid field (a zone rather than a quantity)."""
    values = np.asarray(mesh["values"])
    return isinstance(mesh, pv.ImageData) and bool(values.size) and np.isin(values, (0, 1)).all()


def _anatomy_near(
    surfaces: list[tuple[pv.PolyData, tuple[int, int, int]]], bounds: np.ndarray, margin_mm: float
) -> list[tuple[pv.PolyData, tuple[int, int, int]]]:
    """The parts of the anatomy's surfaces within `margin_mm` of a result's bounds."""
    box = bounds + np.array([-1, 1, -1, 1, -1, 1]) * margin_mm
    near = []
    for surface, color in surfaces:
        b = np.array(surface.bounds)
        if (b[0::2] <= box[1::2]).all() and (b[1::2] >= box[0::2]).all():
            clipped = surface.clip_box(box.tolist(), invert=False)
            if clipped.n_points:
                near.append((clipped.extract_surface(algorithm="dataset_surface"), color))
    return near


def _shown(mesh: pv.DataSet) -> pv.DataSet:
    """What to draw of a field: a 0/1 field (a zone) as its surface, other grids as three
    orthogonal slices through their centre (one dataset: a MultiBlock has no `n_points`,
    which crashed the 3D results tab), meshes as they are."""
    if not isinstance(mesh, pv.ImageData):
        return mesh
    if _is_zone(mesh):
        return mesh.contour([0.5], scalars="values")
    return mesh.slice_orthogonal().combine()


def _dark_axes(figure: Figure):
    """A fresh axes on `figure`, in the dark theme's colours."""
    figure.clear()
    axes = figure.add_subplot(111)
    axes.set_facecolor("#1e1f22")
    for spine in axes.spines.values():
        spine.set_color("#aaaaaa")
    axes.tick_params(colors="#dddddd")
    return axes


def _g3(value: float) -> str:
    """`value` with 3 significant digits (`:.3g`), in the decimal separator in use."""
    text = f"{value:.3g}"
    return text.replace(".", decimal_separator())


def _darken(axes) -> None:
    for text in (axes.xaxis.label, axes.yaxis.label, axes.title):
        text.set_color("#dddddd")


class ComparisonView(QWidget):
    """Compares the runs of one twin's scenarios on the open case; results computed from
    other data than the case now holds are marked out of date everywhere."""

    refresh_requested = Signal()  # "Run all again" for out-of-date results
    unit_system_changed = Signal(str)  # the user chose mg/dL or mmol/L (kept in settings)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.twin: Twin | None = None
        self.runs: list[Run] = []
        self.stale: dict[str, str] = {}
        self.failed: dict[str, str] = {}  # scenario -> why its latest run failed
        self.colours: dict[str, str] = {}  # scenario -> its colour in the curves
        self.anatomy: list[tuple[pv.PolyData, tuple[int, int, int]]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.stale_bar = QWidget(self)
        self.stale_bar.setObjectName("stale_bar")
        self.stale_bar.setStyleSheet("QWidget#stale_bar { background: #5a2a24; }")
        row = QHBoxLayout(self.stale_bar)
        row.setContentsMargins(8, 4, 8, 4)
        self.stale_text = QLabel(self.stale_bar)
        self.stale_text.setObjectName("stale_text")
        self.stale_text.setWordWrap(True)
        refresh = QPushButton(tr("Run all again"), self.stale_bar)
        refresh.setObjectName("refresh_runs")
        refresh.clicked.connect(self.refresh_requested)
        row.addWidget(self.stale_text, stretch=1)
        row.addWidget(refresh)
        self.stale_bar.hide()
        layout.addWidget(self.stale_bar)
        self.tabs = QTabWidget(self)
        corner = QWidget(self.tabs)  # beside the tabs: no row of its own in a short dock
        corner.setLayout(self._header_row())
        self.tabs.setCornerWidget(corner, Qt.Corner.TopRightCorner)
        layout.addWidget(self.tabs)
        self.notes = QLabel(self)
        self.notes.setObjectName("model_notes")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #f0c040;")
        self.notes.hide()
        layout.addWidget(self.notes)
        self.uncertainty_note = QLabel(self)  # runs with uncertainty: how to read them
        self.uncertainty_note.setObjectName("uncertainty_note")
        self.uncertainty_note.setWordWrap(True)
        self.uncertainty_note.setStyleSheet("color: #aaaaaa;")
        self.uncertainty_note.hide()
        layout.addWidget(self.uncertainty_note)
        self.table = QTableWidget(0, 0, self)
        self.table.setObjectName("outcome_table")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.tabs.addTab(self.table, tr("Outcomes"))
        self.curves_page = self._plots()
        self.tabs.addTab(self.curves_page, tr("Curves"))
        self.bars_page = self._bars()
        self.tabs.addTab(self.bars_page, tr("Bars"))
        self.sensitivity_page = SensitivityPage(
            lambda: self.tabs.currentWidget() is self.sensitivity_page, self
        )
        self.tabs.addTab(self.sensitivity_page, tr("Sensitivity"))  # runs with indices only
        self.tabs.setTabVisible(self.tabs.indexOf(self.sensitivity_page), False)
        self.spatial_page = self._spatial()
        self.tabs.addTab(self.spatial_page, tr("3D results"))
        self.images_page = ImagesPage(lambda: self.tabs.currentWidget() is self.images_page, self)
        self.tabs.addTab(self.images_page, tr("Images"))
        self.tables_page = TablesPage(lambda: self.tabs.currentWidget() is self.tables_page, self)
        self.tabs.addTab(self.tables_page, tr("Tables"))
        self.charts_page = ChartsPage(lambda: self.tabs.currentWidget() is self.charts_page, self)
        self.tabs.addTab(self.charts_page, tr("Charts"))
        self.tabs.currentChanged.connect(lambda _: self._refresh_visible())

    def _header_row(self) -> QHBoxLayout:
        """The colour key, the unit system (the user's setting, for the whole app and the
        report) and the CSV export."""
        row = QHBoxLayout()
        row.setContentsMargins(12, 0, 2, 2)
        key = QLabel(
            " ".join(
                f'<span style="color:{STATE_COLOURS[state]}">■</span> {tr(word)}'
                for state, word in (("met", N_("target met")), ("near", N_("borderline")),
                                    ("off", N_("missed")))
            )
            + " \u00a0 ★ " + tr("better (beyond the clinical resolution)"),
            self,
        )  # fmt: skip
        key.setObjectName("target_key")
        key.setToolTip(f"{tr(TARGET_RULE)}\n{tr(BEST_RULE)}")
        row.addWidget(key)
        row.addSpacing(12)
        self.unit_label = QLabel(tr("Units:"), self)
        row.addWidget(self.unit_label)
        self.unit_system = QComboBox(self)
        self.unit_system.setObjectName("unit_system")
        for system, description in UNIT_SYSTEMS.items():
            self.unit_system.addItem(system, system)
            self.unit_system.setItemData(
                self.unit_system.count() - 1, tr(description), Qt.ItemDataRole.ToolTipRole
            )
        self.unit_system.setToolTip(
            tr("Concentrations (LDL-C, glucose...) in this unit system everywhere: table, bars, "
               "curves and the report")
        )  # fmt: skip
        self.system = user_system()
        self.unit_system.setCurrentIndex(max(0, self.unit_system.findData(self.system)))
        self.unit_system.currentIndexChanged.connect(lambda _: self._system_chosen())
        row.addWidget(self.unit_system)
        self.export_button = QPushButton(tr("Export CSV…"), self)
        self.export_button.setObjectName("export_csv")
        self.export_button.setToolTip(
            tr("The table as a CSV file: values as shown and, beside them, the full values")
        )
        self.export_button.clicked.connect(self._ask_export)
        row.addWidget(self.export_button)
        return row

    def _system_chosen(self) -> None:
        """Keep the user's unit system and show everything in it."""
        self.system = str(self.unit_system.currentData())
        settings().setValue(SYSTEM_SETTING, self.system)
        self._fill_table()
        self._plot()
        self._plot_bars()
        self.unit_system_changed.emit(self.system)

    def export_csv(self, path) -> None:
        """Write the comparison table as CSV to `path` (`core.comparison.comparison_table`)."""
        if self.twin is not None:
            write_comparison_csv(path, self.twin, self.runs, set(self.stale), self.system)

    def _ask_export(self) -> None:
        if self.twin is None or not self.runs:
            return
        name = f"{self.twin.id}-comparison.csv"  # a file name: not translated
        path, _ = QFileDialog.getSaveFileName(
            self, tr("Export the comparison"), name, "CSV (*.csv)"
        )
        if path:
            self.export_csv(path)

    def _figure_page(self, name: str, redraw) -> tuple[QWidget, QComboBox, Figure, PlotCanvas]:
        """A page with a chooser above a matplotlib canvas (curves, bars); before there is
        anything to draw the canvas gives way to a message (no empty 0-1 axes)."""
        page = QWidget(self)
        layout = QVBoxLayout(page)
        choice = QComboBox(page)
        choice.setObjectName(name)
        choice.currentTextChanged.connect(lambda _: redraw())
        figure = Figure(figsize=(5, 3), tight_layout=True)
        figure.patch.set_facecolor("#2b2d30")
        canvas = PlotCanvas(figure)
        stack = QStackedWidget(page)
        stack.setObjectName(f"{name}_stack")
        empty = QLabel(page)
        empty.setObjectName(f"{name}_empty")
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty.setWordWrap(True)
        empty.setStyleSheet("color: #aaaaaa; font-size: 13px;")
        stack.addWidget(empty)
        stack.addWidget(canvas)
        canvas.empty = empty  # the message shown instead (see `_show_plot`)
        layout.addWidget(choice)
        layout.addWidget(stack, stretch=1)
        return page, choice, figure, canvas

    @staticmethod
    def _show_plot(canvas: PlotCanvas, drawn: bool, message: str = "") -> None:
        """The canvas when something was drawn, else the message in its place."""
        stack = canvas.parentWidget()
        canvas.empty.setText(message)
        stack.setCurrentWidget(canvas if drawn else canvas.empty)
        if drawn:
            canvas.draw_idle()

    def _plots(self) -> QWidget:
        page, self.series_choice, self.figure, self.canvas = self._figure_page(
            "series_choice", self._plot
        )
        return page

    def _bars(self) -> QWidget:
        page, self.bar_choice, self.bar_figure, self.bar_canvas = self._figure_page(
            "bar_choice", self._plot_bars
        )
        return page

    def _spatial(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        self.field_choice = QComboBox(page)
        self.field_choice.setObjectName("field_choice")
        self.field_choice.currentTextChanged.connect(lambda _: self._refresh_spatial())
        self.viewport_row = QHBoxLayout()
        self.spatial_note = QLabel(
            tr("Run scenarios of a twin with spatial results to compare them here.")
        )
        self.time_slider = QSlider(Qt.Orientation.Horizontal, page)
        self.time_slider.setObjectName("field_time")
        self.time_slider.valueChanged.connect(self._show_frame)
        self.time_label = QLabel(page)
        time_row = QHBoxLayout()
        time_row.addWidget(self.time_label)
        time_row.addWidget(self.time_slider, stretch=1)
        layout.addWidget(self.field_choice)
        layout.addLayout(self.viewport_row, stretch=1)
        layout.addLayout(time_row)
        layout.addWidget(self.spatial_note)
        self.time_slider.hide()
        self.time_label.hide()
        self._frames: list[tuple[object, pv.DataSet, Field, str]] = []  # viewport, mesh,
        # field, scenario of each movie shown
        self.viewports: list = []
        self.color_range: tuple[float, float] | None = None
        return page

    # -- content -----------------------------------------------------------------------
    def show_runs(
        self, twin: Twin | None, case: Case | None, stale: dict[str, str] | None = None
    ) -> None:
        """Compare the successful runs of `twin` on `case` (scenario order); `stale`:
        scenario -> why its run is out of date."""
        self.twin = twin
        convertible = twin is not None and any(  # a choice only where it changes something
            system_unit(o.unit, o.label, system) != o.unit
            for o in twin.outcomes
            for system in UNIT_SYSTEMS
        )
        self.unit_label.setVisible(convertible)
        self.unit_system.setVisible(convertible)
        runs = case.runs.get(twin.id, []) if (twin is not None and case is not None) else []
        order = [s.name for s in case.scenarios.get(twin.id, [])] if twin and case else []
        self.runs = sorted(
            (r for r in runs if r.status == "ok"),
            key=lambda r: order.index(r.scenario) if r.scenario in order else 99,
        )
        # a scenario keeps its colour when another fails; a failed one is said, not dropped
        self.colours = {name: f"C{n % 10}" for n, name in enumerate(order)}
        last = {r.scenario: r for r in runs}  # each scenario's latest run
        self.failed = {name: run.error or tr("no reason recorded") for name, run in last.items()
                       if name in order and run.status == "failed"}  # fmt: skip
        shown = {r.scenario for r in self.runs}
        self.stale = {k: v for k, v in (stale or {}).items() if k in shown}
        self._show_stale()
        self._show_notes()
        self._fill_table()
        refill(self.series_choice, result_labels(self.runs, "series"))
        self._plot()
        outcomes = {o.name: tr(o.label) for o in twin.outcomes if o.numeric} if twin else {}
        refill(self.bar_choice, outcomes)  # a position or a category has no bar
        self._plot_bars()
        indexed = self.sensitivity_page.set_runs(twin, self.runs, set(self.stale))
        self.tabs.setTabVisible(self.tabs.indexOf(self.sensitivity_page), indexed)
        refill(self.field_choice, result_labels(self.runs, "fields"))
        self._refresh_spatial()
        self.images_page.set_runs(self.runs, set(self.stale), case)
        self.tables_page.set_runs(self.runs, set(self.stale), case)
        self.charts_page.set_runs(self.runs, set(self.stale), case)

    def _show_stale(self) -> None:
        if not self.stale:
            self.stale_bar.hide()
            return
        lines = [
            "⚠ "
            + tr_n(
                "{n} of {total} result(s) are out of date: they were computed from other data "
                "than the case now holds.",
                "{n} of {total} result(s) are out of date: they were computed from other data "
                "than the case now holds.",
                len(self.stale),
            ).format(n=len(self.stale), total=len(self.runs))
        ]
        grouped: dict[str, list[str]] = {}  # one line per reason (it is often the same)
        for name, reason in self.stale.items():
            grouped.setdefault(reason, []).append(name)
        lines += ["• " + tr("{names}: {text}").format(names=", ".join(names), text=reason)
                  for reason, names in grouped.items()]  # fmt: skip
        self.stale_text.setText("\n".join(lines))
        self.stale_bar.show()

    def _show_notes(self) -> None:
        """The model's warnings, each once: 'all scenarios' or the scenarios it concerns."""
        where: dict[str, list[str]] = {}
        for run in self.runs:
            for warning in run.result.warnings if run.result is not None else []:
                where.setdefault(warning, []).append(run.scenario)
        every = len(self.runs) > 1
        lines = [
            "⚠ "
            + tr("{names}: {text}").format(
                names=tr("All scenarios") if every and len(names) == len(self.runs)
                else ", ".join(names),
                text=warning,
            )
            for warning, names in where.items()
        ]  # fmt: skip
        for scenario, why in self.failed.items():
            lines.insert(0, "⚠ " + tr("{scenario} failed and is not compared: {why}").format(
                scenario=scenario, why=why))  # fmt: skip
        for scenario, limits in ruled_out(self.twin, self.runs).items() if self.twin else []:
            lines.insert(0, "⚠ " + tr("{scenario} misses a safety limit ({limits}): it is not "
                                      "marked best at anything").format(
                scenario=scenario, limits=", ".join(limits)))  # fmt: skip
        shown = 3  # the table keeps the room; the tooltip lists them all
        more = [tr("… and {n} more: point here to read them all").format(n=len(lines) - shown)]
        self.notes.setText("\n".join(lines[:shown] + (more if len(lines) > shown else [])))
        self.notes.setToolTip("\n".join(lines))
        if not self.runs and not self.failed and self.twin is not None:  # before a first run
            self.notes.setText(
                tr("No results yet: set the scenarios in the Twins panel and press Run all; "
                   "they appear here side by side.")
            )  # fmt: skip
        self.notes.setVisible(bool(self.notes.text()))
        self.uncertainty_note.setText(reading_note(self.runs))
        self.uncertainty_note.setVisible(bool(self.uncertainty_note.text()))

    def _fill_table(self) -> None:
        table, twin, runs = self.table, self.twin, self.runs
        outcomes = list(twin.outcomes) if twin else []
        table.clear()
        table.setRowCount(len(outcomes))
        table.setColumnCount(len(runs) + 1)
        table.setHorizontalHeaderItem(0, QTableWidgetItem(tr("Outcome")))
        for column, run in enumerate(runs, start=1):
            table.setHorizontalHeaderItem(column, self._header(run))
        baseline = baseline_run(runs)
        best = best_scenarios(twin, runs, set(self.stale)) if twin else {}
        for row, outcome in enumerate(outcomes):
            heading = QTableWidgetItem(outcome_heading(outcome, self.system))
            tip = [tr(outcome.help) if outcome.help else outcome_heading(outcome, self.system)]
            if outcome.target is not None:
                source = f" ({outcome.target.source})" if outcome.target.source else ""
                tip.append(tr("Clinical target: {target}").format(
                    target=target_text(outcome, self.system)) + source)  # fmt: skip
            if outcome.resolution and outcome.better != "none":
                tip.append(
                    tr("Clinical resolution: differences up to {resolution} are the same (no ★)")
                    .format(resolution=resolution_text(outcome, self.system))
                )
            if outcome.limit:
                tip.append(tr("A safety limit: a scenario missing it is marked best at nothing"))
            heading.setToolTip("\n".join(tip))
            table.setItem(row, 0, heading)
            for column, run in enumerate(runs, start=1):
                table.setItem(row, column, self._cell(outcome, run, baseline, best))
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        if any(r.result is not None and r.result.spread for r in runs):
            table.resizeRowsToContents()  # P(target) on a second line

    def _header(self, run: Run) -> QTableWidgetItem:
        warnings = run.result.warnings if run.result is not None else []
        text = run.scenario + (f" ({tr(OUT_OF_DATE)})" if run.scenario in self.stale else "")
        item = QTableWidgetItem(("⚠ " if warnings else "") + text)
        tips = []
        if run.scenario in self.stale:
            tips.append(tr("Out of date: {why}").format(why=self.stale[run.scenario]))
            item.setForeground(QColor(240, 140, 110))
        if warnings:
            tips.append(tr("What the model noted:") + "\n" + "\n".join(f"• {w}" for w in warnings))
        item.setToolTip("\n\n".join(tips))
        return item

    def _cell(self, outcome, run: Run, baseline, best) -> QTableWidgetItem:
        text = cell_text(outcome, run, baseline, self.system, spread=True)
        note = outcome_note(outcome, run)
        first, *more = text.split("\n")  # a run with uncertainty: P(target) below
        item = QTableWidgetItem("\n".join([first + (" ⚠" if note else ""), *more]))
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        tips = [note] if note else []
        spread = spread_of(outcome, run) if run.status == "ok" else None
        if spread is not None:
            tips.append(spread_tip(outcome, spread, self.system))
        value = run.outcomes.get(outcome.name) if run.status == "ok" else None
        state = target_state(outcome, value)
        if state is not None:
            tips.append(state_text(outcome, value, self.system))  # "Below the target 75-85 %"
            item.setBackground(CELL_TINTS[state])
            item.setForeground(QColor(240, 240, 240))
            item.setData(Qt.ItemDataRole.UserRole, state)
        if run.scenario in self.stale:
            font = QFont(item.font())
            font.setItalic(True)
            item.setFont(font)
            item.setForeground(QColor(150, 150, 150))
            if state is not None:  # a faint tint: judged on a result that is out of date
                item.setBackground(QColor(CELL_TINTS[state].red(), CELL_TINTS[state].green(),
                                          CELL_TINTS[state].blue(), 90))  # fmt: skip
            tips.append(tr("Out of date: {why}").format(why=self.stale[run.scenario]))
        elif run.scenario in best.get(outcome.name, set()):
            item.setText("★ " + item.text())
            font = QFont(item.font())
            font.setBold(True)
            item.setFont(font)
            if state is None:
                item.setForeground(QColor(120, 220, 120))
            tips.append(
                tr("The better value: ahead of the next scenario by more than the clinical "
                   "resolution ({resolution})").format(resolution=resolution_text(outcome,
                                                                                  self.system))
            )  # fmt: skip
        item.setToolTip("\n".join(tips))
        return item

    def _refresh_visible(self) -> None:
        self._plot()
        self._plot_bars()
        self.sensitivity_page.draw()
        self._refresh_spatial()
        self.images_page.draw()
        self.tables_page.draw()
        self.charts_page.draw()

    def _plot(self) -> None:
        if self.tabs.currentWidget() is not self.curves_page:
            return  # drawing costs ~0.1 s on the GUI thread: only for the tab looked at
        name = self.series_choice.currentData()
        if name is None:
            self._show_plot(self.canvas, False, self._empty_text("curves"))
            return
        axes = _dark_axes(self.figure)
        stale = set(self.stale)
        drawn = plot_series(axes, self.runs, name, linewidth=1.8, stale=stale,
                            observed_colour="white", system=self.system,
                            colours=self.colours, legend_beside=True)  # fmt: skip
        if drawn:
            _darken(axes)
            legend = axes.get_legend()
            legend.get_frame().set_facecolor("#2b2d30")
            for text in legend.get_texts():
                text.set_color("#dddddd")
        self._show_plot(self.canvas, drawn, self._empty_text("curves"))

    def _empty_text(self, what: str) -> str:
        before, none = EMPTY_PLOTS[what]
        return tr(before if not self.runs else none)

    def _plot_bars(self) -> None:
        if self.tabs.currentWidget() is not self.bars_page or self.twin is None:
            return
        name = self.bar_choice.currentData()
        outcome = next((o for o in self.twin.outcomes if o.name == name), None)
        if outcome is None or not self.runs:
            self._show_plot(self.bar_canvas, False, self._empty_text("outcomes"))
            return
        axes = _dark_axes(self.bar_figure)
        stale = set(self.stale)
        best = best_scenarios(self.twin, self.runs, stale)[outcome.name]
        if plot_bars(axes, outcome, self.runs, stale=stale, best=best, system=self.system,
                     whisker_colour="#f0f0f0"):  # fmt: skip
            _darken(axes)
            for text in axes.texts + axes.get_xticklabels():
                text.set_color("#dddddd")
        self._show_plot(self.bar_canvas, True)

    # -- linked viewports ---------------------------------------------------------------------
    def set_anatomy(self, surfaces: list[tuple[pv.PolyData, tuple[int, int, int]]]) -> None:
        """Label surfaces (mesh, colour) drawn faintly under the spatial results."""
        self.anatomy = surfaces

    def _refresh_spatial(self) -> None:
        if self.tabs.currentWidget() is not self.spatial_page:
            return  # OpenGL viewports are created only when looked at
        name = self.field_choice.currentData()
        runs = [r for r in self.runs if r.result and name in r.result.fields][:MAX_VIEWPORTS]
        self._ensure_viewports(len(runs))
        if not runs:
            self._frames = []
            self.time_slider.hide()
            self.time_label.hide()
            self.spatial_note.setText(
                tr("Run scenarios of a twin with spatial results to compare them here.")
            )
            return
        fields = [r.result.fields[name] for r in runs]
        timed = all(f.times is not None and f.points is not None for f in fields)
        at = float(fields[0].times[self._frame_for(fields[0])]) if timed else 0.0
        meshes = [field_to_mesh(f, _nearest_frame(f, at) if timed else None) for f in fields]
        # finite values only (scar has none), over every frame of a movie: a colour means
        # the same potential all along
        self.color_range = shared_range(f.values if timed else m["values"]
                                        for f, m in zip(fields, meshes, strict=True))  # fmt: skip
        unit = runs[0].result.fields[name].unit
        bounds = np.array(meshes[0].bounds)
        anatomy = _anatomy_near(self.anatomy, bounds, margin_mm=20.0)
        self._frames = []
        for viewport, run, mesh in zip(self.viewports, runs, meshes, strict=False):
            viewport.clear()
            if timed:
                self._frames.append((viewport, mesh, run.result.fields[name], run.scenario))
            _mark_points(viewport, self.twin, run)
            for surface, color in anatomy:
                viewport.add_mesh(surface, color=np.array(color) / 255, opacity=0.25)
            shown = _shown(mesh)
            if shown.n_points == 0:
                pass  # e.g. no ablation zone in this scenario
            elif _is_zone(mesh):
                viewport.add_mesh(shown, color="orange", opacity=0.55, smooth_shading=True)
            else:
                viewport.add_mesh(
                    shown,
                    scalars="values",
                    clim=self.color_range,
                    cmap="inferno",
                    nan_color="#6b6f76",  # no value (scar, a lesion): grey
                    scalar_bar_args=_colour_bar(f"{tr(fields[0].label)} [{unit}]"),
                )
            old = run.scenario in self.stale
            viewport.add_text(
                f"{run.scenario} ({tr(OUT_OF_DATE)})" if old else run.scenario,
                font_size=10,
                color="#f08c6e" if old else "white",
            )
        self.time_slider.setVisible(timed)
        self.time_label.setVisible(timed)
        if timed:
            self._show_time(at)
        first = self.viewports[0]
        first.reset_camera(bounds=bounds)
        for viewport in self.viewports[1 : len(runs)]:
            viewport.camera = first.camera  # one camera: rotate one, all follow
        for viewport in self.viewports[: len(runs)]:
            viewport.render()
        self.spatial_note.setText(
            tr_n("{n} scenario(s), shared camera;", "{n} scenario(s), shared camera;",
                 len(runs)).format(n=len(runs))
            + " "
            + (
                tr("orange: the zone's surface, over the anatomy within 2 cm.")
                if _is_zone(meshes[0])
                else tr("shared colour scale {low} to {high} {unit}.").format(
                    low=_g3(self.color_range[0]), high=_g3(self.color_range[1]), unit=unit)
            )
        )  # fmt: skip

    def _frame_for(self, field: Field) -> int:
        """The frame the slider shows for `field` (kept across refreshes, in range)."""
        count = len(field.times)
        blocked = self.time_slider.blockSignals(True)
        self.time_slider.setRange(0, max(count - 1, 0))
        self.time_slider.blockSignals(blocked)
        return min(self.time_slider.value(), count - 1)

    def _show_time(self, at: float) -> None:
        """'t = 120 ms', and where a scenario's movie has no frame that close, its own."""
        unit = self._frames[0][2].time_unit if self._frames else "ms"
        text = f"t = {number(at)} {unit}"
        for _, _, field, scenario in self._frames[1:]:
            own = float(field.times[_nearest_frame(field, at)])
            if abs(own - at) > 1.0:
                text += "; " + tr("{scenario} at {time} {unit}").format(
                    scenario=scenario, time=number(own), unit=unit)  # fmt: skip
        self.time_label.setText(text)

    def _show_frame(self, frame: int) -> None:
        """Move every viewport's movie to the time of the first one's `frame` (each to its
        nearest frame: the scenarios' movies need not share their times)."""
        if not self._frames:
            return
        first = self._frames[0][2]
        at = float(first.times[min(frame, len(first.times) - 1)])
        for viewport, mesh, field, _ in self._frames:
            mesh.point_data["values"] = field.frame(_nearest_frame(field, at))
            viewport.render()
        self._show_time(at)

    def _ensure_viewports(self, count: int) -> None:
        from pyvistaqt import QtInteractor

        from meditwin_desktop.ui.view3d import give_own_window

        while len(self.viewports) < count:
            viewport = QtInteractor(self, auto_update=False)
            give_own_window(viewport)
            viewport.set_background((0.08, 0.09, 0.11))
            self.viewport_row.addWidget(viewport)
            self.viewports.append(viewport)
            self._link(viewport)
        for n, viewport in enumerate(self.viewports):
            viewport.setVisible(n < count)

    def _link(self, viewport) -> None:
        """Rotating or zooming `viewport` re-renders the others with its camera: they share
        the camera object, but a VTK view draws only when told (its interactor's render
        event, fired at every step of a rotation or zoom, tells them here)."""
        import weakref

        view, source = weakref.ref(self), weakref.ref(viewport)  # no cycle through VTK

        def follow(*_) -> None:
            this, moved = view(), source()
            if this is not None and moved is not None:
                this._follow(moved)

        viewport.iren.interactor.AddObserver("RenderEvent", follow)

    def _follow(self, source) -> None:
        """Render the other visible viewports with `source`'s camera (once: their own
        renders do not come back here)."""
        if getattr(self, "_following", False) or getattr(source, "_closed", False):
            return
        self._following = True
        try:
            for viewport in self.viewports:
                if viewport is source or not viewport.isVisible():
                    continue
                if getattr(viewport, "_closed", False):
                    continue
                if viewport.camera is not source.camera:
                    viewport.camera = source.camera
                viewport.render()
        finally:
            self._following = False

    def close_viewports(self) -> None:
        """Release the OpenGL viewports."""
        from meditwin_desktop.ui.view3d import release_plotter

        for viewport in self.viewports:
            release_plotter(viewport)
