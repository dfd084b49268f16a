"""Scenario comparison shared by the GUI and the board report: each outcome judged against
its clinical target (green met, amber borderline, red missed), the best values (only beyond
the clinical resolution), values at their clinical precision in the user's unit system,
curves with observed points and bars with the target (matplotlib axes, no Qt). Surfaces,
overlays and tables: `core.result_plots`."""

from __future__ import annotations

import csv
import io
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from meditwin_desktop.core.atomic import write_text_atomic
from meditwin_desktop.core.case import Run
from meditwin_desktop.core.i18n import N_, decimal_separator, number, tr
from meditwin_desktop.core.scenarios import BASELINE
from meditwin_desktop.core.twin import Outcome, Spread, Twin, point_text
from meditwin_desktop.core.units import in_system, system_factor, system_unit, user_system

USER_SYSTEM = "user"  # `system` arguments: the unit system the user chose (`user_system`);
# None: each value in its twin's declared unit; "mg/dL" or "mmol/L": that system


def resolved(system: str | None) -> str | None:
    """`system` with USER_SYSTEM replaced by the user's choice."""
    return user_system() if system == USER_SYSTEM else system


# -- the clinical target --------------------------------------------------------------------
MET, NEAR, OFF = "met", "near", "off"
STATE_COLOURS = {MET: "#2e9d5b", NEAR: "#e0a526", OFF: "#d9534f"}
STATE_WORDS = {
    MET: N_("meets the target"),
    NEAR: N_("borderline"),
    OFF: N_("misses the target"),
}  # English keys of the CSV; shown through tr()
TARGET_RULE = N_(
    "Against each outcome's clinical target, judged on the value as shown: green meets it; "
    "amber misses it by no more than the outcome's clinical resolution (borderline: the "
    "twin cannot tell it from meeting it); red misses it by more."
)
BEST_RULE = N_(
    "★ the better value: only where it leads the next scenario by more than the outcome's "
    "clinical resolution, never for a scenario that misses a safety limit, none while a "
    "result is out of date."
)


def judged(outcome: Outcome, value: float | None) -> float | None:
    """The value as shown in the outcome's own unit (rounded to its precision): what targets
    and comparisons judge, so that '30' meets '>= 30' and 30.04 ties 29.96."""
    if value is None or outcome.precision is None:
        return value
    return round(float(value), outcome.precision)


def target_state(
    outcome: Outcome, value: float | None, system: str | None = USER_SYSTEM
) -> str | None:
    """MET, NEAR or OFF against the outcome's target (`TARGET_RULE`); None without a target
    or a value. Value and target are judged as shown, in the unit system on screen: a LDL-C
    of 70.4 mg/dL reads 1.82 mmol/L and misses '<= 1.81 mmol/L', as it reads."""
    if value is None or outcome.target is None or not outcome.numeric:
        return None
    if not math.isfinite(float(value)):
        return None
    target = outcome.target
    precision = shown_precision(outcome, system)

    def shown(number: float | None) -> float | None:
        if number is None:
            return None
        converted = float(shown_value(outcome, number, system))
        return round(converted, precision) if precision is not None else converted

    now, low, high = shown(value), shown(target.low), shown(target.high)
    if (low is None or now >= low) and (high is None or now <= high):
        return MET
    gap = low - now if low is not None and now < low else now - high  # type: ignore[operator]
    resolution = outcome.resolution * abs(_factor(outcome, system))
    return NEAR if gap <= resolution + 1e-9 else OFF


def _factor(outcome: Outcome, system: str | None) -> float:
    system = resolved(system)
    return 1.0 if system is None else system_factor(outcome.unit, outcome.label, system)


def state_text(outcome: Outcome, value: float | None, system: str | None = USER_SYSTEM) -> str:
    """'Meets the target >= 30 %', 'Borderline: below the target ...', 'Below the target ...'
    ('' without a target), with the target's source."""
    state = target_state(outcome, value, system)
    if state is None:
        return ""
    target = target_text(outcome, system)
    if state == MET:
        text = tr("Meets the target {target}").format(target=target)
    else:
        low = outcome.target.low
        below = (
            low is not None
            and target_state(outcome, value, system) != MET
            and (shown_value(outcome, value, system) < shown_value(outcome, low, system))
        )
        if state == NEAR and below:
            text = tr(
                "Borderline: below the target {target} by no more than its clinical resolution"
            ).format(target=target)
        elif state == NEAR:
            text = tr(
                "Borderline: above the target {target} by no more than its clinical resolution"
            ).format(target=target)
        elif below:
            text = tr("Below the target {target}").format(target=target)
        else:
            text = tr("Above the target {target}").format(target=target)
    source = outcome.target.source
    return text + (f" ({tr(source)})" if source else "")


def ruled_out(twin: Twin, runs: Sequence[Run]) -> dict[str, list[str]]:
    """Scenario -> the safety limits it misses (outcomes declared `limit`): such a scenario
    is best at nothing (a resection leaving 21 % of the liver has the best margins)."""
    out: dict[str, list[str]] = {}
    for run in runs:
        if run.status != "ok":
            continue
        for outcome in twin.outcomes:
            state = target_state(outcome, run.outcomes.get(outcome.name))
            if outcome.limit and state not in (None, MET):
                out.setdefault(run.scenario, []).append(tr(outcome.label))
    return out


def best_scenarios(twin: Twin, runs: Sequence[Run], stale=frozenset()) -> dict[str, set[str]]:
    """Per outcome, the scenario with the better value (`BEST_RULE`): empty when there is no
    direction, a tie, or a lead not beyond the outcome's clinical resolution. Scenarios that
    miss a safety limit compete for nothing. While any run is out of date (`stale`
    scenario names) nothing is marked best: the fresh runs were not compared with what the
    stale ones would give now."""
    if any(r.scenario in stale for r in runs):
        return {outcome.name: set() for outcome in twin.outcomes}
    excluded = ruled_out(twin, runs)
    eligible = [r for r in runs if r.scenario not in excluded]
    return {outcome.name: _best(outcome, eligible) for outcome in twin.outcomes}


def _best(outcome: Outcome, runs: Sequence[Run]) -> set[str]:
    if outcome.better not in ("higher", "lower"):
        return set()
    shown = [r for r in runs if r.status == "ok" and outcome.name in r.outcomes]
    if len(shown) < 2:
        return set()  # nothing to compare with
    never = {r.scenario for r in shown if r.outcomes[outcome.name] is None}
    if outcome.absent_is_best and never:
        return never if len(never) == 1 else set()
    values = {r.scenario: judged(outcome, r.outcomes[outcome.name]) for r in shown
              if r.outcomes[outcome.name] is not None}  # fmt: skip
    if len(values) < 2:
        return set()
    ranked = sorted(values.items(), key=lambda item: item[1], reverse=outcome.better == "higher")
    (first, lead), (_, second) = ranked[0], ranked[1]
    if abs(lead - second) <= outcome.resolution + 1e-9:
        return set()  # a tie, or a difference that is clinically the same
    return {first}


def target_mark(outcome: Outcome, value: float | None, system: str | None = USER_SYSTEM) -> str:
    """'↓' below the outcome's clinical target, '↑' above it, '' within (or no target),
    judged as shown (`target_state`)."""
    if target_state(outcome, value, system) in (None, MET):
        return ""
    low = outcome.target.low  # type: ignore[union-attr]
    return "↓" if low is not None and float(value) < low else "↑"  # type: ignore[arg-type]


# -- values as shown: clinical precision, the user's unit system ----------------------------
def shown_unit(outcome: Outcome, system: str | None = USER_SYSTEM) -> str:
    """The unit an outcome is shown in: its own, or `system`'s (mg/dL or mmol/L) for the
    concentration of a known analyte ('LDL-C on treatment' in mmol/L)."""
    system = resolved(system)
    return outcome.unit if system is None else system_unit(outcome.unit, outcome.label, system)


def shown_precision(outcome: Outcome, system: str | None = USER_SYSTEM) -> int | None:
    """Decimals shown: the outcome's, shifted by the conversion's order of magnitude (0 in
    mg/dL -> 2 in mmol/L); None: 3 significant digits."""
    system = resolved(system)
    if outcome.precision is None or system is None:
        return outcome.precision
    factor = system_factor(outcome.unit, outcome.label, system)
    return max(0, outcome.precision - round(math.log10(factor))) if factor > 0 else None


def shown_value(
    outcome: Outcome, value: float | None, system: str | None = USER_SYSTEM
) -> float | None:
    """The value in the shown unit (full precision: for exports beside the shown text)."""
    system = resolved(system)
    if value is None or system is None or not outcome.numeric:
        return value  # a position stays in LPS mm, a category a word
    return in_system(float(value), outcome.unit, outcome.label, system)[0]


def number_text(value: float, precision: int | None) -> str:
    """A number at `precision` decimals (3 significant digits for None); never '-0'."""
    if not math.isfinite(value):
        return tr(NOT_APPLICABLE)
    if precision is not None:
        text = number(value, precision)
    else:
        text = f"{value:.3g}".replace(".", decimal_separator())
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text


def target_text(outcome: Outcome, system: str | None = USER_SYSTEM) -> str:
    """The target in the shown unit and precision: '75-85 %', '>= 30 %', '<= 1.81 mmol/L'."""
    target = outcome.target
    if target is None:
        return ""
    precision = shown_precision(outcome, system)

    def bound(value: float) -> str:
        shown = shown_value(outcome, value, system)
        text = f"{round(shown, precision) if precision is not None else shown:g}"
        return text.replace(".", decimal_separator())

    unit = shown_unit(outcome, system)
    unit = f" {unit}" if unit else ""
    if target.low is not None and target.high is not None:
        return f"{bound(target.low)}-{bound(target.high)}{unit}"
    if target.low is not None:
        return f">= {bound(target.low)}{unit}"
    return f"<= {bound(target.high)}{unit}"


def resolution_text(outcome: Outcome, system: str | None = USER_SYSTEM) -> str:
    """The clinical resolution in the shown unit: '2 mmHg', '0.13 mmol/L' ('' if none)."""
    if not outcome.resolution:
        return ""
    system = resolved(system)
    factor = 1.0 if system is None else system_factor(outcome.unit, outcome.label, system)
    precision = shown_precision(outcome, system)
    amount = outcome.resolution * factor
    text = f"{round(amount, precision + 1) if precision is not None else amount:g}"
    text = text.replace(".", decimal_separator())
    return f"{text} {shown_unit(outcome, system)}".strip()


def baseline_run(runs: Sequence[Run]) -> Run | None:
    """The run of the baseline scenario, if there is one."""
    return next((r for r in runs if r.scenario == BASELINE), None)


NOT_APPLICABLE = N_("n/a")  # shown through tr(), as OUT_OF_DATE (English: markers in code)
OUT_OF_DATE = N_("out of date")


def outcome_note(outcome: Outcome, run: Run) -> str:
    """Why an outcome is n/a in this run, or the model's caveat on its value ('' if none)."""
    notes = run.result.notes if run.result is not None else {}
    return tr(str(notes.get(outcome.name, "")))


def value_text(
    outcome: Outcome, value: float | None, note: str = "", system: str | None = USER_SYSTEM
) -> str:
    """A value as shown: at its clinical precision in the shown unit, its declared meaning
    when absent ('never'), else 'n/a'."""
    if value is None:
        return tr(outcome.absent or NOT_APPLICABLE)
    if outcome.point:
        return point_text(value, outcome.precision)
    if outcome.categories:
        return str(value)
    return number_text(shown_value(outcome, value, system), shown_precision(outcome, system))


def spread_of(outcome: Outcome, run: Run) -> Spread | None:
    """The outcome's spread over a run with uncertainty (None: run without, or not shown)."""
    result = run.result
    return result.spread.get(outcome.name) if result is not None and outcome.numeric else None


def interval_text(outcome: Outcome, spread: Spread, system: str | None = USER_SYSTEM) -> str:
    """'21.3–28.7' at the outcome's shown precision and unit ('never' for an absent end)."""
    if spread.low is None and spread.high is None and spread.undefined:
        return tr("n/a in {count} of {total} sampled runs").format(
            count=spread.undefined, total=spread.samples)  # fmt: skip
    low = value_text(outcome, spread.low, system=system)
    high = value_text(outcome, spread.high, system=system)
    if spread.undefined:  # some runs gave no value: the interval is of the others
        return tr("{low}–{high}, n/a in {count} of {total}").format(
            low=low, high=high, count=spread.undefined, total=spread.samples)  # fmt: skip
    return f"{low}–{high}"


def probability_text(outcome: Outcome, spread: Spread, system: str | None = USER_SYSTEM) -> str:
    """'P(<= 27 mL) = 0.81': the share of sampled runs meeting the target ('' without one)."""
    if spread.p_target is None:
        return ""
    return tr("P({target}) = {p}").format(
        target=target_text(outcome, system), p=number(spread.p_target, 2)
    )


def spread_text(outcome: Outcome, spread: Spread, system: str | None = USER_SYSTEM) -> str:
    """'[90 % interval 21.3–28.7; P(<= 27 mL) = 0.81]', as the table and the CLI show it."""
    parts = [tr("{level} % interval {interval}").format(
        level=number(100 * spread.level, 0), interval=interval_text(outcome, spread, system))]
    probability = probability_text(outcome, spread, system)
    if probability:
        parts.append(probability)
    return "[" + "; ".join(parts) + "]"


def difference_text(
    outcome: Outcome, value: float, reference: float, system: str | None = USER_SYSTEM
) -> str:
    """'Δ +3', 'Δ -0.25' or 'Δ 0': the difference between the two values as shown (46 and 48
    differ by 2 on screen, whatever digits lie behind them)."""
    precision = shown_precision(outcome, system)

    def shown(number: float) -> float:
        converted = shown_value(outcome, number, system)
        return round(converted, precision) if precision is not None else converted

    text = number_text(shown(value) - shown(reference), precision)
    signed = text.startswith("-") or not any(c in "123456789" for c in text)
    if text != tr(NOT_APPLICABLE) and not signed:
        text = "+" + text
    return f"Δ {text}"


def cell_text(
    outcome: Outcome,
    run: Run,
    baseline: Run | None,
    system: str | None = USER_SYSTEM,
    *,
    spread: bool = False,
) -> str:
    """An outcome of one run, marked ↓/↑ when off its clinical target, with its difference
    to the baseline ('–' when not computed, 'n/a' when undefined for this run:
    `outcome_note` says why). With `spread`, a run with uncertainty adds its interval after
    the value and, on a second line, the probability of meeting the target:
    '25.0 [21.3–28.7] (Δ +2.0)' / 'P(<= 27 mL) = 0.81' (`SPREAD_KEY` says what they are)."""
    if run.status != "ok" or outcome.name not in run.outcomes:
        return "–"
    value = run.outcomes[outcome.name]
    text = value_text(outcome, value, outcome_note(outcome, run), system)
    mark = target_mark(outcome, value, system)
    if mark:
        text += f" {mark}"
    found = spread_of(outcome, run) if spread else None
    if found is not None:
        text += f" [{interval_text(outcome, found, system)}]"
    reference = baseline.outcomes.get(outcome.name) if baseline is not None else None
    if value is not None and reference is not None and run is not baseline and outcome.point:
        moved = float(np.linalg.norm(np.subtract(value, reference)))
        away = tr("(Δ {distance} mm away)").format(distance=number_text(moved, outcome.precision))
        text += f" {away}" if moved > 0 else ""
    elif value is not None and reference is not None and run is not baseline and outcome.numeric:
        text += f" ({difference_text(outcome, value, reference, system)})"
    probability = probability_text(outcome, found, system) if found is not None else ""
    return f"{text}\n{probability}" if probability else text


SPREAD_KEY = N_(
    "[low–high]: the {level} % interval of the outcome over the sampled uncertain inputs; "
    "P(target): the share of the sampled runs meeting the outcome's clinical target."
)


def spread_key(runs: Sequence[Run]) -> str:
    """What the brackets and P(...) mean ('' when no run has a spread)."""
    levels = sorted({s.level for r in runs if r.result is not None
                     for s in r.result.spread.values()})  # fmt: skip
    if not levels:
        return ""
    level = "/".join(number(100 * x, 0) for x in levels)
    return tr(SPREAD_KEY).format(level=level)


CSV_HEADINGS = ["Outcome", "Unit", "Scenario", "Shown", "Value", "Target", "State", "Best",
                "Out of date", "Note", "Median", "Low", "High", "Level", "P(target)"]  # fmt: skip
# Median, Low, High (the shown unit, full precision; the outcome's 'never' as a word),
# Level (0.9: the 5th to 95th percentile), P(target) (a share, 0 to 1): a run with
# uncertainty only, else empty


def comparison_table(
    twin: Twin, runs: Sequence[Run], stale=frozenset(), system: str | None = USER_SYSTEM
) -> tuple[list[str], list[list]]:
    """The comparison as rows for a CSV file (`CSV_HEADINGS`), one per outcome and run:
    the value as shown (clinical precision, `system`'s unit) and, beside it, the full
    value in the same unit; the target, its state and the best mark as the table shows;
    for a run with uncertainty its median, interval, level and probability of meeting the
    target (empty cells otherwise)."""
    best = best_scenarios(twin, runs, stale)
    baseline = baseline_run(runs)
    rows: list[list] = []
    for outcome in twin.outcomes:
        for run in runs:
            if run.status != "ok" or outcome.name not in run.outcomes:
                continue
            value = run.outcomes[outcome.name]
            note = outcome_note(outcome, run)
            rows.append([
                tr(outcome.label),
                shown_unit(outcome, system),
                run.scenario,
                cell_text(outcome, run, baseline, system).split(" (Δ")[0],
                "; ".join(f"{x:g}" for x in value) if outcome.point and value is not None
                else shown_value(outcome, value, system),
                target_text(outcome, system),
                tr(STATE_WORDS.get(target_state(outcome, value, system) or "", "")),
                tr("yes") if run.scenario in best[outcome.name] else "",
                tr("yes") if run.scenario in stale else "",
                note,
                *_spread_cells(outcome, run, system),
            ])  # fmt: skip
    return list(CSV_HEADINGS), rows


def _spread_cells(outcome: Outcome, run: Run, system: str | None) -> list:
    """Median, Low, High, Level, P(target) of a run with uncertainty ('' without)."""
    found = spread_of(outcome, run)
    if found is None:
        return [""] * 5
    ends = [tr(outcome.absent or NOT_APPLICABLE) if x is None else shown_value(outcome, x, system)
            for x in (found.median, found.low, found.high)]  # fmt: skip
    return [*ends, found.level, "" if found.p_target is None else found.p_target]


def write_comparison_csv(
    path, twin: Twin, runs: Sequence[Run], stale=frozenset(), system: str | None = USER_SYSTEM
) -> Path:
    """`comparison_table` as a CSV file (UTF-8, written atomically); full values in the
    'Value' column with every digit, beside the shown text."""
    headings, rows = comparison_table(twin, runs, stale, system)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headings)
    writer.writerows([["" if c is None else (repr(c) if isinstance(c, float) else c)
                       for c in row] for row in rows])  # fmt: skip
    path = Path(path)
    write_text_atomic(path, buffer.getvalue())
    return path


def run_warnings(run: Run) -> list[str]:
    """The model's warnings about a run (the scenario as a whole)."""
    if run.result is None:
        return []
    return list(run.result.warnings)


def outcome_heading(
    outcome: Outcome, system: str | None = USER_SYSTEM, *, short: bool = False
) -> str:
    """'Label [unit] (higher is better; target >= 30 %)', in the shown unit (`short`:
    'higher' instead of 'higher is better')."""
    if short:
        directions = {"higher": tr("higher"), "lower": tr("lower")}
    else:
        directions = {"higher": tr("higher is better"), "lower": tr("lower is better")}
    notes = [directions[outcome.better]] if outcome.better in directions else []
    if outcome.target is not None:
        notes.append(tr("target {target}").format(target=target_text(outcome, system)))
    unit = tr(shown_unit(outcome, system))
    unit = f" [{unit}]" if unit else ""
    separator = tr("; ")
    return f"{tr(outcome.label)}{unit}" + (f" ({separator.join(notes)})" if notes else "")


TARGET_LEGEND = N_(
    "↓ / ↑ below / above the outcome's clinical target (given with its name)"
)
TARGET_COLOUR = "#2e9d5b"
NEUTRAL_BAR = "#6f8fb8"  # bars of an outcome without a target
HIDDEN_BAND = "_band"  # matplotlib leaves a label starting with "_" out of the legend
NO_RESULTS = N_("No results yet: set the scenarios in the Twins panel and press Run all.")


def series_in_system(series, system: str | None):
    """A time series (values, band, observed points, guides) in `system`'s unit, or
    itself."""
    system = resolved(system)
    if system is None:
        return series
    unit = system_unit(series.unit, series.label, system)
    if unit == series.unit:
        return series
    factor = system_factor(series.unit, series.label, system)
    observed = series.observed_values
    return replace(
        series,
        unit=unit,
        values=np.asarray(series.values, float) * factor,
        observed_values=None if observed is None else np.asarray(observed, float) * factor,
        lower=None if series.lower is None else np.asarray(series.lower, float) * factor,
        upper=None if series.upper is None else np.asarray(series.upper, float) * factor,
        guides=tuple((text, level * factor) for text, level in series.guides),
    )


def plot_series(
    axes,
    runs: Sequence[Run],
    name: str,
    *,
    linewidth: float = 1.6,
    stale=frozenset(),
    observed_colour: str = "black",
    system: str | None = USER_SYSTEM,
    colours: Mapping[str, str] | None = None,
    legend_beside: bool = False,
) -> bool:
    """Draw series `name` of every run on matplotlib `axes`, with its guides and the
    patient's observed points (markers labelled 'observed') and each run's uncertainty band
    (shaded in its colour); False if none. Runs in
    `stale` (scenario names) are dashed and labelled out of date. Observed points that
    several scenarios share (the patient's measurements) are drawn once in
    `observed_colour`; points of one scenario only get its curve's colour. Concentrations
    are drawn in `system`'s unit (mg/dL or mmol/L; None: as the twin gives them).
    `colours`: scenario -> colour, so that a scenario keeps its colour when another one
    failed or was removed (default: matplotlib's cycle in the order drawn).
    `legend_beside`: the legend right of the axes (a short plot has no free corner), else
    in the best corner inside (a page of fixed width)."""
    plotted = None
    banded = False
    drawn: list[tuple[Run, object, str]] = []
    for run in runs:
        series = run.result.series.get(name) if run.result is not None else None
        if series is None:
            continue
        series = series_in_system(series, system)
        old = run.scenario in stale
        (line,) = axes.plot(
            series.time,
            series.values,
            linewidth=linewidth,
            linestyle="--" if old else "-",
            alpha=0.6 if old else 1.0,
            label=f"{run.scenario} ({tr(OUT_OF_DATE)})" if old else run.scenario,
            **({"color": colours[run.scenario]} if colours and run.scenario in colours else {}),
        )
        if series.lower is not None and series.upper is not None:
            first = not banded and not any(
                c.get_label().startswith("band") for c in axes.collections
            )
            banded = True
            band = tr("band: {what} (shaded, each scenario's colour)").format(
                what=tr(series.band_label or "uncertainty")
            )
            axes.fill_between(series.time, series.lower, series.upper, color=line.get_color(),
                              alpha=0.1 if old else 0.2, linewidth=0,
                              label=_wrapped(band) if first else HIDDEN_BAND)  # fmt: skip
        drawn.append((run, series, line.get_color()))
        plotted = series
    if plotted is None:
        return False
    _plot_observed(axes, drawn, observed_colour)
    for n, (text, level) in enumerate(plotted.guides):
        axes.axhline(level, color="#d9534f", linestyle="--", linewidth=1.0)
        right = n % 2 == 1  # guides close together: their labels at either end
        shown = f"{level:.3g}".replace(".", decimal_separator())
        axes.annotate(
            f"{tr(text)} ({shown})", (0.99 if right else 0.01, level),
            xycoords=("axes fraction", "data"), textcoords="offset points", xytext=(0, 3),
            color="#d9534f", fontsize=8, ha="right" if right else "left",
        )  # fmt: skip
    axes.set_xlabel(f"{tr(plotted.x_label)} [{tr(plotted.time_unit)}]")
    axes.set_ylabel(plotted.unit)
    axes.set_title(tr(plotted.label), fontsize=10)
    if legend_beside:
        axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    else:
        axes.legend(fontsize=8)
    axes.grid(alpha=0.25)
    return True


def _wrapped(text: str, width: int = 34) -> str:
    """A long legend entry on several short lines."""
    return "\n".join(textwrap.wrap(text, width)) or text


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
        label = tr("observed") if shared else tr("{scenario}: observed").format(
            scenario=run.scenario
        )
        axes.plot(series.observed_time, series.observed_values, linestyle="none", marker="o",
                  markersize=5, color=colour if len(group) > 1 else line_colour,
                  markeredgecolor="white" if colour == "black" else "black",
                  markeredgewidth=0.6, label=label, zorder=5)  # fmt: skip


def plot_bars(
    axes,
    outcome: Outcome,
    runs: Sequence[Run],
    *,
    stale=frozenset(),
    best: set[str] | None = None,
    system: str | None = USER_SYSTEM,
    whisker_colour: str = "black",
) -> bool:
    """One outcome across scenarios as labelled bars ('absent' text where not computed), at
    its clinical precision in `system`'s unit. With a target each bar takes its state's
    colour (`TARGET_RULE`), else one neutral blue (a green or red scenario colour would read
    as a target met or missed); `best` scenarios get a ★. Runs in `stale`
    (scenario names) are hatched and labelled out of date. A run with uncertainty gets an
    error bar from the low to the high end of its interval with a tick at the median
    (`whisker_colour`; the title's second line says what they are), and P(target) under
    its value; an interval with a 'never' end has no error bar but its text."""
    shown = [r for r in runs if r.status == "ok"]
    names = [r.scenario for r in shown]
    values = [r.outcomes.get(outcome.name) for r in shown]
    if not names:
        return False
    heights = [0.0 if v is None else float(shown_value(outcome, v, system)) for v in values]
    colours = [
        "none" if v is None
        else STATE_COLOURS.get(target_state(outcome, v, system) or "", NEUTRAL_BAR)
        for v in values
    ]  # fmt: skip
    bars = axes.bar(range(len(names)), heights, color=colours, width=0.6)  # absent: no bar
    crowded = len(names) >= 5  # narrow bars: labels on shorter lines, smaller
    tops = _whiskers(axes, outcome, shown, stale, system, whisker_colour)
    for n, (bar, run, value) in enumerate(zip(bars, shown, values, strict=True)):
        text = value_text(outcome, value, system=system)
        text += f" {target_mark(outcome, value, system)}".rstrip()
        if run.scenario in (best or set()):
            text = "★ " + text
        found = spread_of(outcome, run)
        if found is not None and n not in tops:  # an end is 'never': said, not drawn
            text += f"\n[{interval_text(outcome, found, system)}]"
        if found is not None and found.p_target is not None:
            text += "\n" + tr("P = {p}").format(p=number(found.p_target, 2))
        if run.scenario in stale:
            bar.set_hatch("//")
            bar.set_alpha(0.45)
            text += "\n" + textwrap.fill(f"({tr(OUT_OF_DATE)})", 7 if crowded else 40)
        top = (bar.get_x() + bar.get_width() / 2, max(bar.get_height(), tops.get(n, -math.inf)))
        axes.annotate(text, top, textcoords="offset points", xytext=(0, 3), ha="center",
                      fontsize=6.5 if crowded else 8)  # fmt: skip
    axes.set_xticks(range(len(names)), names, fontsize=8)
    axes.set_ylabel(shown_unit(outcome, system))
    title = _bar_title(outcome, system)
    if tops:
        levels = sorted({spread_of(outcome, r).level for n, r in enumerate(shown) if n in tops})
        title += "\n" + tr(WHISKERS).format(level="/".join(number(100 * x, 0) for x in levels))
    axes.set_title(title, fontsize=10)
    axes.grid(axis="y", alpha=0.25)
    axes.margins(y=0.15)
    _draw_target(axes, outcome, system)
    return True


WHISKERS = N_("error bars: {level} % interval, tick: median")


def _whiskers(axes, outcome: Outcome, runs: Sequence[Run], stale, system: str | None,
              colour: str) -> dict[int, float]:  # fmt: skip
    """Error bars of the runs with a spread (low to high, a tick at the median); returns
    bar index -> the whisker's top."""
    tops: dict[int, float] = {}
    for n, run in enumerate(runs):
        found = spread_of(outcome, run)
        if found is None or None in (found.low, found.high, found.median):
            continue
        low, median, high = (float(shown_value(outcome, x, system))
                             for x in (found.low, found.median, found.high))  # fmt: skip
        old = run.scenario in stale
        axes.errorbar([n], [median], yerr=[[median - low], [high - median]], fmt="_",
                      markersize=9, color=colour, ecolor=colour, elinewidth=1.3, capsize=4,
                      alpha=0.5 if old else 1.0, zorder=4, label=HIDDEN_BAND)  # fmt: skip
        tops[n] = high
    return tops


def _bar_title(outcome: Outcome, system: str | None) -> str:
    unit = tr(shown_unit(outcome, system))
    return outcome_heading(outcome, system).replace(f" [{unit}]", "")


def _draw_target(axes, outcome: Outcome, system: str | None = USER_SYSTEM) -> None:
    """The clinical target behind the bars: a shaded band (a range) or a dashed line (a
    threshold), labelled 'target' at the right edge (the title gives its values)."""
    target = outcome.target
    if target is None:
        return
    label = tr("target {target}").format(target=target_text(outcome, system))
    low = shown_value(outcome, target.low, system)
    high = shown_value(outcome, target.high, system)
    if low is not None and high is not None:
        axes.axhspan(low, high, color=TARGET_COLOUR, alpha=0.22, zorder=0, label=label)
        level = (low + high) / 2
    else:
        level = low if low is not None else high
        axes.axhline(level, color=TARGET_COLOUR, linestyle="--", linewidth=1.4, zorder=3,
                     label=label)  # fmt: skip
    axes.annotate(tr("target"), (1.0, level), xycoords=("axes fraction", "data"), xytext=(3, 0),
                  textcoords="offset points", va="center", fontsize=7, color=TARGET_COLOUR,
                  annotation_clip=False)  # fmt: skip
