"""Whether stored runs still match the case: a result computed from other inputs must be
shown as out of date everywhere (the table, the plots, the report).

A run keeps the twin version, the parameters it ran with (defaults < personalised
baseline < the scenario's overrides) and the digest of the twin's prepared inputs
(labels, image-derived arrays). It is out of date when any of them differs from what the
case gives now: the twin was updated, a clinical value changed the baseline (LDL 240 ->
193 mg/dL), a scenario was edited, or the labels or targets changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.i18n import N_, tr
from meditwin_desktop.core.runner import input_hash
from meditwin_desktop.core.scenario_names import same_value
from meditwin_desktop.core.scenarios import baseline_of, parameters
from meditwin_desktop.core.twin import Twin, TwinInputError, view_of
from meditwin_desktop.core.twin import readable_value as readable


def changed_parameters(twin: Twin, ran: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """'LDL cholesterol 240 → 193 mg/dL' for each parameter whose value differs."""
    changes = []
    for parameter in twin.parameters:
        before, after = ran.get(parameter.name), now.get(parameter.name)
        if not same_value(before, after):
            unit = f" {tr(parameter.unit)}" if parameter.unit else ""
            changes.append(f"{tr(parameter.label)} {readable(before)} → {readable(after)}{unit}")
    return changes


UNPREPARED = N_("the twin's inputs can no longer be made from the case as it is now")


def current_digest(twin: Twin, case: Case) -> str | None:
    """The digest of the twin's inputs on the case as it is now (None if it cannot prepare)."""
    try:
        return input_hash(twin.prepare(view_of(case)))
    except Exception:  # the case no longer fits: `stale_runs` says so
        return None


def check_runs(twin: Twin, case: Case) -> dict[str, str]:
    """`stale_runs` with the inputs prepared and hashed (a second on a large CT)."""
    digest = current_digest(twin, case)
    if digest is None and case.runs.get(twin.id):
        reasons = stale_runs(twin, case)
        return {r.scenario: reasons.get(r.scenario, tr(UNPREPARED)) for r in case.runs[twin.id]}
    return stale_runs(twin, case, digest)


def stale_runs(twin: Twin, case: Case, digest: str | None = None) -> dict[str, str]:
    """Scenario name -> why its run is out of date, for the twin's runs on the case.

    `digest`: `current_digest(twin, case)` when known (it prepares the twin's inputs, which
    can take a second on a large CT: `check_runs` does both); without it, changes of
    labels or image are not detected, everything else is.
    """
    runs = case.runs.get(twin.id, [])
    if not runs:
        return {}
    try:
        baseline = baseline_of(twin, case)
    except TwinInputError as error:
        why = tr("the case no longer fits the twin: {error}").format(error=error)
        return {r.scenario: why for r in runs}
    except Exception as error:  # a twin's bug: results cannot be vouched for
        why = tr("whether it is up to date could not be checked ({error})").format(
            error=type(error).__name__
        )
        return {r.scenario: why for r in runs}
    scenarios = {s.name: s for s in case.scenarios.get(twin.id, [])}
    reasons = {}
    for run in runs:
        reason = _reason(twin, run, baseline, scenarios, digest)
        if reason:
            reasons[run.scenario] = reason
    return reasons


def _reason(twin: Twin, run: Run, baseline, scenarios, digest: str | None) -> str | None:
    if run.twin_version != twin.version:
        return tr("the twin was updated since this run (version {before} → {after})").format(
            before=run.twin_version, after=twin.version
        )
    scenario = scenarios.get(run.scenario)
    if scenario is None:
        return tr("its scenario is no longer in the case")
    try:
        now = parameters(twin, baseline, scenario)
    except TwinInputError as error:
        return tr("its scenario is no longer valid: {error}").format(error=error)
    changes = changed_parameters(twin, run.parameters, now)
    if changes:
        return tr("changed since this run: {changes}").format(changes="; ".join(changes))
    if digest is not None and run.input_hash != digest:
        return tr("the case's data this twin reads changed since this run")
    return None
