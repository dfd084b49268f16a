"""The "Run with uncertainty" dialog: which inputs are sampled (with their spread and
source), how many runs, a sensitivity analysis or not, and where the runs go (this
computer, or a Dask cluster's scheduler). The choices are kept in the settings."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.i18n import number, tr
from meditwin_desktop.core.twin import Twin
from meditwin_desktop.core.uncertainty import (
    DEFAULT_SAMPLES,
    SOBOL_MIN_BASE,
    UncertaintyPlan,
    sobol_base,
)
from meditwin_desktop.core.uncertainty_text import spread_description
from meditwin_desktop.ui.window_views import settings

SAMPLES_SETTING = "uncertainty/samples"
SENSITIVITY_SETTING = "uncertainty/sensitivity"
SEED_SETTING = "uncertainty/seed"
SCHEDULER_SETTING = "cluster/scheduler"  # a Dask scheduler's address; empty: this computer


class UncertaintyDialog(QDialog):
    """Asks how to run the scenarios with uncertainty; `plan()` and `scheduler()` after."""

    def __init__(self, twin: Twin, scenarios: int, last_seconds: float | None,
                 workers: int, parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setObjectName("uncertainty_dialog")
        self.setWindowTitle(tr("Run with uncertainty"))
        self.twin, self._scenarios = twin, scenarios
        self._last_seconds, self._workers = last_seconds, max(1, workers)
        layout = QVBoxLayout(self)
        intro = QLabel(tr(
            "Each scenario runs once as set and then on samples of the uncertain inputs "
            "below. Every outcome gets its median, its 90 % interval and the probability of "
            "meeting its clinical target. The interval covers these inputs only, not the "
            "model's own simplifications."), self)  # fmt: skip
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.inputs = QTableWidget(len(twin.uncertain), 3, self)
        self.inputs.setObjectName("uncertain_inputs")
        self.inputs.setHorizontalHeaderLabels([tr("Input"), tr("Spread"), tr("Source")])
        self.inputs.verticalHeader().hide()
        self.inputs.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, item in enumerate(twin.uncertain):
            cells = (tr(twin.parameter(item.name).label), spread_description(twin, item),
                     item.source)  # fmt: skip
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                self.inputs.setItem(row, column, cell)
        header = self.inputs.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.inputs, stretch=1)
        form = QFormLayout()
        stored = settings()
        self.samples = QSpinBox(self)
        self.samples.setObjectName("uncertainty_samples")
        self.samples.setRange(8, 10000)
        self.samples.setValue(_int(stored.value(SAMPLES_SETTING), DEFAULT_SAMPLES, 8, 10000))
        form.addRow(tr("Samples per scenario"), self.samples)
        self.sensitivity = QCheckBox(tr("Which inputs matter most (Sobol sensitivity analysis)"))
        self.sensitivity.setToolTip(tr(
            "A Saltelli design: at least {n} base samples (rounded up to a power of two), "
            "each run for every input plus two. Fewer give unreliable indices.").format(
                n=SOBOL_MIN_BASE))  # fmt: skip
        self.sensitivity.setObjectName("uncertainty_sensitivity")
        self.sensitivity.setChecked(str(stored.value(SENSITIVITY_SETTING, "false")) == "true")
        form.addRow("", self.sensitivity)
        self.seed = QSpinBox(self)
        self.seed.setObjectName("uncertainty_seed")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(_int(stored.value(SEED_SETTING), 0, 0, 2**31 - 1))
        self.seed.setToolTip(tr("The same seed gives the same samples (a run can be repeated)."))
        form.addRow(tr("Seed"), self.seed)
        self.scheduler_edit = QLineEdit(str(stored.value(SCHEDULER_SETTING, "") or ""), self)
        self.scheduler_edit.setObjectName("uncertainty_scheduler")
        self.scheduler_edit.setPlaceholderText(tr("empty: this computer"))
        self.scheduler_edit.setToolTip(tr(
            "The address of a Dask scheduler (tcp://host:8786) to run the samples on a "
            "cluster. Only the twin's prepared inputs are sent, never the patient's name; "
            "identifiable data are sent to another computer only if you confirm."))  # fmt: skip
        form.addRow(tr("Dask cluster"), self.scheduler_edit)
        layout.addLayout(form)
        self.cost = QLabel(self)
        self.cost.setObjectName("uncertainty_cost")
        self.cost.setWordWrap(True)
        layout.addWidget(self.cost)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Run"))
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.samples.valueChanged.connect(self._show_cost)
        self.sensitivity.toggled.connect(self._show_cost)
        self.scheduler_edit.textChanged.connect(self._show_cost)
        self._show_cost()
        self.resize(760, 420)

    def runs_per_scenario(self) -> int:
        """The nominal run plus the samples (a Saltelli design: n (d + 2), n a power of 2)."""
        n = self.samples.value()
        if self.sensitivity.isChecked():
            n = sobol_base(n) * (len(self.twin.uncertain) + 2)
        return n + 1

    def _show_cost(self) -> None:
        runs = self.runs_per_scenario() * self._scenarios
        text = tr("{runs} runs in all ({scenarios} scenario(s)).").format(
            runs=runs, scenarios=self._scenarios)  # fmt: skip
        if self._last_seconds and not self.scheduler():
            minutes = runs * self._last_seconds / self._workers / 60
            text += " " + tr("About {minutes} min on {workers} worker(s) of this computer "
                             "(the last run took {seconds} s).").format(
                minutes=number(max(minutes, 0.1), 1), workers=self._workers,
                seconds=number(self._last_seconds, 1))  # fmt: skip
        self.cost.setText(text)

    def plan(self) -> UncertaintyPlan:
        return UncertaintyPlan(samples=self.samples.value(), seed=self.seed.value(),
                               sensitivity=self.sensitivity.isChecked())  # fmt: skip

    def scheduler(self) -> str:
        """The Dask scheduler's address ('' for this computer)."""
        return self.scheduler_edit.text().strip()

    def _accept(self) -> None:
        stored = settings()
        stored.setValue(SAMPLES_SETTING, self.samples.value())
        stored.setValue(SENSITIVITY_SETTING, "true" if self.sensitivity.isChecked() else "false")
        stored.setValue(SEED_SETTING, self.seed.value())
        stored.setValue(SCHEDULER_SETTING, self.scheduler())
        self.accept()


def _int(value, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(value), low), high)
    except (TypeError, ValueError):
        return default

