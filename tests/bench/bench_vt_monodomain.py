"""Speed of the VT twin's tissue solver (issue 18: 1 s of activity on a left ventricle with
>= 150 k nodes in < 20 s on one core).

A synthetic LV-sized thick ellipsoidal shell at 1 mm (apex-to-base 100 mm, wall ~10 mm,
helical fibres +60 deg endo to -60 deg epi), paced at t = 0 and 600 ms from a 3 mm apical
patch: prints the numba kernel's time for 1 s of activity and, as the reference measured
in the same run, the numpy/scipy path on the same model for a shorter time, scaled (the
per-step cost does not depend on the activity). Run with one thread:
`NUMBA_NUM_THREADS=1 PYTHONPATH=. python tests/bench/bench_vt_monodomain.py [--ms 1000]`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def lv_shell(
    outer: tuple[float, float] = (38.0, 66.0), wall_mm: float = 10.0, dx: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """codes uint8 [k, j, i], affine, fibres float32 [k, j, i, 3] of a truncated shell.

    outer = (radius, half length) of the epicardial prolate ellipsoid, long axis along k
    (LPS z, apex at the bottom), cut at 70 % of the half length above the equator.
    """
    r_out, l_out = outer
    r_in, l_in = r_out - wall_mm, l_out - wall_mm
    n_xy = int(np.ceil(2 * r_out / dx)) + 4
    z_top = 0.7 * l_out
    n_z = int(np.ceil((l_out + z_top) / dx)) + 4
    k, j, i = np.indices((n_z, n_xy, n_xy), dtype=np.float64)
    x = (i - (n_xy - 1) / 2) * dx
    y = (j - (n_xy - 1) / 2) * dx
    z = (k - 2) * dx - l_out
    outer_f = (x / r_out) ** 2 + (y / r_out) ** 2 + (z / l_out) ** 2
    inner_f = (x / r_in) ** 2 + (y / r_in) ** 2 + (z / l_in) ** 2
    shell = (outer_f <= 1.0) & (inner_f > 1.0) & (z <= z_top)
    codes = shell.astype(np.uint8)
    # transmural depth 0 endo .. 1 epi from the two ellipsoid "radii"
    depth = np.clip((np.sqrt(inner_f) - 1.0) / (np.sqrt(inner_f) - np.sqrt(outer_f) + 1e-9), 0, 1)
    helix = np.deg2rad(60.0 - 120.0 * depth)
    rho = np.hypot(x, y) + 1e-9
    circ = np.stack([-y / rho, x / rho, np.zeros_like(x)], axis=-1)
    longi = np.zeros_like(circ)
    longi[..., 2] = 1.0
    fibres = (np.cos(helix)[..., None] * circ + np.sin(helix)[..., None] * longi).astype(np.float32)
    affine = np.diag([dx, dx, dx, 1.0])
    return codes, affine, fibres


def demo_heart() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """codes, affine, fibres of the `post-mi-vt` demo heart through the twin's own inputs
    (labels: healthy, border zone, dense scar; fibres +60 / -60 deg)."""
    from meditwin_twins.vt_ablation import anatomy, fibres

    from meditwin_desktop.core.twin_case import view_of
    from meditwin_desktop.demo.case import demo_case

    inputs = anatomy.prepare(view_of(demo_case("post-mi-vt")))
    thresholds = dict(lge_bz_fraction=0.4, lge_scar_fraction=0.6, ct_bz_mm=5.0, ct_scar_mm=3.0)
    codes, _ = anatomy.tissue_codes(inputs, "labels", **thresholds)
    return codes, np.asarray(inputs["affine"]), fibres.fibre_field(inputs, 60.0, -60.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ms", type=float, default=1000.0, help="simulated activity (ms)")
    parser.add_argument("--ref-ms", type=float, default=20.0, help="numpy reference (ms)")
    parser.add_argument("--heart", action="store_true", help="also the post-mi-vt demo heart")
    args = parser.parse_args()
    print("synthetic LV shell:")
    bench(*lv_shell(), args.ms, args.ref_ms)
    if args.heart:
        print("post-mi-vt demo heart:")
        bench(*demo_heart(), args.ms, args.ref_ms)


def bench(codes: np.ndarray, affine: np.ndarray, fibres: np.ndarray, ms: float, ref_ms: float):
    from meditwin_twins.vt_ablation import ionic
    from meditwin_twins.vt_ablation import monodomain as md

    t0 = time.perf_counter()
    model = md.build_model(codes, affine, fibres, ionic.CELLS, ionic.DIFFUSIVITY)
    build_s = time.perf_counter() - t0
    apex = model.lps()[np.argmin(model.lps()[:, 2])]  # the lowest node
    stim = [md.Stimulus(model.nodes_within(apex, 3.0), t) for t in (0.0, 600.0)]
    print(f"nodes {model.n}, nnz/node {len(model.data) / model.n:.1f}, dt {model.dt_ms} ms, "
          f"build {build_s:.1f} s")  # fmt: skip

    md.run(model, md.resting_state(model), model.dt_ms, [], backend="numba")  # compile/load
    state = md.resting_state(model)
    t0 = time.perf_counter()
    rec = md.run(model, state, ms, stim, stop_when_quiet=False, backend="numba")
    fast = time.perf_counter() - t0
    active = np.isfinite(rec.first_activation).mean()
    per_step = fast / (ms / model.dt_ms) * 1e3
    print(f"numba: {ms:.0f} ms of activity in {fast:.2f} s "
          f"({per_step:.2f} ms/step; {active:.0%} of nodes activated)")  # fmt: skip

    state = md.resting_state(model)
    t0 = time.perf_counter()
    md.run(model, state, ref_ms, stim, stop_when_quiet=False, backend="numpy")
    ref = (time.perf_counter() - t0) * ms / ref_ms
    print(f"numpy/scipy reference: {ref_ms:.0f} ms run, scaled to {ms:.0f} ms: "
          f"{ref:.1f} s; numba is {ref / fast:.1f}x faster")  # fmt: skip
    print(f"target (issue 18): < 20 s for 1000 ms with >= 150k nodes on one core: "
          f"{fast * 1000.0 / ms:.1f} s per 1000 ms")  # fmt: skip


if __name__ == "__main__":
    main()
