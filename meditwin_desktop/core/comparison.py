"""Scenario comparison shared by the GUI and the board report: best values, cell texts,
curves (matplotlib axes, no Qt)."""

from __future__ import annotations

from collections.abc import Sequence

from meditwin_desktop.core.case import Run
from meditwin_desktop.core.scenarios import BASELINE
from meditwin_desktop.core.twin import Outcome, Twin


def best_scenarios(twin: Twin, runs: Sequence[Run]) -> dict[str, set[str]]:
    """Per outcome, the scenario(s) with the better value (empty when no direction)."""
    best: dict[str, set[str]] = {}
    for outcome in twin.outcomes:
        never = {r.scenario for r in runs if r.status == "ok" and outcome.name in r.outcomes
                 and r.outcomes[outcome.name] is None}  # fmt: skip
        if outcome.absent_is_best and never and outcome.better in ("higher", "lower"):
            best[outcome.name] = never
            continue
        values = {
            r.scenario: r.outcomes[outcome.name]
            for r in runs
            if r.outcomes.get(outcome.name) is not None
        }
        if not values or outcome.better not in ("higher", "lower"):
            best[outcome.name] = set()
            continue
        target = max(values.values()) if outcome.better == "higher" else min(values.values())
        best[outcome.name] = {s for s, v in values.items() if v == target}
    return best


def baseline_run(runs: Sequence[Run]) -> Run | None:
    """The run of the baseline scenario, if there is one."""
    return next((r for r in runs if r.scenario == BASELINE), None)


def cell_text(outcome: Outcome, run: Run, baseline: Run | None) -> str:
    """An outcome of one run, with its difference to the baseline ('–' when not computed)."""
    if run.status != "ok" or outcome.name not in run.outcomes:
        return "–"
    value = run.outcomes[outcome.name]
    text = outcome.format(value)
    reference = baseline.outcomes.get(outcome.name) if baseline is not None else None
    if value is not None and reference is not None and run is not baseline:
        text += f" (Δ {value - reference:+.3g})"
    return text


def outcome_heading(outcome: Outcome) -> str:
    """'Label [unit] (higher is better)'."""
    arrow = {"higher": " (higher is better)", "lower": " (lower is better)"}.get(outcome.better, "")
    unit = f" [{outcome.unit}]" if outcome.unit else ""
    return f"{outcome.label}{unit}{arrow}"


def plot_series(axes, runs: Sequence[Run], name: str, *, linewidth: float = 1.6) -> bool:
    """Draw series `name` of every run on matplotlib `axes`, with its guides; False if none."""
    plotted = None
    for run in runs:
        series = run.result.series.get(name) if run.result is not None else None
        if series is None:
            continue
        axes.plot(series.time, series.values, label=run.scenario, linewidth=linewidth)
        plotted = series
    if plotted is None:
        return False
    for text, level in plotted.guides:
        axes.axhline(level, color="#d9534f", linestyle="--", linewidth=1.0)
        axes.annotate(
            f"{text} ({level:g})", (0.01, level), xycoords=("axes fraction", "data"),
            textcoords="offset points", xytext=(0, 3), color="#d9534f", fontsize=8,
        )  # fmt: skip
    axes.set_xlabel(f"{plotted.x_label} [{plotted.time_unit}]")
    axes.set_ylabel(plotted.unit)
    axes.set_title(plotted.label, fontsize=10)
    axes.legend(fontsize=8)
    axes.grid(alpha=0.25)
    return True


def plot_bars(axes, outcome: Outcome, runs: Sequence[Run]) -> bool:
    """One outcome across scenarios as labelled bars ('absent' text where not computed)."""
    names = [r.scenario for r in runs if r.status == "ok"]
    values = [r.outcomes.get(outcome.name) for r in runs if r.status == "ok"]
    if not names:
        return False
    heights = [0.0 if v is None else float(v) for v in values]
    colours = [f"C{n % 10}" if v is not None else "none" for n, v in enumerate(values)]
    bars = axes.bar(range(len(names)), heights, color=colours, width=0.6)  # absent: no bar
    for bar, value in zip(bars, values, strict=True):
        text = outcome.format(value)
        top = (bar.get_x() + bar.get_width() / 2, bar.get_height())
        axes.annotate(text, top, textcoords="offset points", xytext=(0, 3), ha="center",
                      fontsize=8)  # fmt: skip
    axes.set_xticks(range(len(names)), names, fontsize=8)
    axes.set_ylabel(outcome.unit)
    axes.set_title(outcome_heading(outcome).replace(f" [{outcome.unit}]", ""), fontsize=10)
    axes.grid(axis="y", alpha=0.25)
    axes.margins(y=0.15)
    return True
