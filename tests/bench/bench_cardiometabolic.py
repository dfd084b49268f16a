"""Speed of the cardiometabolic twin (issue 8: a 100-scenario sweep < 1 s).

Prints the sweep of 100 scenarios (therapy x start age x blood pressure x smoking) on the
FH demo patient through the platform (`run_scenarios`, worker processes), with the
workers' start-up and warm, and, as the reference in the same run, the same scenarios
one after another in this process.
`PYTHONPATH=. python tests/bench/bench_cardiometabolic.py` (or `./dev.sh bench`).
"""

from __future__ import annotations

import itertools
import time


def _scenarios():
    from meditwin_desktop.core.twin import Scenario

    therapies = ["none", "statin_moderate", "statin_high", "statin_high_ezetimibe",
                 "statin_high_ezetimibe_pcsk9i"]  # fmt: skip
    grid = itertools.product(therapies, (45, 50, 55, 60, 65), (134, 120), ("true", "false"))
    return [
        Scenario(f"{t} from {a}, SBP {s}, smoker {k}",
                 {"therapy": t, "therapy_start_age_y": a, "sbp_mmhg": s, "smoker": k})
        for t, a, s, k in grid
    ]  # fmt: skip


def main() -> None:
    from meditwin_twins.cardiometabolic import TWIN, personalize, prepare

    from meditwin_desktop.core.runner import Runner
    from meditwin_desktop.core.scenarios import run_scenarios
    from meditwin_desktop.demo.case import demo_case

    case, scenarios = demo_case("fh-patient"), _scenarios()
    baseline = {k: v.value for k, v in personalize(case).items()}
    inputs = prepare(case)
    start = time.perf_counter()
    for scenario in scenarios:
        TWIN.simulate(TWIN.parameters_for(baseline, scenario.overrides), inputs,
                      lambda *_: None, lambda: False)  # fmt: skip
    here = time.perf_counter() - start
    runner = Runner()
    try:
        start = time.perf_counter()
        runs = run_scenarios(TWIN, case, scenarios, runner)
        cold = time.perf_counter() - start
        runner.cache = type(runner.cache)()
        start = time.perf_counter()
        run_scenarios(TWIN, case, scenarios, runner)
        warm = time.perf_counter() - start
    finally:
        runner.shutdown()
    failed = [r.scenario for r in runs if r.status != "ok"]
    print(
        f"sweep of {len(scenarios)} scenarios through the platform: {warm:.2f} s warm "
        f"(target < 1 s), {cold:.2f} s with worker start-up; in this process one by one "
        f"{here:.3f} s (platform/serial {warm / here:.1f}x); failed: {failed or 'none'}"
    )


if __name__ == "__main__":
    main()
