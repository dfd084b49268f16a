"""What the reader of a run with uncertainty is told beside its numbers: how it was
sampled (`Result.uncertainty`, each text once with the scenarios it concerns), where each
input's spread comes from (`core.uncertainty.uncertainty_sources`, with its distribution)
and what the interval does not cover. Shared by the comparison view and the report; no Qt.
"""

from __future__ import annotations

from collections.abc import Sequence

from meditwin_desktop.core.case import Run
from meditwin_desktop.core.comparison import (
    USER_SYSTEM,
    interval_text,
    number_text,
    probability_text,
    spread_key,
    target_text,
    value_text,
)
from meditwin_desktop.core.i18n import N_, number, tr, tr_n
from meditwin_desktop.core.twin import Outcome, Spread, Twin, Uncertain
from meditwin_desktop.core.uncertainty import uncertainty_sources

COVERS = N_(
    "The interval covers the uncertainty of the sampled inputs only, not the model's own "
    "simplifications (its limitations are listed in the report)."
)
DISTRIBUTIONS = {"normal": N_("normal"), "lognormal": N_("log-normal"),
                 "uniform": N_("uniform"), "triangular": N_("triangular")}  # fmt: skip


def has_uncertainty(runs: Sequence[Run]) -> bool:
    """Whether any run was run with uncertainty (sampled, even if its spread is not shown)."""
    return any(r.result is not None and (r.result.uncertainty or r.result.spread) for r in runs)


def spread_description(twin: Twin, item: Uncertain) -> str:
    """'normal, SD 0,3 mmol/L', 'normal, 8 % of the value', 'uniform 0,4–0,6 W/(m·K)' (the
    numbers in the language's decimal separator)."""
    unit = tr(twin.parameter(item.name).unit)
    unit = f" {unit}" if unit else ""
    kind = tr(DISTRIBUTIONS.get(item.distribution, item.distribution))
    if item.low is not None and item.high is not None:
        return f"{kind} {number_text(item.low, None)}–{number_text(item.high, None)}{unit}"
    parts = [kind]
    if item.sd:
        parts.append(tr("SD {sd}").format(sd=f"{number_text(item.sd, None)}{unit}"))
    elif item.relative_sd:
        parts.append(tr("{percent} % of the value").format(
            percent=number_text(100 * item.relative_sd, None)))  # fmt: skip
    if item.from_case:
        parts.append(tr("or the case's own"))
    return ", ".join(parts)


def source_lines(twin: Twin) -> list[str]:
    """'First input: normal, SD 1 mL (Smith 2020, table 2)' for each declared uncertain
    input, in the twin's order."""
    lines = []
    for item, (label, source) in zip(twin.uncertain, uncertainty_sources(twin), strict=True):
        text = f"{tr(label)}: {spread_description(twin, item)}"
        lines.append(f"{text} ({tr(source)})" if source else text)
    return lines


def method_lines(runs: Sequence[Run]) -> list[str]:
    """How each run with uncertainty was sampled, each text once: 'All scenarios: 64 runs
    on a Latin hypercube (seed 0) of: ...' or 'Baseline, Statin: ...'; then the failed
    samples left out."""
    grouped: dict[str, list[str]] = {}
    for run in runs:
        if run.result is not None and run.result.uncertainty:
            grouped.setdefault(run.result.uncertainty, []).append(run.scenario)
    every = len(runs) > 1
    lines = [
        tr("{names}: {text}").format(
            names=tr("All scenarios") if every and len(names) == len(runs) else ", ".join(names),
            text=text)
        for text, names in grouped.items()
    ]  # fmt: skip
    for run in runs:
        spreads = run.result.spread.values() if run.result is not None else ()
        failed = max((s.failed for s in spreads), default=0)
        if failed:
            count = max(s.samples + s.failed for s in spreads)
            lines.append(tr_n(
                "{scenario}: {failed} of {count} sampled runs failed and is left out of its "
                "intervals.",
                "{scenario}: {failed} of {count} sampled runs failed and are left out of its "
                "intervals.", failed).format(scenario=run.scenario, failed=failed, count=count))
    return lines


def spread_tip(outcome: Outcome, spread: Spread, system: str | None = USER_SYSTEM) -> str:
    """A cell's tooltip lines on its spread: the median and interval over how many runs,
    the failed ones, and what P(target) means."""
    lines = [tr("Median {median}; {level} % interval {interval}, over {count} sampled runs")
             .format(median=value_text(outcome, spread.median, system=system),
                     level=number(100 * spread.level, 0),
                     interval=interval_text(outcome, spread, system), count=spread.samples)]
    if spread.failed:
        lines.append(tr_n("{count} sampled run failed and is left out.",
                          "{count} sampled runs failed and are left out.",
                          spread.failed).format(count=spread.failed))  # fmt: skip
    if spread.p_target is not None:
        lines.append(tr("{probability}: {percent} % of the sampled runs meet the target "
                        "{target}").format(
            probability=probability_text(outcome, spread, system),
            percent=number(100 * spread.p_target, 0), target=target_text(outcome, system)))
    return "\n".join(lines)


def reading_note(runs: Sequence[Run]) -> str:
    """The comparison's note under the table: what the brackets mean, how the runs were
    sampled and what the interval leaves out ('' when no run has uncertainty)."""
    if not has_uncertainty(runs):
        return ""
    parts = [spread_key(runs), *method_lines(runs), tr(COVERS)]
    return "\n".join(p for p in parts if p)
