"""Run a twin's scenarios on a case: personalise, validate, submit, record provenance.

The GUI and `meditwin run` both go through `run_scenarios`.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from meditwin_desktop import __version__
from meditwin_desktop.core.case import Case, Run, now
from meditwin_desktop.core.runner import RunHandle, Runner, input_hash
from meditwin_desktop.core.twin import (
    Personalized,
    Scenario,
    Twin,
    TwinInputError,
    format_value,
)

log = logging.getLogger(__name__)
BASELINE = "Baseline"


def baseline_of(twin: Twin, case: Case) -> dict[str, Personalized]:
    """The personalised baseline; TwinInputError naming what the case lacks."""
    missing = twin.missing(case)
    if missing:
        raise TwinInputError(f"{twin.title} does not fit this case: " + "; ".join(missing) + ".")
    return twin.personalize(case)


def parameters(twin: Twin, baseline: dict[str, Personalized], scenario: Scenario) -> dict:
    """Validated parameters of a scenario (defaults < baseline < overrides)."""
    try:
        return twin.parameters_for({k: p.value for k, p in baseline.items()}, scenario.overrides)
    except TwinInputError as error:
        raise TwinInputError(f"Scenario '{scenario.name}': {error}") from None


def submit_scenarios(
    twin: Twin,
    case: Case,
    scenarios: Sequence[Scenario],
    runner: Runner,
    *,
    on_progress: Callable[[RunHandle], None] | None = None,
    on_done: Callable[[RunHandle, Run], None] | None = None,
    baseline: dict[str, Personalized] | None = None,
) -> list[RunHandle]:
    """Validate every scenario first (nothing starts if one is wrong), then submit them all.

    `baseline`: the personalised baseline when the caller has it already (the twin panel).
    """
    baseline = baseline_of(twin, case) if baseline is None else baseline
    validated = [(s, parameters(twin, baseline, s)) for s in scenarios]
    inputs = twin.prepare(case)
    digest = input_hash(inputs)
    user = _user()
    handles = []
    order = {s.name: n for n, s in enumerate(scenarios)}  # runs are kept in scenario order
    for scenario, params in validated:

        def finished(handle: RunHandle, scenario=scenario, params=params) -> None:
            run = Run(
                twin_id=twin.id, twin_version=twin.version, scenario=scenario.name,
                parameters=params, input_hash=digest, status=handle.status, error=handle.error,
                outcomes=dict(handle.result.outcomes) if handle.result else {},
                seconds=handle.seconds, app_version=__version__, user=user, time=now(),
                result=handle.result,
            )  # fmt: skip
            case.runs.setdefault(twin.id, [])
            others = [r for r in case.runs[twin.id] if r.scenario != scenario.name]
            case.runs[twin.id] = sorted([*others, run], key=lambda r: order.get(r.scenario, 1e9))
            if on_done is not None:
                on_done(handle, run)

        handles.append(runner.submit(twin, scenario.name, params, inputs,
                                     on_progress=on_progress, on_done=finished))  # fmt: skip
    return handles


def run_scenarios(
    twin: Twin, case: Case, scenarios: Sequence[Scenario], runner: Runner
) -> list[Run]:
    """Run scenarios and wait for all of them; the runs, in the scenarios' order."""
    handles = submit_scenarios(twin, case, scenarios, runner)
    for handle in handles:
        handle.wait()
    by_name = {run.scenario: run for run in case.runs.get(twin.id, [])}
    return [by_name[s.name] for s in scenarios]


def parse_overrides(twin: Twin, pairs: Sequence[str]) -> dict[str, Any]:
    """`name=value` pairs (command line) to overrides, as typed (a name given twice keeps its
    last value); TwinInputError names a bad one."""
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise TwinInputError(f"'{pair}' is not of the form name=value.")
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
