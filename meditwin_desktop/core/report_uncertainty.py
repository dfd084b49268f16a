"""The board report's page on runs with uncertainty: how the runs were sampled, what the
intervals and P(target) mean and do not cover, where each input's spread comes from, and
which inputs drive each outcome (tornado plots of the Sobol indices, three outcomes a
page). No page when no run was run with uncertainty."""

from __future__ import annotations

import textwrap

from matplotlib.backends.backend_pdf import PdfPages

from meditwin_desktop.core.case import Run
from meditwin_desktop.core.comparison import spread_key
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.report_layout import DPI, LEFT, heading, lines, page
from meditwin_desktop.core.result_plots import localise_ticks
from meditwin_desktop.core.sensitivity_plot import (
    MAX_PANELS,
    SENSITIVITY_RULE,
    indices,
    plot_tornadoes,
    sensitivity_outcomes,
)
from meditwin_desktop.core.twin import Twin
from meditwin_desktop.core.uncertainty_text import (
    COVERS,
    has_uncertainty,
    method_lines,
    source_lines,
)

PER_PAGE = 3  # outcomes' tornado rows a page
ROW = 0.25  # page height of one outcome's row of tornado plots (title, panels, axis)


def uncertainty_pages(pdf: PdfPages, twin: Twin, runs: list[Run], stale: dict[str, str]) -> None:
    """The method, the sources of the spreads and the tornado plots (see the module)."""
    if not has_uncertainty(runs):
        return
    figure, y = page(tr("Uncertainty and sensitivity"), bool(stale))
    y = heading(figure, y, tr("How the uncertainty was computed"))
    said = [spread_key(runs), *method_lines(runs), tr(COVERS)]
    y = lines(figure, y, [t for t in said if t], size=9, width=105) - 0.008
    y = heading(figure, y, tr("Where each input's spread comes from"))
    y = lines(figure, y, [f"• {t}" for t in source_lines(twin)], size=9, width=105) - 0.01
    outcomes = sensitivity_outcomes(twin, runs)
    if outcomes:
        y = heading(figure, y, tr("Which inputs drive each outcome"))
        y = lines(figure, y, [tr(SENSITIVITY_RULE)], size=8, width=120, color="#444444")
    rows = max(0, int((y - 0.05) // ROW))  # outcome rows that fit on this first page
    names = list(outcomes)
    for n, name in enumerate(names):
        if n >= rows and (n - rows) % PER_PAGE == 0:
            _save(pdf, figure)
            figure, y = page(tr("Uncertainty and sensitivity (continued)"), bool(stale))
        _tornado_row(figure, y - 0.01, twin, runs, name, tr(outcomes[name]), stale)
        y -= ROW
    _save(pdf, figure)


def _tornado_row(figure, top: float, twin: Twin, runs: list[Run], name: str, label: str,
                 stale: dict[str, str]) -> None:  # fmt: skip
    """One outcome's tornado plots, the scenarios side by side, under its label."""
    shown = [r for r in runs if indices(r, name)][:MAX_PANELS]
    figure.text(LEFT, top, label, fontsize=10, weight="bold", va="top")
    first = 0.2  # the inputs' names left of the first panel
    width = (1 - LEFT - first - 0.02 * (len(shown) - 1) - 0.03) / max(len(shown), 1)
    axes_row = [figure.add_axes([first + n * (width + 0.02), top - ROW + 0.06, width,
                                 ROW - 0.115]) for n in range(len(shown))]  # fmt: skip
    plot_tornadoes(axes_row, twin, shown, name, set(stale))
    for axes in axes_row:
        axes.tick_params(labelsize=7)
        axes.set_title(textwrap.fill(axes.get_title(), 28), fontsize=7.5,
                       color=axes.title.get_color())  # fmt: skip


def _save(pdf: PdfPages, figure) -> None:
    localise_ticks(figure)  # numbers with the language's decimal comma
    pdf.savefig(figure, dpi=DPI)
