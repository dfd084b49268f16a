"""Speed of the cardiometabolic twin (issue 8: a 100-scenario sweep < 1 s).

Prints the sweep of 100 scenarios (therapy x start age x blood pressure x smoking) on the
FH demo patient through the platform (`run_scenarios`, worker processes), with the
workers' start-up and warm, and, as the reference in the same run, the same scenarios
one after another in this process.
`PYTHONPATH=. python tests/bench/bench_cardiometabolic.py` (or `./dev.sh bench`).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests.bench.sweep


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

    from meditwin_desktop.demo.case import demo_case
    from tests.bench.sweep import time_sweep

    case, scenarios = demo_case("fh-patient"), _scenarios()
    baseline = {k: v.value for k, v in personalize(case).items()}
    sweep = time_sweep(TWIN, case, scenarios, baseline, prepare(case))
    print(
        f"sweep of {len(scenarios)} scenarios through the platform: {sweep['warm']:.2f} s "
        f"warm (target < 1 s), {sweep['cold']:.2f} s with worker start-up; in this process "
        f"one by one {sweep['here']:.3f} s (platform/serial "
        f"{sweep['warm'] / sweep['here']:.1f}x); failed: {sweep['failed'] or 'none'}"
    )


if __name__ == "__main__":
    main()
