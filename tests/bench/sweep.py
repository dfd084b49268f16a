"""Shared by the twin benchmarks: a sweep through the platform, cold and warm, vs in-process."""

from __future__ import annotations

import time


def time_sweep(twin, case, scenarios, baseline: dict, inputs: dict) -> dict:
    """Seconds for the scenarios in this process one by one, then through `run_scenarios`
    (worker processes) with the workers' start-up ('cold') and again warm; failed names."""
    from meditwin_desktop.core.runner import ResultCache, Runner
    from meditwin_desktop.core.scenarios import run_scenarios

    start = time.perf_counter()
    for scenario in scenarios:
        params = twin.parameters_for(baseline, scenario.overrides)
        twin.simulate(params, inputs, lambda *_: None, lambda: False)
    here = time.perf_counter() - start
    runner = Runner()
    try:
        start = time.perf_counter()
        runs = run_scenarios(twin, case, scenarios, runner)
        cold = time.perf_counter() - start
        runner.cache = ResultCache()  # no cached results: run everything again
        start = time.perf_counter()
        run_scenarios(twin, case, scenarios, runner)
        warm = time.perf_counter() - start
    finally:
        runner.shutdown()
    return {"here": here, "cold": cold, "warm": warm,
            "failed": [r.scenario for r in runs if r.status != "ok"]}  # fmt: skip
