"""The comparison's Sensitivity tab: which inputs drive the chosen outcome, as a tornado
plot per scenario run with a sensitivity analysis (`core.sensitivity_plot`, as in the
report). Drawn only while its tab is looked at; out-of-date runs keep their mark."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.figure import Figure
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from meditwin_desktop.core.case import Run
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.sensitivity_plot import (
    MAX_PANELS,
    SENSITIVITY_RULE,
    indices,
    plot_tornadoes,
    sensitivity_outcomes,
)
from meditwin_desktop.core.twin import Twin
from meditwin_desktop.ui.plot_canvas import PlotCanvas
from meditwin_desktop.ui.result_tabs import refill

TEXT = "#dddddd"


class SensitivityPage(QWidget):
    """An outcome chooser above the tornado plots of the compared runs."""

    def __init__(self, shown: Callable[[], bool], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shown = shown
        self.twin: Twin | None = None
        self.runs: list[Run] = []
        self.stale: set[str] = set()
        layout = QVBoxLayout(self)
        self.choice = QComboBox(self)
        self.choice.setObjectName("sensitivity_choice")
        self.choice.currentIndexChanged.connect(lambda _: self.draw())
        self.figure = Figure(figsize=(6, 3), layout="constrained")
        self.figure.patch.set_facecolor("#2b2d30")
        self.canvas = PlotCanvas(self.figure)
        self.canvas.setObjectName("sensitivity_canvas")
        self.note = QLabel(tr(SENSITIVITY_RULE), self)
        self.note.setObjectName("sensitivity_note")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #aaaaaa;")
        layout.addWidget(self.choice)
        layout.addWidget(self.canvas, stretch=1)
        layout.addWidget(self.note)

    def set_runs(self, twin: Twin | None, runs: list[Run], stale: set[str]) -> bool:
        """The runs to compare (scenario order) and the out-of-date scenarios; whether any
        run has Sobol indices (the tab is shown only then)."""
        self.twin, self.runs, self.stale = twin, list(runs), set(stale)
        outcomes = sensitivity_outcomes(twin, runs) if twin is not None else {}
        refill(self.choice, outcomes)
        self.draw()
        return bool(outcomes)

    def draw(self) -> None:
        """The chosen outcome's tornado plots, one panel per scenario (at most four)."""
        if not self.shown() or self.twin is None:
            return
        self.figure.clear()
        name = self.choice.currentData()
        runs = [r for r in self.runs if name and indices(r, name)][:MAX_PANELS]
        if not runs:
            self.canvas.draw_idle()
            return
        axes_row = self.figure.subplots(1, len(runs), squeeze=False, sharey=True)[0]
        for axes in axes_row:
            axes.set_facecolor("#1e1f22")
            for spine in axes.spines.values():
                spine.set_color("#aaaaaa")
            axes.tick_params(colors=TEXT)
        plot_tornadoes(axes_row, self.twin, runs, name, self.stale, text_colour=TEXT)
        for axes in axes_row:
            axes.xaxis.label.set_color(TEXT)
        legend = axes_row[0].get_legend()
        if legend is not None:
            legend.get_frame().set_facecolor("#2b2d30")
            for text in legend.get_texts():
                text.set_color(TEXT)
        self.figure.suptitle(tr(self.twin_outcome_label(name)), color=TEXT, fontsize=10)
        self.canvas.draw_idle()

    def twin_outcome_label(self, name: str) -> str:
        """The chosen outcome's label (untranslated; its name if the twin lacks it)."""
        outcome = next((o for o in self.twin.outcomes if o.name == name), None)
        return outcome.label if outcome is not None else name
