"""Speed of the VT twin's benchmark solver: the Niederer et al. 2011 slab at dx 0.1 mm
(201 x 71 x 31 = 442 401 nodes, TP06 epicardial cell, dt 0.005 ms) on one core (target
< 10 min), with the activation times at P1..P9 against the reference of the verification
case; then a few steps of the numpy reference path on the same slab, to print how much
faster the numba kernel is per step.

`NUMBA_NUM_THREADS=1 PYTHONPATH=. python tests/bench/bench_vt_niederer.py [dx_mm dt_ms]`
"""

from __future__ import annotations

import sys


def main() -> None:
    from meditwin_twins.vt_ablation import niederer
    from meditwin_twins.vt_ablation.verification import VERIFICATION

    dx = float(sys.argv[1]) if len(sys.argv) > 1 else 0.1
    dt = float(sys.argv[2]) if len(sys.argv) > 2 else niederer.PAPER_DT_MS[0.1]
    niederer.run_slab(0.5, 0.05, t_max_ms=1.0)  # compile (or load) the kernel first
    result = niederer.run_slab(dx, dt)
    per_step = result.wall_s / result.steps
    print(
        f"vt_niederer: dx {dx} mm, dt {dt} ms, {result.nodes} nodes, {result.steps} steps "
        f"({result.t_end_ms:.1f} ms of activity): {result.wall_s:.1f} s on one core "
        f"(target < 600 s); {1e9 * per_step / result.nodes:.0f} ns per node and step"
    )
    print("  activation (ms): " + ", ".join(f"{k} {v:.2f}" for k, v in result.points_ms.items()))
    for case in VERIFICATION:
        if case.name.endswith(f"dx{dx}"):
            value = result.points_ms["P8"]
            print(
                f"  {case.name}: {value:.2f} ms against {case.reference} +- {case.tolerance} "
                f"ms: {'pass' if case.passed(value) else 'FAIL'}"
            )
    steps = 10
    ref = niederer.run_slab(dx, dt, t_max_ms=steps * dt, backend="numpy")
    fast = niederer.run_slab(dx, dt, t_max_ms=steps * dt)
    print(
        f"  numpy reference path: {ref.wall_s / steps:.2f} s per step against "
        f"{fast.wall_s / steps:.3f} s for numba ({ref.wall_s / fast.wall_s:.0f}x) over "
        f"{steps} steps; the numpy path would take about "
        f"{ref.wall_s / steps * result.steps / 3600:.1f} h for the whole run"
    )


if __name__ == "__main__":
    main()
