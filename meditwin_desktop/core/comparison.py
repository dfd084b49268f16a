"""Scenario comparison shared by the GUI and the board report: best values, cell texts
with the clinical target's marks, curves with observed points and bars with the target
(matplotlib axes, no Qt). Surfaces, overlays and tables: `core.result_plots`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from meditwin_desktop.core.case import Run
from meditwin_desktop.core.scenarios import BASELINE
from meditwin_desktop.core.twin import Outcome, Twin


def best_scenarios(twin: Twin, runs: Sequence[Run], stale=frozenset()) -> dict[str, set[str]]:
    """Per outcome, the scenario with the better value (empty when there is no direction, a
    tie, or a lead smaller than the outcome's clinical resolution). While any run is out
    of date (`stale` scenario names) nothing is marked best: the fresh runs were not
    compared with what the stale ones would give now."""
    if any(r.scenario in stale for r in runs):
        return {outcome.name: set() for outcome in twin.outcomes}
    return {outcome.name: _best(outcome, runs) for outcome in twin.outcomes}


def _best(outcome: Outcome, runs: Sequence[Run]) -> set[str]:
    if outcome.better not in ("higher", "lower"):
        return set()
    shown = [r for r in runs if r.status == "ok" and outcome.name in r.outcomes]
    if len(shown) < 2:
        return set()  # nothing to compare with
    never = {r.scenario for r in shown if r.outcomes[outcome.name] is None}
    if outcome.absent_is_best and never:
        return never if len(never) == 1 else set()
    values = {r.scenario: r.outcomes[outcome.name] for r in shown
              if r.outcomes[outcome.name] is not None}  # fmt: skip
    if len(values) < 2:
        return set()
    ranked = sorted(values.items(), key=lambda item: item[1], reverse=outcome.better == "higher")
    (first, lead), (_, second) = ranked[0], ranked[1]
    if lead == second or abs(lead - second) < outcome.resolution:
        return set()  # a tie, or a difference that is clinically the same
    return {first}


def target_mark(outcome: Outcome, value: float | None) -> str:
    """'↓' below the outcome's clinical target, '↑' above it, '' within (or no target)."""
    text = outcome.off_target(value)
    return "" if not text else ("↓" if text.startswith("below") else "↑")


def baseline_run(runs: Sequence[Run]) -> Run | None:
    """The run of the baseline scenario, if there is one."""
    return next((r for r in runs if r.scenario == BASELINE), None)


NOT_APPLICABLE = "n/a"
OUT_OF_DATE = "out of date"


def outcome_note(outcome: Outcome, run: Run) -> str:
    """Why an outcome is n/a in this run, or the model's caveat on its value ('' if none)."""
    notes = run.result.notes if run.result is not None else {}
    return str(notes.get(outcome.name, ""))


def value_text(outcome: Outcome, value: float | None, note: str = "") -> str:
    """A value as shown: formatted, its declared meaning when absent ('never'), else 'n/a'."""
    if value is None:
        return outcome.absent or NOT_APPLICABLE
    return outcome.format(value)


def cell_text(outcome: Outcome, run: Run, baseline: Run | None) -> str:
    """An outcome of one run, marked ↓/↑ when off its clinical target, with its difference
    to the baseline ('–' when not computed, 'n/a' when undefined for this run:
    `outcome_note` says why)."""
    if run.status != "ok" or outcome.name not in run.outcomes:
        return "–"
    value = run.outcomes[outcome.name]
    text = value_text(outcome, value, outcome_note(outcome, run))
    mark = target_mark(outcome, value)
    if mark:
        text += f" {mark}"
    reference = baseline.outcomes.get(outcome.name) if baseline is not None else None
    if value is not None and reference is not None and run is not baseline:
        text += f" (Δ {value - reference:+.3g})"
    return text


def run_warnings(run: Run) -> list[str]:
    """The model's warnings about a run (the scenario as a whole)."""
    if run.result is None:
        return []
    return list(run.result.warnings)


def outcome_heading(outcome: Outcome) -> str:
    """'Label [unit] (higher is better; target >= 30 %)'."""
    notes = {"higher": ["higher is better"], "lower": ["lower is better"]}.get(outcome.better, [])
    if outcome.target is not None:
        notes.append(f"target {outcome.target.describe(outcome.unit)}")
    unit = f" [{outcome.unit}]" if outcome.unit else ""
    return f"{outcome.label}{unit}" + (f" ({'; '.join(notes)})" if notes else "")


TARGET_LEGEND = "↓ / ↑ below / above the outcome's clinical target (given with its name)"
TARGET_COLOUR = "#2e9d5b"


def plot_series(
    axes,
    runs: Sequence[Run],
    name: str,
    *,
    linewidth: float = 1.6,
    stale=frozenset(),
    observed_colour: str = "black",
) -> bool:
    """Draw series `name` of every run on matplotlib `axes`, with its guides and the
    patient's observed points (markers labelled 'observed'); False if none. Runs in
    `stale` (scenario names) are dashed and labelled out of date. Observed points that
    several scenarios share (the patient's measurements) are drawn once in
    `observed_colour`; points of one scenario only get its curve's colour."""
    plotted = None
    drawn: list[tuple[Run, object, str]] = []
    for run in runs:
        series = run.result.series.get(name) if run.result is not None else None
        if series is None:
            continue
        old = run.scenario in stale
        (line,) = axes.plot(
            series.time,
            series.values,
            linewidth=linewidth,
            linestyle="--" if old else "-",
            alpha=0.6 if old else 1.0,
            label=f"{run.scenario} ({OUT_OF_DATE})" if old else run.scenario,
        )
        drawn.append((run, series, line.get_color()))
        plotted = series
    if plotted is None:
        return False
    _plot_observed(axes, drawn, observed_colour)
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


def _observed_key(series) -> bytes | None:
    if series.observed_time is None or series.observed_values is None:
        return None
    time = np.asarray(series.observed_time, float)
    values = np.asarray(series.observed_values, float)
    return None if not len(values) else time.tobytes() + b"|" + values.tobytes()


def _plot_observed(axes, drawn: list, colour: str) -> None:
    """The observed points of each distinct set once (see `plot_series`)."""
    users: dict[bytes, list] = {}
    for run, series, line_colour in drawn:
        key = _observed_key(series)
        if key is not None:
            users.setdefault(key, []).append((run, series, line_colour))
    for group in users.values():
        run, series, line_colour = group[0]
        shared = len(group) > 1 or len(drawn) == 1
        label = "observed" if shared else f"{run.scenario}: observed"
        axes.plot(series.observed_time, series.observed_values, linestyle="none", marker="o",
                  markersize=5, color=colour if len(group) > 1 else line_colour,
                  markeredgecolor="white" if colour == "black" else "black",
                  markeredgewidth=0.6, label=label, zorder=5)  # fmt: skip


def plot_bars(axes, outcome: Outcome, runs: Sequence[Run], *, stale=frozenset()) -> bool:
    """One outcome across scenarios as labelled bars ('absent' text where not computed);
    runs in `stale` (scenario names) are hatched and labelled out of date."""
    shown = [r for r in runs if r.status == "ok"]
    names = [r.scenario for r in shown]
    values = [r.outcomes.get(outcome.name) for r in shown]
    if not names:
        return False
    heights = [0.0 if v is None else float(v) for v in values]
    colours = [f"C{n % 10}" if v is not None else "none" for n, v in enumerate(values)]
    bars = axes.bar(range(len(names)), heights, color=colours, width=0.6)  # absent: no bar
    for bar, run, value in zip(bars, shown, values, strict=True):
        text = value_text(outcome, value) + (f" {target_mark(outcome, value)}".rstrip())
        if run.scenario in stale:
            bar.set_hatch("//")
            bar.set_alpha(0.45)
            text += f"\n({OUT_OF_DATE})"
        top = (bar.get_x() + bar.get_width() / 2, bar.get_height())
        axes.annotate(text, top, textcoords="offset points", xytext=(0, 3), ha="center",
                      fontsize=8)  # fmt: skip
    axes.set_xticks(range(len(names)), names, fontsize=8)
    axes.set_ylabel(outcome.unit)
    axes.set_title(outcome_heading(outcome).replace(f" [{outcome.unit}]", ""), fontsize=10)
    axes.grid(axis="y", alpha=0.25)
    axes.margins(y=0.15)
    _draw_target(axes, outcome)
    return True


def _draw_target(axes, outcome: Outcome) -> None:
    """The clinical target behind the bars: a shaded band (a range) or a dashed line (a
    threshold), labelled 'target' at the right edge (the title gives its values)."""
    target = outcome.target
    if target is None:
        return
    label = f"target {target.describe(outcome.unit)}"
    if target.low is not None and target.high is not None:
        axes.axhspan(target.low, target.high, color=TARGET_COLOUR, alpha=0.22, zorder=0,
                     label=label)  # fmt: skip
        level = (target.low + target.high) / 2
    else:
        level = target.low if target.low is not None else target.high
        axes.axhline(level, color=TARGET_COLOUR, linestyle="--", linewidth=1.4, zorder=3,
                     label=label)  # fmt: skip
    axes.annotate("target", (1.0, level), xycoords=("axes fraction", "data"), xytext=(3, 0),
                  textcoords="offset points", va="center", fontsize=7, color=TARGET_COLOUR,
                  annotation_clip=False)  # fmt: skip
