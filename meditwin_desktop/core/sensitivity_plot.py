"""Which inputs drive each outcome: the Sobol indices of a run with a sensitivity analysis
(`Result.sensitivity`) as a tornado plot, one panel per scenario sharing the inputs' order
(the largest mean total index on top), first-order and total indices side by side.
Matplotlib axes, no Qt: the comparison view and the report draw the same plot."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from meditwin_desktop.core.case import Run
from meditwin_desktop.core.comparison import OUT_OF_DATE
from meditwin_desktop.core.i18n import N_, number, tr
from meditwin_desktop.core.twin import Twin, TwinInputError

FIRST_COLOUR = "#2f6db5"  # first-order index: the input alone
TOTAL_COLOUR = "#9cc3ea"  # total index: with its interactions
ROUGH_BELOW = 64  # base samples under which the indices are only a rough ranking
MAX_PANELS = 4
SENSITIVITY_RULE = N_(
    "Sobol indices (share of the outcome's variance over the sampled inputs): first order, "
    "the input alone; total, with its interactions with the others. Inputs ordered by their "
    "total index, the largest on top."
)
ROUGH = N_("rough: only {n} base samples")


def sensitivity_outcomes(twin: Twin, runs: Sequence[Run]) -> dict[str, str]:
    """name -> label of the outcomes with Sobol indices in some run (the twin's order)."""
    found = {name for r in runs if r.result is not None for name in r.result.sensitivity}
    return {o.name: o.label for o in twin.outcomes if o.name in found}


def indices(run: Run, outcome: str) -> dict[str, tuple[float, float]]:
    """input -> (first order, total) of `outcome` in `run` (empty without)."""
    return dict(run.result.sensitivity.get(outcome, {})) if run.result is not None else {}


def tornado_order(runs: Sequence[Run], outcome: str) -> list[str]:
    """The inputs, the largest mean total index (over the runs that have one) first; ties
    by the first-order index, then in the order declared."""
    totals: dict[str, list[tuple[float, float]]] = {}
    for run in runs:
        for name, pair in indices(run, outcome).items():
            totals.setdefault(name, []).append(pair)
    declared = list(totals)
    return sorted(declared, key=lambda n: (-float(np.mean([t for _, t in totals[n]])),
                                           -float(np.mean([f for f, _ in totals[n]])),
                                           declared.index(n)))  # fmt: skip


def base_samples(run: Run, outcome: str) -> int | None:
    """The Saltelli design's base sample count n (runs = n x (inputs + 2)), None if unknown."""
    found = indices(run, outcome)
    spread = run.result.spread.get(outcome) if run.result is not None else None
    if not found or spread is None:
        return None
    return (spread.samples + spread.failed) // (len(found) + 2)


def input_label(twin: Twin, name: str) -> str:
    """The input's translated label (its name for a parameter the twin no longer has)."""
    try:
        return tr(twin.parameter(name).label)
    except TwinInputError:  # a stored run of an older twin
        return name


def plot_tornado(
    axes,
    twin: Twin,
    run: Run,
    outcome: str,
    order: Sequence[str],
    *,
    stale: bool = False,
    labels: bool = True,
    text_colour: str = "black",
) -> bool:
    """One run's indices of `outcome` as paired horizontal bars, inputs in `order` from the
    top (`labels`: their names on the y axis); out-of-date runs hatched and marked in the
    title. False when the run has none."""
    found = indices(run, outcome)
    if not found:
        return False
    rows = np.arange(len(order))
    first = [found.get(n, (np.nan, np.nan))[0] for n in order]
    total = [found.get(n, (np.nan, np.nan))[1] for n in order]
    alpha = 0.5 if stale else 1.0
    hatch = "//" if stale else None
    axes.barh(rows - 0.2, total, height=0.38, color=TOTAL_COLOUR, alpha=alpha, hatch=hatch,
              label=tr("total"))  # fmt: skip
    axes.barh(rows + 0.2, first, height=0.38, color=FIRST_COLOUR, alpha=alpha, hatch=hatch,
              label=tr("first order"))  # fmt: skip
    for row, value in zip(rows, total, strict=True):
        if np.isfinite(value):
            axes.annotate(number(value, 2), (value, row - 0.2), xytext=(2, 0), va="center",
                          textcoords="offset points", fontsize=7, color=text_colour)  # fmt: skip
    axes.set_yticks(rows)
    if labels:
        axes.set_yticklabels([input_label(twin, n) for n in order], fontsize=8)
    else:  # a panel beside the first (shared y axes keep the first's names)
        axes.tick_params(labelleft=False)
    axes.set_ylim(len(order) - 0.5, -0.5)  # the largest on top
    axes.set_xlim(0, 1.12)
    axes.set_xlabel(tr("Sobol index"), fontsize=8)
    axes.grid(axis="x", alpha=0.25)
    title = f"{run.scenario} ({tr(OUT_OF_DATE)})" if stale else run.scenario
    n = base_samples(run, outcome)
    if n is not None and n < ROUGH_BELOW:
        title += "\n" + tr(ROUGH).format(n=n)
    axes.set_title(title, fontsize=9, color="#d9534f" if stale or "\n" in title else text_colour)
    return True


def plot_tornadoes(
    axes_row: Sequence, twin: Twin, runs: Sequence[Run], outcome: str, stale=frozenset(),
    *, text_colour: str = "black",
) -> list[Run]:  # fmt: skip
    """A tornado per run having indices of `outcome` (at most len(axes_row)) on the given
    axes, one shared input order, the inputs named on the first; a legend on the first.
    Returns the runs drawn."""
    shown = [r for r in runs if indices(r, outcome)][: len(axes_row)]
    order = tornado_order(shown, outcome)
    for n, (axes, run) in enumerate(zip(axes_row, shown, strict=False)):
        plot_tornado(axes, twin, run, outcome, order, stale=run.scenario in stale,
                     labels=n == 0, text_colour=text_colour)  # fmt: skip
    if shown:
        axes_row[0].legend(fontsize=7, loc="lower right", framealpha=0.8)
    return shown
