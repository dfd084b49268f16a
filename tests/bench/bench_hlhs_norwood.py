"""Speed of the Norwood twin (issue 7: 30 beats < 1 s; a 20-scenario sweep < 10 s).

Prints: 30 beats of the reference newborn integrated here, with the real-time factor
(simulated heart time / wall time); a sweep of 20 scenarios (shunts x PVR) through the
platform (`run_scenarios`, worker processes, as the GUI's Run all), once with the
workers' start-up and once warm; and, as the reference in the same run, the same 20
scenarios one after another in this process.
`PYTHONPATH=. python tests/bench/bench_hlhs_norwood.py` (or `./dev.sh bench`).
"""

from __future__ import annotations

import time


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
    from meditwin_twins.hlhs_norwood import TWIN
    from meditwin_twins.hlhs_norwood.circulation import Model
    from meditwin_twins.hlhs_norwood.model import build_circuit, initial_state

    from meditwin_desktop.core.runner import Runner
    from meditwin_desktop.core.scenarios import run_scenarios
    from meditwin_desktop.demo.case import demo_case

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
    start = time.perf_counter()
    for scenario in scenarios:
        values = TWIN.parameters_for({}, scenario.overrides)
        TWIN.simulate(values, {}, lambda *_: None, lambda: False)
    here = time.perf_counter() - start
    runner = Runner()
    try:
        start = time.perf_counter()
        runs = run_scenarios(TWIN, case, scenarios, runner)
        cold = time.perf_counter() - start
        runner.cache = type(runner.cache)()  # no cached results: run everything again
        start = time.perf_counter()
        run_scenarios(TWIN, case, scenarios, runner)
        warm = time.perf_counter() - start
    finally:
        runner.shutdown()
    failed = [r.scenario for r in runs if r.status != "ok"]
    print(
        f"sweep of {len(scenarios)} scenarios through the platform: {cold:.2f} s with worker "
        f"start-up (target < 10 s), {warm:.2f} s warm; in this process one by one "
        f"{here:.2f} s (ratio warm/serial {warm / here:.2f}); failed: {failed or 'none'}"
    )


if __name__ == "__main__":
    main()
