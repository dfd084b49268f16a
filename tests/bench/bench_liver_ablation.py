"""Speed of the liver ablation twin: a 10-minute microwave ablation on a 1 mm grid over a
10 x 10 x 10 cm region of the demo patient (target < 30 s on 2 cores), in a worker
process as the GUI runs it; prints the wall time and the ratio to real (treatment) time.

`PYTHONPATH=. python tests/bench/bench_liver_ablation.py` (or `./dev.sh bench`).
"""

from __future__ import annotations

import time


def main() -> None:
    from meditwin_twins.liver_ablation import TWIN

    from meditwin_desktop.core.runner import Runner
    from meditwin_desktop.core.scenarios import run_scenarios
    from meditwin_desktop.core.twin import Scenario
    from meditwin_desktop.demo.case import demo_case

    case = demo_case()
    scenario = Scenario("10 min", {"time_s": 600, "grid_mm": 1.0, "region_mm": 100, "power_w": 100})
    runner = Runner()
    start = time.perf_counter()
    [run] = run_scenarios(TWIN, case, [scenario], runner)
    seconds = time.perf_counter() - start
    runner.shutdown()
    treatment = 600 + TWIN.parameter("cool_down_s").default
    print(
        f"liver_ablation: 600 s at 100 W + {treatment - 600:g} s cooling, 1 mm grid, 101^3 "
        f"voxels: {seconds:.1f} s in a worker process (target < 30 s); "
        f"{treatment / seconds:.0f}x faster than real time; status {run.status}; "
        f"zone {run.outcomes.get('ablation_volume_ml', float('nan')):.1f} mL"
    )


if __name__ == "__main__":
    main()
