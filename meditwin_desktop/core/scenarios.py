"""Run a twin's scenarios on a case: personalise, validate, submit, record provenance.

`meditwin run` goes through `run_scenarios`; the GUI prepares in a background thread
(`prepare_scenarios`), submits (`submit_prepared`) and records each finished run in the GUI
thread (`Session.add_run`).
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import ndimage

from meditwin_desktop import __version__
from meditwin_desktop.core.case import Case, Run, now
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.runner import RunHandle, Runner, input_hash, memory_estimate
from meditwin_desktop.core.twin import (
    Personalized,
    Scenario,
    Twin,
    TwinInputError,
    format_value,
    view_of,
)
from meditwin_desktop.core.uncertainty import UncertaintyPlan

log = logging.getLogger(__name__)
BASELINE = "Baseline"


def baseline_of(twin: Twin, case: Case) -> dict[str, Personalized]:
    """The personalised baseline; TwinInputError naming what the case lacks."""
    missing = twin.missing(case)
    if missing:
        raise TwinInputError(
            tr("{twin} does not fit this case: {missing}.").format(
                twin=tr(twin.title), missing="; ".join(missing)
            )
        )
    return twin.personalize(view_of(case))


def parameters(twin: Twin, baseline: dict[str, Personalized], scenario: Scenario) -> dict:
    """Validated parameters of a scenario (defaults < baseline < overrides)."""
    try:
        return twin.parameters_for({k: p.value for k, p in baseline.items()}, scenario.overrides)
    except TwinInputError as error:
        raise TwinInputError(
            tr("Scenario '{scenario}': {error}").format(scenario=scenario.name, error=error)
        ) from None


def check_points(twin: Twin, case: Case, scenario: str, params: Mapping[str, Any]) -> None:
    """Refuse a point parameter that lies outside the image, or outside the labels it must
    lie in (`Parameter.within`, when the case has such a label): TwinInputError naming it."""
    for parameter in twin.parameters:
        if parameter.kind != "point" or not parameter.within or case.image is None:
            continue
        point = np.asarray(params[parameter.name], float)
        where = f"L {point[0]:.1f}, P {point[1]:.1f}, S {point[2]:.1f} mm"
        image = case.image
        index = image.lps_to_index(point)
        if not image.contains_index(index):
            raise TwinInputError(
                tr("Scenario '{scenario}': {parameter} ({where}) lies outside the image; place "
                   "it with the crosshair on the patient.").format(
                    scenario=scenario, parameter=tr(parameter.label), where=where)
            )  # fmt: skip
        labels = case.labels
        wanted = {n.lower() for n in parameter.within}
        values = [v for v, lab in (labels.labels.items() if labels else []) if lab.name.lower()
                  in wanted]  # fmt: skip
        if not values:
            continue  # the case has none of those labels: nothing more to check
        if not _inside(labels.volume, point, values):
            raise TwinInputError(
                tr("Scenario '{scenario}': {parameter} ({where}) lies outside the {labels}; "
                   "place it with the crosshair inside.").format(
                    scenario=scenario, parameter=tr(parameter.label), where=where,
                    labels=tr(" or ").join(tr(n) for n in parameter.within))
            )  # fmt: skip


def _inside(grid, point: np.ndarray, values: list[int]) -> bool:
    """Whether `point` lies within the outline of the labels `values` on its axial slice:
    structures drawn inside them (organs inside the body, a tumour inside the liver) are
    holes of their mask, filled here (scipy.ndimage.binary_fill_holes)."""
    i, j, k = np.round(grid.lps_to_index(point)).astype(int)
    if not grid.contains_index(np.array([i, j, k])):
        return False
    return bool(ndimage.binary_fill_holes(np.isin(grid.array[k], values))[j, i])


@dataclass
class Prepared:
    """A twin's validated scenarios on a case, ready to submit: parameters per scenario,
    the prepared inputs and their digest (computed once for all scenarios)."""

    twin: Twin
    scenarios: list[tuple[Scenario, dict[str, Any]]]
    inputs: dict[str, Any]
    digest: str
    memory: dict[str, float | None] = field(default_factory=dict)  # per scenario, bytes
    case_sd: dict[str, float] = field(default_factory=dict)  # personalised values' sd


def prepare_scenarios(
    twin: Twin,
    case: Case,
    scenarios: Sequence[Scenario],
    baseline: dict[str, Personalized] | None = None,
) -> Prepared:
    """Validate every scenario (TwinInputError on the first that is wrong), then prepare
    the inputs. Pure computation on the case: runs in a background thread in the GUI."""
    baseline = baseline_of(twin, case) if baseline is None else baseline
    validated = [(s, parameters(twin, baseline, s)) for s in scenarios]
    for scenario, params in validated:
        check_points(twin, case, scenario.name, params)
    inputs = twin.prepare(view_of(case))
    memory = {s.name: memory_estimate(twin, params, inputs) for s, params in validated}
    case_sd = {name: float(p.sd) for name, p in baseline.items() if p.sd}
    return Prepared(twin, validated, inputs, input_hash(inputs), memory, case_sd)


def plan_for(prepared: Prepared, plan: UncertaintyPlan | None) -> UncertaintyPlan | None:
    """The plan with the case's own uncertainties of personalised values added (the plan's
    own win)."""
    if plan is None:
        return None
    return replace(plan, case_sd={**prepared.case_sd, **plan.case_sd})


def submit_prepared(
    prepared: Prepared,
    runner: Runner,
    *,
    on_progress: Callable[[RunHandle], None] | None = None,
    on_done: Callable[[RunHandle, Run], None] | None = None,
    uncertainty: UncertaintyPlan | None = None,
) -> list[RunHandle]:
    """Submit prepared scenarios. `on_done(handle, run)` is called from the runner's thread
    with the finished run; the caller records it in the case in its own thread
    (`Session.add_run`, or `record_run`). `uncertainty`: each scenario runs with it (the
    case's own uncertainties of personalised values added to the plan)."""
    twin, user = prepared.twin, _user()
    uncertainty = plan_for(prepared, uncertainty)
    handles = []
    for scenario, params in prepared.scenarios:

        def finished(handle: RunHandle, scenario=scenario, params=params) -> None:
            run = Run(
                twin_id=twin.id, twin_version=twin.version, scenario=scenario.name,
                parameters=params, input_hash=prepared.digest, status=handle.status,
                error=handle.error,
                outcomes=dict(handle.result.outcomes) if handle.result else {},
                seconds=handle.seconds, app_version=__version__, user=user, time=now(),
                result=handle.result,
            )  # fmt: skip
            if on_done is not None:
                on_done(handle, run)

        handles.append(runner.submit(twin, scenario.name, params, prepared.inputs,
                                     digest=prepared.digest, on_progress=on_progress,
                                     on_done=finished,
                                     memory=prepared.memory.get(scenario.name),
                                     uncertainty=uncertainty))  # fmt: skip
    return handles


def record_run(case: Case, run: Run) -> None:
    """Put a finished run in the case, replacing its scenario's earlier run (scenario order);
    a cancelled run does not replace a result (the user stopped a refresh)."""
    earlier = [r for r in case.runs.get(run.twin_id, []) if r.scenario == run.scenario]
    if run.status == "cancelled" and any(r.status == "ok" for r in earlier):
        return
    order = [s.name for s in case.scenarios.get(run.twin_id, [])]
    others = [r for r in case.runs.get(run.twin_id, []) if r.scenario != run.scenario]
    case.runs[run.twin_id] = sorted(
        [*others, run], key=lambda r: order.index(r.scenario) if r.scenario in order else 1e9
    )


def run_scenarios(
    twin: Twin,
    case: Case,
    scenarios: Sequence[Scenario],
    runner: Runner,
    uncertainty: UncertaintyPlan | None = None,
) -> list[Run]:
    """Run scenarios (with uncertainty if a plan is given), wait for all of them and record
    them in the case (this thread); the runs, in the scenarios' order."""
    finished: dict[str, Run] = {}
    prepared = prepare_scenarios(twin, case, scenarios)

    def done(handle: RunHandle, run: Run) -> None:
        finished[run.scenario] = run

    handles = submit_prepared(prepared, runner, on_done=done, uncertainty=uncertainty)
    for handle in handles:
        handle.wait()
    runs = [finished[s.name] for s in scenarios]
    for run in runs:
        record_run(case, run)
    return runs


def parse_overrides(twin: Twin, pairs: Sequence[str]) -> dict[str, Any]:
    """`name=value` pairs (command line) to overrides, as typed (a name given twice keeps its
    last value); TwinInputError names a bad one."""
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise TwinInputError(tr("'{pair}' is not of the form name=value.").format(pair=pair))
        twin.parameter(name.strip())
        overrides[name.strip()] = value.strip()
    return overrides


def overrides_label(overrides: Mapping[str, Any]) -> str:
    """What a set of overrides sets, as a run's name: 'a=1, b=2' ('' when nothing is set)."""
    return ", ".join(f"{name}={format_value(value)}" for name, value in overrides.items())


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database (containers)
        return "unknown"
