"""Speed of the Norwood twin (issue 7: 30 beats < 1 s; a 20-scenario sweep < 10 s).

Prints: 30 beats of the reference newborn integrated here, with the real-time factor
(simulated heart time / wall time); a sweep of 20 scenarios (shunts x PVR) through the
platform (`run_scenarios`, worker processes, as the GUI's Run all), once with the
workers' start-up and once warm; and, as the reference in the same run, the same 20
scenarios one after another in this process.
`PYTHONPATH=. python tests/bench/bench_hlhs_norwood.py` (or `./dev.sh bench`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests.bench.sweep


def _scenarios():
    from meditwin_desktop.core.twin import Scenario

    shunts = [("BT 3.0", {"shunt_diameter_mm": 3.0}), ("BT 3.5", {"shunt_diameter_mm": 3.5}),
              ("BT 4.0", {"shunt_diameter_mm": 4.0}),
              ("Sano 5", {"shunt_type": "sano", "shunt_diameter_mm": 5.0})]  # fmt: skip
    return [
        Scenario(f"{name}, PVR x{pvr}", {**shunt, "pvr_scale": pvr})
        for name, shunt in shunts
        for pvr in (0.6, 0.8, 1.0, 1.5, 2.0)
    ]


def main() -> None:
    from meditwin_twins.hlhs_norwood import TWIN, personalize, prepare
    from meditwin_twins.hlhs_norwood.circulation import Model
    from meditwin_twins.hlhs_norwood.model import build_circuit, initial_state

    from meditwin_desktop.demo.case import demo_case
    from tests.bench.sweep import time_sweep

    params = TWIN.parameters_for({}, {})
    circuit = build_circuit(params)
    model = Model(circuit)
    y = initial_state(circuit, params["blood_volume_ml_kg"] * params["weight_kg"])
    start = time.perf_counter()
    t = 0.0
    for _ in range(30):
        _, states = model.beat(y, t)
        y, t = states[:, -1], t + circuit.period_s
    beats = time.perf_counter() - start
    print(f"30 beats ({t:.1f} s of heart time): {beats:.2f} s (target < 1 s), "
          f"real-time factor {t / beats:.0f}x")  # fmt: skip

    case, scenarios = demo_case("neonate-hlhs"), _scenarios()
    baseline = {k: v.value for k, v in personalize(case).items()}
    sweep = time_sweep(TWIN, case, scenarios, baseline, prepare(case))
    print(
        f"sweep of {len(scenarios)} scenarios through the platform: {sweep['cold']:.2f} s "
        f"with worker start-up (target < 10 s), {sweep['warm']:.2f} s warm; in this process "
        f"one by one {sweep['here']:.2f} s (ratio warm/serial "
        f"{sweep['warm'] / sweep['here']:.2f}); failed: {sweep['failed'] or 'none'}"
    )


if __name__ == "__main__":
    main()
